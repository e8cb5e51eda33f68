package io.sipha.operator;

import io.sipha.decision.AgentFact;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The bookkeeping of the agents' heartbeats on the operator's clock, apart from the informer and
 * the timer of {@link NodeLiveness}: when each renewal was seen, which nodes are late, a deaf spell
 * of the operator itself, and announced restarts. The simulation's operator uses it as it is.
 */
public final class Heartbeats {
  private final Map<String, Instant> renewals = new ConcurrentHashMap<>();
  private final Map<String, Instant> observed = new ConcurrentHashMap<>();
  private final Set<String> late = ConcurrentHashMap.newKeySet();
  private final Map<String, Instant> restarting = new ConcurrentHashMap<>();
  private volatile Instant lastHeard;

  public Set<String> seen(String node, Instant renewTime, Instant now) {
    return seen(node, renewTime, null, now);
  }

  /**
   * A renewal of this node's Lease (renewTime as written by its agent) seen at {@code now}; with an
   * announced restart of {@code restartFor}, counted from when it was first seen.
   *
   * @return the nodes that count as alive again from now on (this one if it was late; after a deaf
   *     spell of the operator, every node that was late): their pairs must look again, for what
   *     waits on a node's return (a fenced holder's release, a Degraded pair) is judged on this
   *     bookkeeping, not on the informer that happens to carry the Lease to a reconciler first
   */
  public Set<String> seen(String node, Instant renewTime, Duration restartFor, Instant now) {
    if (restartFor == null) {
      restarting.remove(node);
    } else {
      restarting.putIfAbsent(node, now.plus(restartFor));
    }
    Instant heard = lastHeard;
    Set<String> back = new java.util.TreeSet<>();
    if (heard != null && Duration.between(heard, now).compareTo(AgentFact.LATE) > 0) {
      // we were deaf, not they: everyone starts afresh, and a node that was late before gets its
      // wake-up again when it is late now (else its pairs would wait for the periodic resync)
      observed.replaceAll((n, t) -> now);
      back.addAll(late);
      late.clear();
    }
    lastHeard = now;
    if (!renewTime.equals(renewals.put(node, renewTime))) {
      observed.put(node, now);
    }
    if (late.remove(node)) {
      back.add(node);
    }
    return back;
  }

  public Instant restartingUntil(String node) {
    return restarting.get(node);
  }

  public Instant renewedAt(String node, Instant now) {
    Instant seen = observed.get(node);
    Instant heard = lastHeard;
    if (seen != null
        && heard != null
        && Duration.between(heard, now).compareTo(AgentFact.LATE) > 0) {
      return now;
    }
    return seen;
  }

  /** The nodes that became late since the last call: their pairs must look at their deadlines. */
  public Set<String> newlyLate(Instant now) {
    Instant heard = lastHeard;
    if (heard != null && Duration.between(heard, now).compareTo(AgentFact.LATE) > 0) {
      return Set.of(); // deaf: see renewedAt
    }
    Set<String> out = new java.util.TreeSet<>();
    observed.forEach(
        (node, renewed) -> {
          if (new AgentFact(node, renewed, null).late(now) && late.add(node)) {
            out.add(node);
          }
        });
    return out;
  }
}
