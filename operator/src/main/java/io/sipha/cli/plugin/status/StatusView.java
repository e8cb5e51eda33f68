package io.sipha.cli.plugin.status;

import io.sipha.api.Condition;
import io.sipha.api.FencedHolder;
import io.sipha.api.HistoryEntry;
import io.sipha.api.SipServerPairSpec;
import io.sipha.api.SipServerPairStatus;
import io.sipha.api.Transition;
import io.sipha.api.VipStatus;
import io.sipha.cli.plugin.PairReader;
import io.sipha.decision.AgentFact;
import io.sipha.decision.PairFacts;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * What {@code kubectl sipha status PAIR -o json|yaml} prints: the pair as the operator and the
 * agents see it.
 */
record StatusView(
    String namespace,
    String name,
    long generation,
    Long observedGeneration,
    String phase,
    String primary,
    String backup,
    long epoch,
    VipStatus vip,
    Transition transition,
    List<FencedHolder> fenced,
    SpecView spec,
    List<Condition> conditions,
    List<PodView> pods,
    List<AgentView> agents,
    String agentsProblem,
    HistoryEntry lastTransition,
    String observedAt) {

  /** The part of the spec a person checks against the status. */
  record SpecView(
      List<String> servers,
      String primary,
      String vip,
      boolean paused,
      boolean failoverEnabled,
      int unreadyGraceSeconds,
      int nodeLossSeconds,
      String failback) {}

  record PodView(
      String name,
      boolean exists,
      String node,
      boolean ready,
      String readySince,
      String failure,
      String role,
      Long epoch,
      boolean labelled) {}

  /**
   * @param heartbeatAgeMillis how long ago the agent last renewed its Lease (by its renewTime)
   * @param state alive, late (missed a renewal), restarting (announced), lost (past
   *     nodeLossSeconds) or unknown
   */
  record AgentView(
      String node,
      String renewTime,
      Long heartbeatAgeMillis,
      String state,
      io.sipha.kube.AgentReports.Json report) {}

  static StatusView of(PairReader.Snapshot snap, PairFacts facts) {
    SipServerPairStatus s =
        snap.pair().getStatus() == null ? new SipServerPairStatus() : snap.pair().getStatus();
    SipServerPairSpec spec = snap.pair().getSpec();
    Instant now = snap.now();
    Duration nodeLoss = nodeLoss(spec);
    SpecView specView =
        spec == null
            ? null
            : new SpecView(
                spec.getServers(),
                spec.getPrimary(),
                spec.getVirtualIP() == null
                    ? null
                    : spec.getVirtualIP().getAddress()
                        + "/"
                        + spec.getVirtualIP().getPrefixLength()
                        + " dev "
                        + spec.getVirtualIP().getInterfaceName(),
                spec.isPaused(),
                spec.getFailover() == null || spec.getFailover().isEnabled(),
                spec.getFailover() == null ? 2 : spec.getFailover().getUnreadyGraceSeconds(),
                (int) nodeLoss.toSeconds(),
                String.valueOf(spec.getFailback()));
    List<PodView> pods =
        facts.pods().values().stream()
            .map(
                p ->
                    new PodView(
                        p.name(),
                        p.exists(),
                        p.node(),
                        p.ready(),
                        p.readySince() == null ? null : p.readySince().toString(),
                        p.failure(),
                        p.role(),
                        p.epoch(),
                        p.labelled()))
            .toList();
    List<AgentView> agents =
        facts.agents().values().stream()
            .sorted(java.util.Comparator.comparing(AgentFact::node))
            .map(
                a ->
                    new AgentView(
                        a.node(),
                        a.renewedAt() == null ? null : a.renewedAt().toString(),
                        a.renewedAt() == null
                            ? null
                            : Math.max(0, Duration.between(a.renewedAt(), now).toMillis()),
                        agentState(a, now, nodeLoss),
                        io.sipha.kube.AgentReports.Json.of(a.report())))
            .toList();
    HistoryEntry last = s.history.isEmpty() ? null : s.history.get(s.history.size() - 1);
    return new StatusView(
        facts.namespace(),
        facts.name(),
        facts.generation(),
        s.observedGeneration,
        s.phase == null ? null : s.phase.name(),
        s.primary,
        s.backup,
        s.epoch,
        s.vip,
        s.transition,
        s.fenced,
        specView,
        s.conditions,
        pods,
        agents,
        snap.leaseProblem(),
        last,
        now.toString());
  }

  static Duration nodeLoss(SipServerPairSpec spec) {
    return Duration.ofSeconds(
        spec == null || spec.getFailover() == null ? 3 : spec.getFailover().getNodeLossSeconds());
  }

  static String agentState(AgentFact a, Instant now, Duration nodeLoss) {
    if (a.renewedAt() == null) {
      return "unknown";
    }
    if (!a.alive(now, nodeLoss)) {
      return "lost";
    }
    if (a.late(now)) {
      return a.restartingUntil() != null && a.restartingUntil().isAfter(now)
          ? "restarting"
          : "late";
    }
    return "alive";
  }
}
