package io.sipha.agent;

import io.sipha.vip.ScriptResult;
import io.sipha.vip.VipAddress;
import io.sipha.vip.VipScript;
import io.sipha.vip.VipScripts;
import java.time.Clock;
import java.time.Instant;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * Runs the admin's VIP scripts for the node agent: never on the node's own addresses, every run
 * counted in the metrics, and a failing script of a pair backed off (0.5 s doubling up to 30 s)
 * before it is tried again.
 */
final class ScriptRunner {
  /** How often a script failed in a row, and when it may run again. */
  record Backoff(int attempts, Instant nextTry) {
    static final long FIRST_MILLIS = 500;
    static final long MAX_MILLIS = 30_000;

    /** The backoff after one more failure at {@code now}. */
    static Backoff after(Backoff before, Instant now) {
      int attempts = before == null ? 1 : before.attempts() + 1;
      return new Backoff(
          attempts,
          now.plusMillis(Math.min(MAX_MILLIS, FIRST_MILLIS << Math.min(attempts - 1, 6))));
    }
  }

  /**
   * One backed-off run: {@code result} is null when the script was not run (still backing off);
   * after a failure, {@code backoff} says the attempt and when the next may be.
   */
  record Run(ScriptResult result, Backoff backoff) {
    boolean succeeded() {
      return result != null && result.succeeded();
    }
  }

  private final VipScripts scripts;
  private final AgentMetrics metrics;
  private final Clock clock;
  private final String node;
  private final Supplier<Set<String>> ownAddresses;
  private final Map<String, Backoff> backoff = new ConcurrentHashMap<>();

  ScriptRunner(
      VipScripts scripts,
      AgentMetrics metrics,
      Clock clock,
      String node,
      Supplier<Set<String>> ownAddresses) {
    this.scripts = scripts;
    this.metrics = metrics;
    this.clock = clock;
    this.node = node;
    this.ownAddresses = ownAddresses;
  }

  /** Runs the script now unless a failure under the same key is still backing off. */
  Run run(String key, VipScript script, VipAddress vip) {
    Backoff b = backoff.get(key);
    Instant now = clock.instant();
    if (b != null && now.isBefore(b.nextTry())) {
      return new Run(null, b);
    }
    ScriptResult r = once(script, vip);
    if (r.succeeded()) {
      backoff.remove(key);
      return new Run(r, null);
    }
    Backoff next = Backoff.after(b, clock.instant());
    backoff.put(key, next);
    return new Run(r, next);
  }

  /** Runs the script once, without backoff (probes at start, drift checks). */
  ScriptResult once(VipScript script, VipAddress vip) {
    if (script != VipScript.STATUS && ownAddresses.get().contains(vip.host())) {
      // releasing it would take the node off the network; adding it would say nothing: never run
      return new ScriptResult(
          script,
          -1,
          false,
          "refused: "
              + vip.host()
              + " is node "
              + node
              + "'s own address; sipha never adds or removes a node's own address (choose another VIP)",
          0);
    }
    ScriptResult r = scripts.run(script, vip);
    metrics.scriptRun(r);
    return r;
  }
}
