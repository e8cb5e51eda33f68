package io.sipha.operator;

import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.inbound.SimpleInboundEventSource;
import io.sipha.api.SipServerPair;
import io.sipha.decision.AgentFact;
import io.sipha.kube.AgentReports;
import io.sipha.kube.Facts;
import io.sipha.kube.InformerHandlers;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * Follows the agents' heartbeats on the operator's own clock and wakes the pairs of a node whose
 * agent has missed a renewal ({@link AgentFact#LATE}). Plain renewals reach no reconciler (they
 * would wake every pair every second); a pair needs to look at its node-loss deadline only once its
 * node is late, and this is what tells it; and again when a late node renews (it counts as alive
 * from then on, on this bookkeeping: a wake-up carried by another informer may come first).
 *
 * <p>Ages are measured from when the operator saw a renewal, not from the renewTime the agent
 * wrote, so a node's clock being off does not make it look lost (or alive). When the operator
 * itself heard nothing for a while (its watch or the API was down), every node gets a fresh start
 * at the first renewal it hears again: an outage of the API is not the loss of every node.
 */
final class NodeLiveness extends SimpleInboundEventSource<SipServerPair> {
  /**
   * How often late Leases and the probe's verdicts are looked at: well under the probe's 300 ms
   * budget, so that an agent gone is told to its pairs within a few ms of it (the probe itself asks
   * every 100 ms, whatever the tick).
   */
  private static final long TICK_MILLIS = 25;

  private final KubernetesClient client;
  private final String namespace;
  private final Clock clock;
  private final Function<String, Set<ResourceID>> pairsOfNode;
  private final Heartbeats heartbeats = new Heartbeats();
  private final AgentProbes probes;
  private ScheduledExecutorService timer;
  private SharedIndexInformer<Lease> informer;

  NodeLiveness(
      KubernetesClient client,
      String namespace,
      Clock clock,
      Function<String, Set<ResourceID>> pairsOfNode) {
    super("node-liveness");
    this.client = client;
    this.namespace = namespace;
    this.clock = clock;
    this.pairsOfNode = pairsOfNode;
    this.probes = new AgentProbes(clock);
  }

  @Override
  public synchronized void start() {
    super.start();
    informer =
        client
            .leases()
            .inNamespace(namespace)
            .withLabel(AgentReports.LEASE_LABEL, AgentReports.LEASE_LABEL_VALUE)
            .inform(InformerHandlers.onSeen(this::seen), 0);
    timer =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "node-liveness");
              t.setDaemon(true);
              return t;
            });
    timer.scheduleWithFixedDelay(this::tick, TICK_MILLIS, TICK_MILLIS, TimeUnit.MILLISECONDS);
  }

  @Override
  public synchronized void stop() {
    if (timer != null) {
      timer.shutdownNow();
    }
    if (informer != null) {
      informer.close();
    }
    super.stop();
  }

  private void seen(Lease l) {
    if (l.getSpec() == null || l.getSpec().getRenewTime() == null) {
      return;
    }
    var annotations = l.getMetadata().getAnnotations();
    probes.endpoint(
        Facts.nodeOf(l),
        annotations == null ? null : annotations.get(AgentReports.PROBE_ENDPOINT_ANNOTATION));
    Integer restart = AgentReports.restartSeconds(annotations);
    heartbeats
        .seen(
            Facts.nodeOf(l),
            l.getSpec().getRenewTime().toInstant(),
            restart == null ? null : Duration.ofSeconds(restart),
            clock.instant())
        .forEach(node -> pairsOfNode.apply(node).forEach(this::propagateEvent));
  }

  /**
   * Until when an announced restart of this node's agent runs, on the operator's clock; null if
   * none.
   */
  Instant restartingUntil(String node) {
    return heartbeats.restartingUntil(node);
  }

  /**
   * When the operator last saw this node's agent renew, on its own clock; null if never. While the
   * operator hears no agent at all (its own watch or the API is down) it cannot judge any node:
   * every node counts as just seen, so none is declared lost for what is the operator's deafness.
   */
  Instant renewedAt(String node) {
    return heartbeats.renewedAt(node, clock.instant());
  }

  /** What the operator's own probe of this node's agent says. */
  io.sipha.decision.AgentProbe probe(String node) {
    return probes.view(node);
  }

  private void tick() {
    heartbeats
        .newlyLate(clock.instant())
        .forEach(node -> pairsOfNode.apply(node).forEach(this::propagateEvent));
    probes.tick().forEach(node -> pairsOfNode.apply(node).forEach(this::propagateEvent));
  }
}
