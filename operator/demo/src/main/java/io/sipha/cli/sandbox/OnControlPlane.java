package io.sipha.cli.sandbox;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.readiness.Readiness;
import io.sipha.api.SipServerPair;
import io.sipha.demo.ControlPlaneApi;
import io.sipha.demo.SimulatedSite;
import io.sipha.kube.AgentReports;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * What the sandbox does on a local control plane that it does not on the embedded API: it refuses
 * any other cluster, applies the repository's examples, waits for the StatefulSet's pods, and at
 * the end deletes the pair (while the operator runs, so that its finalizer cleans up) and removes
 * what it made.
 */
final class OnControlPlane {
  private final KubernetesClient client;
  private final Path repo;
  private final Consumer<String> note;

  /**
   * @param note where a failure to clean up is said
   */
  OnControlPlane(KubernetesClient client, Path repo, Consumer<String> note) {
    this.client = client;
    this.repo = repo;
    this.note = note;
  }

  /**
   * The sandbox writes a namespace, a StatefulSet and Leases and plays hosts: only on the local
   * control plane's fake nodes, never on a cluster someone uses.
   */
  static void refuseUnlessLocal(ControlPlaneApi cp, Path repo) {
    String refusal = whyNotLocal(cp, repo);
    if (refusal != null) {
      cp.close();
      throw new IllegalStateException("--control-plane: " + refusal);
    }
  }

  /** Why the sandbox may not run on this control plane, or null when it may. */
  static String whyNotLocal(ControlPlaneApi cp, Path repo) {
    for (String n : Sandbox.NODES) {
      if (!cp.isFakeNode(n)) {
        return cp.url()
            + " has no fake node "
            + n
            + " (annotation "
            + ControlPlaneApi.KWOK_NODE
            + "=fake): the sandbox"
            + " runs only on the local control plane that e2e/control-plane/cluster.sh starts (make sandbox starts it),"
            + " never on a cluster in use";
      }
    }
    if (cp.client()
            .apiextensions()
            .v1()
            .customResourceDefinitions()
            .withName("sipserverpairs.sipha.io")
            .get()
        == null) {
      return cp.url()
          + " has no SipServerPair CRD: apply it first (kubectl apply --server-side -f crds/; make sandbox"
          + " does)";
    }
    for (Path p : Sandbox.EXAMPLES) {
      if (!Files.isReadable(repo.resolve(p))) {
        return repo.resolve(p).toAbsolutePath()
            + " is missing: the sandbox applies the repository's examples; run it"
            + " from the repository's root (make sandbox does)";
      }
    }
    return null;
  }

  /** An example from the repository, applied server-side as a platform team applies it. */
  void apply(Path example) {
    try (var in = Files.newInputStream(repo.resolve(example))) {
      client.load(in).fieldManager("sipha-sandbox").forceConflicts().serverSideApply();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + example, e);
    }
  }

  /**
   * The StatefulSet controller makes the pods, kube-scheduler places them, kwok makes them Ready:
   * each server pod's node.
   */
  Map<String, String> awaitServersReady() {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
    while (true) {
      List<Pod> ready =
          client.pods().inNamespace(Sandbox.NS).list().getItems().stream()
              .filter(
                  p ->
                      Sandbox.SERVERS.contains(p.getMetadata().getName())
                          && Readiness.isPodReady(p))
              .toList();
      if (ready.size() == Sandbox.SERVERS.size()) {
        Map<String, String> home = new java.util.HashMap<>();
        ready.forEach(p -> home.put(p.getMetadata().getName(), p.getSpec().getNodeName()));
        return home;
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException(
            "the StatefulSet's pods sip-0 and sip-1 were not Ready on the fake nodes within"
                + " 90 s ("
                + ready.size()
                + " Ready): is the control plane's kube-controller-manager, kube-scheduler and"
                + " kwok running?");
      }
      pause(200);
    }
  }

  /** While the operator still runs, so that its finalizer clears the pods' roles and the VIP. */
  void deletePair() {
    try {
      var pair =
          client.resources(SipServerPair.class).inNamespace(Sandbox.NS).withName(Sandbox.PAIR);
      pair.delete();
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
      while (pair.get() != null && System.nanoTime() < deadline) {
        pause(100);
      }
    } catch (RuntimeException e) {
      note.accept("could not delete " + Sandbox.PAIR + ": " + e.getMessage());
    }
  }

  /** The namespace with the examples in it, and the Leases the sandbox's agents wrote. */
  void removeWhatItMade() {
    try {
      client.namespaces().withName(Sandbox.NS).delete();
      client.leases().inNamespace(SimulatedSite.LEASE_NAMESPACE).list().getItems().stream()
          .filter(
              l -> Sandbox.NODES.stream().anyMatch(n -> isAgentLease(l.getMetadata().getName(), n)))
          .forEach(
              l -> client.leases().inNamespace(SimulatedSite.LEASE_NAMESPACE).resource(l).delete());
    } catch (RuntimeException e) {
      note.accept(
          "could not remove namespace " + Sandbox.NS + " or the agents' Leases: " + e.getMessage());
    }
  }

  private static boolean isAgentLease(String name, String node) {
    return name.equals(AgentReports.LEASE_PREFIX + node)
        || java.util.stream.IntStream.range(0, AgentReports.SHARDS)
            .anyMatch(i -> name.equals(AgentReports.shardName(node, i)));
  }

  static void pause(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted");
    }
  }
}
