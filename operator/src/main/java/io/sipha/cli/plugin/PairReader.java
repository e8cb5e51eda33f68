package io.sipha.cli.plugin;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.sipha.api.SipServerPair;
import io.sipha.decision.AgentFact;
import io.sipha.decision.PairFacts;
import io.sipha.kube.AgentReports;
import io.sipha.kube.Facts;
import io.sipha.vip.AllowedCidrs;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads what the operator would observe about one pair, straight from the API (no informers): the
 * pair, its two pods and the node agents' Leases. The conversion to facts is the operator's own
 * ({@link Facts}).
 */
public final class PairReader {
  private PairReader() {}

  /** One fresh read of a pair and what surrounds it. */
  public record Snapshot(
      SipServerPair pair,
      Map<String, Pod> pods,
      List<Lease> leases,
      List<Lease> reportLeases,
      String leaseProblem,
      List<SipServerPair> otherPairs,
      Instant now) {

    /** The facts the decider gets, converted as the operator converts them. */
    public PairFacts facts(AllowedCidrs allowed) {
      List<AgentFact> agents =
          leases.stream()
              .map(
                  l ->
                      Facts.agentFact(
                          l, Facts.reportOf(Facts.nodeOf(l), pair.key(), reportLeases, l)))
              .toList();
      List<Lease> all = new ArrayList<>(leases);
      all.addAll(reportLeases);
      String claimedBy = Facts.vipClaimedBy(pair, otherPairs.stream(), Facts::vipHost, all);
      return Facts.pairFacts(pair, pods::get, agents, allowed, claimedBy, now, leases);
    }
  }

  public static SipServerPair pair(KubernetesClient client, String namespace, String name) {
    SipServerPair p =
        client.resources(SipServerPair.class).inNamespace(namespace).withName(name).get();
    if (p == null) {
      throw new IllegalArgumentException(
          "sipserverpair \"" + name + "\" not found in namespace " + namespace);
    }
    return p;
  }

  public static Snapshot read(
      KubernetesClient client, String namespace, String name, String leaseNamespace) {
    Instant now = Instant.now();
    return read(client, pair(client, namespace, name), leaseNamespace, now);
  }

  /**
   * Reads what surrounds a pair. {@code now} is when the pair was read: the facts are as of then,
   * as the operator's are as of the moment it reads its caches.
   */
  public static Snapshot read(
      KubernetesClient client, SipServerPair pair, String leaseNamespace, Instant now) {
    String namespace = pair.getMetadata().getNamespace();
    Map<String, Pod> pods = new LinkedHashMap<>();
    for (String server : Facts.servers(pair)) {
      Pod p =
          server.matches("[a-z0-9.-]{1,253}")
              ? client.pods().inNamespace(namespace).withName(server).get()
              : null;
      if (p != null) {
        pods.put(server, p);
      }
    }
    List<Lease> leases = new ArrayList<>();
    List<Lease> reportLeases = new ArrayList<>();
    String problem = null;
    try {
      leases.addAll(agentLeases(client, leaseNamespace));
      reportLeases.addAll(reportLeases(client, leaseNamespace));
      if (leases.isEmpty()) {
        problem =
            "no node agent Leases in namespace "
                + leaseNamespace
                + " (is --lease-namespace right?)";
      }
    } catch (KubernetesClientException e) {
      problem =
          "cannot read the node agents' Leases in namespace "
              + leaseNamespace
              + ": "
              + e.getMessage();
    }
    List<SipServerPair> others = new ArrayList<>();
    try {
      others.addAll(client.resources(SipServerPair.class).inAnyNamespace().list().getItems());
    } catch (KubernetesClientException e) {
      // no right to list pairs everywhere: the pair's own namespace is what we can see
      others.addAll(client.resources(SipServerPair.class).inNamespace(namespace).list().getItems());
    }
    others.removeIf(p -> p.key().equals(pair.key()));
    return new Snapshot(pair, pods, leases, reportLeases, problem, others, now);
  }

  /** The Leases that hold the agents' reports (apart from their heartbeats). */
  public static List<Lease> reportLeases(KubernetesClient client, String leaseNamespace) {
    return client
        .leases()
        .inNamespace(leaseNamespace)
        .withLabel(AgentReports.LEASE_LABEL, AgentReports.REPORTS_LABEL_VALUE)
        .list()
        .getItems();
  }

  public static List<Lease> agentLeases(KubernetesClient client, String leaseNamespace) {
    return client
        .leases()
        .inNamespace(leaseNamespace)
        .withLabel(AgentReports.LEASE_LABEL, AgentReports.LEASE_LABEL_VALUE)
        .list()
        .getItems()
        .stream()
        .sorted(Comparator.comparing(l -> l.getMetadata().getName()))
        .toList();
  }
}
