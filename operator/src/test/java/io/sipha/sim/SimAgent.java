package io.sipha.sim;

import io.sipha.api.SipServerPairStatus;
import io.sipha.decision.AgentStep;
import io.sipha.decision.VipBindingRule;
import io.sipha.decision.VipReport;
import io.sipha.vip.VipAddress;
import io.sipha.vip.VipScript;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * One node agent, modelled on {@link io.sipha.agent.NodeAgent} at the level the safety argument
 * needs: the heartbeat (a Lease renewal every second, independent of scripts), the start (read the
 * previous reports back from the Lease, renew at once, then probe the host with vip-status and
 * report what it finds at the previous epoch), the per-pair convergence by {@link
 * VipBindingRule} and the product's own per-pair decision ({@link AgentStep}) with the held state and
 * the reports (Unbound only when confirmed), the periodic
 * vip-status drift check, and the scripts with their faults. Not modelled: retry backoff (a failed
 * script is retried at the agent's next run), announce counters (gratuitous ARP), other pairs.
 *
 * <p>The agent reads the API through a cache (its informers): refreshed at each run while it can
 * reach the API, frozen while it is partitioned (it then acts on what it saw last and cannot
 * report).
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

  /** What the agent's informers hold: the pair's status and the pods (node, annotations). */
  record Cache(SipServerPairStatus status, Map<String, PodView> pods) {}

  record PodView(String node, Map<String, String> annotations) {}

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

  // the process's memory, lost on a crash
  /** The epoch at which it holds the VIP on the host (HostVip), or null. */
  Long held;
  VipReport report;
  Instant nextRenew;
  Instant nextResync;
  /** A script hangs until then; the worker does nothing for this pair before. */
  Instant busyUntil;
  private Runnable onTimeout;
  private Cache cache;
  private boolean crashAfterChange;

  SimAgent(String node, World w) {
    this.node = node;
    this.w = w;
  }

  // ------------------------------------------------------------------ process lifecycle

  /** The first contact with the API after a (re)start: read the Lease back, renew at once. */
  private void start() {
    ApiStore.Lease l = w.api.leases.get(node);
    report = l == null ? null : l.report;
    started = true;
    probed = false;
    cache = snapshot();
    nextRenew = w.now;
    renew(false);
  }

  /** A crash (or a stop): the host keeps whatever VIP it has; the memory is gone. */
  void crash() {
    up = false;
    started = false;
    probed = false;
    held = null;
    report = null;
    busyUntil = null;
    onTimeout = null;
    cache = null;
    crashAfterChange = false;
    inContact = false;
  }

  /** Stops on purpose: says in the Lease when it expects to be back (NodeAgent.shutdown). */
  String stopGracefully() {
    String said = "";
    if (up && started && !partitioned) {
      w.api.leases.get(node).restartingUntil = w.now.plus(clockSkew).plus(io.sipha.agent.NodeAgent.RESTART_GRACE);
      renew(true);
      said = " (restart announced in its Lease until " + World.t(w.now.plus(io.sipha.agent.NodeAgent.RESTART_GRACE)) + ")";
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
      what = "it crashed right after a script changed the host (host VIP now " + (w.hostHasVip(node) ? "present" : "absent") + ")";
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
      return "started: read its previous report back from the Lease and renewed it";
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
    if (!w.now.isBefore(nextRenew)) {
      renew(false);
    }
  }

  private void renew(boolean closing) {
    nextRenew = w.now.plus(World.RENEW_EVERY);
    if (!up || !started || partitioned) {
      return; // the write fails: the API cannot be reached
    }
    ApiStore.Lease l = w.api.leases.computeIfAbsent(node, ApiStore.Lease::new);
    l.renewTime = w.now.plus(clockSkew); // what it writes is on its own clock
    l.report = report;
    if (!closing) {
      l.restartingUntil = null;
    }
    w.operator.heard(node, w.now);
  }

  // ------------------------------------------------------------------ worker

  /** One run of the worker: start if needed, finish a hung script, probe, converge, publish. */
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
    if (busyUntil != null) {
      if (w.now.isBefore(busyUntil)) {
        inContact = false;
        return "no effect: a script hangs until it is killed at " + World.t(busyUntil);
      }
      busyUntil = null;
      Runnable r = onTimeout;
      onTimeout = null;
      r.run();
      said.append("the hung script was killed at its timeout; ");
    }
    if (!partitioned) {
      cache = snapshot();
    }
    boolean faulty = fault != Fault.NONE;
    if (!probed) {
      probe(said);
    }
    if (probed && busyUntil == null) {
      converge(said);
    }
    if (crashAfterChange) {
      return said.toString(); // crashes before publishing
    }
    if (!partitioned) {
      renew(false);
    } else {
      said.append("(cannot report: partitioned)");
    }
    inContact = !partitioned && !faulty && probed && busyUntil == null;
    return said.length() == 0 ? "nothing to do" : said.toString().strip();
  }

  private Cache snapshot() {
    Map<String, PodView> pods = new TreeMap<>();
    w.api.pods.forEach((n, p) -> pods.put(n, new PodView(p.node, Map.copyOf(p.annotations))));
    return new Cache(w.api.status, pods);
  }

  /** NodeAgent.startupProbe: what is really on the host, reported at the previous epoch. */
  private void probe(StringBuilder said) {
    VipReport previous = report;
    SipServerPairStatus st = cache.status();
    Optional<VipAddress> vip = statusVip(st);
    if (vip.isPresent() && (previous != null || concernsThisNode())) {
      long epoch = st.epoch;
      Outcome o = exec(VipScript.STATUS, 0);
      if (o == Outcome.HUNG) {
        onTimeout = () -> {
          probeFailed(epoch);
          probeDone();
        };
        said.append("start-up vip-status hangs; ");
        return;
      }
      if (o == Outcome.OK && w.hostHasVip(node)) {
        long heldAt = previous != null && previous.is(VipReport.State.Bound) ? previous.epoch() : 0;
        held = heldAt;
        report = new VipReport(VipReport.State.Bound, heldAt, World.VIP.cidr(), "vip-status", 0,
            "found on the host at start", World.t(w.now), null, World.VIP.interfaceName());
        said.append("start-up probe: VIP found on the host, reported Bound at epoch ").append(heldAt).append("; ");
      } else if (o == Outcome.OK) {
        report = new VipReport(VipReport.State.Unbound, epoch, World.VIP.cidr(), "vip-status", 1,
            "not on the host at start", World.t(w.now), null, World.VIP.interfaceName());
        said.append("start-up probe: VIP not on the host, reported Unbound at epoch ").append(epoch).append("; ");
      } else {
        probeFailed(epoch);
        said.append("start-up vip-status failed: reported Failed (state unknown); ");
      }
    }
    probeDone();
  }

  /**
   * As NodeAgent does: when the start-up vip-status fails the state is unknown, reported Failed, so
   * the next run makes sure with vip-disable (an earlier Unbound must not stand as a confirmation).
   */
  private void probeFailed(long epoch) {
    report = new VipReport(VipReport.State.Failed, epoch, World.VIP.cidr(), "vip-status", -1,
        "start-up check failed: the host's state is not known", World.t(w.now), null, World.VIP.interfaceName());
  }

  private void probeDone() {
    nextResync = w.now.plus(World.RESYNC_EVERY);
    probed = true;
  }

  /** NodeAgent.concernsThisNode for the one pair. */
  private boolean concernsThisNode() {
    SipServerPairStatus st = cache.status();
    boolean podHere = cache.pods().values().stream().anyMatch(p -> node.equals(p.node()));
    return podHere
        || (st != null && st.vip != null && node.equals(st.vip.node))
        || (st != null && st.fenced.stream().anyMatch(f -> node.equals(f.node)));
  }

  private Optional<VipBindingRule.Binding> wanted() {
    SipServerPairStatus st = cache.status();
    PodView primary = st == null || st.primary == null ? null : cache.pods().get(st.primary);
    return VipBindingRule.binding(st, node, primary == null ? null : primary.node(),
        primary == null ? null : primary.annotations());
  }

  /** NodeAgent.converge + convergePair for the one pair. */
  private void converge(StringBuilder said) {
    boolean resync = !w.now.isBefore(nextResync);
    if (held == null && !concernsThisNode()) {
      if (report != null) {
        said.append("the pair no longer concerns this node: report dropped; ");
      }
      report = null;
      if (resync) {
        nextResync = w.now.plus(World.RESYNC_EVERY);
      }
      return;
    }
    SipServerPairStatus st = cache.status();
    long epoch = st == null ? 0 : st.epoch;
    Optional<VipBindingRule.Binding> want = wanted();
    if (resync) {
      nextResync = w.now.plus(World.RESYNC_EVERY);
      if (!resync(want, said)) {
        return; // vip-status hangs
      }
    }
    // the agent's decision is the product's own (AgentStep); only its execution is modelled here
    boolean granted = st != null && st.vip != null && node.equals(st.vip.node);
    AgentStep.Action a = AgentStep.next(new AgentStep.Situation(want,
        held == null ? null : new AgentStep.Held(World.VIP, held), report, epoch, granted,
        statusVip(st).orElse(null), false, true, 0, null, World.t(w.now)));
    if (a instanceof AgentStep.Enable e) {
      if (run(VipScript.ENABLE, e.epoch(), null, said)) {
        held = e.epoch();
      }
    } else if (a instanceof AgentStep.Disable d) {
      if (held == null) {
        said.append("state unknown after ").append(report.state()).append(": makes sure; ");
      }
      if (run(VipScript.DISABLE, d.epoch(), d.staleEpoch(), said)) {
        held = null;
      }
    } else if (a instanceof AgentStep.Adopt ad) {
      held = ad.epoch();
      report = bound(ad.epoch());
      said.append("VIP already on the host, now held at epoch ").append(ad.epoch()).append("; ");
    } else if (a instanceof AgentStep.Report r) {
      boolean still = report != null && report.is(VipReport.State.Unbound) && r.report().is(VipReport.State.Unbound);
      report = r.report();
      said.append(still ? "still Unbound, now at epoch " : "reports " + r.report().state() + " at epoch ")
          .append(r.report().epoch()).append("; ");
    }
  }

  /** NodeAgent.resync: vip-status corrects what the agent believes it holds. */
  private boolean resync(Optional<VipBindingRule.Binding> want, StringBuilder said) {
    if (held == null && want.isEmpty() && statusVip(cache.status()).isEmpty()) {
      return true;
    }
    Outcome o = exec(VipScript.STATUS, 0);
    if (o == Outcome.HUNG) {
      onTimeout = () -> {};
      said.append("drift check: vip-status hangs; ");
      return false;
    }
    if (o == Outcome.FAILED) {
      return true;
    }
    boolean present = w.hostHasVip(node);
    if (held != null && !present) {
      said.append("drift check: the VIP is no longer on the host; ");
      held = null;
    } else if (held == null && present) {
      said.append("drift check: the VIP is on the host without being held; ");
      held = 0L;
    }
    return true;
  }

  /** NodeAgent.run: a script, its report, and on a failure a Failed report. */
  private boolean run(VipScript script, long epoch, Long staleEpoch, StringBuilder said) {
    Outcome o = exec(script, epoch);
    if (o == Outcome.OK) {
      VipReport.State state = script == VipScript.ENABLE ? VipReport.State.Bound : VipReport.State.Unbound;
      report = new VipReport(state, epoch, World.VIP.cidr(), null, null, null, World.t(w.now), staleEpoch,
          World.VIP.interfaceName());
      said.append(script.fileName()).append(" ok, reports ").append(state).append(" at epoch ").append(epoch)
          .append(staleEpoch == null ? "" : " (removed a stale VIP held at epoch " + staleEpoch + ")").append("; ");
      return true;
    }
    if (o == Outcome.HUNG) {
      Instant killedAt = busyUntil;
      onTimeout = () -> report = new VipReport(VipReport.State.Failed, epoch, World.VIP.cidr(), script.fileName(), -1,
          script.fileName() + " timed out after " + World.SCRIPT_TIMEOUT.toMillis() + " ms", World.t(killedAt), null,
          World.VIP.interfaceName());
      said.append(script.fileName()).append(" hangs; ");
      return false;
    }
    report = new VipReport(VipReport.State.Failed, epoch, World.VIP.cidr(), script.fileName(), 2,
        script.fileName() + " exited 2", World.t(w.now), null, World.VIP.interfaceName());
    said.append(script.fileName()).append(" failed (exit 2), reports Failed at epoch ").append(epoch).append("; ");
    return false;
  }

  /** Runs a script on the host, with the host's fault. */
  private Outcome exec(VipScript script, long epoch) {
    boolean changes = fault == Fault.NONE || fault == Fault.FAIL_AFTER_CHANGE || fault == Fault.HANG_AFTER_CHANGE;
    if (changes && script != VipScript.STATUS) {
      if (script == VipScript.ENABLE) {
        w.hostBinds(node, epoch, partitioned);
      } else {
        w.hostReleases(node);
      }
      if (crashAfterChange) {
        throw new Crash();
      }
    }
    return switch (fault) {
      case NONE -> Outcome.OK;
      case FAIL, FAIL_AFTER_CHANGE -> Outcome.FAILED;
      case HANG, HANG_AFTER_CHANGE -> {
        busyUntil = w.now.plus(World.SCRIPT_TIMEOUT);
        yield Outcome.HUNG;
      }
    };
  }

  private VipReport bound(long epoch) {
    return new VipReport(VipReport.State.Bound, epoch, World.VIP.cidr(), null, null, null, World.t(w.now), null,
        World.VIP.interfaceName());
  }

  private static Optional<VipAddress> statusVip(SipServerPairStatus st) {
    return st == null || st.vip == null ? Optional.empty()
        : VipAddress.parseCidr(st.vip.address, st.vip.interfaceName).value();
  }

  String describe() {
    StringBuilder b = new StringBuilder(node).append(": ");
    b.append(!up ? "down" : !started ? "starting (no API yet)" : !probed ? "started, not probed" : "running");
    if (partitioned) {
      b.append(", partitioned");
    }
    if (fault != Fault.NONE) {
      b.append(", scripts ").append(fault);
    }
    if (busyUntil != null) {
      b.append(", script hangs until ").append(World.t(busyUntil));
    }
    b.append(", holds ").append(held == null ? "-" : "epoch " + held);
    b.append(", report ").append(World.describe(report));
    b.append(inContact ? ", in contact" : ", out of contact");
    return b.toString();
  }
}
