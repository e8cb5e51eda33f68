package io.sipha.sim;

import java.time.Duration;

/**
 * One step of a schedule: the alphabet the property draws from. Each step changes the world and
 * returns what happened; its {@code toString} is a sentence a person can follow.
 */
sealed interface Step {

  /** Applies the step; returns what happened, for the trace. */
  String apply(World w);

  /** The operator reconciles a pair; with {@code writesNow >= 0} only that many writes land now. */
  record Reconcile(String pair, int writesNow) implements Step {
    static final Reconcile FULL = new Reconcile(-1);

    /** pair-1 (the scenarios' pair). */
    Reconcile(int writesNow) {
      this("pair-1", writesNow);
    }

    @Override
    public String apply(World w) {
      return w.operator.reconcile(pair, writesNow);
    }

    @Override
    public String toString() {
      return writesNow < 0
          ? "the operator reconciles " + pair
          : writesNow == 0
              ? "the operator reconciles "
                  + pair
                  + ", but none of its writes land before the next step (all in flight)"
              : "the operator reconciles "
                  + pair
                  + ", but only its first "
                  + writesNow
                  + " write(s) land before the next step (the rest are in flight)";
    }
  }

  /** A node agent's worker runs: it converges the host on the status and reports. */
  record AgentTick(String node) implements Step {
    @Override
    public String apply(World w) {
      return w.agent(node).run();
    }

    @Override
    public String toString() {
      return node + "'s agent runs (reads the API, binds or unbinds, reports, for every pair)";
    }
  }

  /** Virtual time passes; the agents' heartbeats renew their Leases on the way. */
  record AdvanceClock(int millis) implements Step {
    @Override
    public String apply(World w) {
      w.advance(Duration.ofMillis(millis));
      return "clock at " + World.t(w.now);
    }

    @Override
    public String toString() {
      return millis + " ms pass (agents that can reach the API renew their Leases every second)";
    }
  }

  /**
   * The user asks for a switchover: spec.primary of the pair whose server {@code to} is changes.
   */
  record Switchover(String to) implements Step {
    @Override
    public String apply(World w) {
      return w.switchOver(to);
    }

    @Override
    public String toString() {
      return "the user sets spec.primary to " + to;
    }
  }

  /**
   * After a failover (failback Manual), the user acknowledges it (spec.primary set to the current
   * primary) and asks for {@code to}, both before the operator reconciles.
   */
  record AcknowledgeThenSwitchover(String to) implements Step {
    @Override
    public String apply(World w) {
      return w.acknowledgeThenSwitchOver(to);
    }

    @Override
    public String toString() {
      return "the user sets spec.primary to the current primary (acknowledging) and then to "
          + to
          + ", before the operator reconciles";
    }
  }

  /** The user points a pair's VIP at another address: a free one, or one another pair holds. */
  record VipChange(String pair, String address) implements Step {
    @Override
    public String apply(World w) {
      return w.changeVip(pair, address);
    }

    @Override
    public String toString() {
      return "the user sets " + pair + "'s spec.virtualIP.address to " + address;
    }
  }

  /**
   * A node's clock is off (stepped) by this many seconds: what its agent writes carries it, and so
   * does what its kubelet writes (the Ready condition's lastTransitionTime of the pods there).
   */
  record ClockSkew(String node, int seconds) implements Step {
    @Override
    public String apply(World w) {
      w.agent(node).clockSkew = java.time.Duration.ofSeconds(seconds);
      return node + "'s clock is now " + seconds + " s off";
    }

    @Override
    public String toString() {
      return node
          + "'s clock (its agent's and its kubelet's) steps to "
          + seconds
          + " s off the operator's";
    }
  }

  /** The user sets spec.failback to Automatic (2 s delay) or Manual. */
  record Failback(String pair, boolean automatic) implements Step {
    Failback(boolean automatic) {
      this("pair-1", automatic);
    }

    @Override
    public String apply(World w) {
      return w.failback(pair, automatic);
    }

    @Override
    public String toString() {
      return "the user sets "
          + pair
          + "'s spec.failback to "
          + (automatic ? "Automatic (failbackDelaySeconds 2)" : "Manual");
    }
  }

  /** The user pauses the pair (maintenance) or unpauses it. */
  record Pause(String pair, boolean on) implements Step {
    Pause(boolean on) {
      this("pair-1", on);
    }

    @Override
    public String apply(World w) {
      return w.pause(pair, on);
    }

    @Override
    public String toString() {
      return "the user sets " + pair + "'s spec.paused to " + on;
    }
  }

  /** The user writes an invalid spec. */
  record InvalidSwitchover(String pair, boolean unknownPod) implements Step {
    InvalidSwitchover(boolean unknownPod) {
      this("pair-1", unknownPod);
    }

    @Override
    public String apply(World w) {
      return w.invalidSwitchOver(pair, unknownPod);
    }

    @Override
    public String toString() {
      return unknownPod
          ? "the user sets " + pair + "'s spec.primary to sip-7, which is not one of spec.servers"
          : "the user sets "
              + pair
              + "'s spec.failover.nodeLossSeconds to 1 (below the minimum of 2)";
    }
  }

  record PodNotReady(String pod) implements Step {
    @Override
    public String apply(World w) {
      return w.setReady(pod, false);
    }

    @Override
    public String toString() {
      return pod + " becomes NotReady";
    }
  }

  record PodReady(String pod) implements Step {
    @Override
    public String apply(World w) {
      return w.setReady(pod, true);
    }

    @Override
    public String toString() {
      return pod + " becomes Ready (its SIP Server container runs)";
    }
  }

  record PodFailed(String pod) implements Step {
    @Override
    public String apply(World w) {
      return w.terminate(pod);
    }

    @Override
    public String toString() {
      return pod + "'s SIP Server container terminates (exit code 137)";
    }
  }

  record PodDeleted(String pod) implements Step {
    @Override
    public String apply(World w) {
      return w.deletePod(pod);
    }

    @Override
    public String toString() {
      return pod + " is deleted";
    }
  }

  /** The StatefulSet creates the pod again (deleting the old one first if it still exists). */
  record PodRecreated(String pod, String node, boolean ready) implements Step {
    @Override
    public String apply(World w) {
      return w.recreatePod(pod, node, ready);
    }

    @Override
    public String toString() {
      return pod + " is recreated on " + node + (ready ? " and is Ready" : ", not Ready yet");
    }
  }

  record Partition(String node) implements Step {
    @Override
    public String apply(World w) {
      return w.partition(node, true);
    }

    @Override
    public String toString() {
      return node + " is partitioned from the API (its host keeps its VIP and keeps serving)";
    }
  }

  /** The node is cut off from the API and from the other nodes: its agent cannot ask its peers. */
  record Isolate(String node) implements Step {
    @Override
    public String apply(World w) {
      return w.isolate(node);
    }

    @Override
    public String toString() {
      return node
          + " is isolated: cut off from the API and from the other nodes (its host keeps its VIP)";
    }
  }

  /**
   * The signalling network between the hosts is cut (or mended): the agents' peer heartbeats are
   * lost, while every host still reaches the API.
   */
  record SignallingCut(boolean on) implements Step {
    @Override
    public String apply(World w) {
      return w.signallingCut(on);
    }

    @Override
    public String toString() {
      return on
          ? "the signalling network between the hosts is cut: the agents' peer heartbeats are lost"
          : "the signalling network between the hosts is mended";
    }
  }

  /** The user turns self-fencing on for a pair (spec.failover.fenceAfterSeconds: 2) or off. */
  record SelfFencing(String pair, boolean on) implements Step {
    @Override
    public String apply(World w) {
      return w.selfFencing(pair, on);
    }

    @Override
    public String toString() {
      return on
          ? "the user turns self-fencing on for " + pair + " (spec.failover.fenceAfterSeconds: 2)"
          : "the user turns self-fencing off for " + pair;
    }
  }

  record Heal(String node) implements Step {
    @Override
    public String apply(World w) {
      return w.partition(node, false);
    }

    @Override
    public String toString() {
      return node + "'s partition heals (the API and the other nodes)";
    }
  }

  /** The agent process ends: a crash, a crash in the middle of a script, or a stop on purpose. */
  record AgentCrash(String node, Kind kind) implements Step {
    enum Kind {
      CRASH,
      MID_SCRIPT,
      GRACEFUL
    }

    @Override
    public String apply(World w) {
      SimAgent a = w.agent(node);
      return switch (kind) {
        case CRASH -> {
          boolean was = a.up;
          a.crash();
          yield was
              ? "the agent is gone; the host keeps what it has"
              : "no effect: the agent is not running";
        }
        case MID_SCRIPT -> a.crashMidScript();
        case GRACEFUL ->
            a.up ? "stopped" + a.stopGracefully() : "no effect: the agent is not running";
      };
    }

    @Override
    public String toString() {
      return switch (kind) {
        case CRASH -> node + "'s agent crashes";
        case MID_SCRIPT ->
            node
                + "'s agent runs and crashes right after its script changed the host (before it reports)";
        case GRACEFUL ->
            node
                + "'s agent stops on purpose (a rolling update: it announces its restart in its Lease)";
      };
    }
  }

  record AgentRestart(String node) implements Step {
    @Override
    public String apply(World w) {
      return w.agent(node).restart();
    }

    @Override
    public String toString() {
      return node + "'s agent starts again";
    }
  }

  /**
   * A standby replica takes over; the old leader's plan in flight lands late, after the new one
   * read the API.
   */
  record LeaderChange() implements Step {
    @Override
    public String apply(World w) {
      boolean inFlight = !w.operator.inFlight.isEmpty();
      w.operator.leaderChange();
      return inFlight
          ? "a new leader starts; the old one's writes in flight will land late"
          : "a new leader starts";
    }

    @Override
    public String toString() {
      return "another replica becomes the leader (the old leader's writes in flight land late)";
    }
  }

  record OperatorCrash() implements Step {
    @Override
    public String apply(World w) {
      boolean inFlight = !w.operator.inFlight.isEmpty();
      w.operator.crash();
      return inFlight ? "down; its plan in flight is lost" : "down";
    }

    @Override
    public String toString() {
      return "the operator crashes (a plan in flight is lost; the next reconcile is a new process)";
    }
  }

  /** The host's VIP scripts fail (exit 2), optionally after changing the host; or work again. */
  record ScriptFail(String node, boolean on, boolean afterChange) implements Step {
    @Override
    public String apply(World w) {
      return w.scriptFault(
          node,
          !on
              ? SimAgent.Fault.NONE
              : afterChange ? SimAgent.Fault.FAIL_AFTER_CHANGE : SimAgent.Fault.FAIL);
    }

    @Override
    public String toString() {
      return !on
          ? node + "'s VIP scripts work again"
          : node
              + "'s VIP scripts fail with exit code 2"
              + (afterChange ? " after changing the host" : "");
    }
  }

  /** The host's VIP scripts hang until killed at the timeout; or work again. */
  record ScriptHang(String node, boolean on, boolean afterChange) implements Step {
    @Override
    public String apply(World w) {
      return w.scriptFault(
          node,
          !on
              ? SimAgent.Fault.NONE
              : afterChange ? SimAgent.Fault.HANG_AFTER_CHANGE : SimAgent.Fault.HANG);
    }

    @Override
    public String toString() {
      return !on
          ? node + "'s VIP scripts no longer hang"
          : node
              + "'s VIP scripts hang until killed at the "
              + World.SCRIPT_TIMEOUT.toSeconds()
              + " s timeout"
              + (afterChange ? ", after changing the host" : "");
    }
  }

  /**
   * A process's watches stay connected but deliver nothing (a lagging or stuck informer), or
   * deliver again: the operator then reads what it had and hears no renewal; an agent acts on what
   * its informers hold (neither can tell).
   */
  record CacheLag(String process, boolean on) implements Step {
    @Override
    public String apply(World w) {
      if ("operator".equals(process)) {
        return w.operator.lag(on);
      }
      SimAgent a = w.agent(process);
      boolean was = a.lagging;
      a.lagging = on;
      return was == on
          ? "no effect"
          : on ? "its watches deliver nothing from now on" : "its watches deliver again";
    }

    @Override
    public String toString() {
      return on
          ? process + "'s watches stay connected but deliver nothing (its caches lag the API)"
          : process + "'s watches deliver again";
    }
  }

  record ApiConflict() implements Step {
    @Override
    public String apply(World w) {
      w.operator.nextWriteFault = SimOperator.ApiFault.CONFLICT_409;
      return "armed";
    }

    @Override
    public String toString() {
      return "the API answers the operator's next write with 409 Conflict";
    }
  }

  record ApiError() implements Step {
    @Override
    public String apply(World w) {
      w.operator.nextWriteFault = SimOperator.ApiFault.ERROR_500;
      return "armed";
    }

    @Override
    public String toString() {
      return "the API answers the operator's next write with 500 Internal Server Error";
    }
  }
}
