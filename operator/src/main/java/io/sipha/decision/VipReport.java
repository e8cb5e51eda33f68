package io.sipha.decision;

/**
 * What a node agent reports for one pair: the VIP state it holds on its host, the status epoch it
 * acted on, and the last script result. Agents publish these in their Lease's annotation {@code
 * sipha.io/vips} (written and read in io.sipha.kube.AgentReports, which owns its JSON form), keyed
 * by namespace/name.
 *
 * @param state Bound (the address is on the host), Unbound (confirmed absent) or Failed (the last
 *     script failed: the host's state is not known to be what was asked)
 * @param epoch the pair's status epoch the agent acted on
 * @param address the address/prefix it concerns
 * @param script the last script run, e.g. vip-enable
 * @param exitCode its exit code (-1: timed out or could not start)
 * @param message the script's outcome for a person (output tail included)
 * @param at when this state was reached (RFC 3339)
 * @param removedStaleEpoch set when the agent removed a VIP it held at an older epoch than the
 *     current one: it was a stale primary (the VIP was on two hosts)
 * @param interfaceName the interface of the address, so that a restarted agent can check it
 * @param alsoOnHost other addresses this agent may have on its host for the pair (the old address
 *     of a VIP change not yet removed, or the one it holds while the report is about an add that
 *     failed): the operator counts them as held, and a restarted agent makes sure of them
 */
public record VipReport(
    State state,
    long epoch,
    String address,
    String script,
    Integer exitCode,
    String message,
    String at,
    Long removedStaleEpoch,
    String interfaceName,
    java.util.List<OnHost> alsoOnHost) {

  /** An address on a host, with its interface. */
  public record OnHost(String address, String interfaceName) {}

  /** A report about one address only. */
  public VipReport(
      State state,
      long epoch,
      String address,
      String script,
      Integer exitCode,
      String message,
      String at,
      Long removedStaleEpoch,
      String interfaceName) {
    this(
        state,
        epoch,
        address,
        script,
        exitCode,
        message,
        at,
        removedStaleEpoch,
        interfaceName,
        null);
  }

  /** The same report, saying which other addresses the agent may have on its host for the pair. */
  public VipReport withAlsoOnHost(java.util.Collection<io.sipha.vip.VipAddress> others) {
    String mine = address == null ? null : io.sipha.vip.VipAddress.canonicalHost(address);
    java.util.Map<String, OnHost> also = new java.util.TreeMap<>();
    for (io.sipha.vip.VipAddress v : others) {
      if (v != null && !v.host().equals(mine)) {
        also.put(v.host(), new OnHost(v.cidr(), v.interfaceName()));
      }
    }
    java.util.List<OnHost> list = also.isEmpty() ? null : java.util.List.copyOf(also.values());
    return java.util.Objects.equals(list, alsoOnHost)
        ? this
        : new VipReport(
            state,
            epoch,
            address,
            script,
            exitCode,
            message,
            at,
            removedStaleEpoch,
            interfaceName,
            list);
  }

  /** The other addresses, parsed (an unreadable one is left out). */
  public java.util.List<io.sipha.vip.VipAddress> alsoOnHostAddresses() {
    if (alsoOnHost == null) {
      return java.util.List.of();
    }
    return alsoOnHost.stream()
        .filter(o -> o.address() != null && o.interfaceName() != null)
        .flatMap(
            o -> io.sipha.vip.VipAddress.parseCidr(o.address(), o.interfaceName()).value().stream())
        .toList();
  }

  /**
   * The report says this address (its canonical text) may be on the host besides the one it is
   * about.
   */
  public boolean alsoHolds(String address) {
    String h = address == null ? null : io.sipha.vip.VipAddress.canonicalHost(address);
    return h != null && alsoOnHostAddresses().stream().anyMatch(v -> v.host().equals(h));
  }

  /** The VIP state an agent reports for a pair. */
  public enum State {
    Bound,
    Unbound,
    Failed
  }

  public boolean is(State s) {
    return state == s;
  }

  /**
   * The report is about this address (the same host address, whatever the prefix), or one of the
   * two names no address at all (nothing better is known).
   */
  public static boolean isAbout(VipReport r, String address) {
    String theirs = io.sipha.vip.VipAddress.canonicalHost(address);
    String mine = r.address() == null ? null : io.sipha.vip.VipAddress.canonicalHost(r.address());
    return mine == null || theirs == null || mine.equals(theirs);
  }

  public static boolean isAbout(VipReport r, io.sipha.vip.VipAddress address) {
    return isAbout(r, address == null ? null : address.host());
  }
}
