package io.sipha.decision;

import io.sipha.vip.VipAddress;
import java.util.Optional;

/**
 * The node agent's decision for one pair, pure: from what the pair's status grants this node, what
 * the agent holds on its host and its last report, the next thing to do. {@code NodeAgent} carries
 * it out with real scripts and writes; the simulation carries it out on its modelled hosts. One
 * call, one action; the agent calls again after it (and at every pass).
 */
public final class AgentStep {
  private AgentStep() {}

  /** What the agent holds on its host for a pair: the address and the epoch it was bound at. */
  public record Held(VipAddress vip, long epoch) {}

  /**
   * What the agent knows when it looks at a pair.
   *
   * @param want what {@link VipBindingRule} grants this node, if anything
   * @param held what it holds on its host (null: nothing)
   * @param report its last report on the pair (null: none)
   * @param epoch the status's epoch
   * @param grantedHere the status's vip.node is this node
   * @param statusVip the status's VIP, when valid (null otherwise)
   * @param fenceDue self-fencing is due ({@link SelfFencing#due})
   * @param freshView what it read is known to be from after any gap in contact with the API
   * @param announceWanted the status's announce counter (gratuitous ARP requests)
   * @param announced the counter this agent last announced for (null: not known, counts as done)
   * @param now the time to put in a report
   */
  public record Situation(
      Optional<VipBindingRule.Binding> want,
      Held held,
      VipReport report,
      long epoch,
      boolean grantedHere,
      VipAddress statusVip,
      boolean fenceDue,
      boolean freshView,
      long announceWanted,
      Long announced,
      String now) {

    /** The same situation with another status VIP. */
    public Situation withStatusVip(VipAddress vip) {
      return new Situation(
          want,
          held,
          report,
          epoch,
          grantedHere,
          vip,
          fenceDue,
          freshView,
          announceWanted,
          announced,
          now);
    }
  }

  /** The next thing to do for a pair. */
  public sealed interface Action permits Nothing, Enable, Disable, Adopt, Report {}

  /** Nothing to do now. */
  public record Nothing(String why) implements Action {}

  /**
   * Run vip-enable for {@code vip}; on success hold it at {@code epoch}, report Bound and count the
   * announce as done; then remove {@code release}, if any (a VIP that changed: the new address is
   * added first, so a failing add leaves the old one serving).
   */
  public record Enable(VipAddress vip, long epoch, VipAddress release, String why)
      implements Action {}

  /**
   * Run vip-disable for {@code vip}; on success hold nothing and report Unbound at {@code epoch}
   * ({@code staleEpoch}: the old epoch a stale VIP was held at).
   */
  public record Disable(VipAddress vip, long epoch, Long staleEpoch, boolean fence, String why)
      implements Action {}

  /** The VIP is already on the host: hold it at the new epoch and report Bound, no script. */
  public record Adopt(VipAddress vip, long epoch) implements Action {}

  /** No script: write this report. */
  public record Report(VipReport report) implements Action {}

  /**
   * The address of a Failed report that is neither held nor wanted here (a VIP change whose
   * vip-enable failed, perhaps after adding it, or a release that failed before the pair's VIP
   * changed): its state on the host is not known. Null when there is none.
   */
  private static VipAddress unsureOther(Situation s) {
    VipReport r = s.report();
    if (r == null
        || !r.is(VipReport.State.Failed)
        || r.address() == null
        || r.interfaceName() == null) {
      return null;
    }
    VipAddress reported = VipAddress.parseCidr(r.address(), r.interfaceName()).value().orElse(null);
    if (reported == null
        || (s.held() != null && reported.equals(s.held().vip()))
        || s.want().map(b -> b.vip().equals(reported)).orElse(false)) {
      return null;
    }
    return reported;
  }

  /**
   * At start, the addresses the previous run reported for a pair (read back from its Lease: the one
   * the report is about and those it says may also be on the host) that the pair's status no longer
   * names: they may still be on the host, so they are made sure of and removed. Whatever the report
   * said: a vip-enable of that address may have been in flight when the previous run ended (after
   * an Unbound report), and nothing else remembers it. Never an address another pair's status
   * grants to this node now.
   *
   * @param previous the report read back
   * @param statusVip the pair's VIP in its status now (null: none, or the pair is gone)
   * @param grantedHere the addresses (canonical text) the statuses of the other pairs grant this
   *     node
   */
  public static java.util.List<VipAddress> leftoversAtStart(
      VipReport previous, VipAddress statusVip, java.util.Set<String> grantedHere) {
    if (previous == null) {
      return java.util.List.of();
    }
    java.util.List<VipAddress> candidates = new java.util.ArrayList<>();
    if (previous.address() != null && previous.interfaceName() != null) {
      VipAddress.parseCidr(previous.address(), previous.interfaceName())
          .value()
          .ifPresent(candidates::add);
    }
    candidates.addAll(previous.alsoOnHostAddresses());
    return candidates.stream()
        .filter(
            v ->
                (statusVip == null || !statusVip.host().equals(v.host()))
                    && !grantedHere.contains(v.host()))
        .distinct()
        .toList();
  }

  public static Action next(Situation s) {
    Held h = s.held();
    if (s.want().isPresent() && s.fenceDue()) {
      // cut off from the API, and the peer may take over: drop the VIP first
      return h == null
          ? new Nothing("self-fenced")
          : new Disable(h.vip(), s.epoch(), null, true, "self-fencing");
    }
    VipAddress unsure = unsureOther(s);
    if (unsure != null) {
      // a vip-enable of a changed VIP added it and failed: it may be on the host, and nobody else
      // knows; removed before the held address goes or another one is bound
      return new Disable(
          unsure,
          s.epoch(),
          null,
          false,
          "state of " + unsure + " unknown after a failed " + s.report().script());
    }
    if (s.want().isPresent()) {
      VipBindingRule.Binding b = s.want().get();
      if (!s.freshView()) {
        return new Nothing(
            "what grants the VIP may be from before a gap in contact: read the API first");
      }
      if (h != null && !h.vip().equals(b.vip())) {
        return new Enable(b.vip(), b.epoch(), h.vip(), "the VIP changed from " + h.vip());
      }
      if (h == null) {
        return new Enable(b.vip(), b.epoch(), null, "granted at epoch " + b.epoch());
      }
      if (h.epoch() != b.epoch()) {
        return new Adopt(b.vip(), b.epoch());
      }
      if (s.announced() != null && s.announced() < s.announceWanted()) {
        return new Enable(
            b.vip(), b.epoch(), null, "announce again (request " + s.announceWanted() + ")");
      }
      VipReport r = s.report();
      if (r == null || !r.is(VipReport.State.Bound) || r.epoch() != b.epoch()) {
        return new Report(
            new VipReport(
                VipReport.State.Bound,
                b.epoch(),
                b.vip().cidr(),
                null,
                null,
                null,
                s.now(),
                null,
                b.vip().interfaceName()));
      }
      return new Nothing("bound");
    }
    if (h != null) {
      Long stale = !s.grantedHere() && h.epoch() < s.epoch() ? h.epoch() : null;
      return new Disable(
          h.vip(),
          s.epoch(),
          stale,
          false,
          stale != null
              ? "held at epoch " + stale + " but the current epoch is " + s.epoch() + " elsewhere"
              : "not granted");
    }
    VipReport r = s.report();
    if (r != null
        && r.is(VipReport.State.Unbound)
        && s.grantedHere()
        && s.statusVip() != null
        && !VipReport.isAbout(r, s.statusVip())) {
      // the status names this node for an address the last report is not about (the VIP changed
      // since): only a report about that address can confirm its release
      return new Disable(
          s.statusVip(),
          s.epoch(),
          null,
          false,
          "the status names "
              + s.statusVip()
              + " here and the last report is about "
              + r.address());
    }
    if (r != null && r.is(VipReport.State.Unbound)) {
      if (r.epoch() != s.epoch()) {
        // confirmed absent before and nothing bound since: still absent, now at this epoch
        return new Report(
            new VipReport(
                VipReport.State.Unbound,
                s.epoch(),
                r.address(),
                r.script(),
                r.exitCode(),
                "not held on this host",
                s.now(),
                r.removedStaleEpoch(),
                r.interfaceName()));
      }
      return new Nothing("unbound");
    }
    if (r != null) {
      // the last script failed (or it was seen bound): the host's state is not known; make sure of
      // the address the report is about (the status may name another one by now)
      Optional<VipAddress> reported =
          r.address() == null || r.interfaceName() == null
              ? Optional.empty()
              : VipAddress.parseCidr(r.address(), r.interfaceName()).value();
      VipAddress which = reported.orElse(s.statusVip());
      return which == null
          ? new Nothing("nothing to make sure of")
          : new Disable(which, s.epoch(), null, false, "state unknown after " + r.state());
    }
    // never bound by this agent, nor by the one before it (its reports were read at start)
    VipAddress v = s.statusVip();
    return new Report(
        new VipReport(
            VipReport.State.Unbound,
            s.epoch(),
            v == null ? null : v.cidr(),
            null,
            null,
            null,
            s.now(),
            null,
            v == null ? null : v.interfaceName()));
  }
}
