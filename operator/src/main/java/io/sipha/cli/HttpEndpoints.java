package io.sipha.cli;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Executors;
import java.util.function.Supplier;

/** /healthz, /readyz and /metrics (Prometheus text format) on one port. */
final class HttpEndpoints implements AutoCloseable {
  /** A probe's answer: ok, and a line for a person. */
  record Check(boolean ok, String detail) {}

  private final HttpServer server;

  HttpEndpoints(
      String address,
      int port,
      PrometheusMeterRegistry registry,
      Supplier<Check> live,
      Supplier<Check> ready)
      throws IOException {
    this(address, port, registry, live, ready, null);
  }

  /**
   * @param address the address to listen on (all of the host's for a pod or the host network;
   *     127.0.0.1 in tests)
   * @param peer the answer to a peer agent's GET /peer (self-fencing), or null for none
   */
  HttpEndpoints(
      String address,
      int port,
      PrometheusMeterRegistry registry,
      Supplier<Check> live,
      Supplier<Check> ready,
      Supplier<String> peer)
      throws IOException {
    server = HttpServer.create(new InetSocketAddress(address, port), 16);
    if (peer != null) {
      server.createContext("/peer", ex -> send(ex, 200, "text/plain; charset=utf-8", peer.get()));
    }
    server.createContext("/healthz", ex -> probe(ex, live.get()));
    server.createContext("/readyz", ex -> probe(ex, ready.get()));
    server.createContext(
        "/metrics",
        ex -> send(ex, 200, "text/plain; version=0.0.4; charset=utf-8", registry.scrape()));
    server.setExecutor(
        Executors.newFixedThreadPool(
            2,
            r -> {
              Thread t = new Thread(r, "http-endpoints");
              t.setDaemon(true);
              return t;
            }));
    server.start();
  }

  int port() {
    return server.getAddress().getPort();
  }

  private static void probe(HttpExchange ex, Check c) throws IOException {
    send(
        ex,
        c.ok() ? 200 : 503,
        "text/plain; charset=utf-8",
        (c.ok() ? "ok" : "not ok") + ": " + c.detail() + "\n");
  }

  private static void send(HttpExchange ex, int code, String type, String body) throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().set("Content-Type", type);
    ex.sendResponseHeaders(code, bytes.length);
    try (OutputStream out = ex.getResponseBody()) {
      out.write(bytes);
    }
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
