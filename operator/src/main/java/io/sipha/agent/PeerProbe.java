package io.sipha.agent;

import io.fabric8.kubernetes.api.model.Pod;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/** Can this agent reach the agent of a peer server's node (self-fencing asks it)? */
@FunctionalInterface
public interface PeerProbe {
  boolean reachable(Pod peer);

  /** GET http://HOST_IP:PORT/healthz of the peer pod's node, where its agent listens on the host network. */
  static PeerProbe http(int port, Duration timeout) {
    HttpClient client = HttpClient.newBuilder().connectTimeout(timeout).build();
    return peer -> {
      String ip = peer.getStatus() == null ? null : peer.getStatus().getHostIP();
      if (ip == null || ip.isBlank()) {
        return false;
      }
      String host = ip.indexOf(':') >= 0 ? "[" + ip + "]" : ip;
      try {
        HttpResponse<Void> r = client.send(HttpRequest.newBuilder(URI.create("http://" + host + ":" + port + "/healthz"))
            .timeout(timeout).GET().build(), HttpResponse.BodyHandlers.discarding());
        return r.statusCode() == 200;
      } catch (java.io.IOException e) {
        return false;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return false;
      }
    };
  }

  /** Self-fencing off: the peer always counts as reachable. */
  static PeerProbe none() {
    return peer -> true;
  }
}
