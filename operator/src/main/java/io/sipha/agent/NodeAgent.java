package io.sipha.agent;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.sipha.api.SipServerPair;
import io.sipha.decision.VipBindingRule;
import io.sipha.decision.VipReport;
import io.sipha.kube.AgentReports;
import io.sipha.vip.ScriptResult;
import io.sipha.vip.VipAddress;
import io.sipha.vip.VipScript;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * The node agent: one per node. It heartbeats by renewing Lease {@code sipha-agent-<node>}, and for
 * every pair binds or unbinds the VIP on its host as {@link VipBindingRule} says, by running the
 * admin's scripts. It reports per pair the state it holds, the epoch it acted on and the last
 * script result in the Lease's annotation. A periodic resync runs vip-status to repair drift.
 *
 * <p>The heartbeat thread never waits for a script, so a hanging script cannot make the node look
 * lost. The worker thread decides which pairs need attention and hands each to a pool that runs the
 * scripts of different pairs side by side, one task per pair at a time.
 *
 * <p>Its rooms: {@link Heartbeat} (the Lease), {@link ApiView} (what it reads pairs and pods from,
 * and when it must read afresh), {@link PairConvergence} (one pair's pass: what the host must do,
 * done with the scripts), {@link PairLedger} (what it holds and says per pair), {@link
 * ReportWriter} (the report Leases), {@link HostCheck} (the start-up check and drift), {@link
 * Fencing} (self-fencing and the peer's answer). This class runs the work loop over them.
 */
public final class NodeAgent implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(NodeAgent.class);

  /**
   * Scripts of different pairs run side by side (a node may hold hundreds of VIPs); one pair's run
   * in order.
   */
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

  private final KubernetesClient client;
  private final AgentMetrics metrics;
  private final AgentSettings settings;
  private final Clock clock;
  private final Heartbeat heartbeat;
  private final ScheduledExecutorService worker;
  private final AtomicBoolean convergeQueued = new AtomicBoolean();
  private final PairLedger ledger = new PairLedger();

  private final PairTasks tasks;
  private final Fencing fencing;
  private final PairPeers pairPeers;
  private final PeerLink peerLink;
  private final ScriptRunner scripts;
  private final ReportWriter reportWriter;
  private final HostCheck hostCheck;
  private final ScheduledExecutorService apiReader;
  private final ApiView view;
  private final PairConvergence pairs;
  private Instant nextResync = Instant.EPOCH;
  private volatile boolean closed;
  private volatile boolean probed;

  public NodeAgent(KubernetesClient client, AgentSettings settings, Clock clock) {
    this(client, settings, clock, AgentMetrics.none(settings.node()), PeerProbe.none());
  }

  public NodeAgent(
      KubernetesClient client,
      AgentSettings settings,
      Clock clock,
      AgentMetrics metrics,
      PeerProbe peers) {
    this.metrics = metrics;
    this.client = client;
    this.settings = settings;
    this.clock = clock;
    this.worker =
        Executors.newSingleThreadScheduledExecutor(
            r -> thread(r, "agent-worker-" + settings.node()));
    this.tasks =
        new PairTasks(settings.node(), SCRIPT_WORKERS, this::publish, this::requestConverge);
    this.scripts =
        new ScriptRunner(settings.scripts(), metrics, clock, settings.node(), this::ownAddresses);
    this.heartbeat =
        new Heartbeat(
            client,
            settings.node(),
            settings.leaseNamespace(),
            settings.renewEvery(),
            clock,
            metrics,
            new Heartbeat.Agent() {
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
                view.contactBack();
              }

              @Override
              public void renewed() {
                if (view.refreshNeeded()) {
                  requestConverge();
                }
                publish(); // report writes that failed are tried again with each renewal
              }

              @Override
              public void renewalFailed() {
                view.contactLost();
              }

              @Override
              public Map<String, String> peerAnnotations() {
                return peerLink == null ? Map.of() : peerLink.annotations();
              }
            });
    this.pairPeers =
        new PairPeers(
            client,
            settings.node(),
            settings.leaseNamespace(),
            settings.resyncEvery(),
            clock,
            settings.peer() != null);
    this.fencing = new Fencing(pairPeers, clock, peers, heartbeat::lastRenewal);
    this.peerLink = settings.peer() == null ? null : peerLink(settings, clock, metrics);
    this.reportWriter = new ReportWriter(client, settings.leaseNamespace(), settings.node());
    this.hostCheck = new HostCheck(settings.node(), clock, this::runScript);
    this.apiReader =
        Executors.newSingleThreadScheduledExecutor(
            r -> thread(r, "agent-reader-" + settings.node()));
    this.view = new ApiView(client, settings, clock, apiReader, this::requestConverge);
    this.pairs =
        new PairConvergence(
            settings.node(),
            clock,
            ledger,
            view,
            scripts,
            hostCheck,
            fencing,
            reportWriter,
            metrics,
            this::reportsToWrite,
            pair -> {
              if (peerLink != null) {
                pairPeers.learn(pair);
              }
            });
  }

  private PeerLink peerLink(AgentSettings settings, Clock clock, AgentMetrics metrics) {
    AgentSettings.Peer p = settings.peer();
    return new PeerLink(
        settings.node(),
        p.key(),
        codec -> {
          try {
            return new io.sipha.peer.PeerChannel(
                settings.node(), p.bind(), codec, clock, this::apiContactAgeMillis);
          } catch (java.net.SocketException e) {
            throw new IllegalStateException(
                "the peer channel cannot listen on "
                    + p.bind()
                    + " (--peer-address, --peer-heartbeat-port): "
                    + e.getMessage(),
                e);
          }
        },
        pairPeers,
        p.interval(),
        p.silentAfter(),
        p.probeEndpoint(),
        clock,
        metrics,
        heartbeat::renewSoon);
  }

  /** How long ago this agent last reached the API (-1: never), as its peer messages say. */
  private int apiContactAgeMillis() {
    Instant last = heartbeat.lastRenewal();
    return last == null
        ? -1
        : (int)
            Math.min(
                Integer.MAX_VALUE, Math.max(0, Duration.between(last, clock.instant()).toMillis()));
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
    Lease previous =
        client
            .leases()
            .inNamespace(settings.leaseNamespace())
            .withName(AgentReports.leaseName(settings.node()))
            .get();
    if (previous != null && previous.getMetadata().getAnnotations() != null) {
      // an agent of before kept its reports in its heartbeat Lease
      ledger.readBack(
          AgentReports.parse(previous.getMetadata().getAnnotations().get(AgentReports.ANNOTATION)));
    }
    ledger.readBack(reportWriter.readBack());
    view.start(this::requestConverge);
    lastLoop = clock.instant();
    worker.execute(this::startupProbe);
    heartbeat.start(previous);
    if (peerLink != null) {
      peerLink.start();
    }
    worker.scheduleWithFixedDelay(
        this::requestConverge,
        settings.renewEvery().toMillis(),
        Math.min(500, settings.renewEvery().toMillis()),
        TimeUnit.MILLISECONDS);
    LOG.info(
        "node agent on {} started: scripts in {}, timeout {} ms, leases in {}",
        settings.node(),
        settings.scripts().dir(),
        settings.scripts().timeout().toMillis(),
        settings.leaseNamespace());
    return this;
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
      LOG.info(
          "stopping without announcing a restart: the agent's pod name is not known (--pod-name)");
      return false;
    }
    try {
      Pod self =
          client.pods().inNamespace(settings.leaseNamespace()).withName(settings.podName()).get();
      boolean deleting = self != null && self.getMetadata().getDeletionTimestamp() != null;
      LOG.info(
          "stopping: pod {} is {}",
          settings.podName(),
          deleting
              ? "being deleted (a restart): announcing it for " + RESTART_GRACE.toSeconds() + " s"
              : "not being deleted (the node is going down): announcing nothing");
      return deleting;
    } catch (RuntimeException e) {
      LOG.warn(
          "stopping without announcing a restart: could not read pod {}: {}",
          settings.podName(),
          e.toString());
      return false;
    }
  }

  /**
   * Stops watching and heartbeating; the host keeps whatever VIPs it holds (as a lost host would).
   */
  @Override
  public void close() {
    closed = true;
    heartbeat.close();
    if (peerLink != null) {
      peerLink.close();
    }
    pairPeers.close();
    worker.shutdownNow();
    tasks.shutdownNow();
    reportWriter.close();
    apiReader.shutdownNow();
    try {
      worker.awaitTermination(5, TimeUnit.SECONDS);
      tasks.awaitTermination(5);
      heartbeat.awaitTermination();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    view.close();
  }

  private void requestConverge() {
    if (!closed && convergeQueued.compareAndSet(false, true)) {
      try {
        worker.execute(
            () -> {
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
      HostCheck.Startup found =
          hostCheck.startup(
              view.current().pairs(), p -> concernsThisNode(p, podsHere), ledger.readBack());
      found
          .held()
          .forEach(
              (key, h) -> {
                ledger.held.put(key, h);
                ledger.announced.put(key, -1L); // announce it again once it is confirmed ours
              });
      found.reports().forEach(ledger::report);
      found.gone().forEach(ledger.reports::remove);
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
    return probed
        ? "its work loop has completed no pass for " + s + " s"
        : "its start-up check of the host has not finished for " + s + " s";
  }

  private void converge() {
    if (closed || !probed) {
      return; // nothing is reported before the host's real state is known (startupProbe)
    }
    view.beforePass(heartbeat.late());
    ApiView.Snapshot v = view.current();
    try {
      boolean resync = !clock.instant().isBefore(nextResync);
      Set<String> seen = new HashSet<>();
      Set<String> podsHere = pairsWithPodsHere();
      List<String> relevant = new ArrayList<>();
      for (SipServerPair pair : v.pairs()) {
        seen.add(pair.key());
        if (!ledger.held.containsKey(pair.key()) && !concernsThisNode(pair, podsHere)) {
          ledger.reports.remove(pair.key());
          continue;
        }
        relevant.add(pair.key());
      }
      // drift checks (one vip-status each) for a bounded batch per pass, least recently checked
      // first
      Set<String> check = new HashSet<>();
      if (resync) {
        relevant.stream()
            .sorted(
                Comparator.comparing(
                    (String k) -> ledger.lastChecked.getOrDefault(k, Instant.EPOCH)))
            .limit(driftBatch(relevant.size()))
            .forEach(check::add);
      }
      for (String key : relevant) {
        SipServerPair pair = v.pair(key);
        if (check.contains(key) || (pair != null && !pairs.quiet(pair))) {
          dispatch(key, check.contains(key));
        }
      }
      for (String key : new HashSet<>(ledger.held.keySet())) {
        if (!seen.contains(key)) {
          removeGone(key);
        }
      }
      ledger.reports.keySet().removeIf(k -> !seen.contains(k) && !ledger.held.containsKey(k));
      if (resync) {
        nextResync = clock.instant().plus(settings.resyncEvery());
      }
      lastLoop = clock.instant();
      publish();
    } catch (RuntimeException e) {
      LOG.error("converge failed on {}", settings.node(), e);
    }
  }

  /** What this agent tells a peer that asks (GET /peer): how long ago it last reached the API. */
  public String peerAnswer() {
    return fencing.answer();
  }

  /** A pair's pass, in the script pool (looked at again if its task is still running). */
  private void dispatch(String key, boolean resync) {
    tasks.submit(
        key,
        true,
        () -> {
          MDC.put("pair", key);
          try {
            ApiView.Snapshot v = view.current();
            SipServerPair pair = v.pair(key);
            if (pair != null) {
              pairs.converge(v, pair, resync);
            }
          } catch (RuntimeException e) {
            LOG.error("pair {}: converge failed", key, e);
          } finally {
            MDC.remove("pair");
          }
        });
  }

  /** A pair that is gone left its VIP here: removed in the script pool, never on the work loop. */
  private void removeGone(String key) {
    tasks.submit(
        key,
        false,
        () -> {
          HostVip h = ledger.held.get(key);
          if (h != null && view.current().pair(key) == null) {
            LOG.info("pair {} is gone: removing {}", key, h.vip());
            if (runScript(VipScript.DISABLE, h.vip()).succeeded()) {
              ledger.held.remove(key);
              ledger.reports.remove(key);
            }
          }
        });
  }

  /** namespace/name of the pairs that have a server pod on this node. */
  private Set<String> pairsWithPodsHere() {
    Set<String> keys = new HashSet<>();
    for (Pod p : view.current().pods()) {
      if (p.getSpec() != null
          && settings.node().equals(p.getSpec().getNodeName())
          && p.getMetadata().getLabels() != null) {
        keys.add(
            p.getMetadata().getNamespace()
                + "/"
                + p.getMetadata().getLabels().get(SipServerPair.PAIR_LABEL));
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
    return podsHere.contains(pair.key())
        || VipBindingRule.statusNames(pair.getStatus(), settings.node());
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
    for (Pod p : view.current().pods()) {
      if (p.getStatus() != null
          && p.getSpec() != null
          && settings.node().equals(p.getSpec().getNodeName())) {
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

  /** Writes the report Leases whose reports changed, at once and apart from the heartbeat. */
  private void publish() {
    Map<String, VipReport> now = reportsToWrite();
    boolean changed = ledger.takeDirty();
    if (!closed && (changed || reportWriter.failing() || !now.equals(lastPublished))) {
      lastPublished = now;
      reportWriter.flush(this::reportsToWrite);
    }
  }

  private volatile Map<String, VipReport> lastPublished = Map.of();

  /** The reports as written (see {@link PairLedger#toWrite}). */
  private Map<String, VipReport> reportsToWrite() {
    return ledger.toWrite(probed);
  }
}
