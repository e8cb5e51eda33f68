package io.sipha.vip;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * A virtual IP that passed validation: a literal IPv4 or IPv6 unicast address, a prefix length that
 * fits its family, and a Linux interface name. Only values of this type reach a VIP script, each as
 * its own argument, so nothing a user writes can become a shell word or an option.
 */
public record VipAddress(InetAddress address, int prefixLength, String interfaceName) {

  private static final Pattern IPV4 =
      Pattern.compile(
          "^(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)(\\.(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)){3}$");
  private static final Pattern IPV6 = Pattern.compile("^[0-9A-Fa-f:.]{2,45}$");

  /** What the kernel accepts (dev_valid_name), minus a leading '-' so it is never an option. */
  private static final Pattern INTERFACE = Pattern.compile("^[A-Za-z0-9][A-Za-z0-9_.-]{0,14}$");

  /** Why a value is not a usable VIP: the field it concerns and what is wrong with it. */
  public record Problem(String field, String message) {
    @Override
    public String toString() {
      return field + ": " + message;
    }
  }

  /** Parses the three user-supplied fields; the problem names the field (address, ...). */
  public static Result parse(String address, Integer prefixLength, String interfaceName) {
    if (address == null || address.isBlank()) {
      return Result.bad("address", "is required, e.g. 192.0.2.10");
    }
    InetAddress inet = literal(address);
    if (inet == null) {
      return Result.bad(
          "address", "\"" + printable(address) + "\" is not an IPv4 or IPv6 address literal");
    }
    if (inet.isAnyLocalAddress()
        || inet.isLoopbackAddress()
        || inet.isMulticastAddress()
        || inet.isLinkLocalAddress()
        || "255.255.255.255".equals(inet.getHostAddress())) {
      return Result.bad(
          "address",
          inet.getHostAddress()
              + " cannot be a virtual IP (unspecified, loopback, multicast, link-local or"
              + " broadcast); use a unicast address of the node's network");
    }
    int max = inet instanceof Inet4Address ? 32 : 128;
    if (prefixLength == null || prefixLength < 1 || prefixLength > max) {
      return Result.bad(
          "prefixLength",
          (prefixLength == null ? "is required" : prefixLength + " is out of range")
              + "; use 1-"
              + max
              + " for an "
              + (max == 32 ? "IPv4" : "IPv6")
              + " address");
    }
    if (interfaceName == null || !INTERFACE.matcher(interfaceName).matches()) {
      return Result.bad(
          "interface",
          (interfaceName == null ? "is required" : "\"" + printable(interfaceName) + "\" is not")
              + " a Linux interface name (1-15 of letters, digits, '_', '.', '-', not starting"
              + " with '-'), e.g. eth0");
    }
    return new Result(new VipAddress(inet, prefixLength, interfaceName), null);
  }

  /** Parses "address/prefix" as kept in the pair's status. */
  public static Result parseCidr(String cidr, String interfaceName) {
    if (cidr == null || cidr.indexOf('/') < 0) {
      return Result.bad(
          "address", "\"" + printable(String.valueOf(cidr)) + "\" is not address/prefix");
    }
    int slash = cidr.indexOf('/');
    Integer prefix;
    try {
      prefix = Integer.valueOf(cidr.substring(slash + 1));
    } catch (NumberFormatException e) {
      return Result.bad("prefixLength", "\"" + printable(cidr) + "\" has no numeric prefix");
    }
    return parse(cidr.substring(0, slash), prefix, interfaceName);
  }

  /**
   * An address literal, with or without "/prefix", in canonical text (as {@link #host()} writes it,
   * and as VIPs are compared), or null if the text is none.
   */
  public static String canonicalHost(String text) {
    if (text == null || text.isBlank()) {
      return null;
    }
    String t = text.strip();
    Result r =
        t.indexOf('/') >= 0
            ? parseCidr(t, "eth0")
            : parse(t, t.indexOf(':') >= 0 ? 128 : 32, "eth0");
    return r.value().map(VipAddress::host).orElse(null);
  }

  /** Returns the address only if the text is a literal; never resolves a name. */
  static InetAddress literal(String text) {
    boolean v4 = IPV4.matcher(text).matches();
    boolean v6 = !v4 && text.indexOf(':') >= 0 && IPV6.matcher(text).matches();
    if (!v4 && !v6) {
      return null;
    }
    try {
      return InetAddress.getByName(text);
    } catch (UnknownHostException e) {
      return null;
    }
  }

  private static String printable(String s) {
    StringBuilder b = new StringBuilder();
    for (char c : s.toCharArray()) {
      b.append(c < 0x20 || c == 0x7f ? String.format("\\x%02x", (int) c) : String.valueOf(c));
    }
    return b.length() > 64 ? b.substring(0, 64) + "..." : b.toString();
  }

  /** The address in canonical text form (RFC 5952 for IPv6, as ip(8) prints it), without prefix. */
  public String host() {
    if (address instanceof Inet4Address) {
      return address.getHostAddress();
    }
    byte[] b = address.getAddress();
    int[] g = new int[8];
    for (int i = 0; i < 8; i++) {
      g[i] = ((b[2 * i] & 0xff) << 8) | (b[2 * i + 1] & 0xff);
    }
    int bestStart = -1;
    int bestLen = 1;
    for (int i = 0; i < 8; ) {
      int j = i;
      while (j < 8 && g[j] == 0) {
        j++;
      }
      if (j - i > bestLen) {
        bestStart = i;
        bestLen = j - i;
      }
      i = j == i ? i + 1 : j;
    }
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < 8; i++) {
      if (i == bestStart) {
        out.append("::");
        i += bestLen - 1;
        continue;
      }
      if (out.length() > 0 && out.charAt(out.length() - 1) != ':') {
        out.append(':');
      }
      out.append(Integer.toHexString(g[i]));
    }
    return out.toString();
  }

  /** "192.0.2.10/24": the first argument of every VIP script. */
  public String cidr() {
    return host() + "/" + prefixLength;
  }

  public boolean isIpv6() {
    return !(address instanceof Inet4Address);
  }

  @Override
  public String toString() {
    return cidr() + " dev " + interfaceName;
  }

  /** A parsed VIP or the problem that kept it from parsing. */
  public record Result(VipAddress vip, Problem problem) {
    static Result bad(String field, String message) {
      return new Result(null, new Problem(field, message));
    }

    public boolean ok() {
      return vip != null;
    }

    public Optional<VipAddress> value() {
      return Optional.ofNullable(vip);
    }
  }
}
