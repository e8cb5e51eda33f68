package io.sipha.peer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PeerCodecTest {
  static final byte[] KEY = "0123456789abcdef0123456789abcdef".getBytes(StandardCharsets.US_ASCII);
  final PeerCodec codec = new PeerCodec(KEY);

  static PeerMessage heartbeat(String node, long start, long nonce, long seq) {
    return new PeerMessage(PeerMessage.Kind.HEARTBEAT, node, start, nonce, seq, 250);
  }

  PeerCodec.Opened open(byte[] d) {
    return codec.open(d, d.length);
  }

  @Test
  void aSealedMessageOpensAsItself() {
    PeerMessage m = heartbeat("node-a", 1_700_000_000_000L, 42, 7);
    assertThat(open(codec.seal(m))).isEqualTo(new PeerCodec.Message(m));
  }

  @Test
  void anyChangedByteMakesItUnauthenticated() {
    byte[] d = codec.seal(heartbeat("node-a", 1, 2, 3));
    for (int i = 0; i < d.length; i++) {
      byte[] changed = d.clone();
      changed[i] ^= 0x01;
      assertThat(open(changed))
          .as("byte %d changed", i)
          .isEqualTo(new PeerCodec.Dropped(PeerCodec.Drop.UNAUTHENTICATED));
    }
  }

  @Test
  void anotherKeysMessageIsUnauthenticated() {
    byte[] other =
        new PeerCodec("another key of 32 bytes, not 0-f".getBytes(StandardCharsets.US_ASCII))
            .seal(heartbeat("node-a", 1, 2, 3));
    assertThat(open(other)).isEqualTo(new PeerCodec.Dropped(PeerCodec.Drop.UNAUTHENTICATED));
  }

  @Test
  void tooShortTooLongOrGarbageIsDropped() {
    byte[] d = codec.seal(heartbeat("node-a", 1, 2, 3));
    assertThat(open(Arrays.copyOf(d, 32)))
        .isEqualTo(new PeerCodec.Dropped(PeerCodec.Drop.MALFORMED));
    assertThat(open(new byte[0])).isEqualTo(new PeerCodec.Dropped(PeerCodec.Drop.MALFORMED));
    assertThat(open(new byte[PeerCodec.MAX_DATAGRAM + 1]))
        .isEqualTo(new PeerCodec.Dropped(PeerCodec.Drop.MALFORMED));
    assertThat(open("OPTIONS sip:192.0.2.10 SIP/2.0\r\n\r\n".getBytes(StandardCharsets.US_ASCII)))
        .isEqualTo(new PeerCodec.Dropped(PeerCodec.Drop.UNAUTHENTICATED));
  }

  @Test
  void aRunsMessagesAreTakenOnceInOrderAndALaterRunReplacesIt() {
    var s = new PeerSessions(Set.of("node-a"));
    assertThat(s.admit(heartbeat("node-a", 100, 1, 1))).isNull();
    assertThat(s.admit(heartbeat("node-a", 100, 1, 2))).isNull();
    assertThat(s.admit(heartbeat("node-a", 100, 1, 2)))
        .as("the same again")
        .isEqualTo(PeerCodec.Drop.REPLAYED);
    assertThat(s.admit(heartbeat("node-a", 100, 1, 1)))
        .as("an older one")
        .isEqualTo(PeerCodec.Drop.REPLAYED);
    assertThat(s.admit(heartbeat("node-a", 200, 9, 1))).as("a run started later").isNull();
    assertThat(s.admit(heartbeat("node-a", 100, 1, 3)))
        .as("the earlier run, a new number")
        .isEqualTo(PeerCodec.Drop.REPLAYED);
    assertThat(s.admit(heartbeat("node-a", 200, 8, 5)))
        .as("another run of the same start")
        .isEqualTo(PeerCodec.Drop.REPLAYED);
    assertThat(s.admit(heartbeat("node-x", 100, 1, 1))).isEqualTo(PeerCodec.Drop.UNKNOWN_SENDER);
  }

  @Test
  void theKeyFileIsReadAsItIsWithoutItsFinalNewline(@TempDir Path dir) throws Exception {
    Path f = dir.resolve("peer.key");
    Files.write(
        f, (new String(KEY, StandardCharsets.US_ASCII) + "\n").getBytes(StandardCharsets.US_ASCII));
    PeerMessage m = heartbeat("node-a", 1, 2, 3);
    assertThat(PeerCodec.fromFile(f, "--peer-key-file").seal(m)).isEqualTo(codec.seal(m));
  }

  @Test
  void aShortOrMissingKeyFileIsRefusedNamingTheOptionAndTheFix(@TempDir Path dir) throws Exception {
    Path f = dir.resolve("peer.key");
    Files.writeString(f, "short\n");
    assertThatThrownBy(() -> PeerCodec.fromFile(f, "--peer-key-file"))
        .hasMessageContaining("--peer-key-file")
        .hasMessageContaining("has 5 bytes")
        .hasMessageContaining("at least 16");
    assertThatThrownBy(() -> PeerCodec.fromFile(dir.resolve("none"), "--peer-key-file"))
        .hasMessageContaining("--peer-key-file: cannot read the peer key")
        .hasMessageContaining("mount the chart's peer-key Secret");
  }
}
