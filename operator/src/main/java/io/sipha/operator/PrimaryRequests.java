package io.sipha.operator;

import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The values each pair's {@code spec.primary} was set to since its last reconcile, as the
 * informer's update events show them. A reconcile reads only the latest spec: when a user
 * acknowledges a failover (spec.primary set to the current primary) and then asks to switch back,
 * both between two reconciles, the latest spec looks unchanged and the request would be lost. With
 * these values the decision sees that the acknowledgement happened ({@link
 * io.sipha.decision.PairFacts#primariesSeen}). One process's memory: a relist or a new leader
 * starts from nothing, as before.
 */
public final class PrimaryRequests {
  private final Map<String, Set<String>> seen = new ConcurrentHashMap<>();

  /** An update event of a pair: spec.primary went from {@code before} to {@code after}. */
  public void changed(String key, String before, String after) {
    if (before != null && after != null && !before.equals(after)) {
      // only the values it was set to: an acknowledgement is spec.primary set to the current
      // primary
      seen.computeIfAbsent(key, k -> java.util.Collections.synchronizedSet(new LinkedHashSet<>()))
          .add(after);
    }
  }

  /** The values seen since the last {@link #done}. */
  public Set<String> seen(String key) {
    Set<String> s = seen.get(key);
    if (s == null) {
      return Set.of();
    }
    synchronized (s) {
      return Set.copyOf(s);
    }
  }

  /**
   * A reconcile decided with {@code used} while the status named a primary (so an acknowledgement
   * among them was recorded) and its writes landed: those are dealt with.
   */
  public void done(String key, Set<String> used) {
    Set<String> s = seen.get(key);
    if (s != null && !used.isEmpty()) {
      s.removeAll(used);
      seen.remove(key, Set.of());
    }
  }
}
