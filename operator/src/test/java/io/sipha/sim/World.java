package io.sipha.sim;

import io.sipha.api.Condition;
import io.sipha.api.Phase;
import io.sipha.api.SipServerPair;
import io.sipha.api.SipServerPairSpec;
import io.sipha.api.SipServerPairStatus;
import io.sipha.api.VipStatus;
import io.sipha.decision.Conditions;
import io.sipha.decision.PairDecider;
import io.sipha.decision.PairFacts;
import io.sipha.decision.Plan;
import io.sipha.decision.SafetyRules;
import io.sipha.decision.SpecValidator;
import io.sipha.decision.VipReport;
import io.sipha.vip.AllowedCidrs;
import io.sipha.vip.VipAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * The deterministic simulation of three pairs on three hosts: a virtual clock, the API store, the
 * hosts (node-a, node-b, node-c) with their node agents, and the operator. Each node runs a server
 * of two pairs (pair-1 on node-a and node-b, pair-2 on node-b and node-c, pair-3 on node-c and
 * node-a), and a user may point one pair's VIP at another's. Nothing runs by itself except the
 * agents' heartbeats while the clock advances; every other action is a {@link Step}. After every
 * step the safety invariants are checked ({@link #checkInvariants}); {@link #healAndConverge}
 * repairs every fault and checks that each pair has one primary holding its VIP within {@link
 * #CONVERGENCE_BOUND}.
 */
final class World {
  static final Instant T0 = Instant.parse("2030-01-01T00:00:00Z");
  static final List<String> NODES = List.of("node-a", "node-b", "node-c");

  /** A pair as the world creates it: its two servers on their home nodes and its own address. */
  record PairSetup(String name, List<String> servers, List<String> homes, String address) {
    String key() {
      return ApiStore.key(name);
    }
  }

  static final List<PairSetup> PAIRS =
      List.of(
          new PairSetup(
              "pair-1", List.of("sip-0", "sip-1"), List.of("node-a", "node-b"), "192.0.2.10"),
          new PairSetup(
              "pair-2", List.of("sip-2", "sip-3"), List.of("node-b", "node-c"), "192.0.2.20"),
          new PairSetup(
              "pair-3", List.of("sip-4", "sip-5"), List.of("node-c", "node-a"), "192.0.2.30"));

  /** The addresses a user may give a pair: the three pairs' own, and a free one. */
  static final List<String> ADDRESSES =
      List.of("192.0.2.10", "192.0.2.20", "192.0.2.30", "192.0.2.40");

  /** pair-1's servers (the scenarios are about pair-1; the other pairs run beside it). */
  static final List<String> SERVERS = PAIRS.get(0).servers();

  static final int PREFIX = 24;
  static final String INTERFACE = "eth0";

  /** The agent's defaults (sipha agent --renew-ms, --resync-ms, --script-timeout-ms). */
  static final Duration RENEW_EVERY = Duration.ofSeconds(1);

  static final Duration RESYNC_EVERY = Duration.ofSeconds(5);
  static final Duration SCRIPT_TIMEOUT = Duration.ofSeconds(10);
  static final Duration NODE_LOSS = Duration.ofSeconds(3);

  /** The agent's default silence budget of the peer channel (sipha agent --peer-silent-ms). */
  static final Duration PEER_SILENT = Duration.ofMillis(300);

  /**
   * The heal phase runs rounds of: 500 ms pass, every agent runs, the operator reconciles every
   * pair.
   */
  static final Duration HEAL_ROUND = Duration.ofMillis(500);

  /**
   * Once every fault is repaired, each pair has one primary holding its VIP within this much
   * virtual time: a script that hung just before the repair is killed at its timeout (10 s), the
   * agent's drift check runs every 5 s, a node is declared lost after nodeLossSeconds (3 s), two
   * heal rounds (1 s) for the remaining confirm-then-bind hand-over, and two more for a VIP that
   * moves back to its own pair once the pair that took it meanwhile has let it go (the user's
   * correction at the heal).
   */
  static final Duration CONVERGENCE_BOUND =
      SCRIPT_TIMEOUT.plus(RESYNC_EVERY).plus(NODE_LOSS).plusSeconds(2);

  /** Rounds the converged state must hold unchanged after it is first reached. */
  static final int STABLE_ROUNDS = 4;

  // the invariants, by name
  static final String ONE_PRIMARY = "at most one pod primary at the current epoch";
  static final String EPOCH_GROWS = "the epoch never decreases";
  static final String VIP_ONE_HOST = "no address on two hosts that can reach the API";
  static final String VIP_AFTER_RELEASE =
      "the VIP is enabled only after the previous holder confirmed its release or was declared lost";
  static final String ONE_GRANTEE = "one node is granted the VIP per epoch";
  static final String ONE_PAIR_PER_ADDRESS = "no address granted to two pairs";
  static final String INVALID_REFUSED =
      "an invalid spec is refused with a condition that names the field";
  static final String CONVERGES =
      "once faults heal, each pair has a single primary holding its VIP within the bound";
  static final String STAYS = "once converged, the pairs stay converged";
  static final String SWITCHOVER_ANSWERED =
      "every switchover request is completed or refused with a reason";

  /**
   * Known bugs the property tolerates by default, each narrowly (see docs/reliability.md, "Known
   * bugs"): {@code pod-epoch} (a pod's epoch goes back to the status's after a status write was
   * lost behind its role writes), {@code fenced-holder} (the holder's own node left in
   * status.fenced blocks every switchover request), {@code probe-unbound} (the agent keeps an
   * Unbound report when its start-up vip-status fails; tolerated by simulating the proposed fix),
   * {@code fenced-returned} (for the maintainers to decide: the release does not wait for a node
   * fenced earlier in the transition that is alive again). Empty: every invariant is strict.
   */
  static final String KNOWN_BUGS = "";

  /**
   * The tolerated bugs: the system property {@code sipha.sim.tolerate} (a comma list), else {@link
   * #KNOWN_BUGS}.
   */
  static final Set<String> TOLERATED =
      Set.of(System.getProperty("sipha.sim.tolerate", KNOWN_BUGS).split(","));

  /** An invariant broken. */
  static final class Violation extends AssertionError {
    final String invariant;

    Violation(String invariant, String message) {
      super(message, null);
      this.invariant = invariant;
    }
  }

  /** What the operator decided when it first granted a pair's VIP to a node at an epoch. */
  record Grant(String node, SafetyRules.GrantWitness saw, Set<String> fenced, int step) {}

  /** What the user asked of one pair, and the invariants' memory of it. */
  static final class PairState {
    final PairSetup setup;

    /** spec.paused as the user last set it (kept across the user's other edits). */
    boolean paused;

    /** spec.failback as the user last set it: Automatic with a 2 s delay, or Manual. */
    boolean automaticFailback;

    /** spec.virtualIP.address as the user last set it. */
    String address;

    /** spec.failover.fenceAfterSeconds: 2 (self-fencing on, below nodeLossSeconds) or off. */
    boolean selfFencing;

    /** The last valid spec.primary the user asked for, and the field an invalid edit broke. */
    String lastValidPrimary;

    /**
     * The user's last request came after an acknowledgement of a failover (spec.primary set to the
     * current primary first): FailbackPending is then no answer to it.
     */
    boolean acknowledged;

    String invalidField;
    long highestStatusEpoch;
    final Map<Long, Grant> grants = new HashMap<>();

    PairState(PairSetup setup) {
      this.setup = setup;
      this.address = setup.address();
      this.lastValidPrimary = setup.servers().get(0);
    }
  }

  Instant now = T0;
  final ApiStore api = new ApiStore();
  final Map<String, SimAgent> agents = new LinkedHashMap<>();
  final SimOperator operator;

  /** The addresses on each host (canonical address text). */
  private final Map<String, Set<String>> hostVips = new TreeMap<>();

  /** The node each server pod was last created on (the heal phase recreates it there). */
  private final Map<String, String> lastNode = new HashMap<>();

  final Map<String, PairState> pairs = new LinkedHashMap<>();
  private final Map<String, String> pairOfPod = new HashMap<>();

  // invariant memory
  private final Map<String, Long> podEpochs = new HashMap<>();
  private final List<String[]> violations = new ArrayList<>();

  // the trace
  private final List<String> trace = new ArrayList<>();
  private int stepIndex;
  private String stepText = "start";

  // statistics
  boolean sawSplitBrain;
  boolean sawFenced;

  /** A node was declared lost while its Lease was fresh: on its peer's word and the probe's. */
  boolean sawPeerLoss;

  /** A node whose Lease ran out was vouched for by its peer (NodeContact ApiContactLost). */
  boolean sawVouched;

  boolean sawAbort;
  boolean sawFailedWrite;
  boolean sawTwoHolders;
  boolean sawContestedVip;
  boolean sawSelfFence;
  long maxEpoch;
  Duration convergedAfter;

  /** The known bugs this world tolerates. */
  private final Set<String> tolerated;

  World() {
    this(PairDecider::decide, TOLERATED);
  }

  /**
   * A world whose operator decides with {@code decider} (the real one, or a broken one in a test),
   * tolerating the {@code tolerated} known bugs.
   */
  World(Function<PairFacts, Plan> decider, Set<String> tolerated) {
    this.tolerated = tolerated;
    operator = new SimOperator(this, decider);
    int age = 60;
    for (PairSetup ps : PAIRS) {
      PairState state = new PairState(ps);
      pairs.put(ps.name(), state);
      api.create(
          ps.name(),
          userSpec(state, ps.servers().get(0), (int) NODE_LOSS.toSeconds()),
          T0.minusSeconds(age));
      age -= 10;
      for (int i = 0; i < 2; i++) {
        api.createPod(ps.servers().get(i), ps.homes().get(i), true, T0.minusSeconds(60));
        lastNode.put(ps.servers().get(i), ps.homes().get(i));
        pairOfPod.put(ps.servers().get(i), ps.name());
      }
    }
    int phase = 0;
    for (String n : NODES) {
      SimAgent a = new SimAgent(n, this);
      agents.put(n, a);
      hostVips.put(n, new TreeSet<>());
      a.nextRenew = T0;
      a.nextResync = T0.plus(RESYNC_EVERY);
      a.heartbeat();
      a.nextRenew = T0.plusMillis(phase); // the agents' heartbeats are not in step
      phase += 330;
    }
    operator.start();
  }

  /**
   * Every pair's first election completed: its first server primary at epoch 1, VIP Bound (pair-1:
   * sip-0 on node-a).
   */
  static World active() {
    return active(PairDecider::decide);
  }

  static World active(Function<PairFacts, Plan> decider) {
    return active(decider, TOLERATED);
  }

  static World active(Function<PairFacts, Plan> decider, Set<String> tolerated) {
    World w = new World(decider, tolerated);
    for (int i = 0; i < 20 && !w.converged(); i++) {
      w.operator.reconcileAll();
      w.agents.values().forEach(SimAgent::run);
      w.advance(Duration.ofMillis(100));
      w.checkInvariants();
    }
    for (PairSetup ps : PAIRS) {
      SipServerPairStatus st = w.api.pair(ps.name()).status;
      if (!w.converged()
          || st == null
          || !ps.servers().get(0).equals(st.primary)
          || st.epoch != 1) {
        throw new IllegalStateException(
            ps.name() + " did not become Active at epoch 1:\n" + w.state());
      }
    }
    w.trace.add("start: " + w.summary());
    return w;
  }

  /** A new operator process: what the one before saw go by is gone with it. */
  void operatorRestarted() {
    pairs.values().forEach(ps -> ps.acknowledged = false);
  }

  /** pair-1's status (the scenarios' pair). */
  SipServerPairStatus status() {
    return status("pair-1");
  }

  SipServerPairStatus status(String pair) {
    return api.pair(pair).status;
  }

  /** The pairs' keys (namespace/name), oldest first. */
  List<String> pairKeys() {
    return api.pairs.values().stream().map(p -> p.key).toList();
  }

  /** The pair a server pod belongs to. */
  String pairOfPod(String pod) {
    return pairOfPod.get(pod);
  }

  // ------------------------------------------------------------------ running steps

  /** Runs the steps, checking the invariants after each one. */
  void run(List<Step> steps) {
    for (Step s : steps) {
      step(s);
    }
  }

  void step(Step s) {
    stepIndex++;
    stepText = s.toString();
    String effect = s.apply(this);
    trace.add(
        String.format(
            "%3d. %s%n       -> %s%n       => %s", stepIndex, stepText, effect, summary()));
    checkInvariants();
  }

  /** Advances the virtual clock; the agents' heartbeats run on the way (every 100 ms). */
  void advance(Duration d) {
    Instant end = now.plus(d);
    while (now.isBefore(end)) {
      Instant next = now.plusMillis(100);
      now = next.isAfter(end) ? end : next;
      peerTick();
      agents.values().forEach(SimAgent::heartbeat);
    }
  }

  // ------------------------------------------------------------------ the peer path

  /**
   * The signalling network between the hosts is cut: the agents' peer heartbeats are lost (every
   * one; a message that arrives late or forged is dropped by the channel before it is heard, which
   * {@code peer/PeerChannelTest} shows, so for the world it is lost too).
   */
  boolean signallingCut;

  /** When each agent last took a heartbeat of each other agent: listener → speaker → time. */
  final Map<String, Map<String, Instant>> heardAt = new TreeMap<>();

  /** The operator's probe of each agent: its last answer, and when it was first asked. */
  final Map<String, Instant> probeAnswered = new TreeMap<>();

  final Map<String, Instant> probeAsked = new TreeMap<>();

  String signallingCut(boolean cut) {
    if (signallingCut == cut) {
      return "no effect";
    }
    signallingCut = cut;
    return cut
        ? "the agents' peer heartbeats are lost (the hosts still reach the API and the clients)"
        : "the agents hear each other again";
  }

  /**
   * One tick of the peer path: every agent that runs and has reached the API since its start (it
   * learns its peers there) heartbeats the others over the signalling network, and the operator's
   * probe asks every agent over the management network (the API's path: a partitioned node's agent
   * does not answer it).
   */
  private void peerTick() {
    for (SimAgent x : agents.values()) {
      for (SimAgent y : agents.values()) {
        if (x != y && !signallingCut && x.onSignalling() && y.onSignalling()) {
          heardAt.computeIfAbsent(x.node, k -> new TreeMap<>()).put(y.node, now);
        }
      }
    }
    if (!operator.up) {
      // a new operator process starts with no probe record (AgentProbes is in memory)
      probeAnswered.clear();
      probeAsked.clear();
      return;
    }
    for (SimAgent a : agents.values()) {
      probeAsked.putIfAbsent(a.node, now);
      if (a.up && !a.partitioned && !a.isolated) {
        probeAnswered.put(a.node, now);
      }
    }
  }

  /** The nodes that have an agent. */
  java.util.Set<String> agentNodes() {
    return agents.keySet();
  }

  /** What the operator's probe says of a node's agent now (the product's rule). */
  io.sipha.decision.AgentProbe probe(String node) {
    Instant asked = probeAsked.get(node);
    return asked == null
        ? io.sipha.decision.AgentProbe.UNKNOWN
        : io.sipha.decision.AgentProbe.view(
            node, probeAnswered, asked, now, io.sipha.decision.AgentProbe.GONE_AFTER);
  }

  boolean tolerates(String knownBug) {
    return tolerated.contains(knownBug);
  }

  SimAgent agent(String node) {
    return agents.get(node);
  }

  // ------------------------------------------------------------------ user and Kubernetes actions

  /** A spec the user writes: with what they set before (paused, failback, the address) kept. */
  private static SipServerPairSpec userSpec(PairState ps, String primary, int nodeLossSeconds) {
    SipServerPairSpec next =
        ApiStore.spec(
            ps.setup.servers(),
            primary,
            new io.sipha.api.VirtualIp(ps.address, PREFIX, INTERFACE),
            nodeLossSeconds);
    next.setPaused(ps.paused);
    if (ps.selfFencing) {
      next.getFailover().setFenceAfterSeconds(2);
    }
    if (ps.automaticFailback) {
      next.setFailback(io.sipha.api.FailbackMode.Automatic);
      next.getFailover().setFailbackDelaySeconds(2);
    }
    return next;
  }

  private String edit(String pair, SipServerPairSpec next) {
    ApiStore.PairObject o = api.pair(pair);
    String before = o.spec.getPrimary();
    o.editSpec(next);
    operator.specChanged(pair, before, next.getPrimary());
    return "(" + pair + " generation " + o.generation + ")";
  }

  private String rewrite(String pair) {
    PairState ps = pairs.get(pair);
    SipServerPairSpec spec = api.pair(pair).spec;
    return edit(pair, userSpec(ps, spec.getPrimary(), spec.getFailover().getNodeLossSeconds()));
  }

  String pause(String pair, boolean on) {
    pairs.get(pair).paused = on;
    return pair + " spec.paused = " + on + " " + rewrite(pair);
  }

  String failback(String pair, boolean automatic) {
    pairs.get(pair).automaticFailback = automatic;
    return pair
        + " spec.failback = "
        + (automatic ? "Automatic (delay 2 s)" : "Manual")
        + " "
        + rewrite(pair);
  }

  String selfFencing(String pair, boolean on) {
    pairs.get(pair).selfFencing = on;
    return pair
        + " spec.failover.fenceAfterSeconds = "
        + (on ? "2" : "unset")
        + " "
        + rewrite(pair);
  }

  /** The node is cut off from the API and from the other nodes (its peers' agents), or heals. */
  String isolate(String node) {
    SimAgent a = agent(node);
    String said = a.partitioned ? "no effect on its API contact" : partition(node, true);
    a.isolated = true;
    return said + "; its agent cannot reach the other agents either";
  }

  /** The user points a pair's VIP at another address (perhaps another pair's). */
  String changeVip(String pair, String address) {
    PairState ps = pairs.get(pair);
    ps.address = address;
    String other =
        pairs.values().stream()
            .filter(o -> o != ps && address.equals(o.address))
            .map(o -> o.setup.name())
            .findFirst()
            .orElse(null);
    if (other != null) {
      sawContestedVip = true;
    }
    return pair
        + " spec.virtualIP.address = "
        + address
        + (other == null ? "" : " (" + other + "'s address)")
        + " "
        + rewrite(pair);
  }

  /** The user asks for a switchover: the pair whose server {@code to} is gets spec.primary = to. */
  String switchOver(String to) {
    String pair = pairOfPod(to);
    PairState ps = pairs.get(pair);
    ps.lastValidPrimary = to;
    ps.invalidField = null;
    ps.acknowledged = false;
    return pair
        + " spec.primary = "
        + to
        + " "
        + edit(pair, userSpec(ps, to, (int) NODE_LOSS.toSeconds()));
  }

  /**
   * The documented way back after a failover with failback Manual: spec.primary set to the current
   * primary (the acknowledgement), then to {@code to}, both before the operator reconciles.
   */
  String acknowledgeThenSwitchOver(String to) {
    String pair = pairOfPod(to);
    PairState ps = pairs.get(pair);
    SipServerPairStatus st = status(pair);
    if (st == null || st.primary == null || st.primary.equals(to)) {
      return "no effect: " + to + " is primary, or there is none to acknowledge";
    }
    String current = st.primary;
    String before = api.pair(pair).spec.getPrimary();
    // the documented protocol: after a failover, at rest, spec.primary still names the failed
    // server (FailbackPending); setting it to the current primary acknowledges. The operator knows
    // of it only if its informer saw the two edits go by (a process that is down or whose watches
    // deliver nothing relists later and sees only the last). Otherwise two plain edits.
    boolean protocol =
        st.transition == null
            && !current.equals(before)
            && before != null
            && before.equals(st.acceptedPrimary);
    edit(pair, userSpec(ps, current, (int) NODE_LOSS.toSeconds()));
    ps.lastValidPrimary = to;
    ps.invalidField = null;
    ps.acknowledged = protocol && operator.watching();
    return pair
        + " spec.primary = "
        + current
        + " (acknowledged), then "
        + to
        + " "
        + edit(pair, userSpec(ps, to, (int) NODE_LOSS.toSeconds()));
  }

  String invalidSwitchOver(String pair, boolean unknownPod) {
    PairState ps = pairs.get(pair);
    SipServerPairSpec next;
    if (unknownPod) {
      next = userSpec(ps, "sip-7", (int) NODE_LOSS.toSeconds());
      ps.invalidField = "spec.primary";
    } else {
      next = userSpec(ps, api.pair(pair).spec.getPrimary(), 1);
      ps.invalidField = "spec.failover.nodeLossSeconds";
    }
    return pair + "'s spec is invalid (" + ps.invalidField + ") " + edit(pair, next);
  }

  String setReady(String pod, boolean ready) {
    ApiStore.Pod p = api.pods.get(pod);
    if (p == null) {
      return "no effect: " + pod + " does not exist";
    }
    if (ready) {
      p.terminated = null;
    }
    if (p.ready != ready) {
      p.ready = ready;
      p.readySince = kubeletNow(p.node);
    }
    p.version = api.nextVersion();
    return pod
        + (ready ? " Ready" : " NotReady")
        + " since "
        + t(p.readySince)
        + " (its kubelet's clock)";
  }

  String terminate(String pod) {
    ApiStore.Pod p = api.pods.get(pod);
    if (p == null) {
      return "no effect: " + pod + " does not exist";
    }
    p.terminated = "container sip-server terminated (Error, exit code 137)";
    if (p.ready) {
      p.ready = false;
      p.readySince = kubeletNow(p.node);
    }
    p.version = api.nextVersion();
    return pod + " failed";
  }

  /**
   * The time on a node's clock: its kubelet writes the Ready condition's lastTransitionTime with
   * it.
   */
  private Instant kubeletNow(String node) {
    SimAgent a = agents.get(node);
    return a == null ? now : now.plus(a.clockSkew);
  }

  String deletePod(String pod) {
    return api.pods.remove(pod) == null
        ? "no effect: " + pod + " does not exist"
        : pod + " is gone";
  }

  String recreatePod(String pod, String node, boolean ready) {
    boolean existed = api.pods.remove(pod) != null;
    ApiStore.Pod p = api.createPod(pod, node, ready, kubeletNow(node));
    lastNode.put(pod, node);
    return (existed ? "the old " + pod + " is deleted; " : "")
        + pod
        + " ("
        + p.uid
        + ") runs on "
        + node
        + (ready ? ", Ready" : ", not Ready yet")
        + ", without role annotations";
  }

  String partition(String node, boolean cut) {
    SimAgent a = agent(node);
    if (!cut) {
      a.isolated = false;
    }
    if (a.partitioned == cut) {
      return "no effect";
    }
    a.partition(cut);
    if (cut) {
      a.inContact = false;
      return node
          + " cannot reach the API"
          + (hostVips.get(node).isEmpty() ? "" : "; its host keeps " + hostVips.get(node));
    }
    return node + " reaches the API again";
  }

  String scriptFault(String node, SimAgent.Fault fault) {
    SimAgent a = agent(node);
    a.fault = fault;
    if (fault != SimAgent.Fault.NONE) {
      a.inContact = false;
    }
    return node + " scripts: " + fault;
  }

  // ------------------------------------------------------------------ hosts

  /** A host adds a pair's VIP (vip-enable ran on it). */
  void hostBinds(String node, String pairKey, VipAddress vip, long epoch, boolean fromFrozenCache) {
    Set<String> here = hostVips.get(node);
    if (!here.add(vip.host())) {
      return;
    }
    List<String> others =
        hostVips.entrySet().stream()
            .filter(e -> e.getValue().contains(vip.host()) && !e.getKey().equals(node))
            .map(Map.Entry::getKey)
            .toList();
    if (!others.isEmpty()) {
      sawTwoHolders = true;
    }
    if (fromFrozenCache) {
      return; // a partitioned agent acting on what it saw last: the seed accepts it until it heals
    }
    if (agent(node).mustSee.containsKey(pairKey)) {
      // acting on a read from before a grant that declared this node lost (a write in flight
      // landed after it): a stale holder, as one that never dropped the VIP, until it sees it
      return;
    }
    checkVipEnabledOnlyAfterReleaseOrLoss(
        pairKey.substring(pairKey.indexOf('/') + 1), node, vip, epoch, others);
  }

  void hostReleases(String node, VipAddress vip) {
    hostVips.get(node).remove(vip.host());
  }

  boolean hostHas(String node, VipAddress vip) {
    return hostVips.get(node).contains(vip.host());
  }

  /** The addresses on a host. */
  Set<String> hostVips(String node) {
    return Set.copyOf(hostVips.get(node));
  }

  /** The hosts that hold pair-1's address. */
  List<String> vipHosts() {
    return vipHosts("pair-1");
  }

  /** The hosts that hold the address the pair's spec names. */
  List<String> vipHosts(String pair) {
    String host = VipAddress.canonicalHost(api.pair(pair).spec.getVirtualIP().getAddress());
    return hostVips.entrySet().stream()
        .filter(e -> e.getValue().contains(host))
        .map(Map.Entry::getKey)
        .toList();
  }

  // ------------------------------------------------------------------ the operator's status writes

  /** Called by the operator model when a pair's status write lands. */
  void statusWritten(String pair, PairFacts facts, SipServerPairStatus st) {
    maxEpoch = Math.max(maxEpoch, st.epoch);
    if (Conditions.isTrue(st.conditions, Conditions.SPLIT_BRAIN)) {
      sawSplitBrain = true;
    }
    if (!st.fenced.isEmpty()) {
      sawFenced = true;
      for (io.sipha.api.FencedHolder f : st.fenced) {
        io.sipha.decision.AgentFact a = facts.agents().get(f.node);
        if (a != null
            && a.renewedAt() != null
            && a.renewedAt().plus(NODE_LOSS).isAfter(facts.now())) {
          sawPeerLoss = true; // declared lost while its Lease was fresh: the peer path
        }
      }
    }
    if (Conditions.find(st.conditions, Conditions.NODE_CONTACT)
        .filter(c -> "ApiContactLost".equals(c.reason))
        .isPresent()) {
      sawVouched = true;
    }
    if (facts.status() != null
        && facts.status().transition != null
        && st.transition != null
        && facts.status().transition.epoch != st.transition.epoch) {
      sawAbort = true;
    }
    PairState ps = pairs.get(pair);
    Condition refused = Conditions.find(st.conditions, Conditions.SWITCHOVER_REFUSED).orElse(null);
    if (ps.acknowledged
        && ((st.transition == null && ps.lastValidPrimary.equals(st.primary))
            || (refused != null
                && "True".equals(refused.status)
                && refused.message != null
                && refused.message.contains(
                    "spec.primary asks for " + ps.lastValidPrimary + " ")))) {
      ps.acknowledged =
          false; // the request after the acknowledgement is answered: what follows is judged as
      // usual
    }
    checkOneNodeGrantedPerEpoch(pair, facts, st);
    checkNoAddressGrantedToTwoPairs(pair, st);
    checkInvalidSpecIsRefused(pair, facts, st);
  }

  // ================================================================== invariants

  /** Every safety invariant, after every step. */
  void checkInvariants() {
    if (!violations.isEmpty()) { // found during the step: at a VIP bind or a status write
      String[] v = violations.get(0);
      violations.clear();
      fail(v[0], v[1]);
    }
    for (String pair : pairs.keySet()) {
      checkAtMostOnePrimaryAtTheCurrentEpoch(pair);
    }
    checkTheEpochNeverDecreases();
    checkNoAddressOnTwoHostsInContact();
  }

  /** No two pods of the pair carry role primary at one epoch (the status's, or any other). */
  void checkAtMostOnePrimaryAtTheCurrentEpoch(String pair) {
    Map<String, Long> primaries = new LinkedHashMap<>();
    for (String name : pairs.get(pair).setup.servers()) {
      ApiStore.Pod p = api.pods.get(name);
      if (p != null
          && SipServerPair.ROLE_PRIMARY.equals(p.annotations.get(SipServerPair.ROLE_ANNOTATION))) {
        primaries.put(p.name, epochOf(p));
      }
    }
    SafetyRules.sharedPrimaryEpochs(primaries)
        .forEach(
            (e, pods) -> fail(ONE_PRIMARY, pair + ": " + pods + " are all primary at epoch " + e));
  }

  /**
   * Each pair's status epoch never decreases, nor does the epoch annotation of a pod (same uid).
   */
  void checkTheEpochNeverDecreases() {
    for (PairState ps : pairs.values()) {
      SipServerPairStatus st = status(ps.setup.name());
      long e = st == null ? 0 : st.epoch;
      if (e < ps.highestStatusEpoch) {
        fail(
            EPOCH_GROWS,
            ps.setup.name() + ": status.epoch went from " + ps.highestStatusEpoch + " to " + e);
      }
      ps.highestStatusEpoch = e;
    }
    for (ApiStore.Pod p : api.pods.values()) {
      SipServerPairStatus st = status(pairOfPod(p.name));
      Long now = epochOf(p);
      Long before = podEpochs.get(p.uid);
      boolean knownBug =
          tolerates("pod-epoch")
              && before != null
              && now != null
              && st != null
              && now == st.epoch
              && before > st.epoch; // re-asserted below an epoch a lost write left
      if (before != null && (now == null || now < before) && !knownBug) {
        fail(
            EPOCH_GROWS,
            "pod "
                + p.name
                + " ("
                + p.uid
                + ") had sipha.io/epoch "
                + before
                + " and now has "
                + now);
      }
      if (now != null) {
        podEpochs.put(p.uid, now);
      }
    }
  }

  /**
   * No address is on two hosts among those in contact with the API, whichever pairs put it there. A
   * host is out of contact while it is partitioned, its agent is down or starting, its scripts fail
   * or hang, and until its agent has run once completely after that (a host that heals keeps a
   * stale VIP until its agent has run: the seed accepts that; after that run the duplicate must be
   * gone).
   */
  void checkNoAddressOnTwoHostsInContact() {
    Map<String, List<String>> holders = new TreeMap<>();
    hostVips.forEach(
        (n, addresses) -> {
          if (agent(n).inContact) {
            addresses.forEach(a -> holders.computeIfAbsent(a, x -> new ArrayList<>()).add(n));
          }
        });
    holders.forEach(
        (address, hosts) -> {
          if (hosts.size() > 1) {
            fail(
                VIP_ONE_HOST,
                hosts + " hold " + address + " and their agents are in contact with the API");
          }
        });
  }

  /**
   * When a host in contact with the API enables a pair's VIP, every other host that holds that
   * address was either declared lost or had confirmed its release at that epoch, in the decision
   * that granted the VIP at that epoch (the design's rule: "enabled on a node only after the
   * previous holder confirmed it is disabled, or after that holder's node is declared lost"). A
   * host holding it for another pair is neither: the address is taken from under that pair.
   */
  private void checkVipEnabledOnlyAfterReleaseOrLoss(
      String pair, String node, VipAddress vip, long epoch, List<String> otherHolders) {
    Grant g = pairs.get(pair).grants.get(epoch);
    if (g == null || !g.node().equals(node)) {
      violations.add(
          new String[] {
            VIP_AFTER_RELEASE,
            pair
                + ": "
                + node
                + " enabled "
                + vip.cidr()
                + " at epoch "
                + epoch
                + " but the grant at that epoch is "
                + g
          });
      return;
    }
    for (String o : otherHolders) {
      // to decide: a node fenced (declared lost) earlier in this transition that is alive again at
      // the
      // grant, with a report older than its own last grant, is not waited for (docs/reliability.md)
      boolean toDecide = tolerates("fenced-returned") && g.fenced().contains(o);
      if (!g.saw().clears(o) && !toDecide) {
        violations.add(
            new String[] {
              VIP_AFTER_RELEASE,
              pair
                  + ": "
                  + node
                  + " enabled "
                  + vip.cidr()
                  + " at epoch "
                  + epoch
                  + " while "
                  + o
                  + " holds it; the decision at step "
                  + g.step()
                  + " that granted it saw "
                  + o
                  + " alive and not confirmed (lost: "
                  + g.saw().lost()
                  + ", confirmed: "
                  + g.saw().confirmed()
                  + ", fenced: "
                  + g.fenced()
                  + ")"
            });
      }
    }
  }

  /**
   * Each epoch grants a pair's VIP (Binding or Bound) to one node only; records what the grant saw.
   */
  private void checkOneNodeGrantedPerEpoch(String pair, PairFacts facts, SipServerPairStatus st) {
    if (st.primary == null || !SafetyRules.grantsVip(st)) {
      return;
    }
    Map<Long, Grant> grants = pairs.get(pair).grants;
    Grant g = grants.get(st.epoch);
    if (g == null) {
      var saw = SafetyRules.GrantWitness.of(facts, st.epoch, NODES);
      Set<String> fenced =
          st.fenced.stream().map(f -> f.node).collect(Collectors.toCollection(TreeSet::new));
      grants.put(st.epoch, new Grant(st.vip.node, saw, fenced, stepIndex));
      // a host the grant declared lost may still hold the VIP (it came back while the plan was in
      // flight, or it is still cut off): it is out of contact until its agent has seen this grant
      // (acted on a read that shows it: a fresh read from before it does not count)
      saw.lost()
          .forEach(
              n -> {
                agent(n).inContact = false;
                agent(n).mustSee.merge(ApiStore.key(pair), st.epoch, Math::max);
              });
    } else if (!g.node().equals(st.vip.node)) {
      violations.add(
          new String[] {
            ONE_GRANTEE,
            pair
                + ": epoch "
                + st.epoch
                + " granted it to "
                + g.node()
                + " at step "
                + g.step()
                + " and now to "
                + st.vip.node
          });
    }
  }

  /**
   * A status that grants an address (Binding or Bound) is written only while no other pair's status
   * holds that address (granted, binding, bound, being released, or up on a node it declared lost).
   */
  private void checkNoAddressGrantedToTwoPairs(String pair, SipServerPairStatus st) {
    if (st.vip == null
        || st.vip.address == null
        || !(st.vip.state == VipStatus.State.Binding || st.vip.state == VipStatus.State.Bound)) {
      return;
    }
    String host = VipAddress.canonicalHost(st.vip.address);
    for (ApiStore.PairObject o : api.pairs.values()) {
      if (!o.name.equals(pair)
          && host != null
          && host.equals(io.sipha.kube.Facts.heldHost(o.resource()))) {
        violations.add(
            new String[] {
              ONE_PAIR_PER_ADDRESS,
              pair
                  + "'s status grants "
                  + st.vip.address
                  + " to "
                  + st.vip.node
                  + " while "
                  + o.name
                  + "'s status holds it ("
                  + o.status.vip.state
                  + " on "
                  + o.status.vip.node
                  + ", fenced "
                  + o.status.fenced.stream().map(f -> f.node).toList()
                  + ")"
            });
      }
    }
  }

  /** A status written while the spec is invalid says Invalid and names the field. */
  private void checkInvalidSpecIsRefused(String pair, PairFacts facts, SipServerPairStatus st) {
    if (SpecValidator.validate(facts.spec(), AllowedCidrs.any(), null).valid()) {
      return;
    }
    Condition ready = Conditions.find(st.conditions, Conditions.READY).orElse(null);
    String invalidField = pairs.get(pair).invalidField;
    String field = invalidField == null ? "spec." : invalidField;
    if (st.phase != Phase.Invalid
        || ready == null
        || !"False".equals(ready.status)
        || ready.message == null
        || !ready.message.contains(field)) {
      violations.add(
          new String[] {
            INVALID_REFUSED,
            pair
                + ": phase "
                + st.phase
                + ", Ready "
                + (ready == null
                    ? "missing"
                    : ready.status + " " + ready.reason + ": " + ready.message)
                + " (expected it to name "
                + field
                + ")"
          });
    }
  }

  // ================================================================== heal and converge

  /**
   * Repairs every fault (partitions, crashed agents and operator, script faults, pending API
   * faults, failed, NotReady and missing pods, an invalid spec, a pair pointed at another's
   * address), then runs heal rounds until each pair has one primary holding its VIP, checking the
   * invariants after each round and the bound at the end.
   */
  void healAndConverge() {
    StringBuilder healed = new StringBuilder();
    operator.nextWriteFault = null;
    if (signallingCut) {
      signallingCut = false;
      healed.append("the agents hear each other again; ");
    }
    if (operator.lagged != null) {
      operator.lag(false);
      healed.append("the operator's watches deliver again; ");
    }
    for (SimAgent a : agents.values()) {
      if (a.partitioned) {
        a.partition(false);
        a.isolated = false;
        healed.append(a.node).append(" reaches the API; ");
      }
      if (a.lagging) {
        a.lagging = false;
        healed.append(a.node).append("'s watch delivers again; ");
      }
      if (a.fault != SimAgent.Fault.NONE) {
        a.fault = SimAgent.Fault.NONE;
        healed.append(a.node).append(" scripts work; ");
      }
      if (!a.up) {
        a.restart();
        healed.append(a.node).append(" agent restarted; ");
      }
    }
    for (PairState ps : pairs.values()) {
      for (String s : ps.setup.servers()) {
        ApiStore.Pod p = api.pods.get(s);
        if (p == null) {
          api.createPod(s, lastNode.get(s), true, kubeletNow(lastNode.get(s)));
          healed.append(s).append(" recreated on ").append(lastNode.get(s)).append("; ");
        } else if (!p.ready || p.terminated != null) {
          setReady(s, true);
          healed.append(s).append(" Ready; ");
        }
      }
    }
    for (PairState ps : pairs.values()) {
      String pair = ps.setup.name();
      boolean edit = false;
      if (ps.paused) {
        ps.paused = false;
        healed.append("the user unpauses ").append(pair).append("; ");
        edit = true;
      }
      if (ps.invalidField != null) {
        healed
            .append("the user corrects ")
            .append(pair)
            .append("'s ")
            .append(ps.invalidField)
            .append(" (spec.primary ")
            .append(ps.lastValidPrimary)
            .append("); ");
        ps.invalidField = null;
        edit = true;
      }
      if (!ps.address.equals(ps.setup.address())) {
        healed
            .append("the user gives ")
            .append(pair)
            .append(" its own address ")
            .append(ps.setup.address())
            .append(" back; ");
        ps.address = ps.setup.address();
        edit = true;
      }
      if (edit) {
        edit(pair, userSpec(ps, ps.lastValidPrimary, (int) NODE_LOSS.toSeconds()));
      }
    }
    trace.add(
        "  --- heal: "
            + (healed.length() == 0 ? "nothing was broken" : healed.toString().strip())
            + " --- then rounds of: 500 ms pass, every agent runs, the operator reconciles every pair");
    stepText = "heal round";
    Instant healedAt = now;
    Instant firstConverged = null;
    String convergedState = null;
    int stable = 0;
    for (int round = 1; stable < STABLE_ROUNDS; round++) {
      stepIndex++;
      stepText = "heal round " + round;
      advance(HEAL_ROUND);
      List<String> said = new ArrayList<>();
      for (SimAgent a : agents.values()) {
        said.add(a.node + ": " + a.run());
      }
      said.add("operator: " + operator.reconcileAll());
      trace.add(
          String.format(
              "  heal round %d (%s after the heal)%n       -> %s%n       => %s",
              round,
              Duration.between(healedAt, now).toMillis() + " ms",
              String.join(" | ", said),
              summary()));
      checkInvariants();
      if (converged()) {
        if (firstConverged == null) {
          firstConverged = now;
          convergedState = convergedKey();
        } else if (!convergedKey().equals(convergedState)) {
          fail(STAYS, "it was " + convergedState + " and is now " + convergedKey());
        }
        stable++;
      } else if (firstConverged != null) {
        fail(
            STAYS,
            "it was converged at "
                + t(firstConverged)
                + " and is not any more: "
                + whyNotConverged());
      } else if (Duration.between(healedAt, now).compareTo(CONVERGENCE_BOUND) > 0) {
        fail(
            CONVERGES,
            "bound "
                + CONVERGENCE_BOUND.toSeconds()
                + " s; after "
                + Duration.between(healedAt, now).toMillis()
                + " ms "
                + whyNotConverged());
      }
    }
    convergedAfter = Duration.between(healedAt, firstConverged);
    checkEverySwitchoverRequestIsAnswered();
  }

  /**
   * Each pair: one primary at the current epoch, its node holds the VIP alone, the status says
   * Active.
   */
  boolean converged() {
    return whyNotConverged() == null;
  }

  String whyNotConverged() {
    for (String pair : pairs.keySet()) {
      String why = whyNotConverged(pair);
      if (why != null) {
        return pair + ": " + why;
      }
    }
    for (SimAgent a : agents.values()) {
      if (!a.inContact) {
        return a.node + "'s agent has not completed a run since the heal";
      }
    }
    // no address left on a host that no pair's status puts there (a VIP changed, a stale copy)
    Map<String, Set<String>> granted = new TreeMap<>();
    NODES.forEach(n -> granted.put(n, new TreeSet<>()));
    for (String pair : pairs.keySet()) {
      SipServerPairStatus st = status(pair);
      granted.get(st.vip.node).add(VipAddress.canonicalHost(st.vip.address));
    }
    if (!granted.equals(hostVips)) {
      return "the hosts hold " + hostVips + " but the statuses grant " + granted;
    }
    return null;
  }

  String whyNotConverged(String pair) {
    SipServerPairStatus st = status(pair);
    PairState ps = pairs.get(pair);
    if (st == null) {
      return "there is no status";
    }
    if (st.transition != null) {
      return "a " + st.transition.kind + " is in progress (" + st.transition.step + ")";
    }
    if (st.primary == null) {
      return "there is no primary";
    }
    ApiStore.Pod p = api.pods.get(st.primary);
    if (p == null
        || !SipServerPair.ROLE_PRIMARY.equals(p.annotations.get(SipServerPair.ROLE_ANNOTATION))
        || epochOf(p) == null
        || epochOf(p) != st.epoch) {
      return "status.primary " + st.primary + " is not annotated primary at epoch " + st.epoch;
    }
    for (String s : ps.setup.servers()) {
      ApiStore.Pod o = api.pods.get(s);
      if (!s.equals(st.primary)
          && (o == null
              || !SipServerPair.ROLE_BACKUP.equals(o.annotations.get(SipServerPair.ROLE_ANNOTATION))
              || epochOf(o) == null
              || epochOf(o) != st.epoch)) {
        return "the other server " + s + " is not annotated backup at epoch " + st.epoch;
      }
    }
    String address = api.pair(pair).spec.getVirtualIP().getAddress();
    if (st.vip == null
        || st.vip.state != VipStatus.State.Bound
        || !p.node.equals(st.vip.node)
        || !address.equals(VipAddress.canonicalHost(st.vip.address))) {
      return "the status does not say " + address + " is Bound on " + p.node;
    }
    if (!vipHosts(pair).equals(List.of(p.node))) {
      return address + " is on " + vipHosts(pair) + ", not on " + p.node + " alone";
    }
    if (st.phase != Phase.Active) {
      return "the phase is " + st.phase;
    }
    ApiStore.PairObject o = api.pair(pair);
    String wanted = o.spec.getPrimary();
    ApiStore.Pod w = wanted == null ? null : api.pods.get(wanted);
    Condition refused = Conditions.find(st.conditions, Conditions.SWITCHOVER_REFUSED).orElse(null);
    boolean refusedIt =
        refused != null
            && "True".equals(refused.status)
            && refused.message != null
            && refused.message.contains("spec.primary asks for " + wanted + " ");
    if (o.spec.getFailback() == io.sipha.api.FailbackMode.Automatic
        && wanted != null
        && !wanted.equals(st.primary)
        && w != null
        && w.ready
        && w.terminated == null
        && !refusedIt) {
      return "an automatic failback to "
          + wanted
          + " is due"; // it will move the VIP: not settled yet
    }
    return requestUnanswered(pair);
  }

  private String convergedKey() {
    return pairs.keySet().stream()
        .map(
            pair -> {
              SipServerPairStatus st = status(pair);
              return pair + " " + st.primary + "@" + st.epoch + " on " + st.vip.node;
            })
        .collect(Collectors.joining(", "));
  }

  /**
   * Every accepted switchover request is completed or refused with a reason: after the heal,
   * spec.primary is the primary, or a SwitchoverRefused / FailbackPending condition names it.
   */
  void checkEverySwitchoverRequestIsAnswered() {
    for (String pair : pairs.keySet()) {
      String why = requestUnanswered(pair);
      if (why != null) {
        fail(SWITCHOVER_ANSWERED, pair + ": " + why);
      }
    }
  }

  private String requestUnanswered(String pair) {
    String wanted = api.pair(pair).spec.getPrimary();
    SipServerPairStatus st = status(pair);
    if (wanted == null || wanted.equals(st.primary)) {
      return null;
    }
    if (tolerates("fenced-holder")
        && st.vip != null
        && st.fenced.stream().anyMatch(f -> f.node.equals(st.vip.node))) {
      return null; // known bug: the holder's own node left in status.fenced blocks every request
    }
    // refused: SwitchoverRefused names the request; accepted but not done (a failback):
    // FailbackPending
    // names it, and status.acceptedPrimary says the operator took it (a stale condition does not
    // count)
    Condition refused = Conditions.find(st.conditions, Conditions.SWITCHOVER_REFUSED).orElse(null);
    if (refused != null
        && "True".equals(refused.status)
        && refused.message != null
        && refused.message.contains("spec.primary asks for " + wanted + " ")) {
      return null;
    }
    Condition pending = Conditions.find(st.conditions, Conditions.FAILBACK_PENDING).orElse(null);
    if (!pairs.get(pair).acknowledged
        && wanted.equals(st.acceptedPrimary)
        && pending != null
        && "True".equals(pending.status)
        && pending.message != null
        && List.of(
                "spec.primary names " + wanted + ";",
                "failback to " + wanted + " ",
                "switching back to " + wanted + " ")
            .stream()
            .anyMatch(pending.message::contains)) {
      return null;
    }
    return "spec.primary is "
        + wanted
        + " but the primary is "
        + st.primary
        + " and no SwitchoverRefused or FailbackPending condition names "
        + wanted
        + "; conditions: "
        + st.conditions.stream()
            .map(c -> c.type + "=" + c.status + " (" + c.message + ")")
            .collect(Collectors.joining("; "));
  }

  // ================================================================== reporting

  private void fail(String invariant, String what) {
    throw new Violation(
        invariant,
        "Invariant broken: "
            + invariant
            + "\n  "
            + what
            + "\n  after step "
            + stepIndex
            + ": "
            + stepText
            + "\n\nState now:\n"
            + state()
            + "\n\nThe schedule as it ran (step, what happened, state after):\n"
            + String.join("\n", trace)
            + "\n");
  }

  /** The schedule as it ran, one step a line (for a scenario that wants to show it). */
  String traceText() {
    return String.join("\n", trace);
  }

  String state() {
    StringBuilder b = new StringBuilder();
    b.append("  clock ").append(t(now)).append("\n");
    for (ApiStore.PairObject o : api.pairs.values()) {
      SipServerPairSpec spec = o.spec;
      b.append("  ")
          .append(o.name)
          .append(" spec: primary ")
          .append(spec.getPrimary())
          .append(", VIP ")
          .append(spec.getVirtualIP().getAddress())
          .append(", nodeLossSeconds ")
          .append(spec.getFailover().getNodeLossSeconds())
          .append(spec.isPaused() ? ", paused" : "")
          .append(", generation ")
          .append(o.generation)
          .append(", resourceVersion ")
          .append(o.resourceVersion)
          .append("\n");
      SipServerPairStatus st = o.status;
      if (st == null) {
        b.append("    status: none\n");
      } else {
        b.append("    status: phase ")
            .append(st.phase)
            .append(", epoch ")
            .append(st.epoch)
            .append(", primary ")
            .append(st.primary)
            .append(", backup ")
            .append(st.backup)
            .append(", acceptedPrimary ")
            .append(st.acceptedPrimary)
            .append(", vip ")
            .append(st.vip == null ? "-" : st.vip.address + " " + st.vip.node + "/" + st.vip.state)
            .append(", transition ")
            .append(
                st.transition == null
                    ? "-"
                    : st.transition.kind
                        + " "
                        + st.transition.from
                        + "->"
                        + st.transition.to
                        + " at "
                        + st.transition.epoch
                        + " ("
                        + st.transition.step
                        + ")")
            .append(", fenced ")
            .append(st.fenced.stream().map(f -> f.node + "@" + f.epoch).toList())
            .append("\n");
        b.append("    conditions: ")
            .append(
                st.conditions.stream()
                    .filter(c -> "True".equals(c.status) || Conditions.READY.equals(c.type))
                    .map(c -> c.type + "=" + c.status + " (" + c.message + ")")
                    .collect(Collectors.joining("; ")))
            .append("\n");
      }
      for (String s : spec.getServers()) {
        ApiStore.Pod p = api.pods.get(s);
        b.append("    pod ")
            .append(s)
            .append(": ")
            .append(
                p == null
                    ? "does not exist"
                    : p.uid
                        + " on "
                        + p.node
                        + (p.ready ? ", Ready" : ", NotReady")
                        + (p.terminated == null ? "" : ", failed")
                        + ", "
                        + p.annotations.get(SipServerPair.ROLE_ANNOTATION)
                        + "@"
                        + epochOf(p))
            .append("\n");
      }
    }
    for (SimAgent a : agents.values()) {
      ApiStore.Lease l = api.leases.get(a.node);
      b.append("  host ")
          .append(a.node)
          .append(" holds ")
          .append(hostVips.get(a.node))
          .append("; agent ")
          .append(a.describe())
          .append("; Lease renewed ")
          .append(l == null ? "never" : t(l.renewTime))
          .append(", reports ")
          .append(
              l == null
                  ? "-"
                  : l.reports.entrySet().stream()
                      .map(e -> e.getKey() + " " + describe(e.getValue()))
                      .collect(Collectors.joining(", ")))
          .append(
              l == null || l.restartingUntil == null
                  ? ""
                  : ", restarting until " + t(l.restartingUntil))
          .append("\n");
    }
    b.append("  ").append(operator.describe());
    return b.toString();
  }

  /** One line: the facts that matter after a step. */
  String summary() {
    List<String> parts = new ArrayList<>();
    parts.add(t(now));
    for (ApiStore.PairObject o : api.pairs.values()) {
      SipServerPairStatus st = o.status;
      String status =
          st == null
              ? "no status"
              : "epoch "
                  + st.epoch
                  + " "
                  + st.phase
                  + ", primary "
                  + st.primary
                  + ", vip "
                  + (st.vip == null ? "-" : st.vip.address + " " + st.vip.node + "/" + st.vip.state)
                  + (st.transition == null
                      ? ""
                      : ", "
                          + st.transition.kind
                          + "->"
                          + st.transition.to
                          + "/"
                          + st.transition.step);
      String pods =
          o.spec.getServers().stream()
              .map(
                  s -> {
                    ApiStore.Pod p = api.pods.get(s);
                    return p == null
                        ? s + " gone"
                        : s
                            + "@"
                            + p.node
                            + " "
                            + p.annotations.get(SipServerPair.ROLE_ANNOTATION)
                            + "@"
                            + epochOf(p)
                            + (p.ready ? "" : " NotReady");
                  })
              .collect(Collectors.joining(", "));
      parts.add(o.name + ": " + status + "; " + pods);
    }
    parts.add("hosts " + hostVips);
    return String.join(" | ", parts);
  }

  static String describe(VipReport r) {
    return r == null
        ? "-"
        : r.state()
            + "@"
            + r.epoch()
            + " "
            + r.address()
            + (r.removedStaleEpoch() == null ? "" : " removedStale " + r.removedStaleEpoch());
  }

  /** The virtual time as seconds after the start, e.g. "t+12.300s". */
  static String t(Instant i) {
    if (i == null) {
      return "-";
    }
    long ms = Duration.between(T0, i).toMillis();
    return String.format(
        "t%s%d.%03ds", ms < 0 ? "-" : "+", Math.abs(ms) / 1000, Math.abs(ms) % 1000);
  }

  private static Long epochOf(ApiStore.Pod p) {
    try {
      String e = p.annotations.get(SipServerPair.EPOCH_ANNOTATION);
      return e == null ? null : Long.valueOf(e);
    } catch (NumberFormatException e) {
      return null;
    }
  }
}
