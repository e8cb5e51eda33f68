package io.sipha.agent;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.api.model.coordination.v1.LeaseSpec;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.sipha.decision.VipReport;
import io.sipha.kube.AgentReports;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes a node agent's per-pair reports into its report Leases ({@link AgentReports#SHARDS} at
 * most, a pair always in the same one), apart from its heartbeat Lease: only a report Lease whose
 * reports changed is written, each within {@link AgentReports#MAX_SHARD_BYTES}, on a thread of its
 * own. A failed or refused write is retried at the next flush; the heartbeat never waits for it.
 */
final class ReportWriter implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ReportWriter.class);
  private final KubernetesClient client;
  private final String namespace;
  private final String node;
  private final ExecutorService thread;
  private final AtomicBoolean queued = new AtomicBoolean();
  private final Map<Integer, String> written = new HashMap<>();
  private final Map<Integer, Lease> leases = new HashMap<>();
  private volatile boolean failing;

  /**
   * The number of the last report Lease write (see {@link AgentReports#REPORTS_SEQ_ANNOTATION}).
   */
  private long seq;

  private volatile long writtenSeq;

  ReportWriter(KubernetesClient client, String namespace, String node) {
    this.client = client;
    this.namespace = namespace;
    this.node = node;
    this.thread =
        Executors.newSingleThreadExecutor(r -> NodeAgent.thread(r, "agent-reports-" + node));
  }

  /** The reports this node wrote before (its report Leases), read at start. */
  Map<String, VipReport> readBack() {
    Map<String, VipReport> out = new TreeMap<>();
    for (int i = 0; i < AgentReports.SHARDS; i++) {
      Lease l =
          client.leases().inNamespace(namespace).withName(AgentReports.shardName(node, i)).get();
      if (l != null) {
        leases.put(i, l);
        String body =
            l.getMetadata().getAnnotations() == null
                ? null
                : l.getMetadata().getAnnotations().get(AgentReports.ANNOTATION);
        written.put(i, body);
        out.putAll(AgentReports.parse(body));
        seq = Math.max(seq, AgentReports.reportsSeq(l.getMetadata().getAnnotations()));
      }
    }
    writtenSeq = seq;
    return out;
  }

  /**
   * The number of the last report Lease write that succeeded: the heartbeat carries it, so that a
   * reader knows whether it has seen this node's latest reports.
   */
  long writtenSeq() {
    return writtenSeq;
  }

  /**
   * Writes, soon and on the writer's thread, the report Leases whose reports differ from what was
   * written.
   */
  void flush(java.util.function.Supplier<Map<String, VipReport>> reports) {
    if (queued.compareAndSet(false, true)) {
      try {
        thread.execute(
            () -> {
              queued.set(false);
              write(reports);
            });
      } catch (java.util.concurrent.RejectedExecutionException e) {
        queued.set(false);
      }
    }
  }

  /** The report on this pair as last written to its report Lease, or null. */
  synchronized VipReport written(String key) {
    String body = written.get(Math.floorMod(key.hashCode(), AgentReports.SHARDS));
    return body == null ? null : AgentReports.parse(body).get(key);
  }

  /** The last flush could not write every report Lease: flush again. */
  boolean failing() {
    return failing;
  }

  /**
   * Writes now, on the caller's thread: after a gap in contact the reports go out before the
   * heartbeat says the node is back, so that the operator never sees the node alive with a report
   * from before the gap (a VIP it has since removed would look held). Returns false if a write
   * failed.
   */
  boolean writeNow(java.util.function.Supplier<Map<String, VipReport>> reports) {
    write(reports);
    return !failing;
  }

  /**
   * The reports are taken once the lock is held, never before: a write that waited for another (one
   * that hung while the API was cut off) must not put back what the reports were when it was asked
   * for, over what the other wrote since (and then count it as written).
   */
  private synchronized void write(java.util.function.Supplier<Map<String, VipReport>> current) {
    Map<String, VipReport> reports = current.get();
    Map<Integer, Map<String, VipReport>> byShard = new HashMap<>();
    reports.forEach(
        (k, r) ->
            byShard
                .computeIfAbsent(
                    Math.floorMod(k.hashCode(), AgentReports.SHARDS), i -> new TreeMap<>())
                .put(k, r));
    boolean failed = false;
    for (int i = 0; i < AgentReports.SHARDS; i++) {
      Map<String, VipReport> mine = byShard.getOrDefault(i, Map.of());
      String body = AgentReports.renderBounded(mine);
      String before = written.get(i);
      if (body.equals(before) || (mine.isEmpty() && before == null && !leases.containsKey(i))) {
        continue;
      }
      try {
        long n = ++seq;
        leases.put(i, writeShard(i, body, n));
        written.put(i, body);
        writtenSeq = n;
        LOG.debug("wrote report Lease {} (write {}): {}", AgentReports.shardName(node, i), n, body);
      } catch (RuntimeException e) {
        failed = true;
        leases.remove(i); // read it again before the next try
        LOG.warn(
            "could not write report Lease {} ({} reports): {}",
            AgentReports.shardName(node, i),
            mine.size(),
            e.toString());
      }
    }
    failing = failed;
  }

  private Lease writeShard(int i, String body, long n) {
    String name = AgentReports.shardName(node, i);
    Lease l = leases.get(i);
    if (l == null) {
      l = client.leases().inNamespace(namespace).withName(name).get();
    }
    if (l == null) {
      Lease fresh = new Lease();
      fresh.setMetadata(
          new ObjectMetaBuilder()
              .withName(name)
              .withNamespace(namespace)
              .addToLabels(AgentReports.LEASE_LABEL, AgentReports.REPORTS_LABEL_VALUE)
              .addToAnnotations(AgentReports.ANNOTATION, body)
              .addToAnnotations(AgentReports.REPORTS_SEQ_ANNOTATION, Long.toString(n))
              .build());
      LeaseSpec spec = new LeaseSpec();
      spec.setHolderIdentity(node);
      fresh.setSpec(spec);
      return client.leases().inNamespace(namespace).resource(fresh).create();
    }
    if (l.getMetadata().getAnnotations() == null) {
      l.getMetadata().setAnnotations(new HashMap<>());
    }
    l.getMetadata().getAnnotations().put(AgentReports.ANNOTATION, body);
    l.getMetadata().getAnnotations().put(AgentReports.REPORTS_SEQ_ANNOTATION, Long.toString(n));
    return client.leases().inNamespace(namespace).resource(l).update();
  }

  @Override
  public void close() {
    thread.shutdownNow();
  }
}
