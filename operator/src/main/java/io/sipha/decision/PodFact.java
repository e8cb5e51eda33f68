package io.sipha.decision;

import java.time.Instant;

/**
 * One server pod as the operator sees it.
 *
 * @param exists false when no pod of that name is in the API
 * @param node the node it runs on (spec.nodeName), or null before scheduling
 * @param ready the pod's Ready condition is True
 * @param readySince when the Ready condition last changed (null if unknown)
 * @param failure why the pod counts as failed at once (being deleted, a terminated container, phase
 *     Failed), or null
 * @param role its sipha.io/role annotation, or null
 * @param epoch its sipha.io/epoch annotation, or null
 * @param labelled it carries sipha.io/pair with the pair's name
 * @param resourceVersion the version of the pod these facts were read from (role writes are made on
 *     it, so that a write from facts that are no longer true fails instead of landing), or null
 */
public record PodFact(
    String name,
    boolean exists,
    String node,
    boolean ready,
    Instant readySince,
    String failure,
    String role,
    Long epoch,
    boolean labelled,
    String resourceVersion) {

  public PodFact(
      String name,
      boolean exists,
      String node,
      boolean ready,
      Instant readySince,
      String failure,
      String role,
      Long epoch,
      boolean labelled) {
    this(name, exists, node, ready, readySince, failure, role, epoch, labelled, null);
  }

  /** The same pod with its Ready condition's last change as another clock saw it. */
  public PodFact withReadySince(Instant since) {
    return new PodFact(
        name, exists, node, ready, since, failure, role, epoch, labelled, resourceVersion);
  }

  public static PodFact missing(String name) {
    return new PodFact(name, false, null, false, null, null, null, null, false);
  }

  /** Exists, scheduled, Ready and not failing. */
  public boolean healthy() {
    return exists && node != null && ready && failure == null;
  }

  /** Why it is not healthy, for a person. */
  public String whyNotHealthy() {
    if (!exists) {
      return "pod " + name + " does not exist";
    }
    if (failure != null) {
      return "pod " + name + " failed: " + failure;
    }
    if (node == null) {
      return "pod " + name + " is not scheduled to a node";
    }
    if (!ready) {
      return "pod " + name + " is not Ready";
    }
    return "pod " + name + " is healthy";
  }
}
