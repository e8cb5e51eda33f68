package io.sipha.sim;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.sipha.api.FailoverPolicy;
import io.sipha.api.SipServerPair;
import io.sipha.api.SipServerPairSpec;
import io.sipha.api.SipServerPairStatus;
import io.sipha.api.VirtualIp;
import io.sipha.decision.VipReport;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The simulated Kubernetes API: the SipServerPairs (spec, status, metadata.generation and a
 * resourceVersion each), their server pods, and one agent Lease per node holding the agent's
 * reports by pair. Objects are replaced or patched only through the world's steps, the operator's
 * writes and the agents' renewals.
 */
final class ApiStore {
  static final String NAMESPACE = "voice";

  /** The pairs, by name, in the order they were created (the oldest first). */
  final Map<String, PairObject> pairs = new LinkedHashMap<>();

  /** The pods that exist, by name. A deleted pod is absent. */
  final Map<String, Pod> pods = new TreeMap<>();

  /** The agents' Leases, by node. */
  final Map<String, Lease> leases = new TreeMap<>();

  private long uids;

  static String key(String pair) {
    return NAMESPACE + "/" + pair;
  }

  PairObject pair(String name) {
    PairObject p = pairs.get(name);
    if (p == null) {
      throw new IllegalArgumentException(
          "no pair " + name + " in the simulation: " + pairs.keySet());
    }
    return p;
  }

  PairObject create(String name, SipServerPairSpec spec, Instant created) {
    PairObject p = new PairObject(name, spec, created);
    pairs.put(name, p);
    return p;
  }

  static SipServerPairSpec spec(
      List<String> servers, String primary, VirtualIp vip, int nodeLossSeconds) {
    SipServerPairSpec s = new SipServerPairSpec();
    s.setServers(new ArrayList<>(servers));
    s.setPrimary(primary);
    s.setVirtualIP(new VirtualIp(vip.getAddress(), vip.getPrefixLength(), vip.getInterfaceName()));
    FailoverPolicy f = new FailoverPolicy();
    f.setNodeLossSeconds(nodeLossSeconds);
    s.setFailover(f);
    return s;
  }

  /**
   * What an informer of the operator holds when its watches stop delivering: a copy of the objects
   * as they are now (the live store goes on changing; this copy changes only by what the operator
   * feeds into its own cache).
   */
  ApiStore copy() {
    ApiStore c = new ApiStore();
    pairs.forEach(
        (n, p) -> {
          PairObject q = new PairObject(p.name, p.spec, p.created);
          q.generation = p.generation;
          q.resourceVersion = p.resourceVersion;
          q.status = p.status;
          c.pairs.put(n, q);
        });
    pods.forEach(
        (n, p) -> {
          Pod q = new Pod(p.name, p.uid, p.node);
          q.ready = p.ready;
          q.readySince = p.readySince;
          q.terminated = p.terminated;
          q.labelled = p.labelled;
          q.annotations.putAll(p.annotations);
          q.version = p.version;
          c.pods.put(n, q);
        });
    leases.forEach(
        (n, l) -> {
          Lease q = new Lease(l.node);
          q.renewTime = l.renewTime;
          q.reports = l.reports;
          q.restartingUntil = l.restartingUntil;
          c.leases.put(n, q);
        });
    return c;
  }

  private long versions = 1000;

  /**
   * A resourceVersion for a pod write: unique across the store, so a recreated pod never matches an
   * old one.
   */
  long nextVersion() {
    return ++versions;
  }

  Pod createPod(String name, String node, boolean ready, Instant now) {
    Pod p = new Pod(name, "uid-" + (++uids), node);
    p.version = nextVersion();
    p.ready = ready;
    p.readySince = now;
    pods.put(name, p);
    return p;
  }

  /** One SipServerPair as the API holds it. */
  static final class PairObject {
    final String name;
    final String key;
    final Instant created;

    /** The spec; replaced (never mutated) on every user edit, so a plan keeps the spec it saw. */
    SipServerPairSpec spec;

    long generation = 1;
    long resourceVersion = 1;

    /** The status as last written; replaced (never mutated) by the operator's writes. */
    SipServerPairStatus status;

    PairObject(String name, SipServerPairSpec spec, Instant created) {
      this.name = name;
      this.key = key(name);
      this.spec = spec;
      this.created = created;
    }

    /** A user edit of the spec: generation and resourceVersion grow. */
    void editSpec(SipServerPairSpec next) {
      spec = next;
      generation++;
      resourceVersion++;
    }

    /**
     * The pair as the operator's informer would hand it over (for the product's cross-pair rules).
     */
    SipServerPair resource() {
      SipServerPair r = new SipServerPair();
      r.setMetadata(
          new ObjectMetaBuilder()
              .withNamespace(NAMESPACE)
              .withName(name)
              .withGeneration(generation)
              .withResourceVersion(String.valueOf(resourceVersion))
              .withCreationTimestamp(created.toString())
              .build());
      r.setSpec(spec);
      r.setStatus(status);
      return r;
    }
  }

  /** A server pod as the API holds it. */
  static final class Pod {
    final String name;
    final String uid;
    final String node;
    boolean ready;

    /** lastTransitionTime of the Ready condition. */
    Instant readySince;

    /** A terminated SIP Server container, or null. */
    String terminated;

    boolean labelled = true;
    final Map<String, String> annotations = new TreeMap<>();

    /** Its resourceVersion: a new one, unique in the store (as etcd's revision), at every write. */
    long version;

    Pod(String name, String uid, String node) {
      this.name = name;
      this.uid = uid;
      this.node = node;
    }
  }

  /** A node agent's Lease: renewTime, its reports by pair key, and an announced restart. */
  static final class Lease {
    final String node;
    Instant renewTime;
    Map<String, VipReport> reports = Map.of();
    Instant restartingUntil;
    io.sipha.decision.PeerHearing hearing = io.sipha.decision.PeerHearing.NONE;

    Lease(String node) {
      this.node = node;
    }
  }
}
