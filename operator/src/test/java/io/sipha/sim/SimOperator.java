package io.sipha.sim;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.sipha.api.SipServerPair;
import io.sipha.api.SipServerPairStatus;
import io.sipha.decision.AgentFact;
import io.sipha.decision.PairFacts;
import io.sipha.decision.Plan;
import io.sipha.decision.PodFact;
import io.sipha.kube.Facts;
import io.sipha.operator.Heartbeats;
import io.sipha.operator.Sightings;
import io.sipha.vip.AllowedCidrs;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;

/**
 * The operator process: {@code NodeLiveness} (the product's {@link Heartbeats}: renewals timed on
 * the operator's clock when it hears them; no node judged while it hears none; a fresh start after
 * a deaf spell and at process start), {@code PairObserver} (the product's {@link Sightings} for
 * readiness changes and transition steps; facts from the API store), the decider, and {@code
 * PlanExecutor} (pod labels, role annotations in the plan's order, then the status with optimistic
 * concurrency; the first failed write fails the reconcile and the rest of the plan is lost).
 */
final class SimOperator {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** An API fault injected into the operator's next write. */
  enum ApiFault {
    CONFLICT_409,
    ERROR_500
  }

  /** One write of a plan, in the executor's order. */
  sealed interface Write permits PodPatch, Status {}

  /**
   * PlanExecutor.writePods: one patch per pod, as the plan's own {@link Plan#podWrites} groups
   * them; a role write carries the resourceVersion of the pod the plan saw (409 if the pod changed
   * since).
   */
  record PodPatch(Plan.PodWrite write) implements Write {
    String pod() {
      return write.pod();
    }

    boolean label() {
      return write.label();
    }

    Plan.RoleAssignment role() {
      return write.role();
    }
  }

  record Status(SipServerPairStatus status) implements Write {}

  /** A reconcile whose writes have not all been made yet. */
  record InFlight(
      String pair,
      PairFacts facts,
      Plan plan,
      long observedResourceVersion,
      List<Write> remaining) {}

  private final World w;
  private final Function<PairFacts, Plan> decider;
  boolean up = true;
  ApiFault nextWriteFault;

  /**
   * The reconciles in flight, by pair (JOSDK reconciles pairs side by side, each one at a time).
   */
  final Map<String, InFlight> inFlight = new java.util.TreeMap<>();

  // the product's own bookkeeping of what this process saw, on its clock (NodeLiveness,
  // PairObserver)
  private Heartbeats heartbeats = new Heartbeats();
  private Sightings sightings = new Sightings();

  /**
   * The product's record of which pair this process lets hold each address (a new process starts
   * empty).
   */
  private io.sipha.operator.VipClaims claims = new io.sipha.operator.VipClaims();

  /**
   * The product's record of the values spec.primary took since each pair's last decision (a new
   * process starts empty).
   */
  private io.sipha.operator.PrimaryRequests requests = new io.sipha.operator.PrimaryRequests();

  SimOperator(World w, Function<PairFacts, Plan> decider) {
    this.w = w;
    this.decider = decider;
  }

  // ------------------------------------------------------------------ process

  void crash() {
    up = false;
    inFlight.clear();
  }

  /**
   * The writes of a deposed leader, still on their way, by pair: they land at the pair's next
   * reconcile step.
   */
  final Map<String, InFlight> deposed = new java.util.TreeMap<>();

  /**
   * Another replica becomes the leader: a new process starts at the next reconcile, and this one's
   * plan in flight is not lost but lands late, after the new leader's own writes (a deposed
   * leader's late writes, made from older facts).
   */
  void leaderChange() {
    deposed.putAll(inFlight);
    crash();
  }

  /**
   * Its informers' watches stay connected but deliver nothing: it reads a copy of the objects as
   * they were when the lag began (and its own status writes, which JOSDK puts into its cache), and
   * hears no Lease renewal (a deaf spell); or they deliver again, and it relists.
   */
  String lag(boolean on) {
    if (on == (lagged != null)) {
      return "no effect";
    }
    if (on) {
      lagged = w.api.copy();
      return "its watches deliver nothing from now on (it reads what it had, and hears no renewal)";
    }
    lagged = null;
    relist();
    return "its watches deliver again: it relists (every Lease seen now)";
  }

  /** The operator's informers' view while they lag, or null when they deliver. */
  ApiStore lagged;

  private void relist() {
    w.api
        .leases
        .values()
        .forEach(
            l -> {
              if (l.renewTime != null) {
                seen(l);
              }
            });
  }

  /** A new process: its Lease informer lists every Lease at start (each one "seen" now). */
  void start() {
    up = true;
    lagged = null;
    inFlight.clear();
    heartbeats = new Heartbeats(); // a new process has seen nothing yet
    sightings = new Sightings();
    claims = new io.sipha.operator.VipClaims();
    requests = new io.sipha.operator.PrimaryRequests();
    w.operatorRestarted();
    relist();
  }

  // ------------------------------------------------------------------ NodeLiveness

  /**
   * The user edited a pair's spec: the informer's update event reaches a running operator whose
   * watches deliver (SipServerPairReconciler.updated records a change of spec.primary).
   */
  /** Its informer sees the objects' changes go by: it runs and its watches deliver. */
  boolean watching() {
    return up && lagged == null;
  }

  void specChanged(String pair, String primaryBefore, String primaryAfter) {
    if (up && lagged == null) {
      requests.changed(ApiStore.key(pair), primaryBefore, primaryAfter);
    }
  }

  /** An agent renewed its Lease: the informer tells a running operator at once. */
  void heard(String node, Instant renewTime) {
    if (up && lagged == null) {
      seen(w.api.leases.get(node));
    }
  }

  /**
   * NodeLiveness.seen, with the product's Heartbeats: an announced restart is a duration from its
   * renewal.
   */
  private void seen(ApiStore.Lease l) {
    Duration restartFor =
        l.restartingUntil == null || l.renewTime == null
            ? null
            : Duration.between(l.renewTime, l.restartingUntil);
    heartbeats.seen(l.node, l.renewTime, restartFor, w.now);
  }

  // ------------------------------------------------------------------ PairObserver

  PairFacts observe(String pair) {
    ApiStore api = lagged != null ? lagged : w.api;
    ApiStore.PairObject o = api.pair(pair);
    Map<String, PodFact> pods = new LinkedHashMap<>();
    for (String name :
        o.spec.getServers().stream().filter(Objects::nonNull).distinct().limit(2).toList()) {
      ApiStore.Pod p = api.pods.get(name);
      pods.put(
          name,
          p == null
              ? PodFact.missing(name)
              : podFact(p).withReadySince(sightings.readySince(name, p.uid, p.ready, w.now)));
    }
    Map<String, AgentFact> agents = new HashMap<>();
    Map<String, java.util.Set<String>> holders = new HashMap<>();
    api.leases
        .values()
        .forEach(
            l -> {
              Instant seen = heartbeats.renewedAt(l.node, w.now);
              agents.put(
                  l.node,
                  new AgentFact(
                          l.node,
                          seen != null ? seen : w.now,
                          l.reports.get(o.key),
                          heartbeats.restartingUntil(l.node))
                      .hearing(l.hearing)
                      .probe(w.probe(l.node)));
              Facts.reportedHolders(l.reports)
                  .forEach(
                      (h, keys) ->
                          holders.computeIfAbsent(h, x -> new java.util.TreeSet<>()).addAll(keys));
            });
    // the product's rule for a VIP two pairs name: it goes with holding (PairObserver.vipClaimedBy)
    String claimedBy =
        Facts.vipClaimedBy(
            o.resource(),
            api.pairs.values().stream().map(ApiStore.PairObject::resource),
            Facts::vipHost,
            h -> holders.getOrDefault(h, java.util.Set.of()));
    if (claimedBy == null) {
      claimedBy =
          claims.heldByOther(
              o.key,
              Facts.vipHost(o.resource()), // PairObserver.vipClaimedBy
              k -> api.pairs.values().stream().anyMatch(p -> p.key.equals(k)));
    }
    return new PairFacts(
            ApiStore.NAMESPACE,
            pair,
            o.generation,
            o.spec,
            o.status,
            pods,
            agents,
            AllowedCidrs.any(),
            claimedBy,
            w.now)
        .withStepObservedAt(
            sightings.stepSince(o.key, o.status == null ? null : o.status.transition, w.now))
        .withPrimariesSeen(requests.seen(o.key));
  }

  private static PodFact podFact(ApiStore.Pod p) {
    Long epoch = null;
    try {
      String e = p.annotations.get(SipServerPair.EPOCH_ANNOTATION);
      epoch = e == null ? null : Long.valueOf(e);
    } catch (NumberFormatException ignored) {
      // counts as none
    }
    return new PodFact(
        p.name,
        true,
        p.node,
        p.ready,
        p.readySince,
        p.terminated,
        p.annotations.get(SipServerPair.ROLE_ANNOTATION),
        epoch,
        p.labelled,
        String.valueOf(p.version));
  }

  // ------------------------------------------------------------------ reconcile + PlanExecutor

  /**
   * One reconcile: observe, decide, and make the plan's writes; with {@code writesNow >= 0} only
   * that many land now and the rest stay in flight until the next reconcile step (or are lost if
   * the operator crashes first). A reconcile step while a plan is in flight finishes that plan.
   */
  String reconcile(String pair, int writesNow) {
    StringBuilder said = new StringBuilder(pair).append(": ");
    if (!up) {
      start();
      said.append("the operator starts again (every Lease seen now); ");
    }
    InFlight pending = inFlight.remove(pair);
    if (pending != null) {
      said.append("finishes its reconcile in flight: ");
      apply(pending, pending.remaining().size(), said);
      return said.toString().strip();
    }
    ApiStore.PairObject o = (lagged != null ? lagged : w.api).pair(pair); // what it reads
    PairFacts facts = observe(pair);

    Plan plan = decider.apply(facts);
    sightings.stepDecided(o.key, plan.status().transition, w.now);
    String other =
        claims.claim(
            o.key,
            Facts.heldHost(plan.status()),
            k -> w.api.pairs.values().stream().anyMatch(p -> p.key.equals(k)));
    if (other != null) {
      // SipServerPairReconciler: another pair of this process is being given the address; nothing
      // written
      return said.append("decides ")
          .append(summary(plan))
          .append(", but ")
          .append(Facts.heldHost(plan.status()))
          .append(" is claimed by ")
          .append(other)
          .append(" in this process: nothing written, it looks again")
          .toString();
    }
    List<Write> writes = new ArrayList<>();
    plan.podWrites().forEach(pw -> writes.add(new PodPatch(pw)));
    if (!sameJson(plan.status(), o.status)) {
      writes.add(new Status(plan.status()));
    }
    InFlight f = new InFlight(pair, facts, plan, o.resourceVersion, writes);
    said.append("decides ").append(summary(plan)).append("; ");
    apply(f, writesNow < 0 ? writes.size() : Math.min(writesNow, writes.size()), said);
    InFlight late = deposed.remove(pair);
    if (late != null) {
      // the deposed leader's writes land now, after this leader's: made from facts older than both
      InFlight mine = inFlight.remove(pair);
      said.append("then the deposed leader's late writes: ");
      apply(late, late.remaining().size(), said);
      inFlight.remove(pair);
      if (mine != null) {
        inFlight.put(pair, mine);
      }
    }
    return said.toString().strip();
  }

  /** Every pair reconciles once (the heal rounds, and the world's start). */
  String reconcileAll() {
    List<String> said = new ArrayList<>();
    for (String pair : w.api.pairs.keySet()) {
      said.add(reconcile(pair, -1));
    }
    return String.join(" | ", said);
  }

  private void apply(InFlight f, int count, StringBuilder said) {
    List<Write> writes = f.remaining();
    for (int i = 0; i < count; i++) {
      Write wr = writes.get(i);
      String failure = write(f, wr);
      if (failure != null) {
        if (wr instanceof Status) {
          w.sawFailedWrite = true;
        }
        said.append(describe(wr)).append(": ").append(failure).append(" -> the reconcile fails");
        int lost = writes.size() - i - 1;
        if (lost > 0) {
          said.append(", its ").append(lost).append(" later write(s) are lost");
        }
        said.append("; ");
        settle(f);
        return;
      }
      said.append(describe(wr)).append("; ");
    }
    if (count >= writes.size()) {
      settle(f);
      if (f.facts().status() != null && f.facts().status().primary != null) {
        requests.done(
            w.api.pair(f.pair()).key,
            f.facts().primariesSeen()); // SipServerPairReconciler: the writes landed
      }
    }
    if (count < writes.size()) {
      inFlight.put(
          f.pair(),
          new InFlight(
              f.pair(),
              f.facts(),
              f.plan(),
              f.observedResourceVersion(),
              writes.subList(count, writes.size())));
      said.append(writes.size() - count).append(" write(s) still in flight; ");
    } else if (!f.plan().events().isEmpty()) {
      said.append("events ")
          .append(f.plan().events().stream().map(Plan.Note::reason).toList())
          .append("; ");
    }
  }

  /** The reconcile is done (its writes made or failed): the claim follows what the status holds. */
  private void settle(InFlight f) {
    ApiStore.PairObject o = (lagged != null ? lagged : w.api).pair(f.pair()); // as its cache has it
    claims.settle(o.key, Facts.heldHost(o.status));
  }

  /** Makes one write; returns why it failed, or null. */
  private String write(InFlight f, Write wr) {
    if (nextWriteFault != null) {
      ApiFault fault = nextWriteFault;
      nextWriteFault = null;
      return fault == ApiFault.CONFLICT_409
          ? "409 Conflict (injected)"
          : "500 Internal Server Error (injected)";
    }
    ApiStore api = w.api;
    if (wr instanceof PodPatch pp) {
      ApiStore.Pod p = api.pods.get(pp.pod());
      if (p == null) {
        return "404 Not Found";
      }
      String seen = f.facts().pod(pp.pod()).resourceVersion();
      if (pp.role() != null && seen != null && !seen.equals(String.valueOf(p.version))) {
        return "409 Conflict (pod "
            + pp.pod()
            + " changed since the plan read it: resourceVersion "
            + seen
            + " is stale, now "
            + p.version
            + ")";
      }
      if (pp.label()) {
        p.labelled = true;
      }
      if (pp.role() != null) {
        p.annotations.put(SipServerPair.ROLE_ANNOTATION, pp.role().role());
        p.annotations.put(SipServerPair.EPOCH_ANNOTATION, String.valueOf(pp.role().epoch()));
      }
      p.version = api.nextVersion();
      w.checkTheEpochNeverDecreases(); // at every pod write, not only after the step
    } else if (wr instanceof Status s) {
      ApiStore.PairObject o = api.pair(f.pair());
      if (f.observedResourceVersion() != o.resourceVersion) {
        return "409 Conflict (the pair changed since it was read: resourceVersion "
            + f.observedResourceVersion()
            + " is stale, now "
            + o.resourceVersion
            + ")";
      }
      o.status = s.status();
      o.resourceVersion++;
      if (lagged != null) {
        // SipServerPairReconciler.cacheWrite: its own write goes into its cache
        ApiStore.PairObject mine = lagged.pair(f.pair());
        mine.status = o.status;
        mine.resourceVersion = o.resourceVersion;
      }
      w.statusWritten(f.pair(), f.facts(), s.status());
    }
    return null;
  }

  private static String describe(Write wr) {
    if (wr instanceof PodPatch pp) {
      return pp.role() == null
          ? "label " + pp.pod()
          : (pp.label() ? "label and " : "")
              + pp.pod()
              + " "
              + pp.role().role()
              + "@"
              + pp.role().epoch();
    }
    return "status written";
  }

  private static String summary(Plan p) {
    SipServerPairStatus s = p.status();
    StringBuilder b = new StringBuilder().append(s.phase).append(" epoch ").append(s.epoch);
    if (s.transition != null) {
      b.append(" ")
          .append(s.transition.kind)
          .append("->")
          .append(s.transition.to)
          .append("/")
          .append(s.transition.step);
    }
    return b.toString();
  }

  private static boolean sameJson(Object a, Object b) {
    return Objects.equals(JSON.valueToTree(a), JSON.valueToTree(b));
  }

  String describe() {
    return "operator: "
        + (up ? "running" : "down")
        + (lagged == null ? "" : ", its watches deliver nothing")
        + inFlight.values().stream()
            .map(f -> ", " + f.pair() + ": " + f.remaining().size() + " write(s) in flight")
            .collect(java.util.stream.Collectors.joining())
        + (nextWriteFault == null ? "" : ", next write gets " + nextWriteFault);
  }
}
