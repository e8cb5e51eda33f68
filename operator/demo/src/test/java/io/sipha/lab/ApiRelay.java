package io.sipha.lab;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * How the agents and the operator, each inside a namespace of the lab, reach the embedded API of
 * the lab's JVM, which listens on the root namespace's loopback only: the API's end ({@link
 * #unixToTcp}, in the lab's JVM) accepts on a Unix socket in the lab's directory (a file, which no
 * network namespace hides) and connects to the API on 127.0.0.1; the other end ({@link #main}, a
 * process in the control namespace) accepts on the management network and connects to that socket.
 * Nothing listens outside the lab's namespaces but on loopback; bytes are passed through as they
 * are, so the API's own fault proxy still slows or cuts them.
 */
final class ApiRelay implements AutoCloseable {
  private final ServerSocketChannel server;
  private final Path socket;

  private ApiRelay(ServerSocketChannel server, Path socket) {
    this.server = server;
    this.socket = socket;
  }

  /** Accepts on a Unix socket at {@code socket} and passes each connection to 127.0.0.1:port. */
  static ApiRelay unixToTcp(Path socket, int port) {
    try {
      Files.deleteIfExists(socket);
      ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
      server.bind(UnixDomainSocketAddress.of(socket));
      ApiRelay relay = new ApiRelay(server, socket);
      InetSocketAddress api = new InetSocketAddress(InetAddress.getLoopbackAddress(), port);
      daemon("api-relay-accept", () -> relay.accept(() -> SocketChannel.open(api)));
      return relay;
    } catch (IOException e) {
      throw new java.io.UncheckedIOException("cannot listen on " + socket, e);
    }
  }

  /**
   * The control namespace's end: {@code ApiRelay ADDRESS PORT SOCKET} accepts TCP on ADDRESS:PORT
   * and passes each connection to the Unix socket SOCKET. Prints "ready" once it listens.
   */
  public static void main(String[] args) throws IOException {
    if (args.length != 3) {
      System.err.println("usage: ApiRelay ADDRESS PORT SOCKET");
      System.exit(2);
    }
    ServerSocketChannel server = ServerSocketChannel.open();
    server.bind(new InetSocketAddress(InetAddress.getByName(args[0]), Integer.parseInt(args[1])));
    UnixDomainSocketAddress to = UnixDomainSocketAddress.of(args[2]);
    System.out.println("ready");
    System.out.flush();
    new ApiRelay(server, null).accept(() -> SocketChannel.open(to));
  }

  private interface Upstream {
    SocketChannel open() throws IOException;
  }

  private void accept(Upstream upstream) {
    while (server.isOpen()) {
      SocketChannel client;
      try {
        client = server.accept();
      } catch (IOException e) {
        return; // closed
      }
      try {
        SocketChannel up = upstream.open();
        daemon("api-relay-up", () -> pump(client, up));
        daemon("api-relay-down", () -> pump(up, client));
      } catch (IOException e) {
        closeQuietly(client); // the API refused: the client sees a dropped connection
      }
    }
  }

  private static void pump(SocketChannel from, SocketChannel to) {
    ByteBuffer buf = ByteBuffer.allocate(16384);
    try {
      while (from.read(buf) >= 0) {
        buf.flip();
        while (buf.hasRemaining()) {
          to.write(buf);
        }
        buf.clear();
      }
    } catch (IOException e) {
      // dropped
    } finally {
      closeQuietly(from);
      closeQuietly(to);
    }
  }

  private static void daemon(String name, Runnable r) {
    Thread t = new Thread(r, name);
    t.setDaemon(true);
    t.start();
  }

  private static void closeQuietly(java.io.Closeable c) {
    try {
      c.close();
    } catch (IOException ignored) {
      // already closed
    }
  }

  @Override
  public void close() {
    closeQuietly(server);
    if (socket != null) {
      try {
        Files.deleteIfExists(socket);
      } catch (IOException ignored) {
        // the lab's directory goes with it
      }
    }
  }
}
