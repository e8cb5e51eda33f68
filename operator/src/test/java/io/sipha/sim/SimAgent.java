package io.sipha.sim;

import io.sipha.api.SipServerPairStatus;
import io.sipha.decision.AgentStep;
import io.sipha.decision.PeerHearing;
import io.sipha.decision.VipBindingRule;
import io.sipha.decision.VipReport;
import io.sipha.vip.VipAddress;
import io.sipha.vip.VipScript;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * One node agent, modelled on {@link io.sipha.agent.NodeAgent} at the level the safety argument
 * needs: the heartbeat (a Lease renewal every second, independent of scripts), the start (read the
 * previous reports back from the Lease, renew at once, then probe the host with vip-status and
 * report what it finds at the previous epoch), the per-pair convergence by {@link VipBindingRule}
 * and the product's own per-pair decision ({@link AgentStep}) with the held state and the reports
 * (Unbound only when confirmed), the periodic vip-status drift check, a VIP change (the new address
 * added first, the old one removed after and retried until it is), and the scripts with their
 * faults, for every pair of the world: a script that hangs holds up only its own pair, as in the
 * agent's script pool. Not modelled: retry backoff (a failed script is retried at the agent's next
 * run), announce counters (gratuitous ARP).
 *
 * <p>The agent reads the API through its informers, whose watch breaks when it is partitioned and
 * reconnects after the client's backoff (1 s doubling to 32 s, counted from the cut); a watch can
 * also stay connected and deliver nothing for a while ({@link #lagging}). As NodeAgent does, after
 * a gap in contact or while a watch is down it reads the API afresh (at most once a second) and
 * acts on that read, binding nothing until it has one, until the informers hold the same versions.
 */
final class SimAgent {
  /** What the host's VIP scripts do. */
  enum Fault {
    NONE,
    /** The scripts exit 2 without touching the host. */
    FAIL,
    /** The scripts change the host (ip addr add/del lands), then exit 2. */
    FAIL_AFTER_CHANGE,
    /** The scripts hang until killed at the timeout, without touching the host. */
    HANG,
    /** The scripts change the host, then hang until killed at the timeout. */
    HANG_AFTER_CHANGE
  }

  private enum Outcome {
    OK,
    FAILED,
    HUNG
  }

  /** Thrown inside a run to crash the agent right after a script changed the host. */
  static final class Crash extends RuntimeException {
    Crash() {
      super(null, null, false, false);
    }
  }

  /**
   * What the agent reads: the pairs' statuses (by pair key), the pods (node, annotations), and the
   * versions of both (pair resourceVersions, pod versions), which NodeAgent compares.
   */
  record Cache(
      Map<String, SipServerPairStatus> statuses,
      Map<String, PodView> pods,
      Map<String, Long> versions,
      Map<String, Integer> fenceAfter) {}

  record PodView(String pair, String node, Map<String, String> annotations) {}

  /**
   * The process's memory of one pair (NodeAgent's held, reports and leftovers for its key), lost on
   * a crash.
   */
  static final class PairMemory {
    /** What it holds on the host for the pair (HostVip), or null. */
    AgentStep.Held held;

    VipReport report;

    /** The old address of a VIP change, still to be removed (the new one is bound). */
    VipAddress leftover;

    /** An address vip-enable is about to add (NodeAgent.intents), named in the written report. */
    VipAddress adding;

    /** A script of this pair hangs until then; the pool does nothing more for this pair before. */
    Instant busyUntil;

    Runnable onTimeout;
  }

  final String node;
  private final World w;

  /** How far this node's clock is off the operator's: it shows only in what the agent writes. */
  java.time.Duration clockSkew = java.time.Duration.ZERO;

  /** The process runs (false after a crash or stop, until restarted). */
  boolean up = true;

  /** It has read its previous reports and heartbeats (needs the API). */
  boolean started = true;

  /** Its start-up vip-status probe of the host is done. */
  boolean probed = true;

  boolean partitioned;
  Fault fault = Fault.NONE;

  /**
   * It can act on the API right now: not partitioned, running, and its last run was complete
   * (started, probed, no script fault, nothing hanging) with nothing that broke contact since.
   */
  boolean inContact = true;

  /**
   * The grants that declared this node lost, by pair key: the epoch its agent must have seen (in
   * what it acts on) before its host counts as in contact again. The world's bookkeeping, not the
   * process's: a crash does not clear it.
   */
  final Map<String, Long> mustSee = new TreeMap<>();

  // the process's memory, lost on a crash
  final Map<String, PairMemory> memory = new LinkedHashMap<>();
  Instant nextRenew;
  Instant nextResync;

  /** What this run acts on: the informers, or a fresh read after a gap (NodeAgent.View). */
  private Cache cache;

  /** What the informers' watches have delivered. */
  private Cache informers;

  /** A fresh read of the API after a gap in contact, until the informers catch up; or null. */
  private Cache freshRead;

  private boolean refreshNeeded;
  private Instant lastRefresh;

  /** The last successful renewal (NodeAgent.lastRenewal). */
  private Instant lastRenewal;

  /** The watch broke at this time (a partition), or null while connected. */
  Instant watchDownSince;

  /** When the broken watch reconnects (set at the heal, on the backoff), or null. */
  Instant watchBackAt;

  /** The watch stays connected but delivers nothing: what the informers hold lags the store. */
  boolean lagging;

  /** Cut off from its peers' agents too (the host network), not only from the API. */
  boolean isolated;

  /**
   * Each pair's peer node, read while the API answers and remembered for when it does not
   * (Fencing).
   */
  private final Map<String, String> peers = new TreeMap<>();

  private boolean crashAfterChange;

  /** The reports read back from the Lease at start (the previous run's). */
  private Map<String, VipReport> readBack = Map.of();

  /**
   * The pairs the start-up check has looked at since this start (it goes on after a hung
   * vip-status).
   */
  private final java.util.Set<String> probedPairs = new java.util.HashSet<>();

  SimAgent(String node, World w) {
    this.node = node;
    this.w = w;
  }

  PairMemory memory(String key) {
    return memory.computeIfAbsent(key, k -> new PairMemory());
  }

  /** Its last report on a pair (pair name or key), or null. */
  VipReport report(String pair) {
    PairMemory m = memory.get(pair.contains("/") ? pair : ApiStore.key(pair));
    return m == null ? null : m.report;
  }

  // ------------------------------------------------------------------ process lifecycle

  /** The first contact with the API after a (re)start: read the Lease back, renew at once. */
  private void start() {
    ApiStore.Lease l = w.api.leases.get(node);
    memory.clear();
    readBack = l == null ? Map.of() : Map.copyOf(l.reports);
    readBack.forEach((k, r) -> memory(k).report = r);
    started = true;
    probed = false;
    probedPairs.clear();
    informers = snapshot(); // a new process lists
    cache = informers;
    freshRead = null;
    refreshNeeded = false;
    watchDownSince = null;
    watchBackAt = null;
    nextRenew = w.now;
    renew(false);
  }

  /** A crash (or a stop): the host keeps whatever VIP it has; the memory is gone. */
  void crash() {
    up = false;
    started = false;
    probed = false;
    hearing = PeerHearing.NONE;
    peerSince.clear();
    memory.clear();
    peers.clear();
    cache = null;
    informers = null;
    freshRead = null;
    refreshNeeded = false;
    lastRenewal = null;
    crashAfterChange = false;
    inContact = false;
  }

  /** Stops on purpose: says in the Lease when it expects to be back (NodeAgent.shutdown). */
  String stopGracefully() {
    String said = "";
    if (up && started && !partitioned) {
      w.api.leases.get(node).restartingUntil =
          w.now.plus(clockSkew).plus(io.sipha.agent.NodeAgent.RESTART_GRACE);
      renew(true);
      said =
          " (restart announced in its Lease until "
              + World.t(w.now.plus(io.sipha.agent.NodeAgent.RESTART_GRACE))
              + ")";
    } else {
      said = " (it could not write its Lease: nothing announced)";
    }
    crash();
    return said;
  }

  /** Crashes while its next script runs: the host change lands, the report does not. */
  String crashMidScript() {
    if (!up) {
      return "no effect: the agent is not running";
    }
    crashAfterChange = true;
    String what;
    try {
      run();
      what = "it crashed before running a script that changes the host";
    } catch (Crash c) {
      what =
          "it crashed right after a script changed the host (host now holds "
              + w.hostVips(node)
              + ")";
    }
    crash();
    return what;
  }

  String restart() {
    if (up) {
      return "no effect: the agent is running";
    }
    up = true;
    started = false;
    probed = false;
    inContact = false;
    if (!partitioned) {
      start();
      return "started: read its previous reports back from the Lease and renewed it";
    }
    return "started, but cannot reach the API (it starts for real once it can)";
  }

  // ------------------------------------------------------------------ heartbeat

  /** The heartbeat thread: renews once a second whenever it can reach the API. */
  void heartbeat() {
    if (!up) {
      return;
    }
    if (!started) {
      if (!partitioned) {
        start();
      }
      return;
    }
    // PeerLink: what it hears of its peers, written into the Lease at once when it changes
    PeerHearing now = hearing();
    if (!now.equals(hearing)) {
      hearing = now;
      renew(false);
    } else if (!w.now.isBefore(nextRenew)) {
      renew(false);
    }
  }

  /** What this agent hears of its peers now (the product's rule, {@link PeerHearing#of}). */
  private PeerHearing hearing() {
    for (String other : w.agentNodes()) {
      if (!other.equals(node)) {
        peerSince.putIfAbsent(other, w.now);
      }
    }
    return PeerHearing.of(
        w.heardAt.getOrDefault(node, Map.of()), peerSince, w.now, World.PEER_SILENT);
  }

  /** It heartbeats its peers and hears them: running, and started (it learnt them from the API). */
  boolean onSignalling() {
    return up && started && !isolated;
  }

  /** What it last wrote of its peers in its Lease ({@link io.sipha.agent.PeerLink}). */
  PeerHearing hearing = PeerHearing.NONE;

  /** When each peer became its peer, in this run. */
  private final Map<String, Instant> peerSince = new TreeMap<>();

  private void renew(boolean closing) {
    nextRenew = w.now.plus(World.RENEW_EVERY);
    if (!up || !started || partitioned) {
      return; // the write fails: the API cannot be reached
    }
    ApiStore.Lease l = w.api.leases.computeIfAbsent(node, ApiStore.Lease::new);
    l.renewTime = w.now.plus(clockSkew); // what it writes is on its own clock
    l.hearing = hearing;
    lastRenewal = w.now;
    Map<String, VipReport> reports = new TreeMap<>();
    memory.forEach(
        (k, m) -> {
          if (m.report != null) {
            // NodeAgent.reportsToWrite: the other addresses it may have on the host for the pair
            java.util.List<VipAddress> others = new java.util.ArrayList<>();
            if (m.held != null) {
              others.add(m.held.vip());
            }
            if (m.leftover != null) {
              others.add(m.leftover);
            }
            if (m.adding != null) {
              others.add(m.adding);
            }
            VipReport before = readBack.get(k);
            if (!probed && before != null) {
              others.addAll(before.alsoOnHostAddresses());
            }
            reports.put(k, m.report.withAlsoOnHost(others));
          }
        });
    l.reports = Map.copyOf(reports);
    if (!closing) {
      l.restartingUntil = null;
    }
    w.operator.heard(node, w.now);
  }

  // ------------------------------------------------------------------ worker

  /**
   * One run of the worker: start if needed, finish hung scripts, probe, converge every pair,
   * publish.
   */
  String run() {
    if (!up) {
      return "no effect: the agent is not running";
    }
    if (!started) {
      if (partitioned) {
        return "no effect: the agent cannot start, the API is unreachable";
      }
      start();
    }
    StringBuilder said = new StringBuilder();
    for (var e : memory.entrySet()) {
      PairMemory m = e.getValue();
      if (m.busyUntil != null && !w.now.isBefore(m.busyUntil)) {
        m.busyUntil = null;
        Runnable r = m.onTimeout;
        m.onTimeout = null;
        r.run();
        said.append(pairName(e.getKey())).append(": the hung script was killed at its timeout; ");
      }
    }
    boolean freshView = readTheApi();
    boolean faulty = fault != Fault.NONE;
    if (!probed) {
      probe(said);
    }
    if (probed) {
      boolean resync = !w.now.isBefore(nextResync);
      if (resync) {
        nextResync = w.now.plus(World.RESYNC_EVERY);
      }
      for (String key : w.pairKeys()) {
        if (!busy(key)) {
          converge(key, resync, freshView, said);
        }
      }
    }
    if (crashAfterChange) {
      return said.toString(); // crashes before publishing
    }
    if (!partitioned) {
      renew(false);
    } else {
      said.append("(cannot report: partitioned)");
    }
    boolean hanging = memory.values().stream().anyMatch(m -> m.busyUntil != null);
    mustSee
        .entrySet()
        .removeIf(
            e -> {
              SipServerPairStatus seen = cache.statuses().get(e.getKey());
              return seen != null && seen.epoch >= e.getValue();
            });
    // and what it acted on is known to be from after any gap (else it bound and removed nothing:
    // it waits, at most a second, for a fresh read)
    inContact = !partitioned && !faulty && probed && !hanging && mustSee.isEmpty() && freshView;
    if (hanging) {
      said.append("a script hangs (until it is killed at ")
          .append(
              World.t(
                  memory.values().stream()
                      .filter(m -> m.busyUntil != null)
                      .map(m -> m.busyUntil)
                      .min(Instant::compareTo)
                      .orElseThrow()))
          .append(")");
    }
    return said.length() == 0 ? "nothing to do" : said.toString().strip();
  }

  private boolean busy(String key) {
    PairMemory m = memory.get(key);
    return m != null && m.busyUntil != null;
  }

  /**
   * A read of the API as the shipped agent makes it (the chart's {@code --pod-field-selector
   * true}): every pair, and only the pods on this node (a peer on another node is read by name, see
   * {@link #fenceDue}).
   */
  private Cache snapshot() {
    Map<String, PodView> pods = new TreeMap<>();
    w.api.pods.forEach(
        (n, p) -> {
          if (node.equals(p.node)) {
            pods.put(n, new PodView(w.pairOfPod(n), p.node, Map.copyOf(p.annotations)));
          }
        });
    Map<String, SipServerPairStatus> statuses = new TreeMap<>();
    Map<String, Long> versions = new TreeMap<>();
    Map<String, Integer> fenceAfter = new TreeMap<>();
    w.api
        .pairs
        .values()
        .forEach(
            p -> {
              statuses.put(p.key, p.status);
              versions.put("pair " + p.key, p.resourceVersion);
              if (p.spec.getFailover() != null
                  && p.spec.getFailover().getFenceAfterSeconds() != null) {
                fenceAfter.put(p.key, p.spec.getFailover().getFenceAfterSeconds());
              }
            });
    w.api.pods.forEach(
        (n, p) -> {
          if (node.equals(p.node)) {
            versions.put("pod " + n, p.version);
          }
        });
    return new Cache(statuses, pods, versions, fenceAfter);
  }

  /**
   * NodeAgent.converge's reading of the API: the watches deliver into the informers (a broken one
   * reconnects on its backoff and relists); after a gap in contact or while a watch is down, a
   * fresh read, at most once a second, until the informers hold the same versions. Returns whether
   * what this run acts on is known to be from after any gap (else it binds nothing).
   */
  private boolean readTheApi() {
    if (!partitioned
        && watchDownSince != null
        && watchBackAt != null
        && !w.now.isBefore(watchBackAt)) {
      watchDownSince = null; // reconnected: the informers relist
      watchBackAt = null;
      informers = snapshot();
    } else if (!partitioned && watchDownSince == null && !lagging) {
      informers = snapshot();
    }
    if (watchDownSince != null) {
      refreshNeeded = true;
    }
    if (partitioned
        || (lastRenewal != null
            && java.time.Duration.between(lastRenewal, w.now)
                    .compareTo(io.sipha.decision.AgentFact.LATE)
                > 0)) {
      refreshNeeded = true; // no contact now: what was read before is no fresher than the informers
      freshRead = null;
    }
    if (refreshNeeded
        && !partitioned
        && (lastRefresh == null || !w.now.isBefore(lastRefresh.plusSeconds(1)))) {
      Cache fresh = snapshot();
      lastRefresh = w.now;
      if (watchDownSince == null && fresh.versions().equals(informers.versions())) {
        refreshNeeded = false; // the watches have caught up
        freshRead = null;
      } else {
        freshRead = fresh;
      }
    }
    cache = freshRead != null ? freshRead : informers;
    return !(refreshNeeded && freshRead == null);
  }

  /**
   * The API cannot be reached (true) or can again: the watch breaks, and reconnects on its backoff.
   */
  void partition(boolean cut) {
    partitioned = cut;
    if (cut) {
      if (watchDownSince == null) {
        watchDownSince = w.now;
      }
      watchBackAt = null;
    } else if (watchDownSince != null) {
      // the client retries at 1, 2, 4 ... 32 s apart from the cut: the first attempt after the heal
      // connects
      java.time.Duration d = java.time.Duration.ofSeconds(1);
      Instant t = watchDownSince.plus(d);
      while (t.isBefore(w.now)) {
        d =
            d.multipliedBy(2).compareTo(java.time.Duration.ofSeconds(32)) > 0
                ? java.time.Duration.ofSeconds(32)
                : d.multipliedBy(2);
        t = t.plus(d);
      }
      watchBackAt = t;
    }
  }

  private static String pairName(String key) {
    return key.substring(key.indexOf('/') + 1);
  }

  /**
   * HostCheck.startup (NodeAgent.startupProbe): what is really on the host, reported at the
   * previous epoch.
   */
  private void probe(StringBuilder said) {
    if (memory.values().stream().anyMatch(m -> m.busyUntil != null)) {
      return; // a vip-status of the start-up check hangs: it goes on once that one is killed
    }
    Map<String, VipReport> previous = readBack;
    for (String key : w.pairKeys()) {
      SipServerPairStatus st = cache.statuses().get(key);
      Optional<VipAddress> vip = statusVip(st);
      if (!probedPairs.add(key)
          || vip.isEmpty()
          || !(previous.containsKey(key) || concernsThisNode(key))) {
        continue;
      }
      PairMemory m = memory(key);
      VipAddress v = vip.get();
      long epoch = st.epoch;
      String name = pairName(key);
      Outcome o = exec(m, VipScript.STATUS, key, v, 0);
      if (o == Outcome.HUNG) {
        m.onTimeout = () -> probeFailed(m, v, epoch);
        said.append(name).append(": start-up vip-status hangs (the start-up check waits for it); ");
        return;
      }
      if (o == Outcome.OK && w.hostHas(node, v)) {
        VipReport before = previous.get(key);
        long heldAt = before != null && before.is(VipReport.State.Bound) ? before.epoch() : 0;
        m.held = new AgentStep.Held(v, heldAt);
        m.report =
            new VipReport(
                VipReport.State.Bound,
                heldAt,
                v.cidr(),
                "vip-status",
                0,
                "found on the host at start",
                World.t(w.now),
                null,
                v.interfaceName());
        said.append(name)
            .append(": start-up probe: VIP found on the host, reported Bound at epoch ")
            .append(heldAt)
            .append("; ");
      } else if (o == Outcome.OK) {
        m.report =
            new VipReport(
                VipReport.State.Unbound,
                epoch,
                v.cidr(),
                "vip-status",
                1,
                "not on the host at start",
                World.t(w.now),
                null,
                v.interfaceName());
        said.append(name)
            .append(": start-up probe: VIP not on the host, reported Unbound at epoch ")
            .append(epoch)
            .append("; ");
      } else {
        probeFailed(m, v, epoch);
        said.append(name).append(": start-up vip-status failed: reported Failed (state unknown); ");
      }
    }
    if (!removeLeftovers(previous, said)) {
      probedPairs.clear();
      return;
    }
    nextResync = w.now.plus(World.RESYNC_EVERY);
    probed = true;
  }

  /**
   * HostCheck.startup's removal of leftovers, with the product's rule ({@link
   * AgentStep#leftoversAtStart}): false when an address could not be made sure of (the start-up
   * check is then tried again).
   */
  private boolean removeLeftovers(Map<String, VipReport> previous, StringBuilder said) {
    boolean sure = true;
    for (var e : previous.entrySet()) {
      String key = e.getKey();
      java.util.Set<String> grantedHere = new java.util.HashSet<>();
      cache
          .statuses()
          .forEach(
              (k, st) -> {
                if (!k.equals(key)
                    && st != null
                    && st.vip != null
                    && node.equals(st.vip.node)
                    && (st.vip.state == io.sipha.api.VipStatus.State.Binding
                        || st.vip.state == io.sipha.api.VipStatus.State.Bound)) {
                  statusVip(st).ifPresent(v -> grantedHere.add(v.host()));
                }
              });
      PairMemory m = memory(key);
      for (VipAddress old :
          AgentStep.leftoversAtStart(
              e.getValue(), statusVip(cache.statuses().get(key)).orElse(null), grantedHere)) {
        Outcome check = exec(m, VipScript.STATUS, key, old, 0);
        if (check == Outcome.OK && !w.hostHas(node, old)) {
          continue; // exit 1: not on the host
        }
        Outcome removal =
            check == Outcome.HUNG ? Outcome.HUNG : exec(m, VipScript.DISABLE, key, old, 0);
        if (removal == Outcome.OK) {
          said.append(pairName(key))
              .append(": ")
              .append(old.cidr())
              .append(" left on the host from before: removed; ");
          continue;
        }
        said.append(pairName(key))
            .append(": ")
            .append(old.cidr())
            .append(
                " may be left on the host from before and could not be made sure of: the start-up check tries again")
            .append(removal == Outcome.HUNG ? " once the hung script is killed; " : "; ");
        return false; // the start-up check waits for a hung one, and tries again after a failed one
      }
    }
    return sure;
  }

  /**
   * As NodeAgent does: when the start-up vip-status fails the state is unknown, reported Failed, so
   * the next run makes sure with vip-disable (an earlier Unbound must not stand as a confirmation).
   */
  private void probeFailed(PairMemory m, VipAddress v, long epoch) {
    m.report =
        new VipReport(
            VipReport.State.Failed,
            epoch,
            v.cidr(),
            "vip-status",
            -1,
            "start-up check failed: the host's state is not known",
            World.t(w.now),
            null,
            v.interfaceName());
  }

  /** NodeAgent.concernsThisNode: a pod of the pair runs here, or the status names this node. */
  private boolean concernsThisNode(String key) {
    SipServerPairStatus st = cache.statuses().get(key);
    boolean podHere =
        cache.pods().values().stream()
            .anyMatch(p -> node.equals(p.node()) && key.equals(ApiStore.key(p.pair())));
    return podHere || io.sipha.decision.VipBindingRule.statusNames(st, node);
  }

  private Optional<VipBindingRule.Binding> wanted(String key) {
    SipServerPairStatus st = cache.statuses().get(key);
    PodView primary = st == null || st.primary == null ? null : cache.pods().get(st.primary);
    return VipBindingRule.binding(
        st,
        node,
        primary == null ? null : primary.node(),
        primary == null ? null : primary.annotations());
  }

  /** NodeAgent.converge + convergePair for one pair. */
  private void converge(String key, boolean resync, boolean freshView, StringBuilder said) {
    PairMemory m = memory.get(key);
    String name = pairName(key);
    if ((m == null || m.held == null) && !concernsThisNode(key)) {
      if (m != null && m.report != null) {
        said.append(name).append(": no longer concerns this node, report dropped; ");
        m.report = null;
      }
      return;
    }
    m = memory(key);
    if (m.leftover != null) {
      retryLeftover(key, m, said);
      if (m.busyUntil != null) {
        return;
      }
    }
    SipServerPairStatus st = cache.statuses().get(key);
    long epoch = st == null ? 0 : st.epoch;
    Optional<VipBindingRule.Binding> want = wanted(key);
    if (resync && !resync(key, m, st, want, said)) {
      return; // vip-status hangs
    }
    boolean fenceDue = want.isPresent() && fenceDue(key);
    // the agent's decision is the product's own (AgentStep); only its execution is modelled here
    boolean granted = st != null && st.vip != null && node.equals(st.vip.node);
    AgentStep.Action a =
        AgentStep.next(
            new AgentStep.Situation(
                want,
                m.held,
                m.report,
                epoch,
                granted,
                statusVip(st).orElse(null),
                fenceDue,
                freshView,
                0,
                null,
                World.t(w.now)));
    if (a instanceof AgentStep.Disable d && d.fence()) {
      w.sawSelfFence = true;
      said.append(name)
          .append(": self-fencing (no renewal for ")
          .append(java.time.Duration.between(lastRenewal, w.now).toMillis())
          .append(" ms, the peer cannot vouch); ");
    }
    if (a instanceof AgentStep.Enable e) {
      if (!intendToAdd(key, m, e.vip(), said)) {
        return;
      }
      boolean ok;
      try {
        ok = run(key, m, VipScript.ENABLE, e.vip(), e.epoch(), null, said);
      } finally {
        m.adding = null;
      }
      if (ok) {
        m.held = new AgentStep.Held(e.vip(), e.epoch());
        if (e.release() != null) {
          said.append(name)
              .append(": ")
              .append(e.vip().cidr())
              .append(" bound, removing the old ")
              .append(e.release().cidr())
              .append("; ");
          m.leftover = e.release();
          retryLeftover(key, m, said);
        }
      }
    } else if (a instanceof AgentStep.Disable d) {
      if (m.held == null) {
        said.append(name)
            .append(": state unknown after ")
            .append(m.report.state())
            .append(": makes sure; ");
      }
      AgentStep.Held h = m.held;
      if (run(key, m, VipScript.DISABLE, d.vip(), d.epoch(), d.staleEpoch(), said)
          && h != null
          && h.vip().equals(d.vip())) {
        m.held = null;
      }
    } else if (a instanceof AgentStep.Adopt ad) {
      m.held = new AgentStep.Held(ad.vip(), ad.epoch());
      m.report = bound(ad.vip(), ad.epoch());
      said.append(name)
          .append(": VIP already on the host, now held at epoch ")
          .append(ad.epoch())
          .append("; ");
    } else if (a instanceof AgentStep.Report r) {
      boolean still =
          m.report != null
              && m.report.is(VipReport.State.Unbound)
              && r.report().is(VipReport.State.Unbound);
      m.report = r.report();
      said.append(name)
          .append(": ")
          .append(
              still
                  ? "still Unbound, now at epoch "
                  : "reports " + r.report().state() + " at epoch ")
          .append(r.report().epoch())
          .append("; ");
    }
  }

  /**
   * Fencing.due: the product's rule ({@link io.sipha.decision.SelfFencing#due}) on this agent's own
   * API contact age and what the pair's peer agent answers over the host network (unreachable when
   * either is isolated or the peer's agent is down); the peer as last read while the API answered.
   */
  private boolean fenceDue(String key) {
    Integer after = cache.fenceAfter().get(key);
    if (after == null) {
      return false;
    }
    if (!partitioned) {
      // the pair's server on another node, read by name while the API answers (Fencing.learnPeer)
      String pairName = pairName(key);
      for (String server : w.pairs.get(pairName).setup.servers()) {
        ApiStore.Pod p = w.api.pods.get(server);
        if (p != null && !node.equals(p.node)) {
          peers.put(key, p.node);
        }
      }
    }
    String peer = peers.get(key);
    io.sipha.decision.SelfFencing.PeerView view = null;
    if (peer != null) {
      SimAgent p = w.agent(peer);
      boolean reachable = !isolated && !p.isolated && p.up;
      view =
          !reachable
              ? io.sipha.decision.SelfFencing.PeerView.unreachable()
              : new io.sipha.decision.SelfFencing.PeerView(
                  true,
                  p.lastRenewal == null ? null : java.time.Duration.between(p.lastRenewal, w.now));
    }
    return io.sipha.decision.SelfFencing.due(
        after, lastRenewal == null ? null : java.time.Duration.between(lastRenewal, w.now), view);
  }

  /**
   * NodeAgent.intendToAdd: an address the written report on the pair does not name is written there
   * (alsoOnHost) before vip-enable adds it; nothing is added when that write cannot be made.
   */
  private boolean intendToAdd(String key, PairMemory m, VipAddress vip, StringBuilder said) {
    ApiStore.Lease l = w.api.leases.get(node);
    VipReport written = l == null ? null : l.reports.get(key);
    if (written != null
        && ((written.address() != null && VipReport.isAbout(written, vip))
            || written.alsoHolds(vip.host()))) {
      return true;
    }
    if (partitioned) {
      said.append(pairName(key))
          .append(": cannot write that ")
          .append(vip.cidr())
          .append(" is about to be added: not adding it; ");
      return false;
    }
    m.adding = vip;
    if (m.report == null) {
      m.report =
          new VipReport(
              VipReport.State.Failed,
              0,
              vip.cidr(),
              VipScript.ENABLE.fileName(),
              -1,
              "about to run",
              World.t(w.now),
              null,
              vip.interfaceName());
    }
    renew(false); // the reports written at once (the simulated Lease carries them)
    said.append(pairName(key))
        .append(": wrote that ")
        .append(vip.cidr())
        .append(" is about to be added; ");
    return true;
  }

  /**
   * NodeAgent.retryLeftover: removes the old address of a VIP change; kept to try again if it
   * fails.
   */
  private void retryLeftover(String key, PairMemory m, StringBuilder said) {
    VipAddress old = m.leftover;
    Outcome o = exec(m, VipScript.DISABLE, key, old, 0);
    if (o == Outcome.OK) {
      m.leftover = null;
      said.append(pairName(key))
          .append(": the old address ")
          .append(old.cidr())
          .append(" is removed; ");
    } else {
      if (o == Outcome.HUNG) {
        m.onTimeout = () -> {};
      }
      said.append(pairName(key))
          .append(": could not remove the old address ")
          .append(old.cidr())
          .append("; ");
    }
  }

  /** HostCheck.drift (NodeAgent.resync): vip-status corrects what the agent believes it holds. */
  private boolean resync(
      String key,
      PairMemory m,
      SipServerPairStatus st,
      Optional<VipBindingRule.Binding> want,
      StringBuilder said) {
    Optional<VipAddress> vip =
        m.held != null ? Optional.of(m.held.vip()) : want.map(VipBindingRule.Binding::vip);
    if (vip.isEmpty()) {
      vip = statusVip(st);
    }
    if (vip.isEmpty()) {
      return true;
    }
    Outcome o = exec(m, VipScript.STATUS, key, vip.get(), 0);
    if (o == Outcome.HUNG) {
      m.onTimeout = () -> {};
      said.append(pairName(key)).append(": drift check: vip-status hangs; ");
      return false;
    }
    if (o == Outcome.FAILED) {
      return true;
    }
    boolean present = w.hostHas(node, vip.get());
    if (m.held != null && !present) {
      said.append(pairName(key)).append(": drift check: the VIP is no longer on the host; ");
      m.held = null;
    } else if (m.held == null && present) {
      said.append(pairName(key))
          .append(": drift check: the VIP is on the host without being held; ");
      m.held = new AgentStep.Held(vip.get(), 0);
    }
    return true;
  }

  /** NodeAgent.run: a script, its report, and on a failure a Failed report. */
  private boolean run(
      String key,
      PairMemory m,
      VipScript script,
      VipAddress vip,
      long epoch,
      Long staleEpoch,
      StringBuilder said) {
    Outcome o = exec(m, script, key, vip, epoch);
    String name = pairName(key);
    if (o == Outcome.OK) {
      VipReport.State state =
          script == VipScript.ENABLE ? VipReport.State.Bound : VipReport.State.Unbound;
      m.report =
          new VipReport(
              state,
              epoch,
              vip.cidr(),
              null,
              null,
              null,
              World.t(w.now),
              staleEpoch,
              vip.interfaceName());
      said.append(name)
          .append(": ")
          .append(script.fileName())
          .append(" ")
          .append(vip.cidr())
          .append(" ok, reports ")
          .append(state)
          .append(" at epoch ")
          .append(epoch)
          .append(
              staleEpoch == null ? "" : " (removed a stale VIP held at epoch " + staleEpoch + ")")
          .append("; ");
      return true;
    }
    if (o == Outcome.HUNG) {
      Instant killedAt = m.busyUntil;
      m.onTimeout =
          () ->
              m.report =
                  new VipReport(
                      VipReport.State.Failed,
                      epoch,
                      vip.cidr(),
                      script.fileName(),
                      -1,
                      script.fileName()
                          + " timed out after "
                          + World.SCRIPT_TIMEOUT.toMillis()
                          + " ms",
                      World.t(killedAt),
                      null,
                      vip.interfaceName());
      said.append(name).append(": ").append(script.fileName()).append(" hangs; ");
      return false;
    }
    m.report =
        new VipReport(
            VipReport.State.Failed,
            epoch,
            vip.cidr(),
            script.fileName(),
            2,
            script.fileName() + " exited 2",
            World.t(w.now),
            null,
            vip.interfaceName());
    said.append(name)
        .append(": ")
        .append(script.fileName())
        .append(" failed (exit 2), reports Failed at epoch ")
        .append(epoch)
        .append("; ");
    return false;
  }

  /** Runs a script on the host for a pair, with the host's fault. */
  private Outcome exec(PairMemory m, VipScript script, String key, VipAddress vip, long epoch) {
    boolean changes =
        fault == Fault.NONE || fault == Fault.FAIL_AFTER_CHANGE || fault == Fault.HANG_AFTER_CHANGE;
    if (changes && script != VipScript.STATUS) {
      if (script == VipScript.ENABLE) {
        w.hostBinds(node, key, vip, epoch, partitioned);
      } else {
        w.hostReleases(node, vip);
      }
      if (crashAfterChange) {
        throw new Crash();
      }
    }
    return switch (fault) {
      case NONE -> Outcome.OK;
      case FAIL, FAIL_AFTER_CHANGE -> Outcome.FAILED;
      case HANG, HANG_AFTER_CHANGE -> {
        m.busyUntil = w.now.plus(World.SCRIPT_TIMEOUT);
        m.onTimeout = () -> {};
        yield Outcome.HUNG;
      }
    };
  }

  private VipReport bound(VipAddress vip, long epoch) {
    return new VipReport(
        VipReport.State.Bound,
        epoch,
        vip.cidr(),
        null,
        null,
        null,
        World.t(w.now),
        null,
        vip.interfaceName());
  }

  private static Optional<VipAddress> statusVip(SipServerPairStatus st) {
    return st == null || st.vip == null
        ? Optional.empty()
        : VipAddress.parseCidr(st.vip.address, st.vip.interfaceName).value();
  }

  String describe() {
    StringBuilder b = new StringBuilder(node).append(": ");
    b.append(
        !up
            ? "down"
            : !started ? "starting (no API yet)" : !probed ? "started, not probed" : "running");
    if (partitioned) {
      b.append(isolated ? ", isolated (API and peers)" : ", partitioned from the API");
    }
    if (fault != Fault.NONE) {
      b.append(", scripts ").append(fault);
    }
    memory.forEach(
        (k, m) -> {
          if (m.held != null || m.report != null || m.leftover != null || m.busyUntil != null) {
            b.append("; ")
                .append(pairName(k))
                .append(" holds ")
                .append(m.held == null ? "-" : m.held.vip().cidr() + "@" + m.held.epoch())
                .append(", report ")
                .append(World.describe(m.report))
                .append(m.leftover == null ? "" : ", old address to remove " + m.leftover.cidr())
                .append(
                    m.busyUntil == null ? "" : ", a script hangs until " + World.t(m.busyUntil));
          }
        });
    if (watchDownSince != null) {
      b.append("; watch down since ")
          .append(World.t(watchDownSince))
          .append(watchBackAt == null ? "" : ", reconnects at " + World.t(watchBackAt));
    }
    if (lagging) {
      b.append("; watch lags (delivers nothing)");
    }
    if (refreshNeeded) {
      b.append(
          freshRead == null
              ? "; binds nothing until it reads the API afresh"
              : "; acts on a fresh read");
    }
    b.append(inContact ? "; in contact" : "; out of contact");
    return b.toString();
  }
}
