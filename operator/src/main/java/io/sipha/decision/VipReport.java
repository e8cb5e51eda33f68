package io.sipha.decision;

import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * What a node agent reports for one pair: the VIP state it holds on its host, the status epoch it
 * acted on, and the last script result. Agents publish these in their Lease's annotation
 * {@value AgentReports#ANNOTATION}, keyed by namespace/name.
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
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record VipReport(
    State state,
    long epoch,
    String address,
    String script,
    Integer exitCode,
    String message,
    String at,
    Long removedStaleEpoch,
    @com.fasterxml.jackson.annotation.JsonProperty("interface") String interfaceName) {

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
