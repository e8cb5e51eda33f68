package io.sipha.cli.sandbox;

import io.sipha.demo.SimulatedSite;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The network's and the kubelet's part, from ConfigMap {@value Sandbox#CONTROL}: {@code node-a:
 * down} cuts a node off (its agent stops; its host keeps what it holds), {@code up} (or the key or
 * the ConfigMap deleted) brings it back; {@code sip-0: ready|notready|failed} plays a server's
 * health. A key or a value it does not know is said and ignored.
 */
final class Switchboard {
  private final SimulatedSite site;
  private final Console console;
  private final List<String> nodes;
  private final List<String> servers;
  private final Set<String> down = ConcurrentHashMap.newKeySet();

  /** Each server's health as last played: ready, notready or failed. */
  private final Map<String, String> health = new ConcurrentHashMap<>();

  Switchboard(SimulatedSite site, Console console, List<String> nodes, List<String> servers) {
    this.site = site;
    this.console = console;
    this.nodes = nodes;
    this.servers = servers;
    servers.forEach(pod -> health.put(pod, "ready"));
  }

  /** The ConfigMap as it is now (empty: deleted). */
  void apply(Map<String, String> data) {
    for (String key : data.keySet()) {
      if (!nodes.contains(key) && !servers.contains(key)) {
        console.say(
            "control",
            "ignoring "
                + key
                + ": the keys are node-a, node-b (down|up) and sip-0, sip-1"
                + " (ready|notready|failed)");
      }
    }
    nodes.forEach(node -> network(node, value(data, node)));
    for (String pod : servers) {
      String v = value(data, pod);
      health(pod, v == null ? "ready" : v);
    }
  }

  /** Whether a node is cut off now. */
  boolean isDown(String node) {
    return down.contains(node);
  }

  /** A server's pod was made again (by its StatefulSet): it starts with this health. */
  void podMade(String pod, String state) {
    health.put(pod, state);
  }

  private void network(String node, String v) {
    if (v != null && !v.equals("down") && !v.equals("up")) {
      console.say("control", "ignoring " + node + "=" + v + ": down or up");
      return;
    }
    if ("down".equals(v) && down.add(node)) {
      site.stopAgent(node);
      console.say(
          "control",
          node
              + " is cut off: its agent stops (no heartbeat, nothing runs there); its host keeps"
              + " what it holds");
    } else if (!"down".equals(v) && down.remove(node)) {
      site.startAgent(node);
      console.say("control", node + " is back: its agent starts and reports what its host holds");
    }
  }

  private void health(String pod, String v) {
    if (Objects.equals(v, health.get(pod))) {
      return;
    }
    try {
      switch (v) {
        case "ready" -> {
          site.api().setReady(Sandbox.NS, pod, true);
          console.say("control", pod + " is Ready");
        }
        case "notready" -> {
          site.api().setReady(Sandbox.NS, pod, false);
          console.say("control", pod + " is NotReady");
        }
        case "failed" -> {
          site.api().terminateContainer(Sandbox.NS, pod, 1);
          console.say("control", pod + "'s SIP Server container has terminated (exit code 1)");
        }
        default -> {
          console.say("control", "ignoring " + pod + "=" + v + ": ready, notready or failed");
          return;
        }
      }
    } catch (RuntimeException e) {
      console.say("control", "could not change " + pod + ": " + e.getMessage());
    }
    health.put(pod, v);
  }

  private static String value(Map<String, String> data, String key) {
    String v = data.get(key);
    return v == null ? null : v.strip().toLowerCase();
  }
}
