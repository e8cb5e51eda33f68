package io.sipha.operator;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.javaoperatorsdk.operator.api.config.informer.InformerEventSourceConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
import io.javaoperatorsdk.operator.processing.event.source.inbound.SimpleInboundEventSource;
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;
import io.sipha.api.HistoryEntry;
import io.sipha.api.SipServerPair;
import io.sipha.api.SipServerPairStatus;
import io.sipha.decision.PairDecider;
import io.sipha.decision.PairFacts;
import io.sipha.decision.Plan;
import io.sipha.decision.VipBindingRule;
import io.sipha.decision.VipReport;
import io.sipha.kube.AgentReports;
import io.sipha.kube.Facts;
import io.sipha.vip.AllowedCidrs;
import java.time.Clock;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * The JOSDK shell around {@link PairDecider}: observe the pair, its pods and the node agents'
 * Leases; decide; carry out the plan; look again when a timer in the plan is due (a grace period or
 * a node-loss deadline).
 */
@ControllerConfiguration(name = SipServerPairReconciler.NAME)
public class SipServerPairReconciler
    implements Reconciler<SipServerPair>,
        io.javaoperatorsdk.operator.api.reconciler.Cleaner<SipServerPair> {
  public static final String NAME = "sipserverpair";
  private static final Logger LOG = LoggerFactory.getLogger(SipServerPairReconciler.class);

  private final KubernetesClient client;
  private final String leaseNamespace;
  private final AllowedCidrs allowed;
  private final Clock clock;
  private final OperatorMetrics metrics;
  private final EventRecorder events;
  private volatile PairObserver observer;

  /** How long a pair waits when another pair of this process is being given the same address. */
  static final java.time.Duration CLAIM_WAIT = java.time.Duration.ofMillis(200);

  private final VipClaims claims = new VipClaims();
  private final PrimaryRequests requests = new PrimaryRequests();

  /**
   * Wakes the pairs waiting for an address another pair has just let go (else: the 30 s resync).
   */
  private final SimpleInboundEventSource<SipServerPair> released =
      new SimpleInboundEventSource<>("vip-released");

  /** A pair (namespace/name) from the informer cache. */
  private java.util.function.Function<String, java.util.Optional<SipServerPair>> cachedPair;

  /** Whether a pair (namespace/name) is in the informer cache. */
  private java.util.function.Predicate<String> pairExists;

  /**
   * How soon a pair refused for a VIP held by a pair being deleted looks again (that pair is about
   * to go).
   */
  static final Duration CLAIMANT_GOING = Duration.ofMillis(500);

  /** The informer's update filter: records a change of spec.primary, lets every event through. */
  public boolean updated(SipServerPair after, SipServerPair before) {
    if (after.getSpec() != null && before != null && before.getSpec() != null) {
      requests.changed(after.key(), before.getSpec().getPrimary(), after.getSpec().getPrimary());
    }
    return true;
  }

  public SipServerPairReconciler(
      KubernetesClient client,
      String leaseNamespace,
      AllowedCidrs allowed,
      Clock clock,
      OperatorMetrics metrics) {
    this.client = client;
    this.leaseNamespace = leaseNamespace;
    this.allowed = allowed;
    this.clock = clock;
    this.metrics = metrics;
    this.events = new EventRecorder(client, "sipha-operator", clock);
  }

  @Override
  public List<EventSource<?, SipServerPair>> prepareEventSources(
      EventSourceContext<SipServerPair> ctx) {
    var pods =
        new InformerEventSource<>(
            InformerEventSourceConfiguration.from(Pod.class, SipServerPair.class)
                .withName("pods")
                .withLabelSelector(SipServerPair.PAIR_LABEL)
                .withSecondaryToPrimaryMapper(
                    pod ->
                        Set.of(
                            new ResourceID(
                                pod.getMetadata().getLabels().get(SipServerPair.PAIR_LABEL),
                                pod.getMetadata().getNamespace())))
                .build(),
            ctx);
    var cache = ctx.getPrimaryCache();
    var leases =
        new InformerEventSource<>(
            InformerEventSourceConfiguration.from(Lease.class, SipServerPair.class)
                .withName("agent-leases")
                .withNamespaces(leaseNamespace)
                .withLabelSelector(AgentReports.LEASE_LABEL + "=" + AgentReports.LEASE_LABEL_VALUE)
                .withOnUpdateFilter(SipServerPairReconciler::reportOrWorkChanged)
                .withSecondaryToPrimaryMapper(
                    new ReportChanges(node -> pairsOfNode(node, cache.list(), pods), true))
                .build(),
            ctx);
    // the agents' reports, apart from their heartbeats: each update wakes the pairs whose report
    // changed
    var reports =
        new InformerEventSource<>(
            InformerEventSourceConfiguration.from(Lease.class, SipServerPair.class)
                .withName("agent-reports")
                .withNamespaces(leaseNamespace)
                .withLabelSelector(
                    AgentReports.LEASE_LABEL + "=" + AgentReports.REPORTS_LABEL_VALUE)
                .withSecondaryToPrimaryMapper(
                    new ReportChanges(node -> pairsOfNode(node, cache.list(), pods), false))
                .build(),
            ctx);
    var liveness =
        new NodeLiveness(
            ctx.getClient(), leaseNamespace, clock, node -> pairsOfNode(node, cache.list(), pods));
    cachedPair =
        key -> {
          int slash = key.indexOf('/');
          return cache.get(new ResourceID(key.substring(slash + 1), key.substring(0, slash)));
        };
    pairExists = key -> cachedPair.apply(key).isPresent();
    observer =
        new PairObserver(
            client,
            allowed,
            leaseNamespace,
            pods,
            leases,
            reports,
            () -> cache.list(),
            liveness,
            claims,
            pairExists);
    return List.of(pods, leases, reports, liveness, released);
  }

  /**
   * A plain renewal changes nothing for the decider (node-loss deadlines are timers): pass on a
   * Lease update only when its report or its not-working note changed. A node that comes back after
   * a gap is woken by {@link NodeLiveness}, on the bookkeeping that judges it alive.
   */
  static boolean reportOrWorkChanged(Lease now, Lease before) {
    var a = now.getMetadata().getAnnotations();
    var b = before.getMetadata().getAnnotations();
    return !Objects.equals(
            a == null ? null : a.get(AgentReports.ANNOTATION),
            b == null ? null : b.get(AgentReports.ANNOTATION))
        || !Objects.equals(notWorking(now), notWorking(before))
        || !AgentReports.hearing(a).equals(AgentReports.hearing(b));
  }

  static String notWorking(Lease l) {
    var a = l.getMetadata().getAnnotations();
    return a == null ? null : a.get(AgentReports.NOT_WORKING_ANNOTATION);
  }

  /** The pairs a node matters to: those with a pod there, or whose status grants or fences it. */
  private static Set<ResourceID> pairsOfNode(
      String node,
      java.util.stream.Stream<SipServerPair> pairs,
      InformerEventSource<Pod, SipServerPair> pods) {
    Set<ResourceID> out = new HashSet<>();
    pods.list(p -> p.getSpec() != null && node.equals(p.getSpec().getNodeName()))
        .forEach(
            p ->
                out.add(
                    new ResourceID(
                        p.getMetadata().getLabels().get(SipServerPair.PAIR_LABEL),
                        p.getMetadata().getNamespace())));
    pairs
        .filter(p -> VipBindingRule.statusNames(p.getStatus(), node))
        .forEach(p -> out.add(ResourceID.fromResource(p)));
    return out;
  }

  /**
   * Maps an agent's Lease to the pairs whose report in it changed since the last one seen, or to
   * all the node's pairs when the node is new or comes back after a gap. An agent that reports on
   * hundreds of pairs then wakes only the ones it has news about. JOSDK may map one version of a
   * Lease more than once (to index it, then to propagate it): the answer is kept per version.
   */
  static final class ReportChanges
      implements io.javaoperatorsdk.operator.processing.event.source.SecondaryToPrimaryMapper<
          Lease> {
    private record Seen(
        String version,
        Map<String, VipReport> reports,
        String notWorking,
        io.sipha.decision.PeerHearing hearing,
        Set<ResourceID> answer) {}

    private final java.util.function.Function<String, Set<ResourceID>> pairsOfNode;
    private final boolean heartbeats;
    private final Map<String, Seen> seen = new java.util.concurrent.ConcurrentHashMap<>();

    /**
     * @param heartbeats these are heartbeat Leases (a new one, or an agent that stops or starts
     *     working, wakes all the node's pairs; a node back after a gap is woken by NodeLiveness);
     *     else report Leases (only the pairs whose report changed)
     */
    ReportChanges(
        java.util.function.Function<String, Set<ResourceID>> pairsOfNode, boolean heartbeats) {
      this.pairsOfNode = pairsOfNode;
      this.heartbeats = heartbeats;
    }

    @Override
    public Set<ResourceID> toPrimaryResourceIDs(Lease lease) {
      String node = Facts.nodeOf(lease);
      String name = lease.getMetadata().getName();
      Map<String, String> ann = lease.getMetadata().getAnnotations();
      Map<String, VipReport> now =
          ann == null ? Map.of() : AgentReports.parse(ann.get(AgentReports.ANNOTATION));
      String version = lease.getMetadata().getResourceVersion();
      Seen before = seen.get(name);
      if (before != null && version != null && version.equals(before.version())) {
        return before.answer();
      }
      Set<ResourceID> out = new HashSet<>();
      boolean wake =
          before == null
              || !Objects.equals(before.notWorking(), notWorking(lease)); // stuck, or working again
      if (wake && heartbeats) {
        out.addAll(pairsOfNode.apply(node));
      }
      io.sipha.decision.PeerHearing hearing = AgentReports.hearing(ann);
      if (heartbeats && before != null && !hearing.equals(before.hearing())) {
        // what the agent hears of its peers changed: its pairs and those of the peers concerned
        // look at once (a silent peer may be a lost VIP holder)
        out.addAll(pairsOfNode.apply(node));
        Set<String> changed = new HashSet<>();
        changed.addAll(symmetricDifference(hearing.heard(), before.hearing().heard()));
        changed.addAll(symmetricDifference(hearing.silent(), before.hearing().silent()));
        changed.forEach(peer -> out.addAll(pairsOfNode.apply(peer)));
      }
      Set<String> keys = new HashSet<>(now.keySet());
      if (before != null) {
        keys.addAll(before.reports().keySet());
      }
      for (String k : keys) {
        if (before == null || !Objects.equals(before.reports().get(k), now.get(k))) {
          int slash = k.indexOf('/');
          out.add(new ResourceID(k.substring(slash + 1), k.substring(0, slash)));
        }
      }
      seen.put(name, new Seen(version, now, notWorking(lease), hearing, out));
      return out;
    }

    private static Set<String> symmetricDifference(Set<String> a, Set<String> b) {
      Set<String> out = new HashSet<>(a);
      out.addAll(b);
      Set<String> both = new HashSet<>(a);
      both.retainAll(b);
      out.removeAll(both);
      return out;
    }
  }

  @Override
  public UpdateControl<SipServerPair> reconcile(SipServerPair pair, Context<SipServerPair> ctx) {
    MDC.put("pair", pair.key());
    try {
      java.time.Instant now = clock.instant();
      java.util.Set<String> seen = requests.seen(pair.key());
      PairFacts facts = observer.observe(pair, now).withPrimariesSeen(seen);
      facts.agents().values().forEach(a -> metrics.agentSeen(a.node(), a.renewedAt()));
      Plan plan = PairDecider.decide(facts);
      observer.stepDecided(pair.key(), plan.status().transition, now);
      MDC.put("epoch", String.valueOf(plan.status().epoch));
      if (plan.status().transition != null) {
        MDC.put("step", plan.status().transition.kind + "/" + plan.status().transition.step);
      }
      String other = claims.claim(pair.key(), Facts.heldHost(plan.status()), pairExists);
      if (other != null) {
        // another pair of this process is being given the same address: nothing is written, and
        // the next look at this pair says Invalid, naming it
        LOG.info(
            "{} is claimed by {} in this operator: waiting for its status",
            Facts.heldHost(plan.status()),
            other);
        return UpdateControl.<SipServerPair>noUpdate().rescheduleAfter(CLAIM_WAIT);
      }
      recordMetrics(pair, plan.status());
      String heldBefore = Facts.heldHost(pair.getStatus());
      SipServerPair[] stored = {pair};
      try {
        new PlanExecutor(client, events, metrics)
            .apply(
                pair,
                facts,
                plan,
                written -> {
                  stored[0] = written;
                  cacheWrite(ctx, pair, written);
                });
      } finally {
        claims.settle(pair.key(), Facts.heldHost(stored[0]));
      }
      if (heldBefore != null && !heldBefore.equals(Facts.heldHost(stored[0]))) {
        wakeClaimants(heldBefore, pair.key());
      }
      if (facts.status() != null && facts.status().primary != null) {
        // the decision recorded any acknowledgement among them (it does while the status names a
        // primary) and its writes landed (a failed one throws): dealt with
        requests.done(pair.key(), seen);
      }
      UpdateControl<SipServerPair> control = UpdateControl.noUpdate();
      Duration recheck = plan.recheckAfter();
      if (facts.vipClaimedBy() != null
          && cachedPair
              .apply(facts.vipClaimedBy())
              .map(p -> p.getMetadata().getDeletionTimestamp() != null)
              .orElse(false)) {
        // the holder's cleanup may let the address go between the events that wake this pair
        // (its release, then its removal from the cache): look again soon rather than at the resync
        recheck =
            recheck == null || recheck.compareTo(CLAIMANT_GOING) > 0 ? CLAIMANT_GOING : recheck;
      }
      if (recheck != null) {
        control.rescheduleAfter(recheck.plusMillis(10));
      }
      return control;
    } finally {
      MDC.remove("pair");
      MDC.remove("epoch");
      MDC.remove("step");
    }
  }

  /** An address this pair held (or asked for) is free: the pairs that ask for it look again now. */
  private void wakeClaimants(String host, String releaser) {
    observer
        .claimants(host, releaser)
        .forEach(p -> released.propagateEvent(ResourceID.fromResource(p)));
  }

  /** Tells the informer cache about a status write, so that the next reconcile starts from it. */
  private static void cacheWrite(
      Context<SipServerPair> ctx, SipServerPair before, SipServerPair written) {
    ctx.eventSourceRetriever()
        .getControllerEventSource()
        .handleRecentResourceUpdate(
            io.javaoperatorsdk.operator.processing.event.ResourceID.fromResource(before),
            written,
            before);
  }

  /**
   * A deleted pair (its finalizer holds it): both pods demoted and the VIP released, confirmed by
   * every node that may hold it, then the roles cleared and the pair let go (see {@link
   * io.sipha.decision.PairDeletion}).
   */
  @Override
  public io.javaoperatorsdk.operator.api.reconciler.DeleteControl cleanup(
      SipServerPair pair, Context<SipServerPair> ctx) {
    MDC.put("pair", pair.key());
    try {
      java.time.Instant now = clock.instant();
      PairFacts facts = observer.observe(pair, now);
      var outcome = io.sipha.decision.PairDeletion.decide(facts);
      observer.stepDecided(pair.key(), outcome.plan().status().transition, now);
      new PlanExecutor(client, events, metrics)
          .apply(pair, facts, outcome.plan(), written -> cacheWrite(ctx, pair, written));
      if (outcome.released()) {
        claims.settle(pair.key(), null);
        java.util.stream.Stream.of(Facts.heldHost(pair.getStatus()), Facts.vipHost(pair))
            .filter(Objects::nonNull)
            .distinct()
            .forEach(h -> wakeClaimants(h, pair.key()));
        metrics.phase(pair.key(), null);
        return io.javaoperatorsdk.operator.api.reconciler.DeleteControl.defaultDelete();
      }
      var control = io.javaoperatorsdk.operator.api.reconciler.DeleteControl.noFinalizerRemoval();
      return outcome.plan().recheckAfter() == null
          ? control
          : control.rescheduleAfter(outcome.plan().recheckAfter().plusMillis(10));
    } finally {
      MDC.remove("pair");
    }
  }

  private void recordMetrics(SipServerPair pair, SipServerPairStatus after) {
    metrics.phase(pair.key(), after.phase);
    List<HistoryEntry> before = pair.getStatus() == null ? List.of() : pair.getStatus().history;
    if (!after.history.isEmpty()) {
      HistoryEntry last = after.history.get(after.history.size() - 1);
      boolean isNew =
          before.isEmpty()
              || before.get(before.size() - 1).epoch != last.epoch
              || !Objects.equals(before.get(before.size() - 1).kind, last.kind);
      if (isNew) {
        metrics.transitionDuration(last.kind, last.durationMillis);
      }
    }
  }
}
