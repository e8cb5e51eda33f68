package io.sipha.decision;

import io.sipha.api.SipServerPairSpec;
import io.sipha.api.SipServerPairStatus;
import io.sipha.api.VipStatus;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The design's safety rules as checks over what a decision saw and what the pods carry: one version
 * of each, checked by the one-pair fixture of the decision tests ({@link OnePair}) after every
 * decision and by the three-pair simulation ({@code sim.World}) after every step.
 */
public final class SafetyRules {
  private SafetyRules() {}

  /** Whether the status grants the pair's VIP to a node (Binding or Bound there). */
  public static boolean grantsVip(SipServerPairStatus st) {
    return st != null
        && st.vip != null
        && st.vip.node != null
        && (st.vip.state == VipStatus.State.Binding || st.vip.state == VipStatus.State.Bound);
  }

  /** spec.failover.nodeLossSeconds, or its default when the spec has no failover section. */
  public static Duration nodeLoss(SipServerPairSpec spec) {
    return Duration.ofSeconds(
        spec == null || spec.getFailover() == null ? 3 : spec.getFailover().getNodeLossSeconds());
  }

  /**
   * What a decision that grants the VIP at an epoch saw of the other nodes: which were lost (no
   * heartbeat within nodeLossSeconds, or lost on the word of its peer and the operator's probe, as
   * the product judges it: {@link NodeLoss#judge}) and which had confirmed its release at that
   * epoch (reported Unbound at it or later). The rule: the VIP is enabled on a node only after
   * every previous holder confirmed its release or was declared lost.
   */
  public record GrantWitness(Set<String> lost, Set<String> confirmed) {
    public static GrantWitness of(PairFacts seen, long epoch, Collection<String> nodes) {
      Duration loss = nodeLoss(seen.spec());
      PairFacts facts = NodeLoss.judge(seen, loss);
      Set<String> lost = new TreeSet<>();
      Set<String> confirmed = new TreeSet<>();
      for (String n : nodes) {
        AgentFact a = facts.agent(n);
        VipReport r = a.report();
        if (!a.alive(facts.now(), loss)) {
          lost.add(n);
        } else if (r != null && r.is(VipReport.State.Unbound) && r.epoch() >= epoch) {
          confirmed.add(n);
        }
      }
      return new GrantWitness(
          Collections.unmodifiableSet(lost), Collections.unmodifiableSet(confirmed));
    }

    /**
     * Whether {@code node} may still be holding the VIP aside the grantee: it was lost or it
     * released it.
     */
    public boolean clears(String node) {
      return lost.contains(node) || confirmed.contains(node);
    }
  }

  /**
   * The epochs at which two or more pods are primary, each with those pods: "one primary per epoch"
   * holds when it is empty.
   *
   * @param primaryEpochs each pod annotated primary, with the epoch it is annotated with (null:
   *     none)
   */
  public static Map<Long, List<String>> sharedPrimaryEpochs(Map<String, Long> primaryEpochs) {
    Map<Long, List<String>> byEpoch = new TreeMap<>();
    primaryEpochs.forEach(
        (pod, epoch) -> {
          if (epoch != null) {
            byEpoch.computeIfAbsent(epoch, e -> new ArrayList<>()).add(pod);
          }
        });
    byEpoch.values().removeIf(pods -> pods.size() < 2);
    return byEpoch;
  }
}
