package io.sipha.decision;

import io.sipha.api.FencedHolder;
import io.sipha.api.HistoryEntry;
import io.sipha.api.TransitionKind;
import java.util.ArrayList;
import java.util.List;

/**
 * Split-brain resolution. Nodes other than the true holder that report the VIP bound are stale
 * primaries (they were lost, or a forged state): their pods are already backups at the current
 * epoch and their agents remove the VIP. Once a returned node confirms, the true holder announces
 * the VIP again.
 */
final class StaleHolders {
  private final Decision d;

  StaleHolders(Decision d) {
    this.d = d;
  }

  /** Returns true while a node that came back has not yet confirmed it released the VIP. */
  boolean check(String holderNode) {
    var st = d.st;
    VipReport holderReport = holderNode == null ? null : d.agent(holderNode).report();
    if (holderReport != null
        && holderReport.is(VipReport.State.Bound)
        && holderReport.epoch() == st.epoch) {
      // the true holder at the current epoch is not a stale one, whatever it was before
      st.fenced.removeIf(e -> e.node.equals(holderNode));
    }
    List<String> stale = new ArrayList<>();
    for (AgentFact a : d.facts.agents().values()) {
      // a node whose heartbeat is ahead of its reports may have removed the VIP since that report
      // (a self-fenced primary coming back): its pairs are woken again when the reports arrive
      if (!a.node().equals(holderNode)
          && a.alive(d.now, d.nodeLoss)
          && !a.reportsBehind()
          && a.report() != null
          && a.report().is(VipReport.State.Bound)) {
        stale.add(a.node() + " (epoch " + a.report().epoch() + ")");
        FencedHolder e = d.fence(a.node(), d.podOn(a.node(), null), a.report().epoch());
        e.splitBrainSeen = true;
      }
    }
    boolean resolved = false;
    for (FencedHolder e : new ArrayList<>(st.fenced)) {
      AgentFact a = d.agent(e.node);
      VipReport r = a.report();
      if (!a.alive(d.now, d.nodeLoss)
          || r == null
          || !r.is(VipReport.State.Unbound)
          || r.epoch() < st.epoch
          || r.alsoHolds(st.vip.address)) {
        if (a.alive(d.now, d.nodeLoss)) {
          d.recheck(a.lostAt(d.nodeLoss));
        }
        continue;
      }
      st.fenced.remove(e);
      if (e.splitBrainSeen || (r.removedStaleEpoch() != null && r.removedStaleEpoch() >= e.epoch)) {
        resolved = true;
        st.vip.announce++;
        d.addHistory(
            new HistoryEntry(
                st.epoch,
                TransitionKind.Demotion,
                e.pod,
                st.primary,
                "StalePrimary",
                d.now.toString(),
                0));
        d.note(
            false,
            EventReason.SplitBrainResolved,
            "stale primary "
                + (e.pod == null ? "" : e.pod + " ")
                + "on "
                + e.node
                + " (epoch "
                + e.epoch
                + ") is demoted and its node removed "
                + st.vip.address
                + "; "
                + holderNode
                + " announces it again");
      }
    }
    condition(holderNode, stale, resolved);
    return st.fenced.stream().anyMatch(e -> d.alive(e.node));
  }

  /**
   * SplitBrain: True while stale holders are seen, Resolved once they removed the VIP, else
   * SingleHolder.
   */
  private void condition(String holderNode, List<String> stale, boolean resolved) {
    var st = d.st;
    if (!stale.isEmpty()) {
      String msg =
          "two VIP holders: "
              + String.join(", ", stale)
              + " besides "
              + holderNode
              + " at the current epoch "
              + st.epoch
              + "; the stale primary is demoted and its node removes "
              + st.vip.address;
      if (d.condition(Conditions.SPLIT_BRAIN, true, "StaleVipHolder", msg)) {
        d.note(true, EventReason.SplitBrainDetected, msg);
      }
    } else if (resolved || Conditions.isTrue(st.conditions, Conditions.SPLIT_BRAIN)) {
      d.condition(
          Conditions.SPLIT_BRAIN,
          false,
          "Resolved",
          "the stale VIP holder was removed at epoch "
              + st.epoch
              + "; "
              + holderNode
              + " is the only holder");
    } else if (!Conditions.find(st.conditions, Conditions.SPLIT_BRAIN)
        .map(c -> "Resolved".equals(c.reason))
        .orElse(false)) {
      d.condition(
          Conditions.SPLIT_BRAIN,
          false,
          "SingleHolder",
          holderNode == null ? "no node holds the VIP" : "only " + holderNode + " holds the VIP");
    }
  }

  /**
   * A live node other than the grantee may hold the VIP: it reports it bound or in an unknown
   * state, or it was declared lost (fenced) and has not confirmed its release since.
   */
  boolean othersMayHold() {
    var st = d.st;
    for (AgentFact a : d.facts.agents().values()) {
      if (a.node().equals(st.vip.node) || !a.alive(d.now, d.nodeLoss)) {
        continue;
      }
      VipReport r = a.report();
      boolean fenced = st.fenced.stream().anyMatch(e -> e.node.equals(a.node()));
      if ((r != null && (!r.is(VipReport.State.Unbound) || r.alsoHolds(st.vip.address)))
          || (fenced && (r == null || r.epoch() < st.epoch))) {
        return true;
      }
    }
    return false;
  }
}
