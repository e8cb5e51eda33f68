package io.sipha.cli.sandbox;

import java.io.File;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.stream.Stream;

/**
 * What to type, for a person who has just started the sandbox: where it runs, the kubeconfig, the
 * commands to look and the failures to try.
 *
 * @param url the API's address
 * @param serverVersion kube-apiserver's version on a control plane; null on the embedded API
 * @param hostsDir where the simulated hosts keep their VIP scripts
 * @param home each server pod's node
 * @param kubeconfig the kubeconfig the sandbox wrote
 */
record Intro(
    String url, String serverVersion, Path hostsDir, Map<String, String> home, Path kubeconfig) {
  /**
   * Prints it; {@code kubectl}, when not null, is the kubectl built with the control plane (a
   * machine's own may be older than its server).
   */
  void print(PrintStream out, Path kubectl) {
    String primaryNode = home.get("sip-0");
    String backupNode = home.get("sip-1");
    if (serverVersion == null) {
      out.println(
          "sipha sandbox is running: an embedded Kubernetes API at "
              + url.replaceAll("/$", "")
              + " with the operator,");
    } else {
      out.println(
          "sipha sandbox is running on the local control plane at "
              + url.replaceAll("/$", "")
              + " (kube-apiserver "
              + serverVersion
              + ", etcd, kube-controller-manager, kube-scheduler;");
      out.println(
          "kwok plays the kubelets of the fake nodes node-a and node-b) with the operator,");
    }
    out.println(
        "the hosts node-a and node-b (simulated; VIP scripts in "
            + hostsDir
            + ") each with its node agent,");
    out.println(
        "and pair-1 in namespace voice: sip-0 ("
            + primaryNode
            + ") primary, sip-1 ("
            + backupNode
            + ") backup, VIP "
            + Sandbox.VIP
            + " on "
            + primaryNode
            + ".");
    if (serverVersion != null) {
      out.println(
          "The StatefulSet and the pair are the repository's examples/sip-servers.yaml and examples/pair-1.yaml.");
    }
    out.println();
    out.println("In another terminal:");
    out.println();
    out.println(
        "  export KUBECONFIG="
            + kubeconfig
            + "    # context "
            + Kubeconfig.CONTEXT
            + ", namespace voice");
    if (kubectl != null) {
      out.println(
          "  alias kubectl=" + kubectl + "    # built with the control plane; yours may be older");
    }
    out.println();
    String f = "  %-48s# %s%n";
    if (serverVersion == null) {
      out.printf(f, "kubectl get ssp", "NAME and AGE only: the mock API renders no columns");
      out.printf(f, "kubectl sipha status", "the columns kubectl get ssp shows on a cluster");
    } else {
      out.printf(f, "kubectl get ssp", "PRIMARY, BACKUP, VIP, NODE, PHASE, EPOCH");
      out.printf(f, "kubectl explain ssp.spec.failover", "the field docs, from the CRD's schema");
      out.printf(f, "kubectl edit ssp pair-1", "set spec.primary: sip-1 and save: a switchover");
    }
    out.printf(
        f, "kubectl sipha switchover pair-1 --to sip-1", "the patch, then the switchover live");
    out.println("  kubectl patch ssp pair-1 --type merge -p '{\"spec\":{\"primary\":\"sip-0\"}}'");
    out.printf(
        f, "kubectl sipha status pair-1", "conditions, pods, agents' heartbeats and reports");
    out.printf(f, "kubectl sipha history pair-1", "transitions, durations, reasons");
    out.printf(
        f,
        "kubectl sipha plan pair-1 --if node-lost=" + primaryNode,
        "what the operator would do; changes nothing");
    out.printf(f, "kubectl get lease -n sipha-system", "the node agents' heartbeats");
    out.println();
    out.println("Failures to try:");
    out.printf(
        f,
        "kubectl delete pod sip-0",
        serverVersion == null
            ? "a server fails; back "
                + Sandbox.RECREATE_AFTER.toSeconds()
                + " s later (its StatefulSet)"
            : "a server fails; its StatefulSet controller makes it again");
    out.printf(
        "  %s%n  %-48s# %s%n",
        Sandbox.control(primaryNode, "down"),
        "",
        primaryNode + " cut off: its agent stops, its host keeps the VIP");
    out.printf(
        "  %s%n  %-48s# %s%n",
        Sandbox.control(primaryNode, "up"),
        "",
        primaryNode + " back: a stale primary, demoted by itself");
    out.printf(
        "  %s%n  %-48s# %s%n",
        Sandbox.control("sip-1", "notready"), "", "sip-1 NotReady (also: ready, failed)");
    out.println();
    if (!onPath("kubectl-sipha")) {
      out.println(
          "kubectl sipha is the plugin: make install-plugin puts it on your PATH (BINDIR=~/bin make"
              + " install-plugin");
      out.println(
          "without root); meanwhile: java -cp " + jar() + " io.sipha.cli.PluginMain status pair-1");
      out.println();
    }
    if (serverVersion == null) {
      out.println(
          "The mock API reads JSON only: kubectl create configmap|secret and kubectl edit send what it cannot");
      out.println(
          "read; get, patch --type merge, delete, apply --validate=false -f and the plugin work. On the local");
      out.println(
          "control plane (make cluster builds it once, then make sandbox runs there) all of kubectl works.");
    } else {
      out.println(
          "kwok keeps a cut-off node Ready: sipha judges a node by its own agent's heartbeat, not by the kubelet's.");
    }
    out.println();
    out.println("What happens is printed below. Ctrl-C stops everything.");
    out.println();
    out.flush();
  }

  private static boolean onPath(String command) {
    String path = System.getenv("PATH");
    return path != null
        && Stream.of(path.split(File.pathSeparator))
            .anyMatch(d -> !d.isEmpty() && Files.isExecutable(Path.of(d, command)));
  }

  private static String jar() {
    try {
      Path p = Path.of(Intro.class.getProtectionDomain().getCodeSource().getLocation().toURI());
      return p.toString().endsWith(".jar") ? p.toString() : "operator/target/sipha.jar";
    } catch (Exception e) {
      return "operator/target/sipha.jar";
    }
  }
}
