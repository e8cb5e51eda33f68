package io.sipha.agent;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.api.model.coordination.v1.LeaseSpec;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.sipha.decision.AgentFact;
import io.sipha.kube.AgentReports;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node agent's heartbeat: its Lease {@code sipha-agent-<node>}, renewed every {@code
 * renewEvery} on a thread of its own, whatever the scripts and the work loop are doing. Besides the
 * renewal it carries what the operator must know of the agent as a whole: that it does not work
 * (and why), the node's own addresses, how far its report Leases go, and an announced restart. It
 * knows no pair; it asks the agent for those and tells it when contact with the API comes back
 * after a gap, or is lost.
 */
final class Heartbeat implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(Heartbeat.class);

  /** What the heartbeat asks of the agent, and tells it. */
  interface Agent {
    /** Why the agent does not work although it renews, or null. */
    String notWorking();

    /** The node's own addresses. */
    Set<String> ownAddresses();

    /** Back after a gap: the reports are written before the node counts as back. */
    void writeReportsNow();

    /** How far the report Leases written go (0: none yet). */
    long reportsWrittenSeq();

    /**
     * Contact is back after a gap: called before the renewal counts (read the API before acting on
     * caches).
     */
    void contactBack();

    /** A renewal succeeded (after {@link #contactBack}, if it was one). */
    void renewed();

    /** A renewal failed. */
    void renewalFailed();

    /**
     * What the peer channel says in the Lease (where it listens, what it hears); an empty value
     * removes the annotation.
     */
    default Map<String, String> peerAnnotations() {
      return Map.of();
    }
  }

  private final KubernetesClient client;
  private final String node;
  private final String namespace;
  private final Duration renewEvery;
  private final Clock clock;
  private final AgentMetrics metrics;
  private final Agent agent;
  private final ScheduledExecutorService thread;
  private Lease lease;
  private volatile Instant lastRenewal;
  private volatile Instant lastAttempt;
  private volatile boolean failed;
  private volatile boolean closing;
  private volatile boolean closed;

  Heartbeat(
      KubernetesClient client,
      String node,
      String namespace,
      Duration renewEvery,
      Clock clock,
      AgentMetrics metrics,
      Agent agent) {
    this.client = client;
    this.node = node;
    this.namespace = namespace;
    this.renewEvery = renewEvery;
    this.clock = clock;
    this.metrics = metrics;
    this.agent = agent;
    this.thread =
        Executors.newSingleThreadScheduledExecutor(
            r -> NodeAgent.thread(r, "agent-heartbeat-" + node));
  }

  /** Starts renewing, from the Lease as read at start (null: none yet). */
  void start(Lease previous) {
    lease = previous;
    thread.scheduleAtFixedRate(this::renew, 0, renewEvery.toMillis(), TimeUnit.MILLISECONDS);
  }

  /**
   * Renews now, besides the regular turns: what the Lease carries has changed and the operator must
   * hear of it at once (a peer turned silent).
   */
  void renewSoon() {
    try {
      thread.execute(this::renew);
    } catch (java.util.concurrent.RejectedExecutionException e) {
      // closed
    }
  }

  /**
   * The agent stops: no more renewals count as a working agent's; with {@code restartFor} the stop
   * is announced in the Lease (a successor is coming), written at once.
   */
  void stopping(Duration restartFor) throws Exception {
    thread
        .submit(
            () -> {
              closing = true;
              if (lease != null && restartFor != null) {
                lease
                    .getMetadata()
                    .getAnnotations()
                    .put(
                        AgentReports.RESTARTING_ANNOTATION, String.valueOf(restartFor.toSeconds()));
                renew();
              }
            })
        .get(5, TimeUnit.SECONDS);
  }

  /**
   * No contact with the API now: the last renewal failed, or the last that succeeded is older than
   * a missed one (a renewal that hangs fails nothing but is a gap all the same).
   */
  boolean outOfContact() {
    return failed || late();
  }

  /** The last successful renewal is older than a missed one. */
  boolean late() {
    Instant last = lastRenewal;
    return last != null && Duration.between(last, clock.instant()).compareTo(AgentFact.LATE) > 0;
  }

  /** Liveness: the heartbeat thread ran recently (whether or not the API answered). */
  boolean running() {
    Instant a = lastAttempt;
    return !closed && a != null && clock.instant().isBefore(a.plus(renewEvery.multipliedBy(10)));
  }

  /** When the Lease was last renewed, or null before the first renewal. */
  Instant lastRenewal() {
    return lastRenewal;
  }

  private void renew() {
    if (closed) {
      return;
    }
    lastAttempt = clock.instant();
    boolean gap = outOfContact();
    if (gap) {
      // back after a gap: what changed on the host meanwhile is reported before the node counts as
      // back
      try {
        agent.writeReportsNow();
      } catch (RuntimeException e) {
        LOG.debug("reports not written before the heartbeat: {}", e.toString());
      }
    }
    ZonedDateTime now = ZonedDateTime.ofInstant(clock.instant(), ZoneOffset.UTC);
    try {
      if (lease == null) {
        lease = client.leases().inNamespace(namespace).withName(AgentReports.leaseName(node)).get();
      }
      if (lease == null) {
        Lease fresh = new Lease();
        fresh.setMetadata(
            new ObjectMetaBuilder()
                .withName(AgentReports.leaseName(node))
                .withNamespace(namespace)
                .addToLabels(AgentReports.LEASE_LABEL, AgentReports.LEASE_LABEL_VALUE)
                .build());
        LeaseSpec spec = new LeaseSpec();
        spec.setHolderIdentity(node);
        spec.setLeaseDurationSeconds((int) Math.max(1, renewEvery.toSeconds() * 3));
        spec.setAcquireTime(now);
        spec.setRenewTime(now);
        fresh.setSpec(spec);
        lease = client.leases().inNamespace(namespace).resource(fresh).create();
      } else {
        if (lease.getMetadata().getAnnotations() == null) {
          lease.getMetadata().setAnnotations(new HashMap<>());
        }
        var ann = lease.getMetadata().getAnnotations();
        // the reports live in the report Leases (ReportWriter): the heartbeat carries none, so
        // that it never fails because of them (an agent of before left them here)
        ann.remove(AgentReports.ANNOTATION);
        String stuck = agent.notWorking();
        if (stuck == null) {
          ann.remove(AgentReports.NOT_WORKING_ANNOTATION);
        } else {
          ann.put(AgentReports.NOT_WORKING_ANNOTATION, stuck);
        }
        String own = String.join(",", agent.ownAddresses());
        if (own.isEmpty()) {
          ann.remove(AgentReports.NODE_ADDRESSES_ANNOTATION);
        } else {
          ann.put(AgentReports.NODE_ADDRESSES_ANNOTATION, own);
        }
        if (!closing) {
          ann.remove(AgentReports.RESTARTING_ANNOTATION);
        }
        agent
            .peerAnnotations()
            .forEach(
                (k, v) -> {
                  if (v == null || v.isEmpty()) {
                    ann.remove(k);
                  } else {
                    ann.put(k, v);
                  }
                });
        // how far the reports written go: a reader that has not seen this far waits for them
        long written = agent.reportsWrittenSeq();
        if (written > 0) {
          ann.put(AgentReports.REPORTS_SEQ_ANNOTATION, Long.toString(written));
        }
        lease.getSpec().setRenewTime(now);
        lease.getSpec().setHolderIdentity(node);
        lease = client.leases().inNamespace(namespace).resource(lease).update();
      }
      if (gap) {
        // set before the renewal counts, so that no pass sees contact without it
        agent.contactBack();
        failed = false;
      }
      lastRenewal = now.toInstant();
      metrics.heartbeat(true);
      agent.renewed();
    } catch (KubernetesClientException e) {
      failedRenewal();
      LOG.warn(
          "could not renew Lease {} ({}): {}",
          AgentReports.leaseName(node),
          e.getCode(),
          e.getMessage());
    } catch (RuntimeException e) {
      failedRenewal();
      LOG.warn("could not renew Lease {}: {}", AgentReports.leaseName(node), e.toString());
    }
  }

  private void failedRenewal() {
    failed = true;
    lease = null;
    metrics.heartbeat(false);
    agent.renewalFailed();
  }

  @Override
  public void close() {
    closed = true;
    thread.shutdownNow();
  }

  void awaitTermination() throws InterruptedException {
    thread.awaitTermination(2, TimeUnit.SECONDS);
  }
}
