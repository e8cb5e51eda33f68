package io.sipha.agent;

import io.sipha.decision.VipReport;
import io.sipha.vip.VipAddress;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What the agent holds and says, per pair (namespace/name): the address it has on the host and its
 * epoch, the last announce request it carried out, its report, and the addresses it may have on the
 * host besides (the old one of a VIP change not yet removed, one about to be added). A pair's
 * entries are changed only by the one task of that pair in flight; the reports are read by the
 * report writer at any time.
 */
final class PairLedger {
  final Map<String, HostVip> held = new ConcurrentHashMap<>();

  /** The vip.announce request last carried out (-1: to be announced again once confirmed ours). */
  final Map<String, Long> announced = new ConcurrentHashMap<>();

  final Map<String, VipReport> reports = new ConcurrentHashMap<>();

  /** Old addresses of pairs whose VIP changed, still to be removed (the new one is bound). */
  final Map<String, VipAddress> leftovers = new ConcurrentHashMap<>();

  /**
   * Addresses about to be added by vip-enable, named in the reports written before the script runs.
   */
  final Map<String, VipAddress> intents = new ConcurrentHashMap<>();

  /** When vip-status last checked each pair for drift. */
  final Map<String, Instant> lastChecked = new ConcurrentHashMap<>();

  /** The reports read back from the Lease at start (what the previous run reported). */
  private volatile Map<String, VipReport> readBack = Map.of();

  private volatile boolean dirty = true;

  void report(String key, VipReport r) {
    reports.put(key, r);
    dirty = true;
  }

  /** Whether a report changed since the last call. */
  boolean takeDirty() {
    boolean d = dirty;
    dirty = false;
    return d;
  }

  /** What the previous run reported, as read back at start. */
  void readBack(Map<String, VipReport> previous) {
    reports.putAll(previous);
    readBack = Map.copyOf(reports);
  }

  Map<String, VipReport> readBack() {
    return readBack;
  }

  /**
   * The reports as written: each also names the other addresses this agent may have on its host for
   * the pair (the one it holds while the report is about another, the old one of a VIP change not
   * yet removed, one about to be added), so that neither the operator nor a restarted agent loses
   * sight of them. Before the start-up check has made sure of the host ({@code probed} false), what
   * the previous run said it had is still said.
   */
  Map<String, VipReport> toWrite(boolean probed) {
    Map<String, VipReport> out = new TreeMap<>();
    reports.forEach(
        (key, r) -> {
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
            others.addAll(before.alsoOnHostAddresses());
          }
          out.put(key, r.withAlsoOnHost(others));
        });
    return out;
  }
}
