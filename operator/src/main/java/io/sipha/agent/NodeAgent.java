package io.sipha.agent;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.api.model.coordination.v1.LeaseSpec;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.sipha.api.SipServerPair;
import io.sipha.api.SipServerPairStatus;
import io.sipha.decision.AgentReports;
import io.sipha.decision.VipBindingRule;
import io.sipha.decision.VipReport;
import io.sipha.vip.ScriptResult;
import io.sipha.vip.VipAddress;
import io.sipha.vip.VipScript;
import io.sipha.vip.VipScripts;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * The node agent: one per node. It heartbeats by renewing Lease {@code sipha-agent-<node>}, and
 * for every pair binds or unbinds the VIP on its host as {@link VipBindingRule} says, by running
 * the admin's scripts. It reports per pair the state it holds, the epoch it acted on and the last
 * script result in the Lease's annotation. A periodic resync runs vip-status to repair drift.
 *
 * <p>Two threads: the heartbeat never waits for a script, so a hanging script cannot make the node
 * look lost; the worker runs scripts one at a time.
 */
public final class NodeAgent implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(NodeAgent.class);

  /**
   * @param watchNamespace the pairs' namespace, or null for all
   * @param podFieldSelector ask the API for this node's pods only (spec.nodeName); pods are
   *     filtered by node here in any case
   */
  public record Settings(
      String node,
      String leaseNamespace,
      String watchNamespace,
      VipScripts scripts,
      Duration renewEvery,
      Duration resyncEvery,
      boolean podFieldSelector) {}

  private final KubernetesClient client;
  private final AgentMetrics metrics;
  private final Settings settings;
  private final Clock clock;
  private final ScheduledExecutorService heartbeat;
  private final ScheduledExecutorService worker;
  private final AtomicBoolean convergeQueued = new AtomicBoolean();
  private final Map<String, VipReport> reports = new ConcurrentHashMap<>();
  // worker thread only:
  private final Map<String, HostVip> held = new HashMap<>();
  private final Map<String, Long> announced = new HashMap<>();
  private final Map<String, Backoff> backoff = new HashMap<>();
  private Instant nextResync = Instant.EPOCH;
  private SharedIndexInformer<SipServerPair> pairs;
  private SharedIndexInformer<Pod> pods;
  private Lease lease;
  private volatile String publishedReports;
  private volatile Instant lastRenewal;
  private volatile Instant lastAttempt;
  private volatile boolean closed;

  public NodeAgent(KubernetesClient client, Settings settings, Clock clock) {
    this(client, settings, clock, AgentMetrics.none(settings.node()));
  }

  public NodeAgent(KubernetesClient client, Settings settings, Clock clock, AgentMetrics metrics) {
    this.metrics = metrics;
    this.client = client;
    this.settings = settings;
    this.clock = clock;
    this.heartbeat = Executors.newSingleThreadScheduledExecutor(r -> thread(r, "agent-heartbeat-" + settings.node()));
    this.worker = Executors.newSingleThreadScheduledExecutor(r -> thread(r, "agent-worker-" + settings.node()));
  }

  private static Thread thread(Runnable r, String name) {
    Thread t = new Thread(r, name);
    t.setDaemon(true);
    return t;
  }

  public String node() {
    return settings.node();
  }

  /** Loads the previous reports, starts watching, and begins heartbeats and convergence. */
  public NodeAgent start() {
    Lease previous = client.leases().inNamespace(settings.leaseNamespace())
        .withName(AgentReports.leaseName(settings.node())).get();
    if (previous != null && previous.getMetadata().getAnnotations() != null) {
      reports.putAll(AgentReports.parse(previous.getMetadata().getAnnotations().get(AgentReports.ANNOTATION)));
    }
    lease = previous;
    ResourceEventHandler<Object> poke = new ResourceEventHandler<>() {
      @Override
      public void onAdd(Object obj) {
        requestConverge();
      }

      @Override
      public void onUpdate(Object oldObj, Object newObj) {
        requestConverge();
      }

      @Override
      public void onDelete(Object obj, boolean deletedFinalStateUnknown) {
        requestConverge();
      }
    };
    var pairOps = settings.watchNamespace() == null
        ? client.resources(SipServerPair.class).inAnyNamespace()
        : client.resources(SipServerPair.class).inNamespace(settings.watchNamespace());
    pairs = pairOps.inform(cast(poke), 0);
    var podOps = settings.watchNamespace() == null
        ? client.pods().inAnyNamespace().withLabel(SipServerPair.PAIR_LABEL)
        : client.pods().inNamespace(settings.watchNamespace()).withLabel(SipServerPair.PAIR_LABEL);
    pods = settings.podFieldSelector()
        ? podOps.withField("spec.nodeName", settings.node()).inform(cast(poke), 0)
        : podOps.inform(cast(poke), 0);
    worker.execute(this::startupProbe);
    heartbeat.scheduleAtFixedRate(this::renew, 0, settings.renewEvery().toMillis(), TimeUnit.MILLISECONDS);
    worker.scheduleWithFixedDelay(this::requestConverge, settings.renewEvery().toMillis(),
        Math.min(500, settings.renewEvery().toMillis()), TimeUnit.MILLISECONDS);
    LOG.info("node agent on {} started: scripts in {}, timeout {} ms, leases in {}", settings.node(),
        settings.scripts().dir(), settings.scripts().timeout().toMillis(), settings.leaseNamespace());
    return this;
  }

  @SuppressWarnings("unchecked")
  private static <T> ResourceEventHandler<T> cast(ResourceEventHandler<Object> h) {
    return (ResourceEventHandler<T>) (ResourceEventHandler<?>) h;
  }

  /** Stops watching and heartbeating; the host keeps whatever VIPs it holds (as a lost host would). */
  @Override
  public void close() {
    closed = true;
    heartbeat.shutdownNow();
    worker.shutdownNow();
    try {
      worker.awaitTermination(5, TimeUnit.SECONDS);
      heartbeat.awaitTermination(2, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (pairs != null) {
      pairs.close();
    }
    if (pods != null) {
      pods.close();
    }
  }

  private void requestConverge() {
    if (!closed && convergeQueued.compareAndSet(false, true)) {
      try {
        worker.execute(() -> {
          convergeQueued.set(false);
          converge();
        });
      } catch (java.util.concurrent.RejectedExecutionException e) {
        convergeQueued.set(false);
      }
    }
  }

  // ------------------------------------------------------------------ worker

  /** What is really on the host, before acting: the first report after a start says it. */
  private void startupProbe() {
    Set<String> podsHere = pairsWithPodsHere();
    for (SipServerPair pair : pairs.getStore().list()) {
      Optional<VipAddress> vip = statusVip(pair.getStatus());
      if (vip.isEmpty() || !(reports.containsKey(pair.key()) || concernsThisNode(pair, podsHere))) {
        continue;
      }
      ScriptResult r = runScript(VipScript.STATUS, vip.get());
      if (r.exitCode() == 0 && !r.timedOut()) {
        VipReport before = reports.get(pair.key());
        long epoch = before != null && before.is(VipReport.State.Bound) ? before.epoch() : 0;
        held.put(pair.key(), new HostVip(vip.get(), epoch));
        report(pair.key(), new VipReport(VipReport.State.Bound, epoch, vip.get().cidr(), r.script().fileName(),
            0, "found on the host at start", now(), null));
        LOG.info("pair {}: {} is on this host at start (epoch {})", pair.key(), vip.get(), epoch);
      }
    }
    publish();
    nextResync = clock.instant().plus(settings.resyncEvery());
  }

  private void converge() {
    if (closed || pairs == null || pods == null) {
      return; // informers deliver their first events before start() has kept them
    }
    try {
      boolean resync = !clock.instant().isBefore(nextResync);
      Set<String> seen = new HashSet<>();
      Set<String> podsHere = pairsWithPodsHere();
      for (SipServerPair pair : pairs.getStore().list()) {
        seen.add(pair.key());
        if (!held.containsKey(pair.key()) && !concernsThisNode(pair, podsHere)) {
          reports.remove(pair.key());
          continue;
        }
        MDC.put("pair", pair.key());
        try {
          convergePair(pair, resync);
        } finally {
          MDC.remove("pair");
        }
      }
      for (String key : new HashSet<>(held.keySet())) {
        if (!seen.contains(key)) {
          HostVip h = held.get(key);
          LOG.info("pair {} is gone: removing {}", key, h.vip());
          ScriptResult r = runScript(VipScript.DISABLE, h.vip());
          if (r.succeeded()) {
            held.remove(key);
            reports.remove(key);
          }
        }
      }
      reports.keySet().retainAll(seen);
      if (resync) {
        nextResync = clock.instant().plus(settings.resyncEvery());
      }
      publish();
    } catch (RuntimeException e) {
      LOG.error("converge failed on {}", settings.node(), e);
    }
  }

  /** namespace/name of the pairs that have a server pod on this node. */
  private Set<String> pairsWithPodsHere() {
    Set<String> keys = new HashSet<>();
    for (Pod p : pods.getStore().list()) {
      if (p.getSpec() != null && settings.node().equals(p.getSpec().getNodeName()) && p.getMetadata().getLabels() != null) {
        keys.add(p.getMetadata().getNamespace() + "/" + p.getMetadata().getLabels().get(SipServerPair.PAIR_LABEL));
      }
    }
    return keys;
  }

  /**
   * A pair concerns this node when one of its pods runs here, or its status grants (or asks to
   * release) the VIP here, or lists this node as fenced. Only those get a report: the operator
   * waits for confirmations from exactly these nodes.
   */
  private boolean concernsThisNode(SipServerPair pair, Set<String> podsHere) {
    SipServerPairStatus st = pair.getStatus();
    return podsHere.contains(pair.key())
        || (st != null && st.vip != null && settings.node().equals(st.vip.node))
        || (st != null && st.fenced.stream().anyMatch(f -> settings.node().equals(f.node)));
  }

  private void convergePair(SipServerPair pair, boolean resync) {
    String key = pair.key();
    SipServerPairStatus st = pair.getStatus();
    long epoch = st == null ? 0 : st.epoch;
    Pod primaryPod = st == null || st.primary == null ? null
        : pods.getStore().getByKey(pair.getMetadata().getNamespace() + "/" + st.primary);
    Optional<VipBindingRule.Binding> want = VipBindingRule.binding(st, settings.node(),
        primaryPod == null || primaryPod.getSpec() == null ? null : primaryPod.getSpec().getNodeName(),
        primaryPod == null ? null : primaryPod.getMetadata().getAnnotations());
    HostVip h = held.get(key);
    if (resync) {
      h = resync(key, st, want, h);
    }
    if (want.isPresent()) {
      VipBindingRule.Binding b = want.get();
      if (h != null && !h.vip().equals(b.vip())) {
        if (!run(key, VipScript.DISABLE, h.vip(), epoch, null)) {
          return;
        }
        held.remove(key);
        h = null;
      }
      long announce = st.vip.announce;
      if (h == null) {
        if (run(key, VipScript.ENABLE, b.vip(), b.epoch(), null)) {
          held.put(key, new HostVip(b.vip(), b.epoch()));
          announced.put(key, announce);
        }
      } else if (h.epoch() != b.epoch()) {
        held.put(key, new HostVip(b.vip(), b.epoch()));
        announced.put(key, announce);
        report(key, bound(b, "already on the host; now held at epoch " + b.epoch()));
      } else if (announced.getOrDefault(key, announce) < announce) {
        LOG.info("pair {}: announcing {} again (request {})", key, b.vip(), announce);
        if (run(key, VipScript.ENABLE, b.vip(), b.epoch(), null)) {
          announced.put(key, announce);
        }
      } else if (!reports.containsKey(key) || !reports.get(key).is(VipReport.State.Bound)) {
        report(key, bound(b, "held"));
      }
      announced.putIfAbsent(key, announce);
    } else if (h != null) {
      boolean granted = st != null && st.vip != null && settings.node().equals(st.vip.node);
      Long stale = !granted && h.epoch() < epoch ? h.epoch() : null;
      if (stale != null) {
        LOG.warn("pair {}: {} is held here at epoch {} but the current epoch is {} elsewhere: removing it",
            key, h.vip(), h.epoch(), epoch);
      }
      if (run(key, VipScript.DISABLE, h.vip(), epoch, stale)) {
        held.remove(key);
        announced.remove(key);
      }
    } else {
      VipReport r = reports.get(key);
      if (r == null || !r.is(VipReport.State.Unbound) || r.epoch() != epoch) {
        report(key, new VipReport(VipReport.State.Unbound, epoch, statusVip(st).map(VipAddress::cidr).orElse(null),
            null, null, "not held on this host", now(), r == null ? null : r.removedStaleEpoch()));
      }
    }
  }

  /** Runs vip-status for a pair that concerns this host and corrects the agent's belief. */
  private HostVip resync(String key, SipServerPairStatus st, Optional<VipBindingRule.Binding> want, HostVip h) {
    Optional<VipAddress> vip = h != null ? Optional.of(h.vip()) : want.map(VipBindingRule.Binding::vip);
    if (vip.isEmpty()) {
      vip = statusVip(st);
    }
    if (vip.isEmpty()) {
      return h;
    }
    ScriptResult r = runScript(VipScript.STATUS, vip.get());
    if (r.timedOut() || r.exitCode() < 0 || r.exitCode() > 1) {
      LOG.warn("pair {}: {}", key, r.describe());
      return h;
    }
    boolean present = r.exitCode() == 0;
    if (h != null && !present) {
      LOG.warn("pair {}: drift: {} is no longer on the host; it will be added again if still granted", key, h.vip());
      held.remove(key);
      return null;
    }
    if (h == null && present) {
      LOG.warn("pair {}: drift: {} is on the host without being held; it will be removed unless granted", key, vip.get());
      HostVip found = new HostVip(vip.get(), 0);
      held.put(key, found);
      return found;
    }
    return h;
  }

  /** Runs a script, reports the outcome; on failure backs off before the next try. */
  private boolean run(String key, VipScript script, VipAddress vip, long epoch, Long staleEpoch) {
    Backoff b = backoff.get(key);
    Instant now = clock.instant();
    if (b != null && now.isBefore(b.nextTry)) {
      return false;
    }
    ScriptResult r = runScript(script, vip);
    if (r.succeeded()) {
      backoff.remove(key);
      LOG.info("pair {} epoch {}: {} {} ok in {} ms", key, epoch, script.fileName(), vip, r.durationMillis());
      VipReport.State state = script == VipScript.ENABLE ? VipReport.State.Bound : VipReport.State.Unbound;
      report(key, new VipReport(state, epoch, vip.cidr(), script.fileName(), 0,
          r.outputTail().isBlank() ? "ok" : r.outputTail().strip(), now(), staleEpoch));
      return true;
    }
    int attempts = b == null ? 1 : b.attempts + 1;
    long delay = Math.min(30_000, 500L << Math.min(attempts - 1, 6));
    backoff.put(key, new Backoff(attempts, clock.instant().plusMillis(delay)));
    LOG.warn("pair {} epoch {}: {} (attempt {}, next try in {} ms)", key, epoch, r.describe(), attempts, delay);
    report(key, new VipReport(VipReport.State.Failed, epoch, vip.cidr(), script.fileName(), r.exitCode(),
        r.describe(), now(), null));
    return false;
  }

  private record Backoff(int attempts, Instant nextTry) {}

  private ScriptResult runScript(VipScript script, VipAddress vip) {
    ScriptResult r = settings.scripts().run(script, vip);
    metrics.scriptRun(r);
    return r;
  }

  /** Liveness: the heartbeat thread ran recently (whether or not the API answered). */
  public boolean heartbeatRunning() {
    Instant a = lastAttempt;
    return !closed && a != null && clock.instant().isBefore(a.plus(settings.renewEvery().multipliedBy(10)));
  }

  /** When the Lease was last renewed, or null before the first renewal. */
  public Instant lastRenewal() {
    return lastRenewal;
  }

  private VipReport bound(VipBindingRule.Binding b, String message) {
    return new VipReport(VipReport.State.Bound, b.epoch(), b.vip().cidr(), VipScript.ENABLE.fileName(), 0, message,
        now(), null);
  }

  private static Optional<VipAddress> statusVip(SipServerPairStatus st) {
    return st == null || st.vip == null ? Optional.empty()
        : VipAddress.parseCidr(st.vip.address, st.vip.interfaceName).value();
  }

  private void report(String key, VipReport r) {
    reports.put(key, r);
  }

  private String now() {
    return clock.instant().toString();
  }

  /** Writes the Lease at once when the reports changed, instead of at the next heartbeat. */
  private void publish() {
    String current = AgentReports.render(reports);
    if (!current.equals(publishedReports) && !closed) {
      try {
        heartbeat.execute(this::renew);
      } catch (java.util.concurrent.RejectedExecutionException ignored) {
        // closing
      }
    }
  }

  // ------------------------------------------------------------------ heartbeat

  private void renew() {
    if (closed) {
      return;
    }
    lastAttempt = clock.instant();
    String body = AgentReports.render(reports);
    ZonedDateTime now = ZonedDateTime.ofInstant(clock.instant(), ZoneOffset.UTC);
    try {
      if (lease == null) {
        lease = client.leases().inNamespace(settings.leaseNamespace()).withName(AgentReports.leaseName(settings.node())).get();
      }
      if (lease == null) {
        Lease fresh = new Lease();
        fresh.setMetadata(new ObjectMetaBuilder().withName(AgentReports.leaseName(settings.node()))
            .withNamespace(settings.leaseNamespace())
            .addToLabels(AgentReports.LEASE_LABEL, AgentReports.LEASE_LABEL_VALUE)
            .addToAnnotations(AgentReports.ANNOTATION, body).build());
        LeaseSpec spec = new LeaseSpec();
        spec.setHolderIdentity(settings.node());
        spec.setLeaseDurationSeconds((int) Math.max(1, settings.renewEvery().toSeconds() * 3));
        spec.setAcquireTime(now);
        spec.setRenewTime(now);
        fresh.setSpec(spec);
        lease = client.leases().inNamespace(settings.leaseNamespace()).resource(fresh).create();
      } else {
        if (lease.getMetadata().getAnnotations() == null) {
          lease.getMetadata().setAnnotations(new HashMap<>());
        }
        lease.getMetadata().getAnnotations().put(AgentReports.ANNOTATION, body);
        lease.getSpec().setRenewTime(now);
        lease.getSpec().setHolderIdentity(settings.node());
        lease = client.leases().inNamespace(settings.leaseNamespace()).resource(lease).update();
      }
      publishedReports = body;
      lastRenewal = now.toInstant();
      metrics.heartbeat(true);
    } catch (KubernetesClientException e) {
      metrics.heartbeat(false);
      LOG.warn("could not renew Lease {} ({}): {}", AgentReports.leaseName(settings.node()), e.getCode(), e.getMessage());
      lease = null;
    } catch (RuntimeException e) {
      metrics.heartbeat(false);
      LOG.warn("could not renew Lease {}: {}", AgentReports.leaseName(settings.node()), e.toString());
      lease = null;
    }
  }
}
