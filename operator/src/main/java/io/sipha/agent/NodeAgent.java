package io.sipha.agent;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.sipha.api.SipServerPair;
import io.sipha.kube.InformerHandlers;
import io.sipha.api.SipServerPairStatus;
import io.sipha.kube.AgentReports;
import io.sipha.decision.AgentStep;
import io.sipha.decision.VipBindingRule;
import io.sipha.decision.VipReport;
import io.sipha.vip.ScriptResult;
import io.sipha.vip.VipAddress;
import io.sipha.vip.VipScript;
import io.sipha.vip.VipScripts;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
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
 * <p>The heartbeat thread never waits for a script, so a hanging script cannot make the node look
 * lost. The worker thread decides which pairs need attention and hands each to a pool that runs
 * the scripts of different pairs side by side, one task per pair at a time.
 */
public final class NodeAgent implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(NodeAgent.class);
  /** Scripts of different pairs run side by side (a node may hold hundreds of VIPs); one pair's run in order. */
  static final int SCRIPT_WORKERS = 8;
  /** At least this many vip-status drift checks per resync period (round robin over the pairs). */
  static final int RESYNC_BATCH = 64;

  /**
   * How many pairs a resync period checks for drift: enough that every pair of the node is checked
   * within three periods (15 s by default), however many there are.
   */
  static int driftBatch(int pairs) {
    return Math.max(RESYNC_BATCH, (pairs + 2) / 3);
  }

  /**
   * @param watchNamespace the pairs' namespace, or null for all
   * @param podFieldSelector ask the API for this node's pods only (spec.nodeName); pods are
   *     filtered by node here in any case
   * @param nodeAddresses the node's own addresses (the downward API's status.hostIPs): the agent
   *     never adds or removes one of them, and publishes them so that the operator refuses them as
   *     VIPs; the host IPs of the pods on this node count too
   * @param podName the agent's own pod (in leaseNamespace), or null: a stop is announced as a
   *     restart only while that pod is being deleted (a rolling update), never when the node shuts
   *     down
   */
  public record Settings(
      String node,
      String leaseNamespace,
      String watchNamespace,
      VipScripts scripts,
      Duration renewEvery,
      Duration resyncEvery,
      boolean podFieldSelector,
      List<String> nodeAddresses,
      String podName) {
    public Settings(String node, String leaseNamespace, String watchNamespace, VipScripts scripts,
        Duration renewEvery, Duration resyncEvery, boolean podFieldSelector) {
      this(node, leaseNamespace, watchNamespace, scripts, renewEvery, resyncEvery, podFieldSelector, List.of(), null);
    }
  }

  private final KubernetesClient client;
  private final AgentMetrics metrics;
  private final Settings settings;
  private final Clock clock;
  private final Heartbeat heartbeat;
  private final ScheduledExecutorService worker;
  private final AtomicBoolean convergeQueued = new AtomicBoolean();
  private final Map<String, VipReport> reports = new ConcurrentHashMap<>();
  // per pair, touched only by the one task of that pair in flight (see inFlight):
  private final Map<String, HostVip> held = new ConcurrentHashMap<>();
  private final Map<String, Long> announced = new ConcurrentHashMap<>();
  private final Set<String> inFlight = ConcurrentHashMap.newKeySet();
  private final Set<String> again = ConcurrentHashMap.newKeySet();
  private final Map<String, Instant> lastChecked = new ConcurrentHashMap<>();
  private final java.util.concurrent.ExecutorService scriptPool;
  private final Fencing fencing;
  private final ScriptRunner scripts;
  private final ReportWriter reportWriter;
  private final HostCheck hostCheck;
  private final ScheduledExecutorService apiReader;
  private Instant nextResync = Instant.EPOCH;
  private SharedIndexInformer<SipServerPair> pairs;
  private SharedIndexInformer<Pod> pods;
  /** What the agent acts on: its informer caches, or, after a gap in contact, a fresh read. */
  private volatile View view = new View(null, null);
  /** Set when a renewal succeeds after a failed one: the caches may be stale (see refresh). */
  private volatile boolean refreshNeeded;
  private volatile boolean dirty = true;
  private volatile boolean closed;
  private volatile boolean probed;

  public NodeAgent(KubernetesClient client, Settings settings, Clock clock) {
    this(client, settings, clock, AgentMetrics.none(settings.node()), PeerProbe.none());
  }

  public NodeAgent(KubernetesClient client, Settings settings, Clock clock, AgentMetrics metrics, PeerProbe peers) {
    this.metrics = metrics;
    this.client = client;
    this.settings = settings;
    this.clock = clock;
    this.worker = Executors.newSingleThreadScheduledExecutor(r -> thread(r, "agent-worker-" + settings.node()));
    this.scriptPool = Executors.newFixedThreadPool(SCRIPT_WORKERS, r -> thread(r, "agent-scripts-" + settings.node()));
    this.scripts = new ScriptRunner(settings.scripts(), metrics, clock, settings.node(), this::ownAddresses);
    this.heartbeat = new Heartbeat(client, settings.node(), settings.leaseNamespace(), settings.renewEvery(), clock,
        metrics, new Heartbeat.Agent() {
          @Override
          public String notWorking() {
            return NodeAgent.this.notWorking();
          }

          @Override
          public Set<String> ownAddresses() {
            return NodeAgent.this.ownAddresses();
          }

          @Override
          public void writeReportsNow() {
            reportWriter.writeNow(NodeAgent.this::reportsToWrite);
          }

          @Override
          public long reportsWrittenSeq() {
            return reportWriter.writtenSeq();
          }

          @Override
          public void contactBack() {
            refreshNeeded = true; // contact is back after a gap: read the API before acting on the caches again
          }

          @Override
          public void renewed() {
            if (refreshNeeded) {
              requestConverge();
            }
            publish(); // report writes that failed are tried again with each renewal
          }

          @Override
          public void renewalFailed() {
            view = new View(null, null); // a fresh read from before the gap is as old as the caches now
          }
        });
    this.fencing = new Fencing(client, settings.node(), settings.resyncEvery(), clock, peers, heartbeat::lastRenewal);
    this.reportWriter = new ReportWriter(client, settings.leaseNamespace(), settings.node());
    this.hostCheck = new HostCheck(settings.node(), clock, this::runScript);
    this.apiReader = Executors.newSingleThreadScheduledExecutor(r -> thread(r, "agent-reader-" + settings.node()));
  }

  /** A daemon thread of the agent, named for its job. */
  static Thread thread(Runnable r, String name) {
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
      // an agent of before kept its reports in its heartbeat Lease
      reports.putAll(AgentReports.parse(previous.getMetadata().getAnnotations().get(AgentReports.ANNOTATION)));
    }
    reports.putAll(reportWriter.readBack());
    readBack = Map.copyOf(reports);
    pairs = pairOps().inform(InformerHandlers.onAnyChange(this::requestConverge), 0);
    pods = podOps().inform(InformerHandlers.onAnyChange(this::requestConverge), 0);
    lastLoop = clock.instant();
    worker.execute(this::startupProbe);
    heartbeat.start(previous);
    worker.scheduleWithFixedDelay(this::requestConverge, settings.renewEvery().toMillis(),
        Math.min(500, settings.renewEvery().toMillis()), TimeUnit.MILLISECONDS);
    LOG.info("node agent on {} started: scripts in {}, timeout {} ms, leases in {}", settings.node(),
        settings.scripts().dir(), settings.scripts().timeout().toMillis(), settings.leaseNamespace());
    return this;
  }

  private io.fabric8.kubernetes.client.dsl.FilterWatchListDeletable<SipServerPair,
      io.fabric8.kubernetes.api.model.KubernetesResourceList<SipServerPair>,
      io.fabric8.kubernetes.client.dsl.Resource<SipServerPair>> pairOps() {
    return settings.watchNamespace() == null
        ? client.resources(SipServerPair.class).inAnyNamespace()
        : client.resources(SipServerPair.class).inNamespace(settings.watchNamespace());
  }

  /** This node's pods of pairs (with the shipped settings the API itself filters by node). */
  private io.fabric8.kubernetes.client.dsl.FilterWatchListDeletable<Pod, io.fabric8.kubernetes.api.model.PodList,
      io.fabric8.kubernetes.client.dsl.PodResource> podOps() {
    var ops = settings.watchNamespace() == null
        ? client.pods().inAnyNamespace().withLabel(SipServerPair.PAIR_LABEL)
        : client.pods().inNamespace(settings.watchNamespace()).withLabel(SipServerPair.PAIR_LABEL);
    return settings.podFieldSelector() ? ops.withField("spec.nodeName", settings.node()) : ops;
  }

  /** How long a stopping agent asks the operator to wait for its successor (a rolling update). */
  public static final Duration RESTART_GRACE = Duration.ofSeconds(20);

  /**
   * Stops on SIGTERM. When its own pod is being deleted (a rolling update of the DaemonSet, a
   * {@code kubectl delete pod}) a successor is coming: the stop is announced in the Lease, so that
   * the operator does not take the node for lost while the next agent starts. Otherwise (the node
   * shuts down, or the pod cannot be read) nothing is announced and the node is judged as any
   * other: a node going down must not delay its failover by the restart grace. The host keeps its
   * VIPs; the next agent finds them at start.
   */
  public void shutdown() {
    boolean replaced = beingReplaced();
    try {
      heartbeat.stopping(replaced ? RESTART_GRACE : null);
    } catch (Exception e) {
      LOG.warn("could not announce the restart in the Lease: {}", e.toString());
    }
    close();
  }

  /** This agent's own pod is being deleted: a successor will start on this node. */
  private boolean beingReplaced() {
    if (settings.podName() == null || settings.podName().isBlank()) {
      LOG.info("stopping without announcing a restart: the agent's pod name is not known (--pod-name)");
      return false;
    }
    try {
      Pod self = client.pods().inNamespace(settings.leaseNamespace()).withName(settings.podName()).get();
      boolean deleting = self != null && self.getMetadata().getDeletionTimestamp() != null;
      LOG.info("stopping: pod {} is {}", settings.podName(), deleting
          ? "being deleted (a restart): announcing it for " + RESTART_GRACE.toSeconds() + " s"
          : "not being deleted (the node is going down): announcing nothing");
      return deleting;
    } catch (RuntimeException e) {
      LOG.warn("stopping without announcing a restart: could not read pod {}: {}", settings.podName(), e.toString());
      return false;
    }
  }

  /** Stops watching and heartbeating; the host keeps whatever VIPs it holds (as a lost host would). */
  @Override
  public void close() {
    closed = true;
    heartbeat.close();
    worker.shutdownNow();
    scriptPool.shutdownNow();
    fencing.close();
    reportWriter.close();
    apiReader.shutdownNow();
    try {
      worker.awaitTermination(5, TimeUnit.SECONDS);
      scriptPool.awaitTermination(5, TimeUnit.SECONDS);
      heartbeat.awaitTermination();
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

  /**
   * What is really on the host, before acting: the first report after a start says it. Addresses
   * the previous run reported (read back from the Lease) that no pair grants any more are removed
   * ({@link HostCheck#startup}).
   */
  private void startupProbe() {
    try {
      Set<String> podsHere = pairsWithPodsHere();
      // the first pass overwrites the reports: a retry looks at the ones read back again
      HostCheck.Startup found = hostCheck.startup(view.pairs(), p -> concernsThisNode(p, podsHere), readBack);
      found.held().forEach((key, h) -> {
        held.put(key, h);
        announced.put(key, -1L); // announce it again once it is confirmed ours
      });
      found.reports().forEach(this::report);
      found.gone().forEach(reports::remove);
      if (found.unsure() != null) {
        // an address the previous run may have left cannot be made sure of: nothing is acted on
        // before it is (the agent says it does not work after a few seconds of this)
        LOG.warn("start-up check: {}; trying again in a second", found.unsure());
        worker.schedule(this::startupProbe, 1, TimeUnit.SECONDS);
        return;
      }
      nextResync = clock.instant().plus(settings.resyncEvery());
      lastLoop = clock.instant();
      probed = true;
      publish();
      requestConverge();
    } catch (RuntimeException e) {
      LOG.error("start-up check of the host failed; trying again in a second", e);
      worker.schedule(this::startupProbe, 1, TimeUnit.SECONDS);
    }
  }

  /**
   * How long the work loop may go without completing a pass (or the start-up check without
   * finishing) before the agent says, in its Lease, that it does not work.
   */
  public static final Duration STALL = Duration.ofSeconds(3);
  private volatile Instant lastLoop;

  /** Why this agent does not work although it may renew its Lease, or null when it works. */
  public String notWorking() {
    Instant last = lastLoop;
    Instant now = clock.instant();
    if (last == null || !now.isAfter(last.plus(STALL))) {
      return null;
    }
    long s = Duration.between(last, now).toSeconds();
    return probed ? "its work loop has completed no pass for " + s + " s"
        : "its start-up check of the host has not finished for " + s + " s";
  }

  private void converge() {
    if (closed || !probed) {
      return; // nothing is reported before the host's real state is known (startupProbe)
    }
    if (!pairs.isWatching() || !pods.isWatching()) {
      refreshNeeded = true; // a watch is down (reconnecting): read the API rather than trust the cache
    }
    if (heartbeat.late()) {
      // no contact now: what was read before is no fresher than the caches
      refreshNeeded = true;
      if (view.fresh()) {
        view = new View(null, null);
      }
    }
    if (refreshNeeded) {
      // read the API on a thread of its own (a read that hangs must not hold up this loop); until
      // it has, the pass goes on over the caches and binds nothing (convergePair): self-fencing and
      // removals are still done, they are safe on what the caches say
      requestRefresh();
    }
    try {
      boolean resync = !clock.instant().isBefore(nextResync);
      Set<String> seen = new HashSet<>();
      Set<String> podsHere = pairsWithPodsHere();
      List<String> relevant = new ArrayList<>();
      for (SipServerPair pair : view.pairs()) {
        seen.add(pair.key());
        if (!held.containsKey(pair.key()) && !concernsThisNode(pair, podsHere)) {
          reports.remove(pair.key());
          continue;
        }
        relevant.add(pair.key());
      }
      // drift checks (one vip-status each) for a bounded batch per pass, least recently checked first
      Set<String> check = new HashSet<>();
      if (resync) {
        relevant.stream()
            .sorted(Comparator.comparing((String k) -> lastChecked.getOrDefault(k, Instant.EPOCH)))
            .limit(driftBatch(relevant.size()))
            .forEach(check::add);
      }
      for (String key : relevant) {
        SipServerPair pair = view.pair(key);
        if (check.contains(key) || (pair != null && !quiet(pair))) {
          dispatch(key, check.contains(key));
        }
      }
      for (String key : new HashSet<>(held.keySet())) {
        if (!seen.contains(key)) {
          removeGone(key);
        }
      }
      reports.keySet().removeIf(k -> !seen.contains(k) && !held.containsKey(k));
      if (resync) {
        nextResync = clock.instant().plus(settings.resyncEvery());
      }
      lastLoop = clock.instant();
      publish();
    } catch (RuntimeException e) {
      LOG.error("converge failed on {}", settings.node(), e);
    }
  }

  /**
   * What the agent reads its pairs and pods from. Normally its informer caches; after a gap in
   * contact with the API a fresh list, until the caches have caught up with it. Lease renewals
   * succeed as soon as the link is back, but watches come back only on their reconnect backoff (1 s
   * doubling up to 32 s): acting on a cache from before the gap could add a VIP on a grant that
   * was taken away meanwhile.
   */
  private final class View {
    private final Map<String, SipServerPair> freshPairs;
    private final Map<String, Pod> freshPods;

    View(Map<String, SipServerPair> freshPairs, Map<String, Pod> freshPods) {
      this.freshPairs = freshPairs;
      this.freshPods = freshPods;
    }

    boolean fresh() {
      return freshPairs != null;
    }

    List<SipServerPair> pairs() {
      return freshPairs == null ? pairs.getStore().list() : List.copyOf(freshPairs.values());
    }

    SipServerPair pair(String key) {
      return freshPairs == null ? pairs.getStore().getByKey(key) : freshPairs.get(key);
    }

    List<Pod> pods() {
      return freshPods == null ? (NodeAgent.this.pods == null ? List.of() : NodeAgent.this.pods.getStore().list())
          : List.copyOf(freshPods.values());
    }

    Pod pod(String key) {
      return freshPods == null ? NodeAgent.this.pods.getStore().getByKey(key) : freshPods.get(key);
    }
  }

  private final AtomicBoolean refreshing = new AtomicBoolean();
  private volatile Instant lastRefresh = Instant.EPOCH;

  /** One fresh read at a time, at most one a second. */
  private void requestRefresh() {
    if (closed || !refreshing.compareAndSet(false, true)) {
      return;
    }
    long wait = Math.max(0, Duration.between(clock.instant(), lastRefresh.plusSeconds(1)).toMillis());
    try {
      apiReader.schedule(() -> {
        try {
          lastRefresh = clock.instant();
          refresh();
        } finally {
          refreshing.set(false);
          requestConverge();
        }
      }, wait, TimeUnit.MILLISECONDS);
    } catch (java.util.concurrent.RejectedExecutionException e) {
      refreshing.set(false);
    }
  }

  /**
   * Reads the pairs and this node's pods from the API directly. Returns false if that failed (the
   * pass then acts on nothing). Once the informer caches hold exactly what was read, they are used
   * again.
   */
  private boolean refresh() {
    try {
      Map<String, SipServerPair> freshPairs = new HashMap<>();
      pairOps().list().getItems().forEach(p -> freshPairs.put(p.key(), p));
      Map<String, Pod> freshPods = new HashMap<>();
      podOps().list().getItems().forEach(p -> freshPods.put(p.getMetadata().getNamespace() + "/" + p.getMetadata().getName(), p));
      if (pairs.isWatching() && pods.isWatching()
          && sameVersions(freshPairs, pairs.getStore().list(), SipServerPair::key)
          && sameVersions(freshPods, pods.getStore().list(), p -> p.getMetadata().getNamespace() + "/" + p.getMetadata().getName())) {
        view = new View(null, null);
        refreshNeeded = false;
        LOG.info("the watches have caught up after the gap in contact with the API");
      } else {
        if (!view.fresh()) {
          LOG.info("contact with the API is back: acting on what was read from it until the watches catch up");
        }
        view = new View(freshPairs, freshPods);
      }
      return true;
    } catch (RuntimeException e) {
      view = new View(null, null); // nothing fresh: convergePair binds nothing until a read succeeds
      LOG.warn("could not read the API after a gap in contact: binding nothing until it answers ({})", e.toString());
      return false;
    }
  }

  private static <T extends io.fabric8.kubernetes.api.model.HasMetadata> boolean sameVersions(
      Map<String, T> fresh, List<T> cached, java.util.function.Function<T, String> key) {
    if (fresh.size() != cached.size()) {
      return false;
    }
    for (T c : cached) {
      T f = fresh.get(key.apply(c));
      if (f == null || !java.util.Objects.equals(f.getMetadata().getResourceVersion(), c.getMetadata().getResourceVersion())) {
        return false;
      }
    }
    return true;
  }

  /** Nothing to do for this pair: what it holds and reports already matches what it must hold. */
  private boolean quiet(SipServerPair pair) {
    String key = pair.key();
    if (leftovers.containsKey(key)) {
      return false;
    }
    Optional<VipBindingRule.Binding> want = wanted(pair);
    // an announce this agent has not recorded yet counts as not done here: one pass records it
    return AgentStep.next(situation(pair, want, held.get(key), want.isPresent() && fencing.due(pair), true,
        announced.getOrDefault(key, -1L))) instanceof AgentStep.Nothing;
  }

  /** What this agent knows of a pair, for {@link AgentStep#next}. */
  private AgentStep.Situation situation(SipServerPair pair, Optional<VipBindingRule.Binding> want, HostVip h,
      boolean fenceDue, boolean fresh, Long announcedValue) {
    SipServerPairStatus st = pair.getStatus();
    return new AgentStep.Situation(want, h == null ? null : new AgentStep.Held(h.vip(), h.epoch()),
        reports.get(pair.key()), st == null ? 0 : st.epoch,
        st != null && st.vip != null && settings.node().equals(st.vip.node), statusVip(st).orElse(null),
        fenceDue, fresh, st == null || st.vip == null ? 0 : st.vip.announce, announcedValue, now());
  }

  private Optional<VipBindingRule.Binding> wanted(SipServerPair pair) {
    SipServerPairStatus st = pair.getStatus();
    Pod primaryPod = st == null || st.primary == null ? null
        : view.pod(pair.getMetadata().getNamespace() + "/" + st.primary);
    return VipBindingRule.binding(st, settings.node(),
        primaryPod == null || primaryPod.getSpec() == null ? null : primaryPod.getSpec().getNodeName(),
        primaryPod == null ? null : primaryPod.getMetadata().getAnnotations());
  }

  /** What this agent tells a peer that asks (GET /peer): how long ago it last reached the API. */
  public String peerAnswer() {
    return fencing.answer();
  }

  /**
   * Hands a pair to the script pool. If a task of it is still running, the pair is marked and
   * looked at again as soon as that task ends (a status that changed meanwhile is not left to the
   * next periodic pass).
   */
  private void dispatch(String key, boolean resync) {
    if (!inFlight.add(key)) {
      again.add(key);
      return;
    }
    try {
      scriptPool.execute(() -> {
        MDC.put("pair", key);
        try {
          View v = view;
          SipServerPair pair = v.pair(key);
          if (pair != null) {
            convergePair(v, pair, resync);
          }
        } catch (RuntimeException e) {
          LOG.error("pair {}: converge failed", key, e);
        } finally {
          MDC.remove("pair");
          inFlight.remove(key);
          publish();
          if (again.remove(key)) {
            requestConverge();
          }
        }
      });
    } catch (java.util.concurrent.RejectedExecutionException e) {
      inFlight.remove(key);
    }
  }

  /** A pair that is gone left its VIP here: removed in the script pool, never on the work loop. */
  private void removeGone(String key) {
    if (!inFlight.add(key)) {
      return;
    }
    try {
      scriptPool.execute(() -> {
        try {
          HostVip h = held.get(key);
          if (h != null && view.pair(key) == null) {
            LOG.info("pair {} is gone: removing {}", key, h.vip());
            if (runScript(VipScript.DISABLE, h.vip()).succeeded()) {
              held.remove(key);
              reports.remove(key);
            }
          }
        } finally {
          inFlight.remove(key);
          publish();
        }
      });
    } catch (java.util.concurrent.RejectedExecutionException e) {
      inFlight.remove(key);
    }
  }

  /** namespace/name of the pairs that have a server pod on this node. */
  private Set<String> pairsWithPodsHere() {
    Set<String> keys = new HashSet<>();
    for (Pod p : view.pods()) {
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
    return podsHere.contains(pair.key()) || VipBindingRule.statusNames(pair.getStatus(), settings.node());
  }

  private void convergePair(View source, SipServerPair pair, boolean resync) {
    String key = pair.key();
    SipServerPairStatus st = pair.getStatus();
    long epoch = st == null ? 0 : st.epoch;
    Optional<VipBindingRule.Binding> want = wanted(pair);
    HostVip h = held.get(key);
    if (want.isPresent() && fencing.due(pair)) {
      if (AgentStep.next(situation(pair, want, h, true, true, null)) instanceof AgentStep.Disable d) {
        LOG.warn("pair {}: no Lease renewal for {} s and the peer agent is unreachable, unknown or still reaches"
            + " the API (it may take over): self-fencing, removing {}",
            key, pair.getSpec().getFailover().getFenceAfterSeconds(), d.vip());
        if (run(key, VipScript.DISABLE, d.vip(), d.epoch(), null)) {
          held.remove(key);
          metrics.selfFenced();
        }
      }
      return;
    }
    if (resync) {
      lastChecked.put(key, clock.instant());
      h = resync(key, st, want, h);
    }
    if (want.isPresent()) {
      fencing.learnPeer(pair);
    }
    retryLeftover(key);
    long announce = st == null || st.vip == null ? 0 : st.vip.announce;
    AgentStep.Action action = AgentStep.next(situation(pair, want, h, false, !(refreshNeeded && !source.fresh()),
        announced.get(key)));
    LOG.debug("pair {}: {} (status epoch {}, {} view)", key, action, epoch, source.fresh() ? "fresh" : "cached");
    if (action instanceof AgentStep.Enable e) {
      if (e.release() == null && h != null) {
        LOG.info("pair {}: announcing {} again (request {})", key, e.vip(), announce);
      }
      if (!intendToAdd(key, e.vip())) {
        return; // tried again at the next pass
      }
      try {
        if (run(key, VipScript.ENABLE, e.vip(), e.epoch(), null)) {
          held.put(key, new HostVip(e.vip(), e.epoch()));
          announced.put(key, announce);
          if (e.release() != null) {
            LOG.info("pair {}: {}; {} is bound, removing the old address", key, e.why(), e.vip());
            leftovers.put(key, e.release());
            retryLeftover(key);
          }
        }
      } finally {
        intents.remove(key);
      }
    } else if (action instanceof AgentStep.Disable d) {
      if (d.staleEpoch() != null) {
        LOG.warn("pair {}: {} is held here at epoch {} but the current epoch is {} elsewhere: removing it",
            key, d.vip(), d.staleEpoch(), epoch);
      }
      if (run(key, VipScript.DISABLE, d.vip(), d.epoch(), d.staleEpoch()) && h != null && h.vip().equals(d.vip())) {
        held.remove(key);
        announced.remove(key);
      }
    } else if (action instanceof AgentStep.Adopt a) {
      held.put(key, new HostVip(a.vip(), a.epoch()));
      announced.put(key, announce);
      report(key, bound(new VipBindingRule.Binding(a.vip(), a.epoch())));
    } else if (action instanceof AgentStep.Report r) {
      report(key, r.report());
    }
    if (want.isPresent()) {
      announced.putIfAbsent(key, announce);
    }
  }

  /** Addresses about to be added by vip-enable, named in the reports written before the script runs. */
  private final Map<String, VipAddress> intents = new ConcurrentHashMap<>();

  /**
   * Before vip-enable adds an address the written report on the pair does not name, it is written
   * there ({@code alsoOnHost}): if this agent ends while the script runs, or before it reports, the
   * next one finds it in the report it reads back and makes sure of it ({@link
   * AgentStep#leftoversAtStart}), even when no status or spec names it any more. One write more per
   * new address (a VIP change, a first grant); none for a failover to a node that reported on the
   * pair. False when the write failed: nothing is added then.
   */
  private boolean intendToAdd(String key, VipAddress vip) {
    VipReport w = reportWriter.written(key);
    if (w != null && ((w.address() != null && VipReport.isAbout(w, vip)) || w.alsoHolds(vip.host()))) {
      return true;
    }
    intents.put(key, vip);
    // a first grant has no report yet to carry it: the state of the address is not known until the script has run
    reports.putIfAbsent(key, new VipReport(VipReport.State.Failed, 0, vip.cidr(), VipScript.ENABLE.fileName(), -1,
        "about to run", now(), null, vip.interfaceName()));
    if (reportWriter.writeNow(this::reportsToWrite)) {
      return true;
    }
    intents.remove(key);
    LOG.warn("pair {}: could not write that {} is about to be added: not adding it yet", key, vip);
    return false;
  }

  /** Old addresses of pairs whose VIP changed, still to be removed (the new one is bound). */
  private final Map<String, VipAddress> leftovers = new ConcurrentHashMap<>();
  /** The reports read back from the Lease at start (what the previous run reported). */
  private volatile Map<String, VipReport> readBack = Map.of();

  /** Tries again, with backoff, to remove the old address of a pair whose VIP changed. */
  private void retryLeftover(String key) {
    VipAddress old = leftovers.get(key);
    if (old == null) {
      return;
    }
    ScriptRunner.Run run = scripts.run(key + " leftover", VipScript.DISABLE, old);
    if (run.succeeded()) {
      leftovers.remove(key);
      LOG.info("pair {}: the old address {} is removed", key, old);
    } else if (run.result() != null) {
      LOG.warn("pair {}: could not remove the old address {} (attempt {}): {}", key, old, run.backoff().attempts(),
          run.result().describe());
    }
  }

  /** Runs vip-status for a pair that concerns this host and corrects the agent's belief. */
  private HostVip resync(String key, SipServerPairStatus st, Optional<VipBindingRule.Binding> want, HostVip h) {
    HostVip truth = hostCheck.drift(key, st, want, h);
    if (truth == null) {
      held.remove(key);
    } else if (truth != h) {
      held.put(key, truth);
    }
    return truth;
  }

  /** Runs a script (backed off after failures), reports the outcome. */
  private boolean run(String key, VipScript script, VipAddress vip, long epoch, Long staleEpoch) {
    ScriptRunner.Run run = scripts.run(key + " " + script.fileName(), script, vip);
    ScriptResult r = run.result();
    if (r == null) {
      return false; // backing off
    }
    if (r.succeeded()) {
      LOG.info("pair {} epoch {}: {} {} ok in {} ms", key, epoch, script.fileName(), vip, r.durationMillis());
      VipReport.State state = script == VipScript.ENABLE ? VipReport.State.Bound : VipReport.State.Unbound;
      // success is said in few bytes: a node's reports on hundreds of pairs share its report Leases
      report(key, new VipReport(state, epoch, vip.cidr(), null, null, null, now(), staleEpoch, vip.interfaceName()));
      return true;
    }
    LOG.warn("pair {} epoch {}: {} (attempt {}, next try at {})", key, epoch, r.describe(), run.backoff().attempts(),
        run.backoff().nextTry());
    report(key, new VipReport(VipReport.State.Failed, epoch, vip.cidr(), script.fileName(), r.exitCode(),
        r.describe(), now(), null, vip.interfaceName()));
    return false;
  }

  private ScriptResult runScript(VipScript script, VipAddress vip) {
    return scripts.once(script, vip);
  }

  /** Liveness: the heartbeat thread ran recently (whether or not the API answered). */
  public boolean heartbeatRunning() {
    return !closed && heartbeat.running();
  }

  /** When the Lease was last renewed, or null before the first renewal. */
  public Instant lastRenewal() {
    return heartbeat.lastRenewal();
  }

  /** The node's own addresses: as configured, and the host IPs the kubelet wrote on pods here. */
  private Set<String> ownAddresses() {
    Set<String> out = new java.util.TreeSet<>();
    settings.nodeAddresses().forEach(a -> addCanonical(out, a));
    for (Pod p : view.pods()) {
      if (p.getStatus() != null && p.getSpec() != null && settings.node().equals(p.getSpec().getNodeName())) {
        addCanonical(out, p.getStatus().getHostIP());
        if (p.getStatus().getHostIPs() != null) {
          p.getStatus().getHostIPs().forEach(h -> addCanonical(out, h.getIp()));
        }
      }
    }
    return out;
  }

  private static void addCanonical(Set<String> out, String address) {
    String host = VipAddress.canonicalHost(address);
    if (host != null) {
      out.add(host);
    }
  }

  private VipReport bound(VipBindingRule.Binding b) {
    return new VipReport(VipReport.State.Bound, b.epoch(), b.vip().cidr(), null, null, null,
        now(), null, b.vip().interfaceName());
  }

  private static Optional<VipAddress> statusVip(SipServerPairStatus st) {
    return HostCheck.statusVip(st);
  }

  private void report(String key, VipReport r) {
    reports.put(key, r);
    dirty = true;
  }

  private String now() {
    return clock.instant().toString();
  }

  /** Writes the report Leases whose reports changed, at once and apart from the heartbeat. */
  private void publish() {
    Map<String, VipReport> now = reportsToWrite();
    if (!closed && (dirty || reportWriter.failing() || !now.equals(lastPublished))) {
      dirty = false;
      lastPublished = now;
      reportWriter.flush(this::reportsToWrite);
    }
  }

  private volatile Map<String, VipReport> lastPublished = Map.of();

  /**
   * The reports as written: each also names the other addresses this agent may have on its host
   * for the pair (the one it holds while the report is about another, the old one of a VIP change
   * not yet removed), so that neither the operator nor a restarted agent loses sight of them.
   */
  private Map<String, VipReport> reportsToWrite() {
    Map<String, VipReport> out = new java.util.TreeMap<>();
    reports.forEach((key, r) -> {
      List<VipAddress> others = new ArrayList<>();
      HostVip h = held.get(key);
      if (h != null) {
        others.add(h.vip());
      }
      VipAddress old = leftovers.get(key);
      if (old != null) {
        others.add(old);
      }
      VipAddress adding = intents.get(key);
      if (adding != null) {
        others.add(adding);
      }
      VipReport before = readBack.get(key);
      if (!probed && before != null) {
        others.addAll(before.alsoOnHostAddresses()); // not made sure of yet: still said
      }
      out.put(key, r.withAlsoOnHost(others));
    });
    return out;
  }
}
