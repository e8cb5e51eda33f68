package io.sipha.peer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.Arrays;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Seals and opens {@link PeerMessage}s with the pair's shared key (HMAC-SHA256, from a Secret the
 * chart creates). A datagram that is not one of ours, or whose tag does not match, is dropped with
 * its reason; it is never parsed into a message that could be acted on.
 */
public final class PeerCodec {
  /** HMAC-SHA256's tag. */
  static final int TAG = 32;

  /** Shorter keys are refused: the key is the only thing that tells a peer from a forger. */
  public static final int MIN_KEY = 16;

  /** No message of ours is longer (the node name is at most 253 bytes). */
  public static final int MAX_DATAGRAM = 512;

  private final SecretKeySpec key;

  public PeerCodec(byte[] key) {
    if (key == null || key.length < MIN_KEY) {
      throw new IllegalArgumentException(
          "the peer key has "
              + (key == null ? 0 : key.length)
              + " bytes; it needs at least "
              + MIN_KEY);
    }
    this.key = new SecretKeySpec(key.clone(), "HmacSHA256");
  }

  /**
   * The key in a file (a Secret's key mounted in the agent's pod), its bytes as they are; a final
   * newline is not part of it (a key written with echo).
   */
  public static PeerCodec fromFile(Path file, String option) {
    byte[] k;
    try {
      k = Files.readAllBytes(file);
    } catch (IOException e) {
      throw new IllegalArgumentException(
          option
              + ": cannot read the peer key "
              + file
              + " ("
              + e.getMessage()
              + "): mount the chart's peer-key Secret there, or leave "
              + option
              + " out");
    }
    int n = k.length;
    while (n > 0 && (k[n - 1] == '\n' || k[n - 1] == '\r')) {
      n--;
    }
    if (n < MIN_KEY) {
      throw new IllegalArgumentException(
          option
              + ": the peer key in "
              + file
              + " has "
              + n
              + " bytes; it needs at least "
              + MIN_KEY
              + " (the chart makes 32 random ones)");
    }
    return new PeerCodec(Arrays.copyOf(k, n));
  }

  /** The datagram that carries {@code m}. */
  public byte[] seal(PeerMessage m) {
    byte[] body = m.body();
    byte[] out = Arrays.copyOf(body, body.length + TAG);
    System.arraycopy(tag(body, body.length), 0, out, body.length, TAG);
    return out;
  }

  /** Why a datagram was not taken. */
  public enum Drop {
    /** Too short or too long, not our magic or version, or fields out of range. */
    MALFORMED,
    /** Its tag does not match: another key, or changed on the way. */
    UNAUTHENTICATED,
    /** Authentic, but seen before, or of an older run of its sender than one already heard. */
    REPLAYED,
    /** Authentic, but from a node this agent does not pair with. */
    UNKNOWN_SENDER
  }

  /** What a datagram turned out to be. */
  public sealed interface Opened {}

  public record Message(PeerMessage message) implements Opened {}

  public record Dropped(Drop reason) implements Opened {}

  /** Opens {@code length} bytes of {@code data}: a message only when its tag matches. */
  public Opened open(byte[] data, int length) {
    if (length <= TAG || length > MAX_DATAGRAM) {
      return new Dropped(Drop.MALFORMED);
    }
    int bodyLength = length - TAG;
    byte[] expected = tag(data, bodyLength);
    byte[] got = Arrays.copyOfRange(data, bodyLength, length);
    if (!MessageDigest.isEqual(expected, got)) {
      return new Dropped(Drop.UNAUTHENTICATED);
    }
    PeerMessage m = PeerMessage.parse(Arrays.copyOf(data, bodyLength));
    return m == null ? new Dropped(Drop.MALFORMED) : new Message(m);
  }

  private byte[] tag(byte[] data, int length) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(key);
      mac.update(data, 0, length);
      return mac.doFinal();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 is not available in this JVM", e);
    }
  }
}
