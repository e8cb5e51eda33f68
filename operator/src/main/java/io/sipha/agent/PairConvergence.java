package io.sipha.agent;

import io.fabric8.kubernetes.api.model.Pod;
import io.sipha.api.SipServerPair;
import io.sipha.api.SipServerPairStatus;
import io.sipha.decision.AgentStep;
import io.sipha.decision.VipBindingRule;
import io.sipha.decision.VipReport;
import io.sipha.vip.ScriptResult;
import io.sipha.vip.VipAddress;
import io.sipha.vip.VipScript;
import java.time.Clock;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One pair's pass on this node: what {@link AgentStep#next} says the host must do for it
 * (self-fence, enable, disable, adopt what is there, or only report), done with the admin's
 * scripts, and the outcome put in the {@link PairLedger}. Runs in the script pool, one task per
 * pair at a time.
 */
final class PairConvergence {
  private static final Logger LOG = LoggerFactory.getLogger(PairConvergence.class);
  private final String node;
  private final Clock clock;
  private final PairLedger ledger;
  private final ApiView view;
  private final ScriptRunner scripts;
  private final HostCheck hostCheck;
  private final Fencing fencing;
  private final ReportWriter reportWriter;
  private final AgentMetrics metrics;

  /** The reports as they are to be written (see {@link PairLedger#toWrite}). */
  private final Supplier<Map<String, VipReport>> toWrite;

  /** Told of each pair a server of which runs on this node (its peer is heartbeated). */
  private final java.util.function.Consumer<SipServerPair> served;

  PairConvergence(
      String node,
      Clock clock,
      PairLedger ledger,
      ApiView view,
      ScriptRunner scripts,
      HostCheck hostCheck,
      Fencing fencing,
      ReportWriter reportWriter,
      AgentMetrics metrics,
      Supplier<Map<String, VipReport>> toWrite,
      java.util.function.Consumer<SipServerPair> served) {
    this.node = node;
    this.clock = clock;
    this.ledger = ledger;
    this.view = view;
    this.scripts = scripts;
    this.hostCheck = hostCheck;
    this.fencing = fencing;
    this.reportWriter = reportWriter;
    this.metrics = metrics;
    this.toWrite = toWrite;
    this.served = served;
  }

  /** Nothing to do for this pair: what it holds and reports already matches what it must hold. */
  boolean quiet(SipServerPair pair) {
    String key = pair.key();
    if (ledger.leftovers.containsKey(key)) {
      return false;
    }
    Optional<VipBindingRule.Binding> want = wanted(pair);
    // an announce this agent has not recorded yet counts as not done here: one pass records it
    return AgentStep.next(
            situation(
                pair,
                want,
                ledger.held.get(key),
                want.isPresent() && fencing.due(pair),
                true,
                ledger.announced.getOrDefault(key, -1L)))
        instanceof AgentStep.Nothing;
  }

  /**
   * One pass over {@code pair} as {@code source} shows it; {@code resync}: check the host with
   * vip-status first.
   */
  void converge(ApiView.Snapshot source, SipServerPair pair, boolean resync) {
    String key = pair.key();
    SipServerPairStatus st = pair.getStatus();
    long epoch = st == null ? 0 : st.epoch;
    Optional<VipBindingRule.Binding> want = wanted(pair);
    HostVip h = ledger.held.get(key);
    if (want.isPresent() && fencing.due(pair)) {
      if (AgentStep.next(situation(pair, want, h, true, true, null))
          instanceof AgentStep.Disable d) {
        LOG.warn(
            "pair {}: no Lease renewal for {} s and the peer agent is unreachable, unknown or still reaches"
                + " the API (it may take over): self-fencing, removing {}",
            key,
            pair.getSpec().getFailover().getFenceAfterSeconds(),
            d.vip());
        if (run(key, VipScript.DISABLE, d.vip(), d.epoch(), null)) {
          ledger.held.remove(key);
          metrics.selfFenced();
        }
      }
      return;
    }
    if (resync) {
      ledger.lastChecked.put(key, clock.instant());
      h = resync(key, st, want, h);
    }
    if (want.isPresent()) {
      fencing.learnPeer(pair);
    }
    if (servesHere(source, pair)) {
      served.accept(pair);
    }
    retryLeftover(key);
    long announce = st == null || st.vip == null ? 0 : st.vip.announce;
    AgentStep.Action action =
        AgentStep.next(
            situation(pair, want, h, false, view.mayBindFrom(source), ledger.announced.get(key)));
    LOG.debug(
        "pair {}: {} (status epoch {}, {} view)",
        key,
        action,
        epoch,
        source.fresh() ? "fresh" : "cached");
    if (action instanceof AgentStep.Enable e) {
      enable(key, e, h, announce);
    } else if (action instanceof AgentStep.Disable d) {
      if (d.staleEpoch() != null) {
        LOG.warn(
            "pair {}: {} is held here at epoch {} but the current epoch is {} elsewhere: removing it",
            key,
            d.vip(),
            d.staleEpoch(),
            epoch);
      }
      if (run(key, VipScript.DISABLE, d.vip(), d.epoch(), d.staleEpoch())
          && h != null
          && h.vip().equals(d.vip())) {
        ledger.held.remove(key);
        ledger.announced.remove(key);
      }
    } else if (action instanceof AgentStep.Adopt a) {
      ledger.held.put(key, new HostVip(a.vip(), a.epoch()));
      ledger.announced.put(key, announce);
      ledger.report(key, bound(new VipBindingRule.Binding(a.vip(), a.epoch())));
    } else if (action instanceof AgentStep.Report r) {
      ledger.report(key, r.report());
    }
    if (want.isPresent()) {
      ledger.announced.putIfAbsent(key, announce);
    }
  }

  private void enable(String key, AgentStep.Enable e, HostVip h, long announce) {
    if (e.release() == null && h != null) {
      LOG.info("pair {}: announcing {} again (request {})", key, e.vip(), announce);
    }
    if (!intendToAdd(key, e.vip())) {
      return; // tried again at the next pass
    }
    try {
      if (run(key, VipScript.ENABLE, e.vip(), e.epoch(), null)) {
        ledger.held.put(key, new HostVip(e.vip(), e.epoch()));
        ledger.announced.put(key, announce);
        if (e.release() != null) {
          LOG.info("pair {}: {}; {} is bound, removing the old address", key, e.why(), e.vip());
          ledger.leftovers.put(key, e.release());
          retryLeftover(key);
        }
      }
    } finally {
      ledger.intents.remove(key);
    }
  }

  /** What this agent knows of a pair, for {@link AgentStep#next}. */
  private AgentStep.Situation situation(
      SipServerPair pair,
      Optional<VipBindingRule.Binding> want,
      HostVip h,
      boolean fenceDue,
      boolean fresh,
      Long announcedValue) {
    SipServerPairStatus st = pair.getStatus();
    return new AgentStep.Situation(
        want,
        h == null ? null : new AgentStep.Held(h.vip(), h.epoch()),
        ledger.reports.get(pair.key()),
        st == null ? 0 : st.epoch,
        st != null && st.vip != null && node.equals(st.vip.node),
        HostCheck.statusVip(st).orElse(null),
        fenceDue,
        fresh,
        st == null || st.vip == null ? 0 : st.vip.announce,
        announcedValue,
        now());
  }

  /** A server of the pair runs on this node. */
  private boolean servesHere(ApiView.Snapshot source, SipServerPair pair) {
    if (pair.getSpec() == null || pair.getSpec().getServers() == null) {
      return false;
    }
    for (String s : pair.getSpec().getServers()) {
      Pod p = source.pod(pair.getMetadata().getNamespace() + "/" + s);
      if (p != null && p.getSpec() != null && node.equals(p.getSpec().getNodeName())) {
        return true;
      }
    }
    return false;
  }

  private Optional<VipBindingRule.Binding> wanted(SipServerPair pair) {
    SipServerPairStatus st = pair.getStatus();
    Pod primaryPod =
        st == null || st.primary == null
            ? null
            : view.current().pod(pair.getMetadata().getNamespace() + "/" + st.primary);
    return VipBindingRule.binding(
        st,
        node,
        primaryPod == null || primaryPod.getSpec() == null
            ? null
            : primaryPod.getSpec().getNodeName(),
        primaryPod == null ? null : primaryPod.getMetadata().getAnnotations());
  }

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
    if (w != null
        && ((w.address() != null && VipReport.isAbout(w, vip)) || w.alsoHolds(vip.host()))) {
      return true;
    }
    ledger.intents.put(key, vip);
    // a first grant has no report yet to carry it: the state of the address is not known until the
    // script has run
    ledger.reports.putIfAbsent(
        key,
        new VipReport(
            VipReport.State.Failed,
            0,
            vip.cidr(),
            VipScript.ENABLE.fileName(),
            -1,
            "about to run",
            now(),
            null,
            vip.interfaceName()));
    if (reportWriter.writeNow(toWrite)) {
      return true;
    }
    ledger.intents.remove(key);
    LOG.warn("pair {}: could not write that {} is about to be added: not adding it yet", key, vip);
    return false;
  }

  /** Tries again, with backoff, to remove the old address of a pair whose VIP changed. */
  private void retryLeftover(String key) {
    VipAddress old = ledger.leftovers.get(key);
    if (old == null) {
      return;
    }
    ScriptRunner.Run run = scripts.run(key + " leftover", VipScript.DISABLE, old);
    if (run.succeeded()) {
      ledger.leftovers.remove(key);
      LOG.info("pair {}: the old address {} is removed", key, old);
    } else if (run.result() != null) {
      LOG.warn(
          "pair {}: could not remove the old address {} (attempt {}): {}",
          key,
          old,
          run.backoff().attempts(),
          run.result().describe());
    }
  }

  /** Runs vip-status for a pair that concerns this host and corrects the agent's belief. */
  private HostVip resync(
      String key, SipServerPairStatus st, Optional<VipBindingRule.Binding> want, HostVip h) {
    HostVip truth = hostCheck.drift(key, st, want, h);
    if (truth == null) {
      ledger.held.remove(key);
    } else if (truth != h) {
      ledger.held.put(key, truth);
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
      LOG.info(
          "pair {} epoch {}: {} {} ok in {} ms",
          key,
          epoch,
          script.fileName(),
          vip,
          r.durationMillis());
      VipReport.State state =
          script == VipScript.ENABLE ? VipReport.State.Bound : VipReport.State.Unbound;
      // success is said in few bytes: a node's reports on hundreds of pairs share its report Leases
      ledger.report(
          key,
          new VipReport(
              state, epoch, vip.cidr(), null, null, null, now(), staleEpoch, vip.interfaceName()));
      return true;
    }
    LOG.warn(
        "pair {} epoch {}: {} (attempt {}, next try at {})",
        key,
        epoch,
        r.describe(),
        run.backoff().attempts(),
        run.backoff().nextTry());
    ledger.report(
        key,
        new VipReport(
            VipReport.State.Failed,
            epoch,
            vip.cidr(),
            script.fileName(),
            r.exitCode(),
            r.describe(),
            now(),
            null,
            vip.interfaceName()));
    return false;
  }

  private VipReport bound(VipBindingRule.Binding b) {
    return new VipReport(
        VipReport.State.Bound,
        b.epoch(),
        b.vip().cidr(),
        null,
        null,
        null,
        now(),
        null,
        b.vip().interfaceName());
  }

  private String now() {
    return clock.instant().toString();
  }
}
