package io.sipha.operator;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderCallbacks;
import io.javaoperatorsdk.operator.Operator;
import io.javaoperatorsdk.operator.api.config.LeaderElectionConfigurationBuilder;
import io.javaoperatorsdk.operator.processing.retry.GenericRetry;
import io.sipha.vip.AllowedCidrs;
import java.time.Clock;
import java.time.Duration;
import java.util.Set;

/**
 * The operator process: one JOSDK {@link Operator} running {@link SipServerPairReconciler},
 * optionally leader-elected so that two replicas never act at once.
 *
 * @param watchNamespaces namespaces of the pairs to manage; empty means all
 * @param leaseNamespace where node agents keep their Leases (the operator's own namespace)
 * @param leaderElection elect a leader through a Lease in leaseNamespace
 * @param onLostLeadership run when this replica stops being the leader while it runs: it must not
 *     go on acting (another replica does now); the command stops this operator and starts a fresh
 *     one in the same process, as a candidate (no exit: no CrashLoopBackOff after API blips)
 */
public record SiphaOperator(
    KubernetesClient client,
    Set<String> watchNamespaces,
    String leaseNamespace,
    AllowedCidrs allowed,
    boolean leaderElection,
    String identity,
    OperatorMetrics metrics,
    Clock clock,
    Runnable onLostLeadership) {

  /**
   * How long a leader's Lease lasts without renewal: a standby replica takes over at most this long
   * after the leader stops. Pairs keep their VIP meanwhile: agents act on the pairs' status.
   */
  public static final Duration LEASE_DURATION = Duration.ofSeconds(6);

  public Operator start() {
    Operator operator =
        new Operator(
            o -> {
              o.withKubernetesClient(client)
                  .withUseSSAToPatchPrimaryResource(false)
                  .withCloseClientOnStop(false)
                  .withConcurrentReconciliationThreads(8)
                  .withReconciliationTerminationTimeout(Duration.ofSeconds(2));
              if (leaderElection) {
                o.withLeaderElectionConfiguration(
                    LeaderElectionConfigurationBuilder.aLeaderElectionConfiguration(
                            "sipha-operator")
                        .withLeaseNamespace(leaseNamespace)
                        .withIdentity(identity)
                        .withLeaseDuration(LEASE_DURATION)
                        .withRenewDeadline(LEASE_DURATION.multipliedBy(2).dividedBy(3))
                        .withRetryPeriod(LEASE_DURATION.dividedBy(5))
                        .withExitOnStopLeading(false)
                        .withLeaderCallbacks(
                            new LeaderCallbacks(() -> {}, onLostLeadership, leader -> {}))
                        .build());
              }
            });
    var reconciler = new SipServerPairReconciler(client, leaseNamespace, allowed, clock, metrics);
    operator.register(
        reconciler,
        c -> {
          if (watchNamespaces.isEmpty()) {
            c.watchingAllNamespaces();
          } else {
            c.settingNamespaces(watchNamespaces);
          }
          c.withReconciliationMaxInterval(Duration.ofSeconds(30));
          c.withOnUpdateFilter(reconciler::updated);
          // a failed write (409, 500, a dropped connection) is retried soon, from fresh facts
          c.withRetry(
              new GenericRetry()
                  .setInitialInterval(200)
                  .setIntervalMultiplier(2)
                  .setMaxInterval(5_000)
                  .withoutMaxAttempts());
        });
    try {
      operator.start();
    } catch (RuntimeException e) {
      // a start that failed half way (an informer's first list refused) leaves the others running
      try {
        operator.stop();
      } catch (RuntimeException stopFailed) {
        e.addSuppressed(stopFailed);
      }
      throw e;
    }
    return operator;
  }
}
