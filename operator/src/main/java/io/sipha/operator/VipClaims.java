package io.sipha.operator;

import io.sipha.kube.Facts;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Predicate;

/**
 * Which pair this operator process lets hold each VIP address. The cross-pair rule ({@link
 * Facts#vipClaimedBy}) reads the informer cache, and two pairs are reconciled side by side: when
 * both are pointed at one free address at about the same time (one {@code kubectl apply} of two
 * edits), each may decide before the other's status shows it, and both would grant it. A plan that
 * makes its pair hold an address claims it here first, before any write; the claim of another pair
 * makes it wait (and the next observation says Invalid, naming that pair). A pair's entry follows
 * what its status holds once its reconcile is done.
 *
 * <p>This is one process's memory: the leader's. A new leader starts empty and learns from the
 * statuses, which are then all it has to go on (a deposed leader's write that lands late is the one
 * case this cannot see; leader election keeps that window short).
 */
public final class VipClaims {
  private final Map<String, String> holderByHost = new HashMap<>();

  /**
   * Claims {@code host} (canonical address text, or null for none) for the pair {@code key}.
   * Returns the other pair that holds it here, or null when the pair may hold it. What the pair
   * held before stays its own until {@link #settle} (a VIP change releases the old one after). A
   * claim of a pair that no longer {@code exists} (deleted without its finalizer) is dropped.
   */
  public synchronized String claim(String key, String host, Predicate<String> exists) {
    if (host == null) {
      return null;
    }
    String other = heldByOther(key, host, exists);
    if (other != null) {
      return other;
    }
    holderByHost.put(host, key);
    return null;
  }

  /**
   * The pair's reconcile is done: it holds {@code host} (what its status holds now; null: none).
   */
  public synchronized void settle(String key, String host) {
    holderByHost.values().removeIf(key::equals);
    if (host != null) {
      holderByHost.putIfAbsent(host, key);
    }
  }

  /**
   * The pair other than {@code key} that holds {@code host} here and still {@code exists}, or null.
   */
  public synchronized String heldByOther(String key, String host, Predicate<String> exists) {
    String other = host == null ? null : holderByHost.get(host);
    if (other == null || other.equals(key)) {
      return null;
    }
    if (!exists.test(other)) {
      holderByHost
          .values()
          .removeIf(other::equals); // gone without its finalizer: nothing to wait for
      return null;
    }
    return other;
  }
}
