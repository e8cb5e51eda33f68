package io.sipha.agent;

import io.sipha.decision.SelfFencing;
import io.sipha.decision.SelfFencing.PeerView;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/** Asks the agent of a peer server's node, over the host network, what it sees (self-fencing). */
@FunctionalInterface
public interface PeerProbe {
  /**
   * @param node the peer's node
   * @param address the peer node's address (its pod's hostIP), or null when not known
   */
  PeerView ask(String node, String address);

  /** GET http://ADDRESS:PORT/peer, where the peer's agent listens on the host network. */
  static PeerProbe http(int port, Duration timeout) {
    HttpClient client = HttpClient.newBuilder().connectTimeout(timeout).build();
    return (node, ip) -> {
      if (ip == null || ip.isBlank()) {
        return PeerView.unreachable();
      }
      String host = ip.indexOf(':') >= 0 ? "[" + ip + "]" : ip;
      try {
        HttpResponse<String> r =
            client.send(
                HttpRequest.newBuilder(URI.create("http://" + host + ":" + port + "/peer"))
                    .timeout(timeout)
                    .GET()
                    .build(),
                HttpResponse.BodyHandlers.ofString());
        return r.statusCode() == 200 ? SelfFencing.parse(r.body()) : PeerView.unreachable();
      } catch (java.io.IOException | IllegalArgumentException e) {
        return PeerView.unreachable();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return PeerView.unreachable();
      }
    };
  }

  /** Self-fencing off: the peer always answers, cut off from the API as much as this agent. */
  static PeerProbe none() {
    return (node, address) -> new PeerView(true, null);
  }
}
