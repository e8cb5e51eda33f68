package io.sipha.cli.sandbox;

import io.fabric8.kubernetes.api.model.Pod;
import io.sipha.demo.SimulatedSite;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * On the embedded API, the StatefulSet's and the kubelet's part: a deleted server pod is made again
 * {@code after} later, on the same node, Ready unless its node is cut off.
 */
final class EmbeddedStatefulSet {
  private final SimulatedSite site;
  private final Console console;
  private final Switchboard switchboard;
  private final Map<String, String> home;
  private final ScheduledExecutorService worker;
  private final Duration after;
  private volatile boolean closed;

  /**
   * @param home each server pod's node
   */
  EmbeddedStatefulSet(
      SimulatedSite site,
      Console console,
      Switchboard switchboard,
      Map<String, String> home,
      ScheduledExecutorService worker,
      Duration after) {
    this.site = site;
    this.console = console;
    this.switchboard = switchboard;
    this.home = home;
    this.worker = worker;
    this.after = after;
  }

  /** Makes the server pods, Ready, each on its node. */
  void createPods() {
    home.forEach(
        (pod, node) -> site.cluster().createServerPod(Sandbox.NS, pod, Sandbox.PAIR, node, true));
  }

  void close() {
    closed = true;
  }

  /** The pods' informer saw {@code pod} deleted. */
  void deleted(Pod pod) {
    String name = pod.getMetadata().getName();
    String node = home.get(name);
    if (node == null || closed) {
      return;
    }
    console.say(
        "kubelet",
        "pod "
            + name
            + " is gone; its StatefulSet creates it again on "
            + node
            + " in "
            + after.toSeconds()
            + " s");
    worker.schedule(() -> recreate(name, node), after.toMillis(), TimeUnit.MILLISECONDS);
  }

  private void recreate(String name, String node) {
    if (closed || site.client().pods().inNamespace(Sandbox.NS).withName(name).get() != null) {
      return;
    }
    try {
      boolean down = switchboard.isDown(node);
      site.cluster().createServerPod(Sandbox.NS, name, Sandbox.PAIR, node, true);
      if (down) {
        site.cluster().setReady(Sandbox.NS, name, false);
      }
      switchboard.podMade(name, down ? "notready" : "ready");
      console.say(
          "kubelet",
          "pod "
              + name
              + " created on "
              + node
              + (down ? " (NotReady: its node is down)" : ", Ready"));
    } catch (RuntimeException e) {
      console.say("kubelet", "could not create " + name + ": " + e.getMessage());
    }
  }
}
