package io.sipha.peer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Two agents' channels over real UDP on 127.0.0.1, and a third socket that plays the attacker. */
class PeerChannelTest {
  static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();
  final PeerCodec codec = new PeerCodec(PeerCodecTest.KEY);
  PeerChannel a;
  PeerChannel b;
  DatagramSocket attacker;

  @AfterEach
  void close() {
    for (AutoCloseable c : new AutoCloseable[] {a, b, attacker}) {
      try {
        if (c != null) {
          c.close();
        }
      } catch (Exception e) {
        // closing
      }
    }
  }

  PeerChannel channel(String node) throws Exception {
    return new PeerChannel(
        node, new InetSocketAddress(LOOPBACK, 0), codec, Clock.systemUTC(), () -> 300);
  }

  void send(byte[] d, InetSocketAddress to) throws Exception {
    attacker.send(new DatagramPacket(d, d.length, to));
  }

  @Test
  void twoAgentsHearEachOtherEveryIntervalAndWhatTheOtherSeesOfTheApi() throws Exception {
    a = channel("node-a");
    b = channel("node-b");
    a.peers(Map.of("node-b", b.local()));
    b.peers(Map.of("node-a", a.local()));
    a.start(Duration.ofMillis(50));
    b.start(Duration.ofMillis(50));
    await().atMost(Duration.ofSeconds(5)).until(() -> a.accepted() >= 5 && b.accepted() >= 5);
    PeerMessage heard = b.lastHeard("node-a").orElseThrow().message();
    assertThat(heard.node()).isEqualTo("node-a");
    assertThat(heard.apiContactAgeMillis()).isEqualTo(300);
    assertThat(heard.sequence()).isGreaterThanOrEqualTo(5);
    assertThat(a.dropped().values()).allMatch(n -> n == 0);
  }

  @Test
  void garbageForgedReplayedAndImpersonatingDatagramsAreCountedAndNeverHeard() throws Exception {
    attacker = new DatagramSocket(new InetSocketAddress(LOOPBACK, 0));
    a = channel("node-a");
    b = channel("node-b");
    // node-a also sends to the attacker's socket (as a tap on the wire would see its datagrams)
    a.peers(
        Map.of(
            "node-b", b.local(), "node-c", (InetSocketAddress) attacker.getLocalSocketAddress()));
    b.peers(Map.of("node-a", a.local()));
    b.start(Duration.ofSeconds(10));
    a.start(Duration.ofMillis(50));
    byte[] buf = new byte[PeerCodec.MAX_DATAGRAM];
    DatagramPacket captured = new DatagramPacket(buf, buf.length);
    attacker.receive(captured);
    byte[] real = java.util.Arrays.copyOf(captured.getData(), captured.getLength());
    await().atMost(Duration.ofSeconds(5)).until(() -> b.lastHeard("node-a").isPresent());
    a.close(); // node-a falls silent: nothing the attacker sends may look like it again
    // what node-a sent before it closed may still be on its way: count once it has all arrived
    long accepted = -1;
    while (accepted != b.accepted()) {
      accepted = b.accepted();
      Thread.sleep(200);
    }
    long heardSeq = b.lastHeard("node-a").orElseThrow().message().sequence();

    send(
        "OPTIONS sip:192.0.2.10 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.99\r\n\r\n"
            .getBytes(StandardCharsets.US_ASCII),
        b.local());
    send(new byte[3], b.local());
    send(
        new PeerCodec("another key of 32 bytes, not 0-f".getBytes(StandardCharsets.US_ASCII))
            .seal(new PeerMessage(PeerMessage.Kind.HEARTBEAT, "node-a", Long.MAX_VALUE, 1, 1, 0)),
        b.local());
    send(real, b.local()); // a captured datagram sent again
    send(codec.seal(new PeerMessage(PeerMessage.Kind.HEARTBEAT, "node-x", 1, 1, 1, 0)), b.local());

    await()
        .atMost(Duration.ofSeconds(5))
        .until(() -> b.dropped().values().stream().mapToLong(Long::longValue).sum() >= 5);
    assertThat(b.dropped())
        .containsEntry(PeerCodec.Drop.MALFORMED, 1L)
        .containsEntry(PeerCodec.Drop.UNAUTHENTICATED, 2L)
        .containsEntry(PeerCodec.Drop.REPLAYED, 1L)
        .containsEntry(PeerCodec.Drop.UNKNOWN_SENDER, 1L);
    assertThat(b.accepted()).as("nothing taken after node-a stopped").isEqualTo(accepted);
    assertThat(b.lastHeard("node-a").orElseThrow().message().sequence()).isEqualTo(heardSeq);
  }

  @Test
  void anAuthenticMessageFromAnotherAddressThanThePeersIsNotTaken() throws Exception {
    attacker = new DatagramSocket(new InetSocketAddress(LOOPBACK, 0));
    b = channel("node-b");
    // node-a's address is 127.0.0.2 (also the loopback); the datagram comes from 127.0.0.1
    b.peers(Map.of("node-a", new InetSocketAddress(InetAddress.getByName("127.0.0.2"), 7946)));
    b.start(Duration.ofSeconds(10));
    send(codec.seal(new PeerMessage(PeerMessage.Kind.HEARTBEAT, "node-a", 1, 1, 1, 0)), b.local());
    await()
        .atMost(Duration.ofSeconds(5))
        .until(() -> b.dropped().get(PeerCodec.Drop.UNKNOWN_SENDER) == 1);
    assertThat(b.lastHeard("node-a")).isEmpty();
  }
}
