package io.sipha.sim;

import io.sipha.api.FailoverPolicy;
import io.sipha.api.SipServerPairSpec;
import io.sipha.api.SipServerPairStatus;
import io.sipha.api.VirtualIp;
import io.sipha.decision.VipReport;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The simulated Kubernetes API: one SipServerPair (spec, status, metadata.generation and a
 * resourceVersion), its two server pods, and one agent Lease per node. Objects are replaced or
 * patched only through the world's steps, the operator's writes and the agents' renewals.
 */
final class ApiStore {
  static final String NAMESPACE = "voice";
  static final String PAIR = "pair-1";
  static final String KEY = NAMESPACE + "/" + PAIR;

  /** The spec; replaced (never mutated) on every user edit, so a plan keeps the spec it saw. */
  SipServerPairSpec spec;
  long generation = 1;
  long resourceVersion = 1;
  /** The status as last written; replaced (never mutated) by the operator's writes. */
  SipServerPairStatus status;
  /** The pods that exist, by name. A deleted pod is absent. */
  final Map<String, Pod> pods = new TreeMap<>();
  /** The agents' Leases, by node. */
  final Map<String, Lease> leases = new TreeMap<>();
  private long uids;

  ApiStore() {
    spec = spec("sip-0", 3);
  }

  static SipServerPairSpec spec(String primary, int nodeLossSeconds) {
    SipServerPairSpec s = new SipServerPairSpec();
    s.setServers(new ArrayList<>(List.of("sip-0", "sip-1")));
    s.setPrimary(primary);
    s.setVirtualIP(new VirtualIp("192.0.2.10", 24, "eth0"));
    FailoverPolicy f = new FailoverPolicy();
    f.setNodeLossSeconds(nodeLossSeconds);
    s.setFailover(f);
    return s;
  }

  /** A user edit of the spec: generation and resourceVersion grow. */
  void editSpec(SipServerPairSpec next) {
    spec = next;
    generation++;
    resourceVersion++;
  }

  private long versions = 1000;

  /** A resourceVersion for a pod write: unique across the store, so a recreated pod never matches an old one. */
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

  /** A node agent's Lease: renewTime, its report for the pair, and an announced restart. */
  static final class Lease {
    final String node;
    Instant renewTime;
    VipReport report;
    Instant restartingUntil;

    Lease(String node) {
      this.node = node;
    }
  }
}
