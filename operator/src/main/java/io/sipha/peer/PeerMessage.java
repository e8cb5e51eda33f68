package io.sipha.peer;

import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * One datagram between the agents of a pair's nodes, over the signalling network: who sends it (its
 * node), which run of that agent (its boot: when it started, by its own clock, and a random nonce)
 * and the run's sequence number, so that a receiver takes each message once and never one of an
 * older run; and what the sender sees of the API (how long ago it last reached it).
 *
 * <p>On the wire (big-endian): magic {@code "SP"}, version 1, kind, boot start (8 bytes), boot
 * nonce (8), sequence (8), API contact age in ms (4, -1: never), node name length (1) and its UTF-8
 * bytes, then an HMAC-SHA256 over everything before it (32 bytes). Nothing in it is trusted before
 * the tag has been checked ({@link PeerCodec#decode}).
 *
 * @param kind what it is
 * @param node the sender's node
 * @param bootStartMillis when the sender's agent started, by the sender's clock (only ever compared
 *     with the same sender's other boots)
 * @param bootNonce random, to tell two boots in the same millisecond apart
 * @param sequence counts up from 1 within one boot
 * @param apiContactAgeMillis how long ago the sender last renewed its Lease; -1 if it never did
 */
public record PeerMessage(
    Kind kind,
    String node,
    long bootStartMillis,
    long bootNonce,
    long sequence,
    int apiContactAgeMillis) {

  /** What a message says. */
  public enum Kind {
    /** I am alive (every peer interval). */
    HEARTBEAT(1);

    final int code;

    Kind(int code) {
      this.code = code;
    }

    static Kind of(int code) {
      for (Kind k : values()) {
        if (k.code == code) {
          return k;
        }
      }
      return null;
    }
  }

  static final byte[] MAGIC = {'S', 'P'};
  static final int VERSION = 1;

  /** Kubernetes node names are DNS subdomains: at most 253 characters. */
  static final int MAX_NODE = 253;

  public PeerMessage {
    if (node == null || node.isEmpty() || node.getBytes(StandardCharsets.UTF_8).length > MAX_NODE) {
      throw new IllegalArgumentException(
          "a peer message's node name must be 1 to " + MAX_NODE + " bytes");
    }
  }

  /** The bytes the tag covers. */
  byte[] body() {
    byte[] name = node.getBytes(StandardCharsets.UTF_8);
    ByteBuffer b = ByteBuffer.allocate(2 + 1 + 1 + 8 + 8 + 8 + 4 + 1 + name.length);
    b.put(MAGIC).put((byte) VERSION).put((byte) kind.code);
    b.putLong(bootStartMillis).putLong(bootNonce).putLong(sequence).putInt(apiContactAgeMillis);
    b.put((byte) name.length).put(name);
    return b.array();
  }

  /** The message in {@code body}, or null when it is not one of this version. */
  static PeerMessage parse(byte[] body) {
    try {
      ByteBuffer b = ByteBuffer.wrap(body);
      if (b.get() != MAGIC[0] || b.get() != MAGIC[1] || b.get() != VERSION) {
        return null;
      }
      Kind kind = Kind.of(b.get() & 0xff);
      long start = b.getLong();
      long nonce = b.getLong();
      long seq = b.getLong();
      int age = b.getInt();
      int len = b.get() & 0xff;
      if (kind == null || len == 0 || len != b.remaining() || seq < 1) {
        return null;
      }
      byte[] name = new byte[len];
      b.get(name);
      return new PeerMessage(
          kind, new String(name, StandardCharsets.UTF_8), start, nonce, seq, age);
    } catch (BufferUnderflowException | IllegalArgumentException e) {
      return null;
    }
  }
}
