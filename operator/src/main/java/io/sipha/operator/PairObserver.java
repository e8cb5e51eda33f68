package io.sipha.operator;

import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodCondition;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;
import io.sipha.api.SipServerPair;
import io.sipha.decision.AgentFact;
import io.sipha.decision.AgentReports;
import io.sipha.decision.PairFacts;
import io.sipha.decision.PodFact;
import io.sipha.decision.VipReport;
import io.sipha.vip.AllowedCidrs;
import io.sipha.vip.VipAddress;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Supplier;
import java.util.stream.Stream;

/** Turns what the informers hold about a pair into {@link PairFacts}. Reads only. */
final class PairObserver {
  private final KubernetesClient client;
  private final AllowedCidrs allowed;
  private final InformerEventSource<Pod, SipServerPair> pods;
  private final InformerEventSource<Lease, SipServerPair> leases;
  private final Supplier<Stream<SipServerPair>> allPairs;
  private final NodeLiveness liveness;
  private final Map<String, Parsed> parsed = new java.util.concurrent.ConcurrentHashMap<>();
  private final Map<String, Claim> claims = new java.util.concurrent.ConcurrentHashMap<>();

  PairObserver(
      KubernetesClient client,
      AllowedCidrs allowed,
      InformerEventSource<Pod, SipServerPair> pods,
      InformerEventSource<Lease, SipServerPair> leases,
      Supplier<Stream<SipServerPair>> allPairs,
      NodeLiveness liveness) {
    this.liveness = liveness;
    this.client = client;
    this.allowed = allowed;
    this.pods = pods;
    this.leases = leases;
    this.allPairs = allPairs;
  }

  PairFacts observe(SipServerPair pair, Instant now) {
    String ns = pair.getMetadata().getNamespace();
    Map<String, PodFact> podFacts = new LinkedHashMap<>();
    List<String> servers = pair.getSpec() == null || pair.getSpec().getServers() == null
        ? List.of() : pair.getSpec().getServers();
    for (String name : servers.stream().filter(Objects::nonNull).distinct().limit(2).toList()) {
      podFacts.put(name, podFact(pair, name, findPod(ns, name)));
    }
    Map<String, AgentFact> agents = new HashMap<>();
    leases.list(l -> true).forEach(l -> {
      AgentFact a = agentFact(l, reportsOf(l).get(pair.key()));
      Instant seen = liveness.renewedAt(a.node());
      if (seen != null) {
        a = new AgentFact(a.node(), seen, a.report(), a.restartingUntil());
      }
      agents.put(a.node(), a);
    });
    return new PairFacts(ns, pair.getMetadata().getName(),
        pair.getMetadata().getGeneration() == null ? 0 : pair.getMetadata().getGeneration(),
        pair.getSpec(), pair.getStatus(), podFacts, agents, allowed, vipClaimedBy(pair), now);
  }

  private Pod findPod(String ns, String name) {
    Pod p = pods.get(new ResourceID(name, ns)).orElse(null);
    if (p == null && name.matches("[a-z0-9.-]{1,253}")) {
      // a pod without the pair label is not in the informer: look it up to label it
      p = client.pods().inNamespace(ns).withName(name).get();
    }
    return p;
  }

  static PodFact podFact(SipServerPair pair, String name, Pod pod) {
    if (pod == null) {
      return PodFact.missing(name);
    }
    var meta = pod.getMetadata();
    Map<String, String> ann = meta.getAnnotations() == null ? Map.of() : meta.getAnnotations();
    Map<String, String> labels = meta.getLabels() == null ? Map.of() : meta.getLabels();
    boolean ready = false;
    Instant readySince = null;
    String failure = null;
    if (meta.getDeletionTimestamp() != null) {
      failure = "it is being deleted";
    }
    var status = pod.getStatus();
    if (status != null) {
      for (PodCondition c : status.getConditions() == null ? List.<PodCondition>of() : status.getConditions()) {
        if ("Ready".equals(c.getType())) {
          ready = "True".equals(c.getStatus());
          readySince = instant(c.getLastTransitionTime());
        }
      }
      if (failure == null && ("Failed".equals(status.getPhase()) || "Succeeded".equals(status.getPhase()))) {
        failure = "pod phase is " + status.getPhase();
      }
      for (ContainerStatus cs : status.getContainerStatuses() == null ? List.<ContainerStatus>of() : status.getContainerStatuses()) {
        if (failure == null && cs.getState() != null && cs.getState().getTerminated() != null) {
          var t = cs.getState().getTerminated();
          failure = "container " + cs.getName() + " terminated (" + t.getReason() + ", exit code " + t.getExitCode() + ")";
        }
      }
    }
    Long epoch = null;
    try {
      epoch = ann.get(SipServerPair.EPOCH_ANNOTATION) == null ? null : Long.valueOf(ann.get(SipServerPair.EPOCH_ANNOTATION));
    } catch (NumberFormatException ignored) {
      // a forged or broken epoch counts as none: the operator re-asserts its own
    }
    return new PodFact(name, true, pod.getSpec() == null ? null : pod.getSpec().getNodeName(), ready, readySince,
        failure, ann.get(SipServerPair.ROLE_ANNOTATION), epoch,
        pair.getMetadata().getName().equals(labels.get(SipServerPair.PAIR_LABEL)));
  }

  /** An agent's reports, parsed once per version of its Lease (they may hold hundreds of pairs). */
  private Map<String, VipReport> reportsOf(Lease lease) {
    String node = lease.getMetadata().getName();
    String version = lease.getMetadata().getResourceVersion();
    Parsed p = parsed.get(node);
    if (p == null || version == null || !version.equals(p.version())) {
      Map<String, String> ann = lease.getMetadata().getAnnotations();
      p = new Parsed(version, ann == null ? Map.of() : AgentReports.parse(ann.get(AgentReports.ANNOTATION)));
      parsed.put(node, p);
    }
    return p.reports();
  }

  private record Parsed(String version, Map<String, VipReport> reports) {}

  private record Claim(Long generation, String host) {}

  static AgentFact agentFact(Lease lease, VipReport report) {
    String node = lease.getSpec() != null && lease.getSpec().getHolderIdentity() != null
        ? lease.getSpec().getHolderIdentity()
        : lease.getMetadata().getName().substring(AgentReports.LEASE_PREFIX.length());
    Instant renewed = lease.getSpec() == null || lease.getSpec().getRenewTime() == null
        ? null : lease.getSpec().getRenewTime().toInstant();
    Map<String, String> ann = lease.getMetadata().getAnnotations();
    Instant restarting = ann == null ? null : instant(ann.get(AgentReports.RESTARTING_ANNOTATION));
    return new AgentFact(node, renewed, report, restarting);
  }

  /** The pair that claimed the same VIP address first (older, then by name), if any. */
  private String vipClaimedBy(SipServerPair pair) {
    String host = vipHost(pair);
    if (host == null) {
      return null;
    }
    Comparator<SipServerPair> age = Comparator
        .comparing((SipServerPair p) -> String.valueOf(p.getMetadata().getCreationTimestamp()))
        .thenComparing(SipServerPair::key);
    return allPairs.get()
        .filter(p -> !p.key().equals(pair.key()) && host.equals(vipHost(p)) && age.compare(p, pair) < 0)
        .min(age)
        .map(SipServerPair::key)
        .orElse(null);
  }

  /** The canonical VIP host a pair claims, worked out once per generation of its spec. */
  private String vipHost(SipServerPair p) {
    Long generation = p.getMetadata().getGeneration();
    Claim c = claims.get(p.key());
    if (c == null || generation == null || !generation.equals(c.generation())) {
      String host = null;
      if (p.getSpec() != null && p.getSpec().getVirtualIP() != null) {
        var v = p.getSpec().getVirtualIP();
        host = VipAddress.parse(v.getAddress(), v.getPrefixLength(), v.getInterfaceName())
            .value().map(VipAddress::host).orElse(null);
      }
      c = new Claim(generation, host);
      claims.put(p.key(), c);
    }
    return c.host();
  }

  private static Instant instant(String text) {
    try {
      return text == null ? null : Instant.parse(text);
    } catch (DateTimeParseException e) {
      return null;
    }
  }
}
