package io.sipha.peer;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketException;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.EnumMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The agents' direct heartbeat over the signalling network: every {@code interval} this agent sends
 * an authenticated {@link PeerMessage} to each peer's address, and it takes those its peers send,
 * so that it knows when it last heard each of them without asking the API. A datagram that is
 * malformed, unauthenticated, replayed, from a node it does not pair with, or from an address that
 * is not that node's is dropped and counted by reason, never acted on.
 */
public final class PeerChannel implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(PeerChannel.class);
  private final String node;
  private final PeerCodec codec;
  private final Clock clock;
  private final IntSupplier apiContactAgeMillis;
  private final DatagramSocket socket;
  private final long bootStart;
  private final long bootNonce;
  private final AtomicLong sequence = new AtomicLong();
  private volatile Map<String, InetSocketAddress> peers = Map.of();
  private final PeerSessions sessions = new PeerSessions(java.util.Set.of());
  private final Map<String, Heard> heard = new ConcurrentHashMap<>();
  private final Map<PeerCodec.Drop, AtomicLong> dropped = new EnumMap<>(PeerCodec.Drop.class);
  private final AtomicLong accepted = new AtomicLong();
  private final AtomicLong sent = new AtomicLong();
  private final ScheduledExecutorService sender;
  private final Thread receiver;
  private volatile boolean closed;

  /** The last message taken from a peer, and when, by this agent's clock. */
  public record Heard(PeerMessage message, Instant at) {}

  /**
   * Binds {@code bind} (the node's address on the signalling network and the peer port).
   *
   * @param clock this agent's clock (a monotonic one: the age of what was heard)
   * @param apiContactAgeMillis how long ago this agent last reached the API (-1: never), sent in
   *     every message
   */
  public PeerChannel(
      String node,
      InetSocketAddress bind,
      PeerCodec codec,
      Clock clock,
      IntSupplier apiContactAgeMillis)
      throws SocketException {
    this.node = node;
    this.codec = codec;
    this.clock = clock;
    this.apiContactAgeMillis = apiContactAgeMillis;
    this.socket = new DatagramSocket(bind);
    this.bootStart = System.currentTimeMillis();
    this.bootNonce = new SecureRandom().nextLong();
    for (PeerCodec.Drop d : PeerCodec.Drop.values()) {
      dropped.put(d, new AtomicLong());
    }
    this.sender =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "peer-sender-" + node);
              t.setDaemon(true);
              return t;
            });
    this.receiver = new Thread(this::receive, "peer-receiver-" + node);
    this.receiver.setDaemon(true);
  }

  /** The address it is bound to (its port, when it was asked for port 0). */
  public InetSocketAddress local() {
    return (InetSocketAddress) socket.getLocalSocketAddress();
  }

  /** The nodes it pairs with, and each one's address and peer port. */
  public void peers(Map<String, InetSocketAddress> now) {
    peers = Map.copyOf(now);
    sessions.peers(now.keySet());
  }

  /** Starts sending every {@code interval} and receiving. */
  public PeerChannel start(Duration interval) {
    receiver.start();
    sender.scheduleAtFixedRate(
        this::sendAll, 0, Math.max(1, interval.toMillis()), TimeUnit.MILLISECONDS);
    return this;
  }

  /** What was last heard from {@code peer}, if anything. */
  public Optional<Heard> lastHeard(String peer) {
    return Optional.ofNullable(heard.get(peer));
  }

  /** Datagrams taken. */
  public long accepted() {
    return accepted.get();
  }

  /** Messages sent (one per peer per interval). */
  public long sent() {
    return sent.get();
  }

  /** Datagrams dropped, by reason. */
  public Map<PeerCodec.Drop, Long> dropped() {
    Map<PeerCodec.Drop, Long> out = new EnumMap<>(PeerCodec.Drop.class);
    dropped.forEach((d, n) -> out.put(d, n.get()));
    return out;
  }

  private void sendAll() {
    Map<String, InetSocketAddress> to = peers;
    if (to.isEmpty() || closed) {
      return;
    }
    PeerMessage m =
        new PeerMessage(
            PeerMessage.Kind.HEARTBEAT,
            node,
            bootStart,
            bootNonce,
            sequence.incrementAndGet(),
            apiContactAgeMillis.getAsInt());
    byte[] data = codec.seal(m);
    for (InetSocketAddress a : to.values()) {
      try {
        socket.send(new DatagramPacket(data, data.length, a));
        sent.incrementAndGet();
      } catch (IOException e) {
        if (!closed) {
          LOG.debug("peer heartbeat to {} not sent: {}", a, e.toString());
        }
      }
    }
  }

  private void receive() {
    byte[] buf = new byte[PeerCodec.MAX_DATAGRAM + 1];
    while (!closed) {
      DatagramPacket p = new DatagramPacket(buf, buf.length);
      try {
        socket.receive(p);
      } catch (IOException e) {
        if (!closed) {
          LOG.warn("peer channel on {}: {}", node, e.toString());
        }
        continue;
      }
      take(p.getData(), p.getLength(), p.getAddress());
    }
  }

  /** One datagram from {@code from}, on the receiving thread: taken, or dropped and counted. */
  void take(byte[] data, int length, InetAddress from) {
    PeerCodec.Opened o = codec.open(data, length);
    if (o instanceof PeerCodec.Dropped d) {
      dropped.get(d.reason()).incrementAndGet();
      return;
    }
    PeerMessage m = ((PeerCodec.Message) o).message();
    InetSocketAddress expected = peers.get(m.node());
    if (expected != null && !expected.getAddress().equals(from)) {
      dropped.get(PeerCodec.Drop.UNKNOWN_SENDER).incrementAndGet();
      return;
    }
    PeerCodec.Drop why = sessions.admit(m); // the receiving thread only
    if (why != null) {
      dropped.get(why).incrementAndGet();
      return;
    }
    accepted.incrementAndGet();
    heard.put(m.node(), new Heard(m, clock.instant()));
  }

  @Override
  public void close() {
    closed = true;
    sender.shutdownNow();
    socket.close();
    try {
      receiver.join(2000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
