package io.sipha.operator;

import io.sipha.decision.AgentProbe;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The operator's own probe of each agent that publishes a probe endpoint (its /healthz on the
 * node's address): the second observer of a node beside its peer agent, over the network and never
 * through the API. Any HTTP answer counts (an agent that answers 503 runs on a live host); no
 * answer within {@code goneAfter} is {@link AgentProbe.State#GONE}, but only while another agent
 * answers: when none does, the operator is the one cut off, and it says nothing of any node.
 */
final class AgentProbes {
  /** How often each agent is asked, and how long it has to answer. */
  static final Duration EVERY = Duration.ofMillis(100);

  static final Duration TIMEOUT = Duration.ofMillis(250);

  /** No answer for this long: gone. */
  static final Duration GONE_AFTER = AgentProbe.GONE_AFTER;

  private record Target(String endpoint, Instant since) {}

  private final Clock clock;
  private final HttpClient http;
  private final Map<String, Target> targets = new ConcurrentHashMap<>();
  private final Map<String, Instant> answered = new ConcurrentHashMap<>();
  private final Set<String> inFlight = ConcurrentHashMap.newKeySet();
  private final Set<String> gone = ConcurrentHashMap.newKeySet();
  private final Map<String, Instant> lastAsked = new ConcurrentHashMap<>();

  AgentProbes(Clock clock) {
    this.clock = clock;
    this.http = HttpClient.newBuilder().connectTimeout(TIMEOUT).build();
  }

  /** The node's agent publishes this endpoint (host:port), or none (null). */
  void endpoint(String node, String endpoint) {
    if (endpoint == null || endpoint.isBlank()) {
      if (targets.remove(node) != null) {
        answered.remove(node);
        gone.remove(node);
      }
      return;
    }
    targets.compute(
        node,
        (n, t) ->
            t != null && t.endpoint().equals(endpoint)
                ? t
                : new Target(endpoint.strip(), clock.instant()));
  }

  /**
   * Asks every agent not already being asked, and returns the nodes that have just turned {@link
   * AgentProbe.State#GONE} (their pairs must look again).
   */
  Set<String> tick() {
    Instant now = clock.instant();
    Set<String> newlyGone = new TreeSet<>();
    targets.forEach(
        (node, t) -> {
          Instant asked = lastAsked.get(node);
          if ((asked == null || !now.isBefore(asked.plus(EVERY))) && inFlight.add(node)) {
            lastAsked.put(node, now);
            ask(node, t.endpoint());
          }
          if (view(node, now).gone()) {
            if (gone.add(node)) {
              newlyGone.add(node);
            }
          } else {
            gone.remove(node);
          }
        });
    return newlyGone;
  }

  private void ask(String node, String endpoint) {
    HttpRequest request;
    try {
      request =
          HttpRequest.newBuilder(URI.create("http://" + endpoint + "/healthz"))
              .timeout(TIMEOUT)
              .GET()
              .build();
    } catch (IllegalArgumentException e) {
      inFlight.remove(node);
      return;
    }
    http.sendAsync(request, HttpResponse.BodyHandlers.discarding())
        .whenComplete(
            (r, e) -> {
              if (r != null) {
                answered.put(node, clock.instant());
              }
              inFlight.remove(node);
            });
  }

  /** What the probe of this node's agent says now. */
  AgentProbe view(String node) {
    return view(node, clock.instant());
  }

  private AgentProbe view(String node, Instant now) {
    Target t = targets.get(node);
    return t == null
        ? AgentProbe.UNKNOWN
        : AgentProbe.view(node, answered, t.since(), now, GONE_AFTER);
  }
}
