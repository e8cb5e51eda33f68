package io.sipha.operator;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;
import io.sipha.api.SipServerPair;
import io.sipha.decision.AgentFact;
import io.sipha.decision.PairFacts;
import io.sipha.decision.VipReport;
import io.sipha.kube.AgentReports;
import io.sipha.kube.Facts;
import io.sipha.vip.AllowedCidrs;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;
import java.util.stream.Stream;

/**
 * Turns what the informers hold about a pair into {@link PairFacts} (through {@link Facts}). Reads
 * only.
 */
final class PairObserver {
  private final KubernetesClient client;
  private final AllowedCidrs allowed;
  private final InformerEventSource<Pod, SipServerPair> pods;
  private final InformerEventSource<Lease, SipServerPair> leases;
  private final InformerEventSource<Lease, SipServerPair> reports;
  private final String leaseNamespace;
  private final Supplier<Stream<SipServerPair>> allPairs;
  private final NodeLiveness liveness;
  private final VipClaims vipClaims;
  private final java.util.function.Predicate<String> pairExists;
  private final Map<String, Parsed> parsed = new java.util.concurrent.ConcurrentHashMap<>();
  private final Map<String, Claim> claims = new java.util.concurrent.ConcurrentHashMap<>();

  PairObserver(
      KubernetesClient client,
      AllowedCidrs allowed,
      String leaseNamespace,
      InformerEventSource<Pod, SipServerPair> pods,
      InformerEventSource<Lease, SipServerPair> leases,
      InformerEventSource<Lease, SipServerPair> reports,
      Supplier<Stream<SipServerPair>> allPairs,
      NodeLiveness liveness,
      VipClaims claims,
      java.util.function.Predicate<String> pairExists) {
    this.liveness = liveness;
    this.vipClaims = claims;
    this.pairExists = pairExists;
    this.client = client;
    this.allowed = allowed;
    this.pods = pods;
    this.leases = leases;
    this.reports = reports;
    this.leaseNamespace = leaseNamespace;
    this.allPairs = allPairs;
  }

  PairFacts observe(SipServerPair pair, Instant now) {
    String ns = pair.getMetadata().getNamespace();
    List<AgentFact> agents = new ArrayList<>();
    List<Lease> all = leases.list(l -> true).toList();
    all.forEach(
        l -> {
          AgentFact a = Facts.agentFact(l, reportFor(Facts.nodeOf(l), pair.key(), l));
          // on this process's clock only: a Lease it has not seen renewed yet counts as seen now
          // (its
          // renewTime is another machine's clock, never compared with ours)
          Instant seen = liveness.renewedAt(a.node());
          a = a.renewedAt(seen != null ? seen : now);
          a = a.restartingUntil(liveness.restartingUntil(a.node()));
          a = a.probe(liveness.probe(a.node()));
          a =
              a.reportsBehind(
                  reportsSeen(a.node())
                      < AgentReports.reportsSeq(l.getMetadata().getAnnotations()));
          agents.add(a);
        });
    Map<String, Pod> found = new java.util.HashMap<>();
    for (String name : Facts.podNames(pair)) {
      Pod p = findPod(ns, name);
      if (p != null) {
        found.put(name, p);
      }
    }
    PairFacts facts =
        Facts.pairFacts(pair, found::get, agents, allowed, vipClaimedBy(pair), now, all);
    Map<String, io.sipha.decision.PodFact> pods = new java.util.LinkedHashMap<>();
    facts
        .pods()
        .forEach(
            (name, p) ->
                pods.put(
                    name,
                    p.exists()
                        ? p.withReadySince(
                            readySince(ns + "/" + name, found.get(name), p.ready(), now))
                        : p));
    return facts.withPods(pods).withStepObservedAt(stepSince(pair, now));
  }

  private final Sightings sightings = new Sightings();

  private Instant readySince(String key, Pod pod, boolean ready, Instant now) {
    return sightings.readySince(key, pod == null ? null : pod.getMetadata().getUid(), ready, now);
  }

  private Instant stepSince(SipServerPair pair, Instant now) {
    return sightings.stepSince(
        pair.key(), pair.getStatus() == null ? null : pair.getStatus().transition, now);
  }

  /** A decision started a step at {@code now}: its deadline counts from then. */
  void stepDecided(String pairKey, io.sipha.api.Transition t, Instant now) {
    sightings.stepDecided(pairKey, t, now);
  }

  private Pod findPod(String ns, String name) {
    Pod p = pods.get(new ResourceID(name, ns)).orElse(null);
    if (p == null && name.matches("[a-z0-9.-]{1,253}")) {
      // a pod without the pair label is not in the informer: look it up to label it
      p = client.pods().inNamespace(ns).withName(name).get();
    }
    return p;
  }

  /** An agent's reports, parsed once per version of its Lease (they may hold hundreds of pairs). */
  private Parsed parsedOf(Lease lease) {
    String node = lease.getMetadata().getName();
    String version = lease.getMetadata().getResourceVersion();
    Parsed p = parsed.get(node);
    if (p == null || version == null || !version.equals(p.version())) {
      Map<String, VipReport> reports = Facts.reports(lease);
      p = new Parsed(version, reports, Facts.reportedHolders(reports));
      parsed.put(node, p);
    }
    return p;
  }

  private record Parsed(
      String version, Map<String, VipReport> reports, Map<String, Set<String>> holders) {}

  private record Claim(Long generation, String host) {}

  /** The pair the VIP belongs to when it is not this one (see {@link Facts#vipClaimedBy}). */
  private String vipClaimedBy(SipServerPair pair) {
    String byCache = Facts.vipClaimedBy(pair, allPairs.get(), this::vipHost, this::reportedHolders);
    return byCache != null ? byCache : vipClaims.heldByOther(pair.key(), vipHost(pair), pairExists);
  }

  /**
   * A node's report on a pair: from the report Lease that holds it, or, for an agent of before,
   * from its heartbeat Lease.
   */
  private VipReport reportFor(String node, String pairKey, Lease heartbeat) {
    Lease shard =
        reports
            .get(new ResourceID(AgentReports.shardName(node, pairKey), leaseNamespace))
            .orElse(null);
    VipReport r = shard == null ? null : parsedOf(shard).reports().get(pairKey);
    return r != null ? r : parsedOf(heartbeat).reports().get(pairKey);
  }

  /** The highest report sequence number of this node's report Leases in the cache. */
  private long reportsSeen(String node) {
    long seen = 0;
    for (int i = 0; i < AgentReports.SHARDS; i++) {
      Lease shard =
          reports.get(new ResourceID(AgentReports.shardName(node, i), leaseNamespace)).orElse(null);
      if (shard != null) {
        seen = Math.max(seen, AgentReports.reportsSeq(shard.getMetadata().getAnnotations()));
      }
    }
    return seen;
  }

  /** The pairs some agent reports holding this address host for. */
  private Set<String> reportedHolders(String host) {
    Set<String> out = new java.util.TreeSet<>();
    java.util.stream.Stream.concat(leases.list(l -> true), reports.list(l -> true))
        .forEach(
            l -> {
              out.addAll(parsedOf(l).holders().getOrDefault(host, Set.of()));
            });
    return out;
  }

  /** The pairs, other than {@code except}, whose spec asks for this address host. */
  List<SipServerPair> claimants(String host, String except) {
    return allPairs.get().filter(p -> !p.key().equals(except) && host.equals(vipHost(p))).toList();
  }

  /** The canonical VIP host a pair claims, worked out once per generation of its spec. */
  private String vipHost(SipServerPair p) {
    Long generation = p.getMetadata().getGeneration();
    Claim c = claims.get(p.key());
    if (c == null || generation == null || !generation.equals(c.generation())) {
      c = new Claim(generation, Facts.vipHost(p));
      claims.put(p.key(), c);
    }
    return c.host();
  }
}
