package io.sipha.cli.sandbox;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.readiness.Readiness;
import java.util.List;

/**
 * On a control plane the StatefulSet controller, kube-scheduler and kwok do the cluster's part:
 * this says what they did to the server pods.
 */
final class ControlPlanePods implements ResourceEventHandler<Pod> {
  private final Console console;
  private final Switchboard switchboard;
  private final List<String> servers;
  private volatile boolean closed;

  ControlPlanePods(Console console, Switchboard switchboard, List<String> servers) {
    this.console = console;
    this.switchboard = switchboard;
    this.servers = servers;
  }

  void close() {
    closed = true;
  }

  @Override
  public void onAdd(Pod pod) {
    String name = pod.getMetadata().getName();
    if (servers.contains(name) && !Readiness.isPodReady(pod)) {
      console.say("cluster", "pod " + name + " created by its StatefulSet");
    }
  }

  @Override
  public void onUpdate(Pod before, Pod pod) {
    String name = pod.getMetadata().getName();
    if (!servers.contains(name)) {
      return;
    }
    String node = pod.getSpec().getNodeName();
    if (node != null && before.getSpec().getNodeName() == null) {
      console.say("cluster", "pod " + name + " scheduled on " + node + " by kube-scheduler");
    }
    boolean ready = Readiness.isPodReady(pod);
    if (ready != Readiness.isPodReady(before)) {
      console.say("cluster", "pod " + name + (ready ? " Ready" : " NotReady") + " on " + node);
    }
  }

  @Override
  public void onDelete(Pod pod, boolean unknown) {
    String name = pod.getMetadata().getName();
    if (servers.contains(name) && !closed) {
      switchboard.podMade(name, "ready");
      console.say(
          "cluster", "pod " + name + " is gone; its StatefulSet controller creates it again");
    }
  }
}
