package io.sipha.agent;

import io.sipha.api.SipServerPair;
import io.sipha.api.SipServerPairStatus;
import io.sipha.api.VipStatus;
import io.sipha.decision.AgentStep;
import io.sipha.decision.VipBindingRule;
import io.sipha.decision.VipReport;
import io.sipha.vip.ScriptResult;
import io.sipha.vip.VipAddress;
import io.sipha.vip.VipScript;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.BiFunction;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What is really on the host, found with vip-status: the start-up check (each pair's VIP, and what
 * the previous run may have left there) and the drift check of one pair. It runs scripts and says
 * what it found; the agent keeps the memory (what it holds, its reports) and acts on it.
 */
final class HostCheck {
  private static final Logger LOG = LoggerFactory.getLogger(HostCheck.class);

  private final String node;
  private final Clock clock;
  private final BiFunction<VipScript, VipAddress, ScriptResult> scripts;

  /**
   * @param scripts runs one script once (no backoff: these are checks)
   */
  HostCheck(String node, Clock clock, BiFunction<VipScript, VipAddress, ScriptResult> scripts) {
    this.node = node;
    this.clock = clock;
    this.scripts = scripts;
  }

  /**
   * What the start-up check found.
   *
   * @param held the pairs whose VIP is on the host, with the epoch the previous run held it at
   * @param reports the first report of each pair looked at
   * @param gone the pairs that are gone, whatever they left removed: their reports are dropped
   * @param unsure what could not be made sure of (null when everything is known): the check is
   *     tried again and nothing is acted on before
   */
  record Startup(
      Map<String, HostVip> held, Map<String, VipReport> reports, Set<String> gone, String unsure) {}

  /**
   * The start-up check: for each pair whose status names a VIP and that concerns this node or was
   * reported by the previous run, is it on the host; then the addresses the previous run reported
   * that the statuses no longer name ({@link AgentStep#leftoversAtStart}) are removed.
   *
   * @param pairs every pair the agent reads
   * @param concerns whether a pair concerns this node (a pod of it here, or its status names it)
   * @param previous the reports read back from the Lease at start
   */
  Startup startup(
      List<SipServerPair> pairs,
      Predicate<SipServerPair> concerns,
      Map<String, VipReport> previous) {
    Map<String, HostVip> held = new LinkedHashMap<>();
    Map<String, VipReport> reports = new LinkedHashMap<>();
    for (SipServerPair pair : pairs) {
      Optional<VipAddress> vip = statusVip(pair.getStatus());
      if (vip.isEmpty() || !(previous.containsKey(pair.key()) || concerns.test(pair))) {
        continue;
      }
      long epoch = pair.getStatus().epoch;
      ScriptResult r = scripts.apply(VipScript.STATUS, vip.get());
      String now = clock.instant().toString();
      if (r.exitCode() == 0 && !r.timedOut()) {
        VipReport before = previous.get(pair.key());
        long heldAt = before != null && before.is(VipReport.State.Bound) ? before.epoch() : 0;
        held.put(pair.key(), new HostVip(vip.get(), heldAt));
        reports.put(
            pair.key(),
            new VipReport(
                VipReport.State.Bound,
                heldAt,
                vip.get().cidr(),
                r.script().fileName(),
                0,
                "found on the host at start",
                now,
                null,
                vip.get().interfaceName()));
        LOG.info("pair {}: {} is on this host at start (epoch {})", pair.key(), vip.get(), heldAt);
      } else if (r.exitCode() == 1 && !r.timedOut()) {
        reports.put(
            pair.key(),
            new VipReport(
                VipReport.State.Unbound,
                epoch,
                vip.get().cidr(),
                r.script().fileName(),
                1,
                "not on the host at start",
                now,
                null,
                vip.get().interfaceName()));
      } else {
        // could not tell: an earlier Unbound must not stand as a confirmation; converging makes
        // sure
        reports.put(
            pair.key(),
            new VipReport(
                VipReport.State.Failed,
                epoch,
                vip.get().cidr(),
                r.script().fileName(),
                r.exitCode(),
                r.describe(),
                now,
                null,
                vip.get().interfaceName()));
      }
    }
    Map<String, SipServerPair> byKey = new LinkedHashMap<>();
    pairs.forEach(p -> byKey.put(p.key(), p));
    Set<String> gone = new HashSet<>();
    List<String> unsure = new ArrayList<>();
    previous.forEach(
        (key, r) -> {
          SipServerPair pair = byKey.get(key);
          for (VipAddress o :
              AgentStep.leftoversAtStart(
                  r,
                  pair == null ? null : statusVip(pair.getStatus()).orElse(null),
                  grantedHereExcept(pairs, key))) {
            ScriptResult check = scripts.apply(VipScript.STATUS, o);
            if (check.exitCode() == 0 && !check.timedOut()) {
              LOG.warn(
                  "pair {}: {} is left on this host from before and no longer granted: removing it",
                  key,
                  o);
            }
            if (check.exitCode() != 1 || check.timedOut()) {
              ScriptResult removal = scripts.apply(VipScript.DISABLE, o);
              if (!removal.succeeded()) {
                unsure.add(
                    "pair "
                        + key
                        + ": "
                        + o
                        + " may be left on this host from before and could not be removed ("
                        + removal.describe()
                        + ")");
                return;
              }
            }
          }
          if (pair == null) {
            gone.add(key);
          }
        });
    return new Startup(held, reports, gone, unsure.isEmpty() ? null : String.join("; ", unsure));
  }

  /**
   * The addresses the statuses of the pairs other than this one grant this node (Binding or Bound).
   */
  private Set<String> grantedHereExcept(List<SipServerPair> pairs, String key) {
    Set<String> out = new HashSet<>();
    for (SipServerPair p : pairs) {
      SipServerPairStatus st = p.getStatus();
      if (!p.key().equals(key)
          && st != null
          && st.vip != null
          && node.equals(st.vip.node)
          && (st.vip.state == VipStatus.State.Binding || st.vip.state == VipStatus.State.Bound)) {
        statusVip(st).ifPresent(v -> out.add(v.host()));
      }
    }
    return out;
  }

  /**
   * The drift check of one pair: vip-status of what the agent holds (or else of what it must hold,
   * or else of the status's VIP). Returns what it holds in truth: {@code h} when the check agrees
   * or cannot tell, null when the address is gone, or the address found at epoch 0 when it is on
   * the host without being held.
   */
  HostVip drift(
      String key, SipServerPairStatus st, Optional<VipBindingRule.Binding> want, HostVip h) {
    Optional<VipAddress> vip =
        h != null ? Optional.of(h.vip()) : want.map(VipBindingRule.Binding::vip);
    if (vip.isEmpty()) {
      vip = statusVip(st);
    }
    if (vip.isEmpty()) {
      return h;
    }
    ScriptResult r = scripts.apply(VipScript.STATUS, vip.get());
    if (r.timedOut() || r.exitCode() < 0 || r.exitCode() > 1) {
      LOG.warn("pair {}: {}", key, r.describe());
      return h;
    }
    boolean present = r.exitCode() == 0;
    if (h != null && !present) {
      LOG.warn(
          "pair {}: drift: {} is no longer on the host; it will be added again if still granted",
          key,
          h.vip());
      return null;
    }
    if (h == null && present) {
      LOG.warn(
          "pair {}: drift: {} is on the host without being held; it will be removed unless granted",
          key,
          vip.get());
      return new HostVip(vip.get(), 0);
    }
    return h;
  }

  static Optional<VipAddress> statusVip(SipServerPairStatus st) {
    return st == null || st.vip == null
        ? Optional.empty()
        : VipAddress.parseCidr(st.vip.address, st.vip.interfaceName).value();
  }
}
