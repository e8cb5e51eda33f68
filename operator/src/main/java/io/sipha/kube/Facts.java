package io.sipha.kube;

import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodCondition;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.sipha.api.SipServerPair;
import io.sipha.decision.AgentFact;
import io.sipha.decision.PairFacts;
import io.sipha.decision.PodFact;
import io.sipha.decision.VipReport;
import io.sipha.vip.AllowedCidrs;
import io.sipha.vip.VipAddress;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Stream;

/**
 * From API objects to the decision core's facts: a pod to a {@link PodFact}, an agent's Lease to an
 * {@link AgentFact}, a pair and those to {@link PairFacts}. The one conversion, shared by the
 * operator (which reads its informer caches) and by {@code kubectl sipha plan} (which reads the API
 * directly), so that both hand the decider the same facts.
 */
public final class Facts {
  private Facts() {}

  /**
   * The pair's server pod names the facts cover: spec.servers without nulls and repeats, at most
   * two.
   */
  public static List<String> servers(SipServerPair pair) {
    List<String> servers =
        pair.getSpec() == null || pair.getSpec().getServers() == null
            ? List.of()
            : pair.getSpec().getServers();
    return servers.stream().filter(Objects::nonNull).distinct().limit(2).toList();
  }

  /**
   * The pods the facts cover: spec.servers, and those the status names that may have left the pair.
   */
  public static Set<String> podNames(SipServerPair pair) {
    Set<String> names = new java.util.LinkedHashSet<>(servers(pair));
    names.addAll(io.sipha.decision.PairDecider.namedInStatus(pair.getStatus()));
    return names;
  }

  /**
   * The facts about one pair.
   *
   * @param pods looks up a server pod by name in the pair's namespace (null: no such pod)
   * @param agents the node agents, each with its report for this pair
   * @param vipClaimedBy the pair the same VIP belongs to (see {@link #vipClaimedBy}), or null
   * @param leases the agents' Leases, for the nodes' own addresses they publish
   */
  public static PairFacts pairFacts(
      SipServerPair pair,
      Function<String, Pod> pods,
      Collection<AgentFact> agents,
      AllowedCidrs allowed,
      String vipClaimedBy,
      Instant now,
      Collection<Lease> leases) {
    Map<String, PodFact> podFacts = new LinkedHashMap<>();
    List<Pod> found = new java.util.ArrayList<>();
    for (String name : podNames(pair)) {
      Pod pod = pods.apply(name);
      if (pod != null) {
        found.add(pod);
      }
      podFacts.put(name, podFact(pair, name, pod));
    }
    Map<String, AgentFact> byNode = new HashMap<>();
    agents.forEach(a -> byNode.put(a.node(), a));
    return new PairFacts(
        pair.getMetadata().getNamespace(),
        pair.getMetadata().getName(),
        pair.getMetadata().getGeneration() == null ? 0 : pair.getMetadata().getGeneration(),
        pair.getSpec(),
        pair.getStatus(),
        podFacts,
        byNode,
        allowed,
        vipClaimedBy,
        now,
        nodeAddresses(leases, found),
        null);
  }

  /**
   * The nodes' own addresses, each to its node: those the agents publish in their Leases and the
   * host IPs the kubelet writes on the pods. No VIP may be one of them.
   */
  public static Map<String, String> nodeAddresses(Collection<Lease> leases, Collection<Pod> pods) {
    Map<String, String> out = new java.util.TreeMap<>();
    for (Lease l : leases) {
      Map<String, String> ann = l.getMetadata().getAnnotations();
      String list = ann == null ? null : ann.get(AgentReports.NODE_ADDRESSES_ANNOTATION);
      for (String a : list == null ? new String[0] : list.split(",")) {
        String host = VipAddress.canonicalHost(a);
        if (host != null) {
          out.put(host, nodeOf(l));
        }
      }
    }
    for (Pod p : pods) {
      if (p.getStatus() == null || p.getSpec() == null || p.getSpec().getNodeName() == null) {
        continue;
      }
      List<String> ips = new java.util.ArrayList<>();
      if (p.getStatus().getHostIP() != null) {
        ips.add(p.getStatus().getHostIP());
      }
      if (p.getStatus().getHostIPs() != null) {
        p.getStatus().getHostIPs().forEach(h -> ips.add(h.getIp()));
      }
      for (String ip : ips) {
        String host = VipAddress.canonicalHost(ip);
        if (host != null) {
          out.putIfAbsent(host, p.getSpec().getNodeName());
        }
      }
    }
    return out;
  }

  /** One server pod as the decider sees it; a null pod is a missing one. */
  public static PodFact podFact(SipServerPair pair, String name, Pod pod) {
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
      for (PodCondition c :
          status.getConditions() == null ? List.<PodCondition>of() : status.getConditions()) {
        if ("Ready".equals(c.getType())) {
          ready = "True".equals(c.getStatus());
          readySince = instant(c.getLastTransitionTime());
        }
      }
      if (failure == null
          && ("Failed".equals(status.getPhase()) || "Succeeded".equals(status.getPhase()))) {
        failure = "pod phase is " + status.getPhase();
      }
      for (ContainerStatus cs :
          status.getContainerStatuses() == null
              ? List.<ContainerStatus>of()
              : status.getContainerStatuses()) {
        if (failure == null && cs.getState() != null && cs.getState().getTerminated() != null) {
          var t = cs.getState().getTerminated();
          failure =
              "container "
                  + cs.getName()
                  + " terminated ("
                  + t.getReason()
                  + ", exit code "
                  + t.getExitCode()
                  + ")";
        }
      }
    }
    Long epoch = null;
    try {
      epoch =
          ann.get(SipServerPair.EPOCH_ANNOTATION) == null
              ? null
              : Long.valueOf(ann.get(SipServerPair.EPOCH_ANNOTATION));
    } catch (NumberFormatException ignored) {
      // a forged or broken epoch counts as none: the operator re-asserts its own
    }
    return new PodFact(
        name,
        true,
        pod.getSpec() == null ? null : pod.getSpec().getNodeName(),
        ready,
        readySince,
        failure,
        ann.get(SipServerPair.ROLE_ANNOTATION),
        epoch,
        pair.getMetadata().getName().equals(labels.get(SipServerPair.PAIR_LABEL)),
        meta.getResourceVersion());
  }

  /** A node agent as its Lease shows it, with its report for one pair (or null). */
  public static AgentFact agentFact(Lease lease, VipReport report) {
    String node = nodeOf(lease);
    Instant renewed =
        lease.getSpec() == null || lease.getSpec().getRenewTime() == null
            ? null
            : lease.getSpec().getRenewTime().toInstant();
    Map<String, String> ann = lease.getMetadata().getAnnotations();
    // a reader with no clock of its own for it (kubectl sipha) counts an announced restart from the
    // renewal; the operator counts it from when it saw the announcement (NodeLiveness)
    Integer restartFor = AgentReports.restartSeconds(ann);
    Instant restarting =
        restartFor == null || renewed == null ? null : renewed.plusSeconds(restartFor);
    return new AgentFact(
            node,
            renewed,
            report,
            restarting,
            ann == null ? null : ann.get(AgentReports.NOT_WORKING_ANNOTATION))
        .hearing(AgentReports.hearing(ann));
  }

  /** The node whose agent holds this Lease. */
  public static String nodeOf(Lease lease) {
    return lease.getSpec() != null && lease.getSpec().getHolderIdentity() != null
        ? lease.getSpec().getHolderIdentity()
        : lease.getMetadata().getName().substring(AgentReports.LEASE_PREFIX.length());
  }

  /**
   * A node's report on a pair, as an API reader finds it: in the node's report Lease that holds
   * that pair, or, from an agent of before, in its heartbeat Lease (null: none).
   */
  public static VipReport reportOf(
      String node, String pairKey, Collection<Lease> reportLeases, Lease heartbeat) {
    String shard = AgentReports.shardName(node, pairKey);
    for (Lease l : reportLeases) {
      if (shard.equals(l.getMetadata().getName())) {
        VipReport r = reports(l).get(pairKey);
        if (r != null) {
          return r;
        }
      }
    }
    return heartbeat == null ? null : reports(heartbeat).get(pairKey);
  }

  /** All the reports an agent's Lease holds, by pair namespace/name. */
  public static Map<String, VipReport> reports(Lease lease) {
    Map<String, String> ann = lease.getMetadata().getAnnotations();
    return ann == null ? Map.of() : AgentReports.parse(ann.get(AgentReports.ANNOTATION));
  }

  /** The canonical VIP host a pair claims, or null when its spec names none that is valid. */
  public static String vipHost(SipServerPair p) {
    if (p.getSpec() == null || p.getSpec().getVirtualIP() == null) {
      return null;
    }
    var v = p.getSpec().getVirtualIP();
    return VipAddress.parse(v.getAddress(), v.getPrefixLength(), v.getInterfaceName())
        .value()
        .map(VipAddress::host)
        .orElse(null);
  }

  /**
   * The VIP host a pair's status holds: granted, binding, bound or being released, or possibly
   * still up on a node it declared lost (status.fenced). Null when its status holds no address.
   */
  public static String heldHost(SipServerPair p) {
    return heldHost(p.getStatus());
  }

  /** {@link #heldHost(SipServerPair)} of a status. */
  public static String heldHost(io.sipha.api.SipServerPairStatus st) {
    if (st == null || st.vip == null || st.vip.address == null) {
      return null;
    }
    boolean holds = st.vip.state != null && st.vip.state != io.sipha.api.VipStatus.State.Unbound;
    return holds || !st.fenced.isEmpty() ? VipAddress.canonicalHost(st.vip.address) : null;
  }

  /**
   * The pair a contested VIP belongs to, when it is not this one; null when this pair may have it.
   * Ownership goes with holding, not with age: a pair whose status holds the address (see {@link
   * #heldHost}), or whose VIP a node agent reports bound or not yet confirmed gone, keeps it, and
   * any other claimant is refused, however old. Only when nobody holds the address does the first
   * claimant get it (older, then by name), so that two new pairs do not both take it; a pair being
   * deleted that holds nothing is no claimant.
   *
   * @param reportedHolders for an address host, the pairs (namespace/name) that some node agent
   *     reports holding it (any report but a confirmed Unbound)
   */
  public static String vipClaimedBy(
      SipServerPair pair,
      Stream<SipServerPair> all,
      Function<SipServerPair, String> vipHost,
      Function<String, Set<String>> reportedHolders) {
    String host = vipHost.apply(pair);
    if (host == null) {
      return null;
    }
    Comparator<SipServerPair> age =
        Comparator.comparing(
                (SipServerPair p) -> String.valueOf(p.getMetadata().getCreationTimestamp()))
            .thenComparing(SipServerPair::key);
    List<SipServerPair> others = all.filter(p -> !p.key().equals(pair.key())).toList();
    Set<String> reported = reportedHolders.apply(host);
    boolean selfHolds = host.equals(heldHost(pair)) || reported.contains(pair.key());
    List<SipServerPair> holders =
        others.stream()
            .filter(p -> host.equals(heldHost(p)) || reported.contains(p.key()))
            .sorted(age)
            .toList();
    if (!holders.isEmpty()) {
      // both hold it (a state from before this rule): the older holder keeps it
      return !selfHolds || age.compare(holders.get(0), pair) < 0 ? holders.get(0).key() : null;
    }
    Set<String> known = new java.util.HashSet<>();
    others.forEach(p -> known.add(p.key()));
    String reportedOnly =
        reported.stream()
            .filter(k -> !k.equals(pair.key()) && !known.contains(k))
            .sorted()
            .findFirst()
            .orElse(null);
    if (reportedOnly != null) {
      return reportedOnly; // a node still holds it for a pair that is gone: wait for its removal
    }
    if (selfHolds) {
      return null;
    }
    // a pair being deleted never binds again: one that holds nothing claims nothing
    return others.stream()
        .filter(p -> p.getMetadata().getDeletionTimestamp() == null)
        .filter(p -> host.equals(vipHost.apply(p)) && age.compare(p, pair) < 0)
        .min(age)
        .map(SipServerPair::key)
        .orElse(null);
  }

  /** {@link #vipClaimedBy(SipServerPair, Stream, Function, Function)} from the agents' Leases. */
  public static String vipClaimedBy(
      SipServerPair pair,
      Stream<SipServerPair> all,
      Function<SipServerPair, String> vipHost,
      Collection<Lease> leases) {
    Map<String, Set<String>> held = new HashMap<>();
    for (Lease l : leases) {
      reportedHolders(reports(l))
          .forEach(
              (h, keys) -> held.computeIfAbsent(h, x -> new java.util.TreeSet<>()).addAll(keys));
    }
    return vipClaimedBy(pair, all, vipHost, h -> held.getOrDefault(h, Set.of()));
  }

  /**
   * From one agent's reports: address host to the pairs it may hold it for (anything but Unbound,
   * and the other addresses a report says may be on the host).
   */
  public static Map<String, Set<String>> reportedHolders(Map<String, VipReport> reports) {
    Map<String, Set<String>> out = new HashMap<>();
    reports.forEach(
        (key, r) -> {
          if (r != null && !r.is(VipReport.State.Unbound) && r.address() != null) {
            String h = VipAddress.canonicalHost(r.address());
            if (h != null) {
              out.computeIfAbsent(h, x -> new java.util.TreeSet<>()).add(key);
            }
          }
          if (r != null) {
            r.alsoOnHostAddresses()
                .forEach(
                    v -> out.computeIfAbsent(v.host(), x -> new java.util.TreeSet<>()).add(key));
          }
        });
    return out;
  }

  static Instant instant(String text) {
    try {
      return text == null ? null : Instant.parse(text);
    } catch (DateTimeParseException e) {
      return null;
    }
  }
}
