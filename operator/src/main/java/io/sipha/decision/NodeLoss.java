package io.sipha.decision;

import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Whether a node is lost, on the word of two observers: the agents of its peer nodes, which hear
 * its agent directly over the peer channel, and the operator's own evidence of it, its probe of the
 * agent or the Lease. The node is lost only when they agree: a live peer hears nothing, none hears
 * it, and the probe gets no answer (the fast path, with no API round trip per heartbeat); or the
 * Lease has run out while no live peer hears it. A Lease that runs out while a live peer still
 * hears the node is the API's trouble, not the node's: the peer's renewal vouches for it, and
 * nothing moves. Without a peer channel (agents that say nothing of their peers) the Lease alone
 * decides, as before.
 *
 * <p>{@link #judge} writes the verdict into the facts once, before anything is decided, so that
 * every rule that asks whether a node is alive (the failover, the release, the stale holders) gets
 * the same answer.
 */
final class NodeLoss {
  private NodeLoss() {}

  /** The facts with the peers' word on every node ({@link AgentFact#word}). */
  static PairFacts judge(PairFacts f, Duration nodeLoss) {
    Instant now = f.now();
    Map<String, AgentFact> agents = f.agents();
    Map<String, AgentFact> judged = new LinkedHashMap<>();
    boolean any = false;
    for (AgentFact a : agents.values()) {
      String hearsIt = null;
      Instant vouchedAt = null;
      String silentOnIt = null;
      for (AgentFact peer : agents.values()) {
        if (peer.node().equals(a.node()) || !peer.alive(now, nodeLoss)) {
          continue; // a peer that is itself lost is no observer
        }
        if (peer.hearing().hears(a.node())) {
          if (vouchedAt == null || peer.renewedAt().isAfter(vouchedAt)) {
            hearsIt = peer.node();
            vouchedAt = peer.renewedAt();
          }
        } else if (peer.hearing().silentOn(a.node()) && silentOnIt == null) {
          silentOnIt = peer.node();
        }
      }
      AgentFact out = a;
      if (hearsIt == null && silentOnIt != null && a.probe().gone() && a.renewedAt() != null) {
        out =
            a.word(
                new AgentFact.PeerWord(
                    AgentFact.PeerWord.Kind.LOST, silentOnIt, a.probe().silentMillis()),
                a.renewedAt());
      } else if (hearsIt != null
          && a.notWorking() == null
          && a.renewedAt() != null
          && !now.isBefore(a.lostAt(nodeLoss))
          && vouchedAt.isAfter(a.renewedAt())) {
        out =
            a.word(new AgentFact.PeerWord(AgentFact.PeerWord.Kind.VOUCHED, hearsIt, 0), vouchedAt);
      }
      any |= out != a;
      judged.put(a.node(), out);
    }
    return any ? f.withAgents(judged) : f;
  }

  /**
   * The message of the VIP holder's node being lost, or null when it is not (then {@link
   * Decision#contact} says what is seen, and a look is scheduled for when the Lease would run out).
   */
  static String of(Decision d, String node) {
    AgentFact holder = d.agent(node);
    String peerNode = peerNode(d, node);
    AgentFact peer = peerNode == null ? null : d.agent(peerNode);
    boolean peerSpeaks = peer != null && peer.alive(d.now, d.nodeLoss);
    boolean silent = peerSpeaks && peer.hearing().silentOn(node);
    boolean hears = peerSpeaks && peer.hearing().hears(node);
    if (holder.lostByPeers()) {
      return "node " + node + " is lost: " + holder.whyNotAlive(d.now, d.nodeLoss);
    }
    if (!holder.alive(d.now, d.nodeLoss)) {
      return "node "
          + node
          + " is lost: "
          + (holder.notWorking() != null
              ? holder.whyNotAlive(d.now, d.nodeLoss)
              : "its agent has not renewed its Lease for "
                  + d.nodeLoss.toSeconds()
                  + " s (spec.failover.nodeLossSeconds)")
          + (silent ? ", and " + peerNode + " hears nothing from it over the peer channel" : "");
    }
    if (holder.late(d.now)) {
      d.recheck(holder.lostAt(d.nodeLoss));
    }
    AgentFact.PeerWord word = holder.word();
    if (word != null && word.kind() == AgentFact.PeerWord.Kind.VOUCHED) {
      d.recheck(d.now.plus(Duration.ofSeconds(1))); // its peer's word is looked at every second
      d.contact =
          new Decision.Contact(
              false,
              "ApiContactLost",
              "node "
                  + node
                  + " is not lost although its agent has not renewed its Lease for "
                  + d.nodeLoss.toSeconds()
                  + " s (spec.failover.nodeLossSeconds): "
                  + word.peer()
                  + " hears it over the peer channel");
    } else if (silent) {
      d.contact =
          new Decision.Contact(
              false,
              "PeerSilent",
              peerNode
                  + " hears nothing from node "
                  + node
                  + " over the peer channel, but "
                  + (holder.probe().state() == AgentProbe.State.ANSWERS
                      ? "its agent answers the operator's probe and renews its Lease"
                      : "its agent renews its Lease")
                  + ": not lost");
    } else if (hears) {
      d.contact =
          new Decision.Contact(
              true,
              "InContact",
              "node "
                  + node
                  + "'s agent renews its Lease and "
                  + peerNode
                  + " hears it over the peer channel");
    }
    return null;
  }

  /** The node of the pair's other server, the one that would take over; null if none is known. */
  static String peerNode(Decision d, String node) {
    if (d.spec == null || d.spec.getServers() == null) {
      return null;
    }
    String backup = d.st.backup;
    if (backup != null) {
      String n = d.pod(backup).node();
      if (n != null && !n.equals(node)) {
        return n;
      }
    }
    for (String s : d.spec.getServers()) {
      String n = d.pod(s).node();
      if (n != null && !n.equals(node)) {
        return n;
      }
    }
    return null;
  }
}
