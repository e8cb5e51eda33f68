package io.sipha.agent;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.KubernetesResourceList;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodList;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.FilterWatchListDeletable;
import io.fabric8.kubernetes.client.dsl.PodResource;
import io.fabric8.kubernetes.client.dsl.Resource;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.sipha.api.SipServerPair;
import io.sipha.kube.InformerHandlers;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the agent reads its pairs and this node's pods from. Normally its informer caches; after a
 * gap in contact with the API a fresh list, until the caches have caught up with it. Lease renewals
 * succeed as soon as the link is back, but watches come back only on their reconnect backoff (1 s
 * doubling up to 32 s): acting on a cache from before the gap could add a VIP on a grant that was
 * taken away meanwhile. So after a gap (a failed renewal, a watch down, the heartbeat late) the
 * agent binds nothing until a fresh read has succeeded ({@link #mayBindFrom}).
 */
final class ApiView {
  private static final Logger LOG = LoggerFactory.getLogger(ApiView.class);
  private final KubernetesClient client;
  private final AgentSettings settings;
  private final Clock clock;

  /** Reads the API on a thread of its own: a read that hangs must not hold up the work loop. */
  private final ScheduledExecutorService reader;

  private final Runnable afterRead;
  private SharedIndexInformer<SipServerPair> pairs;
  private SharedIndexInformer<Pod> pods;
  private volatile Snapshot current = new Snapshot(null, null);

  /**
   * Set when contact may have been lost: the caches may be stale until a fresh read says otherwise.
   */
  private volatile boolean refreshNeeded;

  private final AtomicBoolean refreshing = new AtomicBoolean();
  private volatile Instant lastRefresh = Instant.EPOCH;
  private volatile boolean closed;

  /**
   * @param afterRead run after each fresh read, successful or not (the work loop looks again)
   */
  ApiView(
      KubernetesClient client,
      AgentSettings settings,
      Clock clock,
      ScheduledExecutorService reader,
      Runnable afterRead) {
    this.client = client;
    this.settings = settings;
    this.clock = clock;
    this.reader = reader;
    this.afterRead = afterRead;
  }

  /** Starts the informers; {@code onChange} runs at every change of a pair or of a pod here. */
  void start(Runnable onChange) {
    pairs = pairOps().inform(InformerHandlers.onAnyChange(onChange), 0);
    pods = podOps().inform(InformerHandlers.onAnyChange(onChange), 0);
  }

  void close() {
    closed = true;
    if (pairs != null) {
      pairs.close();
    }
    if (pods != null) {
      pods.close();
    }
  }

  /** What to act on now. */
  Snapshot current() {
    return current;
  }

  /** Contact with the API is back after a gap: read it before acting on the caches again. */
  void contactBack() {
    refreshNeeded = true;
  }

  /** A renewal failed: a fresh read from before the gap is as old as the caches now. */
  void contactLost() {
    current = new Snapshot(null, null);
  }

  boolean refreshNeeded() {
    return refreshNeeded;
  }

  /**
   * Before a pass of the work loop: with a watch down (reconnecting) or the heartbeat late (no
   * contact now), the caches are not trusted; a fresh read is asked for when one is needed. Until
   * it has answered the pass goes on over the caches and binds nothing: self-fencing and removals
   * are still done, they are safe on what the caches say.
   */
  void beforePass(boolean heartbeatLate) {
    if (!pairs.isWatching() || !pods.isWatching()) {
      refreshNeeded = true;
    }
    if (heartbeatLate) {
      refreshNeeded = true;
      if (current.fresh()) {
        current = new Snapshot(null, null);
      }
    }
    if (refreshNeeded) {
      requestRefresh();
    }
  }

  /** Whether a VIP may be bound on what {@code source} says: it is fresh, or no gap is open. */
  boolean mayBindFrom(Snapshot source) {
    return !(refreshNeeded && !source.fresh());
  }

  /** One fresh read at a time, at most one a second. */
  private void requestRefresh() {
    if (closed || !refreshing.compareAndSet(false, true)) {
      return;
    }
    long wait =
        Math.max(0, Duration.between(clock.instant(), lastRefresh.plusSeconds(1)).toMillis());
    try {
      reader.schedule(
          () -> {
            try {
              lastRefresh = clock.instant();
              refresh();
            } finally {
              refreshing.set(false);
              afterRead.run();
            }
          },
          wait,
          TimeUnit.MILLISECONDS);
    } catch (RejectedExecutionException e) {
      refreshing.set(false);
    }
  }

  /**
   * Reads the pairs and this node's pods from the API directly. Once the informer caches hold
   * exactly what was read, they are used again. A read that fails leaves nothing fresh: nothing is
   * bound until one succeeds.
   */
  private void refresh() {
    try {
      Map<String, SipServerPair> freshPairs = new HashMap<>();
      pairOps().list().getItems().forEach(p -> freshPairs.put(p.key(), p));
      Map<String, Pod> freshPods = new HashMap<>();
      podOps().list().getItems().forEach(p -> freshPods.put(podKey(p), p));
      if (pairs.isWatching()
          && pods.isWatching()
          && sameVersions(freshPairs, pairs.getStore().list(), SipServerPair::key)
          && sameVersions(freshPods, pods.getStore().list(), ApiView::podKey)) {
        current = new Snapshot(null, null);
        refreshNeeded = false;
        LOG.info("the watches have caught up after the gap in contact with the API");
      } else {
        if (!current.fresh()) {
          LOG.info(
              "contact with the API is back: acting on what was read from it until the watches catch up");
        }
        current = new Snapshot(freshPairs, freshPods);
      }
    } catch (RuntimeException e) {
      current = new Snapshot(null, null);
      LOG.warn(
          "could not read the API after a gap in contact: binding nothing until it answers ({})",
          e.toString());
    }
  }

  private static String podKey(Pod p) {
    return p.getMetadata().getNamespace() + "/" + p.getMetadata().getName();
  }

  private static <T extends HasMetadata> boolean sameVersions(
      Map<String, T> fresh, List<T> cached, Function<T, String> key) {
    if (fresh.size() != cached.size()) {
      return false;
    }
    for (T c : cached) {
      T f = fresh.get(key.apply(c));
      if (f == null
          || !Objects.equals(
              f.getMetadata().getResourceVersion(), c.getMetadata().getResourceVersion())) {
        return false;
      }
    }
    return true;
  }

  private FilterWatchListDeletable<
          SipServerPair, KubernetesResourceList<SipServerPair>, Resource<SipServerPair>>
      pairOps() {
    return settings.watchNamespace() == null
        ? client.resources(SipServerPair.class).inAnyNamespace()
        : client.resources(SipServerPair.class).inNamespace(settings.watchNamespace());
  }

  /** This node's pods of pairs (with the shipped settings the API itself filters by node). */
  private FilterWatchListDeletable<Pod, PodList, PodResource> podOps() {
    var ops =
        settings.watchNamespace() == null
            ? client.pods().inAnyNamespace().withLabel(SipServerPair.PAIR_LABEL)
            : client
                .pods()
                .inNamespace(settings.watchNamespace())
                .withLabel(SipServerPair.PAIR_LABEL);
    return settings.podFieldSelector() ? ops.withField("spec.nodeName", settings.node()) : ops;
  }

  /**
   * The pairs and pods one pass acts on: the caches (no fresh maps) or what a fresh read returned.
   */
  final class Snapshot {
    private final Map<String, SipServerPair> freshPairs;
    private final Map<String, Pod> freshPods;

    private Snapshot(Map<String, SipServerPair> freshPairs, Map<String, Pod> freshPods) {
      this.freshPairs = freshPairs;
      this.freshPods = freshPods;
    }

    boolean fresh() {
      return freshPairs != null;
    }

    List<SipServerPair> pairs() {
      return freshPairs == null
          ? (pairs == null ? List.of() : pairs.getStore().list())
          : List.copyOf(freshPairs.values());
    }

    SipServerPair pair(String key) {
      return freshPairs == null
          ? (pairs == null ? null : pairs.getStore().getByKey(key))
          : freshPairs.get(key);
    }

    List<Pod> pods() {
      return freshPods == null
          ? (pods == null ? List.of() : pods.getStore().list())
          : List.copyOf(freshPods.values());
    }

    Pod pod(String key) {
      return freshPods == null
          ? (pods == null ? null : pods.getStore().getByKey(key))
          : freshPods.get(key);
    }
  }
}
