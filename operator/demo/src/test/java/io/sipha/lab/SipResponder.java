package io.sipha.lab;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * The lab's stand-in SIP Server: a separate process started inside a host's network namespace. It
 * answers every OPTIONS with {@code 200 OK} (Via, From, To, Call-ID and CSeq copied, a To tag
 * added) and the header {@code X-Served-By: <host>}; any other request gets {@code 501}.
 *
 * <p>It binds the VIP itself (the namespace has {@code net.ipv4.ip_nonlocal_bind=1}), so that it
 * can start before the VIP is on its host and its answers leave from the VIP: a socket on 0.0.0.0
 * would answer from the host's own address and the client would drop the answer.
 *
 * <p>Uses the JDK only, so that it runs from {@code target/test-classes} alone: {@code java -cp
 * target/test-classes io.sipha.lab.SipResponder BIND_ADDRESS PORT HOST_NAME}. Prints {@code ready}
 * once bound.
 */
public final class SipResponder {
  private SipResponder() {}

  public static void main(String[] args) throws IOException {
    if (args.length != 3) {
      System.err.println("usage: SipResponder BIND_ADDRESS PORT HOST_NAME");
      System.exit(2);
    }
    InetAddress bind = InetAddress.getByName(args[0]);
    int port = Integer.parseInt(args[1]);
    String host = args[2];
    try (DatagramSocket socket = new DatagramSocket(new InetSocketAddress(bind, port))) {
      System.out.println("ready " + host + " on " + bind.getHostAddress() + ":" + port);
      System.out.flush();
      byte[] buf = new byte[65_535];
      while (true) {
        DatagramPacket in = new DatagramPacket(buf, buf.length);
        socket.receive(in);
        String request =
            new String(in.getData(), in.getOffset(), in.getLength(), StandardCharsets.UTF_8);
        String answer = answer(request, host);
        if (answer != null) {
          byte[] out = answer.getBytes(StandardCharsets.UTF_8);
          try {
            socket.send(new DatagramPacket(out, out.length, in.getSocketAddress()));
          } catch (IOException e) {
            // the host's link is down (ENETUNREACH): the answer is lost, as on a real host; go on
            System.err.println(
                "answer to " + in.getSocketAddress() + " not sent: " + e.getMessage());
          }
        }
      }
    }
  }

  /** The response to one request, or null when it is not a request (a stray response). */
  static String answer(String request, String host) {
    String[] lines = request.split("\r?\n");
    if (lines.length == 0 || lines[0].startsWith("SIP/2.0")) {
      return null;
    }
    String method = lines[0].split(" ", 2)[0];
    boolean options = "OPTIONS".equals(method);
    StringBuilder b =
        new StringBuilder(options ? "SIP/2.0 200 OK\r\n" : "SIP/2.0 501 Not Implemented\r\n");
    for (int i = 1; i < lines.length && !lines[i].isEmpty(); i++) {
      String line = lines[i];
      String name =
          line.contains(":")
              ? line.substring(0, line.indexOf(':')).trim().toLowerCase(Locale.ROOT)
              : "";
      switch (name) {
        case "via", "v", "from", "f", "call-id", "i", "cseq" -> b.append(line).append("\r\n");
        case "to", "t" ->
            b.append(line).append(line.contains(";tag=") ? "" : ";tag=" + host).append("\r\n");
        default -> {}
      }
    }
    b.append("X-Served-By: ").append(host).append("\r\n");
    if (options) {
      b.append("Allow: OPTIONS\r\n");
    }
    b.append("Content-Length: 0\r\n\r\n");
    return b.toString();
  }
}
