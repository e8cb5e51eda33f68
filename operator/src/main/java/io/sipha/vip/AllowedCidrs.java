package io.sipha.vip;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;

/** The admin's list of ranges that pairs may claim a VIP in. Empty means any. */
public final class AllowedCidrs {
  private final List<Range> ranges;

  private record Range(byte[] network, int prefix, String text) {
    boolean contains(InetAddress a) {
      byte[] b = a.getAddress();
      if (b.length != network.length) {
        return false;
      }
      int full = prefix / 8;
      for (int i = 0; i < full; i++) {
        if (b[i] != network[i]) {
          return false;
        }
      }
      int rest = prefix % 8;
      if (rest == 0) {
        return true;
      }
      int mask = (0xff << (8 - rest)) & 0xff;
      return (b[full] & mask) == (network[full] & mask);
    }
  }

  private AllowedCidrs(List<Range> ranges) {
    this.ranges = ranges;
  }

  public static AllowedCidrs any() {
    return new AllowedCidrs(List.of());
  }

  /** Parses "192.0.2.0/24" entries; throws IllegalArgumentException naming the bad entry. */
  public static AllowedCidrs parse(List<String> cidrs) {
    List<Range> out = new ArrayList<>();
    for (String c : cidrs) {
      String t = c.trim();
      if (t.isEmpty()) {
        continue;
      }
      int slash = t.indexOf('/');
      InetAddress a = slash < 0 ? null : VipAddress.literal(t.substring(0, slash));
      int max = a == null ? 0 : a.getAddress().length * 8;
      int prefix;
      try {
        prefix = slash < 0 ? -1 : Integer.parseInt(t.substring(slash + 1));
      } catch (NumberFormatException e) {
        prefix = -1;
      }
      if (a == null || prefix < 0 || prefix > max) {
        throw new IllegalArgumentException(
            "allowed VIP range \"" + t + "\" is not a CIDR such as 192.0.2.0/24 or 2001:db8::/64");
      }
      out.add(new Range(a.getAddress(), prefix, t));
    }
    return new AllowedCidrs(List.copyOf(out));
  }

  public boolean allows(InetAddress a) {
    return ranges.isEmpty() || ranges.stream().anyMatch(r -> r.contains(a));
  }

  public boolean isAny() {
    return ranges.isEmpty();
  }

  @Override
  public String toString() {
    return ranges.isEmpty() ? "any" : String.join(", ", ranges.stream().map(Range::text).toList());
  }
}
