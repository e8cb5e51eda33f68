package io.sipha.e2e;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A TCP proxy in front of the embedded API for one client (the operator, an agent): it can delay
 * what the client sends, or drop every connection and refuse new ones, as a flaky or cut network
 * would. HTTP-level faults (409, 500 on chosen verbs and paths) are canned answers of the API.
 */
public final class FaultProxy implements AutoCloseable {
  private final ServerSocket server;
  private final int upstreamPort;
  private final Set<Socket> open = ConcurrentHashMap.newKeySet();
  private volatile long delayMillis;
  private volatile boolean cut;

  public FaultProxy(int upstreamPort) throws IOException {
    this.upstreamPort = upstreamPort;
    this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    Thread t = new Thread(this::accept, "fault-proxy");
    t.setDaemon(true);
    t.start();
  }

  public String url() {
    return "http://127.0.0.1:" + server.getLocalPort();
  }

  /** The port it listens on (loopback). */
  public int port() {
    return server.getLocalPort();
  }

  /** Delays every chunk the client sends by this long (0: none). */
  public void delay(long millis) {
    delayMillis = millis;
  }

  /** Drops every open connection and refuses new ones until {@link #heal()}. */
  public void cut() {
    cut = true;
    open.forEach(FaultProxy::closeQuietly);
    open.clear();
  }

  public void heal() {
    cut = false;
  }

  private void accept() {
    while (!server.isClosed()) {
      try {
        Socket client = server.accept();
        if (cut) {
          closeQuietly(client);
          continue;
        }
        Socket upstream = new Socket(InetAddress.getLoopbackAddress(), upstreamPort);
        open.add(client);
        open.add(upstream);
        pump(client, upstream, true);
        pump(upstream, client, false);
      } catch (IOException e) {
        // closed, or the upstream refused: the client sees a dropped connection
      }
    }
  }

  private void pump(Socket from, Socket to, boolean delayed) {
    Thread t =
        new Thread(
            () -> {
              byte[] buf = new byte[16384];
              try (InputStream in = from.getInputStream();
                  OutputStream out = to.getOutputStream()) {
                int n;
                while ((n = in.read(buf)) > 0) {
                  long d = delayMillis;
                  if (delayed && d > 0) {
                    Thread.sleep(d);
                  }
                  out.write(buf, 0, n);
                  out.flush();
                }
              } catch (IOException | InterruptedException e) {
                // connection dropped
              } finally {
                closeQuietly(from);
                closeQuietly(to);
              }
            },
            "fault-proxy-pump");
    t.setDaemon(true);
    t.start();
  }

  private static void closeQuietly(Socket s) {
    try {
      s.close();
    } catch (IOException ignored) {
      // already closed
    }
  }

  @Override
  public void close() throws IOException {
    cut();
    server.close();
  }
}
