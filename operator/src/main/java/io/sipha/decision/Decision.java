package io.sipha.decision;

import io.sipha.api.FencedHolder;
import io.sipha.api.HistoryEntry;
import io.sipha.api.SipServerPairSpec;
import io.sipha.api.SipServerPairStatus;
import io.sipha.api.Transition;
import io.sipha.api.TransitionKind;
import io.sipha.decision.Plan.Note;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * One decision under way: the facts, a working copy of the status, and what the workflows found on
 * the way (the Events to emit, when to look again, and why the pair is not Active). Every concern
 * of {@link PairDecider} reads and writes it; {@link StatusSummary} turns what was found into the
 * phase and the Ready condition once, at the end.
 */
final class Decision {
  static final int HISTORY_LIMIT = 10;

  /** The facts, with the peers' word on every node once the node-loss budget is known. */
  PairFacts facts;

  final Instant now;
  final SipServerPairStatus st;
  final List<Note> events = new ArrayList<>();
  final List<String> toLabel = new ArrayList<>();

  /** The spec decided on: the pair's, or its last valid one while the pair's is invalid. */
  SipServerPairSpec spec;

  Duration nodeLoss;
  private Instant recheckAt;

  /** Why no primary can be elected or no failover can happen; null when nothing is wrong. */
  String degradedWhy;

  /** Why the switchover spec.primary asks for is refused; null when none is. */
  String refusedWhy;

  /**
   * Why the pair's spec is invalid while the pair serves on its last valid one; null when valid.
   */
  String invalidWhy;

  /** What the pair does while its spec is invalid, for the Ready message. */
  String servingWhy;

  /** Why the transition under way waits beyond its deadline; null when it does not. */
  String stalledWhy;

  /**
   * What the operator sees of the VIP holder's node through its two observers (NodeContact); null
   * when there is nothing to say (no peer channel, and the Lease is fresh).
   */
  Contact contact;

  /** The NodeContact condition: in contact or not, why, for a person. */
  record Contact(boolean ok, String reason, String message) {}

  /** The node-loss budget is known: every node is judged on its Lease and its peers' word. */
  void judgeNodes(Duration nodeLoss) {
    this.nodeLoss = nodeLoss;
    this.facts = NodeLoss.judge(facts, nodeLoss);
  }

  Decision(PairFacts facts) {
    this.facts = facts;
    this.now = facts.now();
    this.st = PairDecider.copy(facts.status());
  }

  PodFact pod(String name) {
    return facts.pod(name);
  }

  AgentFact agent(String node) {
    return facts.agent(node);
  }

  boolean alive(String node) {
    return agent(node).alive(now, nodeLoss);
  }

  void note(boolean warning, EventReason what, String message) {
    events.add(new Note(warning, what, message));
  }

  void note(boolean warning, EventReason what, TransitionKind kind, String message) {
    events.add(new Note(warning, what, kind, message));
  }

  /** Sets a condition for this generation at this time; true if it changed. */
  boolean condition(String type, boolean status, String reason, String message) {
    return Conditions.set(st.conditions, type, status, reason, message, now, facts.generation());
  }

  /** Looks again at this time at the latest (null: no need). */
  void recheck(Instant at) {
    if (at != null && (recheckAt == null || at.isBefore(recheckAt))) {
      recheckAt = at;
    }
  }

  /** How long until the look again, or null. */
  Duration recheckAfter() {
    if (recheckAt == null) {
      return null;
    }
    Duration after = Duration.between(now, recheckAt);
    return after.isNegative() ? Duration.ZERO : after;
  }

  /** The pod is healthy and its node's agent alive: it can be primary. */
  boolean candidate(String pod) {
    PodFact p = pod(pod);
    return p.healthy() && alive(p.node());
  }

  String whyNotCandidate(String pod) {
    if (pod == null) {
      return "there is no other server";
    }
    PodFact p = pod(pod);
    if (!p.healthy()) {
      return p.whyNotHealthy();
    }
    if (agent(p.node()).notWorking() != null) {
      return "the node agent on "
          + p.node()
          + " renews its Lease but does not work: "
          + agent(p.node()).notWorking();
    }
    return "the node agent on "
        + p.node()
        + " is not running (no Lease renewed in the last "
        + nodeLoss.toSeconds()
        + " s)";
  }

  /** The server of the pair that is not this one, or null. */
  String other(String pod) {
    for (String s : spec.getServers()) {
      if (!s.equals(pod)) {
        return s;
      }
    }
    return null;
  }

  /**
   * The server of the pair that runs on this node ({@code preferred} first), else {@code
   * preferred}.
   */
  String podOn(String node, String preferred) {
    if (preferred != null && node.equals(pod(preferred).node())) {
      return preferred;
    }
    for (String s : spec.getServers()) {
      if (node.equals(pod(s).node())) {
        return s;
      }
    }
    return preferred;
  }

  /** The node's entry among the fenced holders, added if it has none. */
  FencedHolder fence(String node, String pod, long epoch) {
    for (FencedHolder e : st.fenced) {
      if (e.node.equals(node)) {
        return e;
      }
    }
    FencedHolder e = new FencedHolder(node, pod, epoch);
    st.fenced.add(e);
    return e;
  }

  /**
   * The highest epoch seen: the status's, or a pod's if the status is behind (a lost write, a
   * recreated pair).
   */
  long epochFloor() {
    return PairDecider.epochFloor(st.epoch, facts, spec.getServers());
  }

  /** When the transition's current step began, for its deadline ({@link PairDecider#stepSince}). */
  Instant stepSince(Transition t) {
    return PairDecider.stepSince(facts, t);
  }

  Instant lastTransitionEnd() {
    if (st.history.isEmpty()) {
      return null;
    }
    HistoryEntry h = st.history.get(st.history.size() - 1);
    return Instant.parse(h.startedAt).plusMillis(h.durationMillis);
  }

  void addHistory(HistoryEntry h) {
    st.history.add(h);
    while (st.history.size() > HISTORY_LIMIT) {
      st.history.remove(0);
    }
  }

  /** " (node lost: nothing run there)", with the reason when it is not a plain missed renewal. */
  String lostWhy(String node) {
    AgentFact a = agent(node);
    boolean plain = a.notWorking() == null && a.renewedAt() != null;
    return plain
        ? " (node lost: nothing run there)"
        : " (node lost: nothing run there; " + a.whyNotAlive(now, nodeLoss) + ")";
  }
}
