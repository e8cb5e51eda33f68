package io.sipha.lab;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.sipha.api.Phase;
import io.sipha.decision.VipReport;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * {@code make lab}: the four workflows of sipha on a real wire, then keepalived holding the same
 * VIP, each measured by sipp sending OPTIONS to the VIP every 10 ms from the client namespace.
 *
 * <p>For every workflow and round it records the outage (the longest gap between two consecutive
 * 200 OK answers) and who answered when; it prints a table, writes {@code
 * operator/demo/target/lab/results.json} and a PNG timeline per workflow, and (unless {@code
 * --no-docs}) copies the PNGs to {@code docs/lab/} and the table into the "Network lab" section of
 * {@code docs/BENCHMARKS.md}.
 *
 * <p>Options: {@code --rounds N} (default 5: each workflow is measured N times), {@code --no-docs}.
 * Exit 0 when every workflow completed (or when the lab cannot run here: not root, not Linux).
 */
public final class LabMain {
  static final long BASELINE_MILLIS = 1_500;
  static final long TAIL_MILLIS = 1_500;
  static final Duration WORKFLOW_LIMIT = Duration.ofSeconds(20);
  // issue 12's goals, with sipha's defaults
  static final long SWITCHOVER_TARGET_MILLIS = 50;
  static final long PRIMARY_FAILURE_TARGET_MILLIS = 100;
  static final long HOST_LOSS_TARGET_MILLIS = 500;
  static final long HOST_LOSS_MAX_MILLIS = 800;
  static final long LEADER_LOSS_TARGET_MILLIS = 1500;

  enum Workflow {
    SWITCHOVER("switchover", "manual switchover"),
    PRIMARY_FAILURE("primary-failure", "primary failure"),
    HOST_DISCONNECTED("host-disconnected", "host disconnected"),
    RECONNECTION("reconnection", "reconnection"),
    HOST_AND_LEADER_LOST("host-and-leader-lost", "host disconnected with the operator's leader"),
    // faults that must move nothing: held for --hold-seconds, then healed
    API_SLOW("api-slow", "API server slowed"),
    API_DOWN("api-down", "API server down"),
    NODE_CUT_FROM_API("node-cut-from-api", "primary's node cut from the API"),
    SIGNALLING_CUT("signalling-cut", "signalling cut between the hosts");

    final String key;
    final String title;

    Workflow(String key, String title) {
      this.key = key;
      this.title = title;
    }

    /** A fault under which nothing may move (no false failover). */
    boolean steady() {
      return ordinal() >= API_SLOW.ordinal();
    }
  }

  /** One measured workflow. {@code doneMillis} is -1 when it did not complete within the limit. */
  record Case(
      String system,
      Workflow workflow,
      int round,
      String action,
      String expectBefore,
      String expectAfter,
      Outage outage,
      List<Sipp.Sample> samples,
      List<Timeline.Mark> marks,
      long doneMillis,
      Map<String, Object> extra) {
    boolean ok() {
      if (workflow.steady()) {
        // keepalived's split brain is a measured result, not a failed run
        return doneMillis >= 0
            && (!system.equals("sipha")
                || (outage.after().equals(expectAfter)
                    && Long.valueOf(0).equals(extra.get("falseTransitions"))
                    && Long.valueOf(0).equals(extra.get("vipOnTwoHostsMs"))));
      }
      boolean reannounced =
          !(system.equals("sipha") && workflow == Workflow.RECONNECTION)
              || (extra.get("reannouncedBy") instanceof List<?> l && l.contains(expectAfter));
      return doneMillis >= 0
          && outage.before().equals(expectBefore)
          && outage.after().equals(expectAfter)
          && !outage.endedUnanswered()
          && reannounced;
    }

    String name() {
      return system + " " + workflow.title;
    }
  }

  private final Path out;
  private final Path work;
  private final int rounds;
  private final int holdSeconds;
  private final int steadyRounds;
  private final List<Case> cases = new ArrayList<>();
  private final List<String> problems = new ArrayList<>();
  private final Map<String, Object> machine;
  private NetLab lab;
  private String keepalivedSkipped;
  private final Instant started = Instant.now();

  LabMain(Path out, int rounds, int holdSeconds, int steadyRounds) {
    this.out = out;
    this.work = out.resolve("work");
    this.rounds = rounds;
    this.holdSeconds = holdSeconds;
    this.steadyRounds = steadyRounds;
    this.machine = machine();
  }

  public static void main(String[] args) {
    System.setProperty("java.awt.headless", "true");
    int rounds = 10;
    int hold = 60;
    int steadyRounds = 1;
    boolean docs = true;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--rounds" -> rounds = Integer.parseInt(args[++i]);
        case "--hold-seconds" -> hold = Integer.parseInt(args[++i]);
        case "--steady-rounds" -> steadyRounds = Integer.parseInt(args[++i]);
        case "--no-docs" -> docs = false;
        default -> {
          System.err.println(
              "usage: LabMain [--rounds N] [--hold-seconds S] [--steady-rounds N] [--no-docs]");
          System.exit(2);
        }
      }
    }
    Optional<String> why = NetLab.unavailable();
    if (why.isPresent()) {
      boolean notHere = why.get().startsWith("needs root") || why.get().startsWith("needs Linux");
      System.out.println("make lab: " + (notHere ? "skipped: " : "cannot run: ") + why.get());
      System.exit(notHere ? 0 : 2);
    }
    Path root = io.sipha.Checkout.root();
    Path out = root.resolve("operator/demo/target/lab");
    try {
      deleteTree(out);
      Files.createDirectories(out);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    // before the first logger: the operator's and agents' logs go to a file, not over the table
    System.setProperty("sipha.lab.log", out.resolve("sipha.log").toString());
    System.setProperty("logback.configurationFile", "lab/logback-lab.xml");
    LabMain main = new LabMain(out, rounds, hold, steadyRounds);
    int code = main.run();
    main.report(root, docs);
    System.exit(code);
  }

  int run() {
    System.out.printf(
        "sipha network lab: %d round(s), faults held %d s (%d round(s)); networks sig and mgmt, hosts"
            + " host-a and host-b, client, ctl; VIP %s; logs in %s%n",
        rounds, holdSeconds, steadyRounds, NetLab.VIP, out);
    try (NetLab l = NetLab.create(work)) {
      lab = l;
      for (String h : NetLab.HOSTS) {
        lab.startResponder(h);
      }
      runSipha();
      runKeepalived(Keepalived.DEFAULT_ADVERT_MILLIS);
      runKeepalived(Keepalived.TUNED_ADVERT_MILLIS);
    } catch (RuntimeException e) {
      problems.add("lab aborted: " + e);
      e.printStackTrace();
    }
    return problems.isEmpty() && cases.stream().allMatch(Case::ok) ? 0 : 1;
  }

  // ---- sipha

  private void runSipha() {
    System.out.println(
        "sipha: starting the embedded API, the operator and the agents of node-a and node-b ...");
    try (SiphaOnLab sipha = SiphaOnLab.start(lab)) {
      Observer obs =
          new Observer() {
            @Override
            public List<Timeline.Mark> marks(long fromMicros, long toMicros) {
              return sipha.marks(fromMicros, toMicros);
            }

            /** The operator declared the node lost: the status goes FailingOver. */
            @Override
            public Optional<Long> takeoverMicros(long fromMicros, long toMicros) {
              return sipha.marks(fromMicros, toMicros).stream()
                  .filter(m -> m.label().startsWith("status " + Phase.FailingOver))
                  .map(Timeline.Mark::atMicros)
                  .findFirst();
            }
          };
      // a running operator is warm: one switchover there and back before measuring (JIT,
      // connections)
      // and so are the SIP Servers: the probes of the warm-up reach both responders
      System.out.println(
          "sipha: warm-up: one switchover to host-b and back, with probes (not measured)");
      try (Sipp.Run warm = lab.startProbe("warm-up")) {
        for (String h : List.of("host-b", "host-a")) {
          Sh.sleep(1_000);
          sipha.switchTo(h);
          sipha.await(
              "warm-up switchover to " + h,
              WORKFLOW_LIMIT,
              () -> sipha.primaryOn(h) && sipha.phaseIs(Phase.Active) && sipha.vipOnlyOn(h));
        }
        Sh.sleep(1_000);
        warm.stop();
      }
      for (int r = 1; r <= rounds; r++) {
        if (r > 1) {
          sipha.switchTo("host-a");
          sipha.await(
              "switch back to host-a",
              WORKFLOW_LIMIT,
              () ->
                  sipha.primaryOn("host-a")
                      && sipha.phaseIs(Phase.Active)
                      && sipha.vipOnlyOn("host-a"));
        }
        Case c =
            measure(
                "sipha",
                Workflow.SWITCHOVER,
                r,
                "host-a",
                "host-b",
                "kubectl patch ssp pair-1 spec.primary=sip-1",
                () -> sipha.switchTo("host-b"),
                () -> sipha.primaryOn("host-b") && sipha.vipOnlyOn("host-b"),
                obs,
                Map.of());
        releaseReport(c, sipha);
        if (!add(c)) {
          return;
        }
        c =
            measure(
                "sipha",
                Workflow.PRIMARY_FAILURE,
                r,
                "host-b",
                "host-a",
                "SIP Server of host-b killed, pod sip-1 deleted",
                () -> {
                  lab.killResponder("host-b");
                  sipha.deletePod("host-b");
                },
                () -> sipha.primaryOn("host-a") && sipha.vipOnlyOn("host-a"),
                obs,
                Map.of());
        releaseReport(c, sipha);
        if (!add(c)) {
          return;
        }
        lab.startResponder("host-b");
        sipha.recreatePod("host-b");
        sipha.await(
            "sip-1 recreated and the pair Active",
            WORKFLOW_LIMIT,
            () -> sipha.primaryOn("host-a") && sipha.phaseIs(Phase.Active));
        Map<String, Object> lease = new LinkedHashMap<>();
        c =
            measure(
                "sipha",
                Workflow.HOST_DISCONNECTED,
                r,
                "host-a",
                "host-b",
                "host-a's two cables pulled (its agent runs on, cut off)",
                () -> {
                  lease.put("lastRenewal", sipha.lastRenewal("host-a"));
                  lab.linkDown("host-a");
                },
                () -> sipha.primaryOn("host-b") && lab.holdsVip("host-b"),
                obs,
                lease);
        if (!add(c)) {
          return;
        }
        c =
            measure(
                "sipha",
                Workflow.RECONNECTION,
                r,
                "host-b",
                "host-b",
                "host-a's cables back",
                () -> lab.linkUp("host-a"),
                () ->
                    sipha.primaryOn("host-b")
                        && sipha.vipOnlyOn("host-b")
                        && sipha.phaseIs(Phase.Active)
                        && sipha.noFencedHolder(),
                obs,
                Map.of());
        if (!add(c)) {
          return;
        }
      }
      if (!hostWithLeader(sipha, obs)) {
        return;
      }
      steadySipha(sipha, obs);
    } catch (RuntimeException e) {
      problems.add("sipha: " + e.getMessage());
      System.out.println("sipha: FAILED: " + e.getMessage());
    } finally {
      // the agents are gone: clear what they left on the hosts
      lab.linkUp("host-a");
      for (String h : NetLab.HOSTS) {
        lab.removeVip(h);
      }
    }
  }

  /**
   * The operator's two replicas run on the two hosts, the leader on host-a with the primary; both
   * of host-a's cables are pulled. The replica on host-b must lead before it can fail over.
   */
  private boolean hostWithLeader(SiphaOnLab sipha, Observer obs) {
    try {
      for (int r = 1; r <= rounds; r++) {
        switchTo(sipha, "host-a");
        sipha.operatorsOnHosts("host-a");
        Map<String, Object> lease = new LinkedHashMap<>();
        Case c =
            measure(
                "sipha",
                Workflow.HOST_AND_LEADER_LOST,
                r,
                "host-a",
                "host-b",
                "host-a's two cables pulled; the operator's leader runs there",
                () -> {
                  lease.put("lastRenewal", sipha.lastRenewal("host-a"));
                  lab.linkDown("host-a");
                },
                () -> sipha.primaryOn("host-b") && lab.holdsVip("host-b"),
                obs,
                lease);
        c.extra().put("leaderAfter", String.valueOf(sipha.leader()));
        if (!add(c)) {
          return false;
        }
        lab.linkUp("host-a");
        sipha.await(
            "host-a back, demoted",
            WORKFLOW_LIMIT,
            () ->
                sipha.primaryOn("host-b")
                    && sipha.vipOnlyOn("host-b")
                    && sipha.phaseIs(Phase.Active)
                    && sipha.noFencedHolder());
      }
      return true;
    } finally {
      lab.linkUp("host-a");
      sipha.operatorInCtl();
    }
  }

  /**
   * Makes the host's pod primary: after a failover, with failback Manual, spec.primary still names
   * the old primary, so the failover is acknowledged first (spec.primary set to the primary now, as
   * the FailbackPending condition asks), then the switchover is asked for.
   */
  private static void switchTo(SiphaOnLab sipha, String host) {
    if (!sipha.primaryOn(host)) {
      String now = sipha.primaryHost();
      sipha.switchTo(now);
      sipha.await(
          "spec.primary acknowledged on " + now,
          WORKFLOW_LIMIT,
          () -> sipha.primaryOn(now) && sipha.acceptedPrimaryOn(now));
      sipha.switchTo(host);
    }
    try {
      sipha.await(
          "sip on " + host + " primary, the pair Active",
          WORKFLOW_LIMIT,
          () -> sipha.primaryOn(host) && sipha.phaseIs(Phase.Active) && sipha.vipOnlyOn(host));
    } catch (IllegalStateException e) {
      throw new IllegalStateException(
          e.getMessage() + "; the operator's leader: " + sipha.leader() + "; " + sipha.describe(),
          e);
    }
  }

  /** The faults under which sipha must move nothing, each held for holdSeconds, then healed. */
  private void steadySipha(SiphaOnLab sipha, Observer obs) {
    String held = "for " + holdSeconds + " s";
    for (int r = 1; r <= steadyRounds; r++) {
      for (Workflow wf :
          List.of(
              Workflow.API_SLOW,
              Workflow.API_DOWN,
              Workflow.NODE_CUT_FROM_API,
              Workflow.SIGNALLING_CUT)) {
        String holder = sipha.primaryHost();
        String label;
        Runnable fault;
        Runnable heal;
        switch (wf) {
          case API_SLOW -> {
            label = "every request to the API delayed 2 s, " + held;
            fault = () -> sipha.api().delay(2_000);
            heal = () -> sipha.api().delay(0);
          }
          case API_DOWN -> {
            label = "the API drops and refuses every connection, " + held;
            fault = sipha.api()::cut;
            heal = sipha.api()::heal;
          }
          case NODE_CUT_FROM_API -> {
            label = holder + "'s management cable pulled (the API, the operator's probe), " + held;
            fault = () -> lab.cutManagement(holder);
            heal = () -> lab.healManagement(holder);
          }
          default -> {
            label = "signalling between host-a and host-b cut (both reach the client), " + held;
            fault = () -> lab.isolateHosts(true);
            heal = () -> lab.isolateHosts(false);
          }
        }
        Case c =
            steady(
                "sipha",
                wf,
                r,
                holder,
                label,
                fault,
                heal,
                () ->
                    sipha.primaryOn(holder)
                        && sipha.phaseIs(Phase.Active)
                        && sipha.vipOnlyOn(holder)
                        && sipha.inContact(),
                obs,
                sipha::stateLabel,
                sipha::contactLabel);
        if (!add(c)) {
          return;
        }
      }
    }
  }

  /**
   * How long after the old host's vip-disable its agent reported the release at the transition's
   * epoch (the report the operator waits for before it grants the VIP elsewhere).
   */
  private void releaseReport(Case c, SiphaOnLab sipha) {
    long epoch = sipha.status() == null ? -1 : sipha.status().epoch;
    String oldNode = SiphaOnLab.NODE.get(c.expectBefore());
    long action = c.outage().actionMicros();
    Optional<SiphaOnLab.Report> report =
        sipha.reports(action, c.outage().toMicros()).stream()
            .filter(
                r ->
                    r.node().equals(oldNode)
                        && r.epoch() == epoch
                        && r.state() == VipReport.State.Unbound)
            .findFirst();
    Optional<ScriptCall> disable =
        scriptCalls(action, c.outage().toMicros()).stream()
            .filter(sc -> sc.host().equals(c.expectBefore()) && sc.script().equals("vip-disable"))
            .findFirst();
    if (report.isPresent() && disable.isPresent()) {
      c.extra().put("releaseReportedMs", ms(report.get().atMicros() - action));
      c.extra().put("releaseReportLagMs", ms(report.get().atMicros() - disable.get().endMicros()));
    }
  }

  // ---- keepalived

  private void runKeepalived(long advertMillis) {
    String system = Keepalived.system(advertMillis);
    keepalivedSkipped = Keepalived.unavailable();
    if (keepalivedSkipped != null) {
      System.out.println(system + ": skipped: " + keepalivedSkipped);
      return;
    }
    System.out.printf(
        "%s: VRRPv3, advert_int %s s, priorities host-a %d / host-b %d "
            + "(host-b declares host-a down after %d ms) ...%n",
        system,
        Keepalived.advertInt(advertMillis),
        Keepalived.PRIORITY.get("host-a"),
        Keepalived.PRIORITY.get("host-b"),
        Keepalived.detectionMillis(advertMillis));
    try (Keepalived ka = new Keepalived(lab, work.resolve(system), advertMillis)) {
      ka.start();
      awaitLab(
          system + ": VIP on host-a only",
          () -> lab.vipHolders().equals(List.of("host-a")) && ka.running());
      Observer holders =
          new Observer() {
            private String last;

            @Override
            public void poll(List<Timeline.Mark> marks) {
              List<String> h = lab.vipHolders();
              String now = h.isEmpty() ? "VIP on no host" : "VIP on " + String.join(" and ", h);
              if (last != null && !now.equals(last)) {
                marks.add(new Timeline.Mark(nowMicros(), now));
              }
              last = now;
            }

            @Override
            public List<Timeline.Mark> marks(long fromMicros, long toMicros) {
              return ka.transitions(fromMicros, toMicros).stream()
                  .map(t -> new Timeline.Mark(t.atMicros(), t.host() + " keepalived " + t.state()))
                  .toList();
            }

            @Override
            public Optional<Long> takeoverMicros(long fromMicros, long toMicros) {
              return ka.transitions(fromMicros, toMicros).stream()
                  .filter(t -> t.host().equals("host-b") && t.state().equals("MASTER"))
                  .map(Keepalived.Transition::atMicros)
                  .findFirst();
            }

            @Override
            public List<String> steps(long fromMicros, long toMicros) {
              return ka.transitions(fromMicros, toMicros).stream()
                  .map(t -> t.host() + " " + t.state() + " at +" + ms(t.atMicros() - fromMicros))
                  .toList();
            }

            @Override
            public long pollMillis() {
              return 25;
            }
          };
      for (int r = 1; r <= rounds; r++) {
        if (!add(
            measure(
                system,
                Workflow.HOST_DISCONNECTED,
                r,
                "host-a",
                "host-b",
                "host-a link down",
                () -> lab.linkDown("host-a"),
                () -> lab.holdsVip("host-b"),
                holders,
                Map.of()))) {
          return;
        }
        if (!add(
            measure(
                system,
                Workflow.RECONNECTION,
                r,
                "host-b",
                "host-a",
                "host-a link up",
                () -> lab.linkUp("host-a"),
                () -> lab.vipHolders().equals(List.of("host-a")),
                holders,
                Map.of()))) {
          return;
        }
      }
      for (int r = 1; r <= steadyRounds; r++) {
        if (!add(
            steady(
                system,
                Workflow.SIGNALLING_CUT,
                r,
                "host-a",
                "signalling between host-a and host-b cut (both reach the client), for "
                    + holdSeconds
                    + " s",
                () -> lab.isolateHosts(true),
                () -> lab.isolateHosts(false),
                () -> lab.vipHolders().equals(List.of("host-a")),
                holders,
                ka::masters,
                () -> ""))) {
          return;
        }
      }
    } catch (RuntimeException e) {
      problems.add(system + ": " + e.getMessage());
      System.out.println(system + ": FAILED: " + e.getMessage());
    } finally {
      lab.isolateHosts(false);
      lab.linkUp("host-a");
      for (String h : NetLab.HOSTS) {
        lab.removeVip(h);
      }
    }
  }

  private void awaitLab(String what, BooleanSupplier condition) {
    long deadline = System.nanoTime() + WORKFLOW_LIMIT.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException(
            "timed out waiting for " + what + "; VIP on " + lab.vipHolders());
      }
      Sh.sleep(50);
    }
  }

  /**
   * Records a case and prints its line; false when the run cannot go on (the workflow did not
   * complete).
   */
  private boolean add(Case c) {
    cases.add(c);
    Outage o = c.outage();
    System.out.printf(
        "  %-10s %-18s round %d: outage %5d ms  answered %s -> %s%s%n",
        c.system(),
        c.workflow().title,
        c.round(),
        o.outageMillis(),
        o.before(),
        o.after(),
        c.ok()
            ? ""
            : "  FAILED (expected "
                + c.expectBefore()
                + " -> "
                + c.expectAfter()
                + (c.doneMillis() < 0
                    ? ", did not complete within " + WORKFLOW_LIMIT.toSeconds() + " s"
                    : "")
                + (o.endedUnanswered() ? ", no answer at the end" : "")
                + ")");
    if (c.doneMillis() < 0) {
      problems.add(c.name() + " round " + c.round() + " did not complete");
      return false;
    }
    return true;
  }

  // ---- faults under which nothing may move

  /**
   * Watches a steady case: every change of the system's state (sipha: epoch and primary;
   * keepalived: which hosts are MASTER) is a false transition, every instant the VIP is on both
   * hosts counts, and every change of what the system says it sees is marked.
   */
  final class SteadyWatch implements Observer {
    private final Observer base;
    private final java.util.function.Supplier<String> state;
    private final java.util.function.Supplier<String> seeing;
    private String lastState;
    private String lastSeen;
    private String lastHolders;
    private long lastPoll;
    private boolean begun;
    long changes;
    long twoHostsMicros;
    final List<String> seen = new ArrayList<>();

    SteadyWatch(
        Observer base,
        java.util.function.Supplier<String> state,
        java.util.function.Supplier<String> seeing) {
      this.base = base;
      this.state = state;
      this.seeing = seeing;
    }

    void begin() {
      begun = true;
      lastPoll = nowMicros();
    }

    @Override
    public void poll(List<Timeline.Mark> marks) {
      long now = nowMicros();
      List<String> holders = lab.vipHolders();
      String h = holders.isEmpty() ? "VIP on no host" : "VIP on " + String.join(" and ", holders);
      String st = state.get();
      String what = seeing.get();
      if (begun) {
        if (holders.size() > 1) {
          twoHostsMicros += now - lastPoll;
        }
        if (!h.equals(lastHolders)) {
          marks.add(new Timeline.Mark(now, h));
        }
        if (!st.equals(lastState)) {
          changes++;
          marks.add(new Timeline.Mark(now, st));
        }
        if (!what.isEmpty() && !what.equals(lastSeen)) {
          seen.add(what);
          marks.add(new Timeline.Mark(now, what));
        }
      }
      lastHolders = h;
      lastState = st;
      lastSeen = what;
      lastPoll = now;
    }

    @Override
    public List<Timeline.Mark> marks(long fromMicros, long toMicros) {
      return base.marks(fromMicros, toMicros);
    }

    @Override
    public long pollMillis() {
      return 25;
    }
  }

  /**
   * A fault that must move nothing: injected, held for {@code holdSeconds} under the probes, then
   * healed; the case records the longest gap in the answers, the false transitions, how long the
   * VIP was on both hosts, what the system said it saw, and how long after the heal it was back.
   */
  private Case steady(
      String system,
      Workflow wf,
      int round,
      String holder,
      String label,
      Runnable fault,
      Runnable heal,
      BooleanSupplier recovered,
      Observer base,
      java.util.function.Supplier<String> state,
      java.util.function.Supplier<String> seeing) {
    SteadyWatch w = new SteadyWatch(base, state, seeing);
    long[] faultAt = {Long.MAX_VALUE};
    Case c =
        measure(
            system,
            wf,
            round,
            holder,
            holder,
            label,
            () -> {
              faultAt[0] = nowMicros();
              w.begin();
              fault.run();
            },
            () -> nowMicros() - faultAt[0] >= holdSeconds * 1_000_000L,
            w,
            Map.of(),
            Duration.ofSeconds(holdSeconds + 30L));
    long healAt = nowMicros();
    heal.run();
    long deadline = healAt + 60_000_000L;
    boolean back = recovered.getAsBoolean();
    while (!back && nowMicros() < deadline) {
      Sh.sleep(50);
      back = recovered.getAsBoolean();
    }
    c.extra().put("holdSeconds", holdSeconds);
    c.extra().put("falseTransitions", w.changes);
    c.extra().put("vipOnTwoHostsMs", ms(w.twoHostsMicros));
    c.extra().put("seen", List.copyOf(w.seen));
    c.extra().put("recoveredAfterHealMs", back ? ms(nowMicros() - healAt) : -1L);
    if (!back) {
      problems.add(
          system + " " + wf.title + " round " + round + ": not back to normal 60 s after the heal");
    }
    return c;
  }

  // ---- one measured workflow

  /** What is watched while a workflow runs, besides the wire. */
  interface Observer {
    /** Called at every poll of the workflow's end condition; may add marks. */
    default void poll(List<Timeline.Mark> marks) {}

    /** Marks recorded elsewhere between two instants. */
    default List<Timeline.Mark> marks(long fromMicros, long toMicros) {
      return List.of();
    }

    default long pollMillis() {
      return 10;
    }

    /** When the new host was told to take the VIP over (the end of detection), if known. */
    default Optional<Long> takeoverMicros(long fromMicros, long toMicros) {
      return Optional.empty();
    }

    /** What the watched systems did during the workflow, in words, for the per-run table. */
    default List<String> steps(long fromMicros, long toMicros) {
      return List.of();
    }
  }

  private Case measure(
      String system,
      Workflow wf,
      int round,
      String before,
      String after,
      String actionLabel,
      Runnable action,
      BooleanSupplier done,
      Observer observer,
      Map<String, Object> extra) {
    return measure(
        system,
        wf,
        round,
        before,
        after,
        actionLabel,
        action,
        done,
        observer,
        extra,
        WORKFLOW_LIMIT);
  }

  private Case measure(
      String system,
      Workflow wf,
      int round,
      String before,
      String after,
      String actionLabel,
      Runnable action,
      BooleanSupplier done,
      Observer observer,
      Map<String, Object> extra,
      Duration limit) {
    // when a host loss is detected depends on where in the heartbeats (peer messages, probes, Lease
    // renewals, VRRP advertisements) the pull falls; the rounds of a loop otherwise last the same
    // time and would pull at the same phase each round: spread the pulls evenly over one second
    boolean hostLoss = wf == Workflow.HOST_DISCONNECTED || wf == Workflow.HOST_AND_LEADER_LOST;
    long phaseOffset = hostLoss ? (round - 1) * 1000L / rounds : 0;
    for (String h : lab.deadResponders()) {
      problems.add(
          "the SIP responder of "
              + h
              + " had exited before "
              + system
              + " "
              + wf.title
              + " round "
              + round
              + " (see "
              + work.resolve("responder-" + h + ".log")
              + "): restarted");
      lab.startResponder(h);
    }
    lab.flushClientArp();
    lab.announce(before);
    long[] pressureAtStart = cpuPressure();
    List<Timeline.Mark> marks = new ArrayList<>();
    long doneAt = -1;
    long actionAt;
    long stopAt;
    List<Sipp.Sample> samples;
    try (Sipp.Run sipp = lab.startProbe(system + "-" + wf.key + "-" + round)) {
      Sh.sleep(BASELINE_MILLIS + phaseOffset);
      observer.poll(new ArrayList<>());
      actionAt = nowMicros();
      action.run();
      marks.add(new Timeline.Mark(actionAt, actionLabel));
      long deadline = actionAt + limit.toMillis() * 1000;
      while (nowMicros() < deadline) {
        observer.poll(marks);
        if (done.getAsBoolean()) {
          doneAt = nowMicros();
          break;
        }
        Sh.sleep(observer.pollMillis());
      }
      Sh.sleep(TAIL_MILLIS);
      stopAt = nowMicros();
      samples = sipp.stop();
    }
    long from = actionAt - 1_000_000;
    long to = stopAt - 200_000;
    marks.addAll(observer.marks(actionAt, to));
    List<ScriptCall> calls = scriptCalls(from, to);
    for (ScriptCall sc : calls) {
      marks.add(
          new Timeline.Mark(
              sc.endMicros(),
              sc.host()
                  + " "
                  + sc.script()
                  + (sc.exitCode() == 0 ? " done" : " failed, exit " + sc.exitCode())));
    }
    Outage o = Outage.of(samples, from, actionAt, to);
    Map<String, Object> x = new LinkedHashMap<>();
    if (hostLoss) {
      x.put("phaseOffsetMs", phaseOffset);
    }
    long[] pressureAtEnd = cpuPressure();
    if (pressureAtStart != null && pressureAtEnd != null && pressureAtEnd[1] > pressureAtStart[1]) {
      x.put(
          "cpuPressurePct",
          Math.round(
              100.0
                  * (pressureAtEnd[0] - pressureAtStart[0])
                  / (pressureAtEnd[1] - pressureAtStart[1])));
    }
    x.put(
        "scripts",
        calls.stream()
            .map(
                sc ->
                    Map.of(
                        "host",
                        sc.host(),
                        "script",
                        sc.script(),
                        "startMs",
                        ms(sc.beginMicros() - actionAt),
                        "endMs",
                        ms(sc.endMicros() - actionAt),
                        "exitCode",
                        sc.exitCode()))
            .toList());
    // the handover: from the old host's vip-disable to the new host's vip-enable (both done)
    Optional<ScriptCall> disable =
        calls.stream()
            .filter(
                sc ->
                    sc.endMicros() >= actionAt
                        && sc.host().equals(before)
                        && sc.script().equals("vip-disable"))
            .findFirst();
    Optional<ScriptCall> enable =
        calls.stream()
            .filter(
                sc ->
                    sc.endMicros() >= actionAt
                        && sc.host().equals(after)
                        && sc.script().equals("vip-enable"))
            .findFirst();
    if (disable.isPresent() && enable.isPresent() && !before.equals(after)) {
      x.put("handoverMs", ms(enable.get().endMicros() - disable.get().endMicros()));
    }
    enable.ifPresent(e -> x.put("vipEnabledMs", ms(e.endMicros() - actionAt)));
    List<String> steps = observer.steps(actionAt, to);
    if (!steps.isEmpty()) {
      x.put("steps", steps);
    }
    Optional<Long> master = hostLoss ? observer.takeoverMicros(actionAt, to) : Optional.empty();
    if (master.isPresent()) {
      x.put("detectionMs", ms(master.get() - actionAt));
      x.put("afterDetectionMs", ms(o.gapEndMicros() - master.get()));
    }
    if (extra.get("lastRenewal") instanceof Instant renewed) {
      // the peer path declares the node lost before its Lease runs out: when that would have been
      long expiresAt = micros(renewed.plusSeconds(SiphaOnLab.NODE_LOSS_SECONDS));
      x.put("leaseAgeAtActionMs", ms(actionAt - micros(renewed)));
      x.put("leaseRunsOutMs", ms(expiresAt - actionAt));
      marks.add(
          new Timeline.Mark(
              expiresAt,
              "node-a's Lease would run out (no renewal for "
                  + SiphaOnLab.NODE_LOSS_SECONDS
                  + " s)"));
    }
    marks.sort(Comparator.comparingLong(Timeline.Mark::atMicros));
    if (wf == Workflow.RECONNECTION && system.equals("sipha")) {
      x.put(
          "reannouncedBy",
          calls.stream()
              .filter(sc -> sc.script().equals("vip-enable"))
              .map(ScriptCall::host)
              .distinct()
              .toList());
      x.put(
          "staleVipRemovedMs",
          calls.stream()
              .filter(sc -> sc.host().equals("host-a") && sc.script().equals("vip-disable"))
              .findFirst()
              .map(sc -> ms(sc.endMicros() - actionAt))
              .orElse(-1L));
    }
    return new Case(
        system,
        wf,
        round,
        actionLabel,
        before,
        after,
        o,
        samples,
        marks,
        doneAt < 0 ? -1 : ms(doneAt - actionAt),
        x);
  }

  /** An enable or disable call seen in the wrappers' log. */
  record ScriptCall(String host, String script, long beginMicros, long endMicros, int exitCode) {}

  private List<ScriptCall> scriptCalls(long fromMicros, long toMicros) {
    List<ScriptCall> calls = new ArrayList<>();
    Map<String, Long> begun = new LinkedHashMap<>();
    try {
      if (!Files.exists(lab.scriptLog())) {
        return calls;
      }
      for (String line : Files.readAllLines(lab.scriptLog())) {
        String[] w = line.trim().split("\\s+");
        if (w.length < 4) {
          continue;
        }
        long at = Long.parseLong(w[0]);
        String k = w[1] + " " + w[2];
        if (w[3].equals("begin")) {
          begun.put(k, at);
        } else if (w[3].equals("end") && begun.containsKey(k)) {
          long b = begun.remove(k);
          if (at >= fromMicros && at <= toMicros) {
            calls.add(new ScriptCall(w[1], w[2], b, at, w.length > 4 ? Integer.parseInt(w[4]) : 0));
          }
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return calls;
  }

  // ---- the results

  /** The figures of one workflow over its rounds. */
  record Summary(String system, Workflow workflow, List<Case> cases) {
    List<Long> outages() {
      return cases.stream().map(c -> c.outage().outageMillis()).sorted().toList();
    }

    long median() {
      return LabMain.median(outages());
    }

    long min() {
      return outages().get(0);
    }

    long max() {
      return outages().get(outages().size() - 1);
    }

    boolean ok() {
      return cases.stream().allMatch(Case::ok);
    }

    String answered() {
      return cases.stream()
          .map(c -> c.outage().before() + " → " + c.outage().after())
          .distinct()
          .collect(Collectors.joining(", "));
    }

    List<Long> extra(String key) {
      return cases.stream()
          .map(c -> c.extra().get(key))
          .filter(Long.class::isInstance)
          .map(Long.class::cast)
          .sorted()
          .toList();
    }

    String fileName() {
      return (system.equals("sipha") ? "" : system + "-") + workflow.key + ".png";
    }
  }

  List<Summary> summaries() {
    Map<String, Summary> m = new LinkedHashMap<>();
    for (Case c : cases) {
      m.computeIfAbsent(
              c.system() + "/" + c.workflow(),
              k -> new Summary(c.system(), c.workflow(), new ArrayList<>()))
          .cases()
          .add(c);
    }
    return List.copyOf(m.values());
  }

  Optional<Summary> summary(String system, Workflow wf) {
    return summaries().stream()
        .filter(s -> s.system().equals(system) && s.workflow() == wf)
        .findFirst();
  }

  void report(Path root, boolean docs) {
    List<Summary> sums = summaries();
    System.out.println();
    String table = table(sums);
    System.out.println(table);
    problems.forEach(p -> System.out.println("problem: " + p));
    for (Summary s : sums) {
      List<Timeline.Panel> panels =
          s.cases().stream()
              .map(
                  c ->
                      new Timeline.Panel(
                          "round "
                              + c.round()
                              + ": outage "
                              + c.outage().outageMillis()
                              + " ms, answered "
                              + c.outage().before()
                              + " → "
                              + c.outage().after()
                              + (c.ok() ? "" : "  (FAILED)"),
                          c.samples(),
                          c.outage(),
                          c.marks()))
              .toList();
      Timeline.render(
          s.system()
              + ": "
              + s.workflow().title
              + " — who answered OPTIONS sent to "
              + NetLab.VIP
              + " every 10 ms (0 = "
              + s.cases().get(0).action()
              + ")",
          panels,
          out.resolve(s.fileName()));
    }
    writeJson(sums);
    System.out.println(
        "results: " + out.resolve("results.json") + ", timelines: " + out + "/*.png");
    if (docs) {
      writeDocs(root, sums);
    }
  }

  private String table(List<Summary> sums) {
    StringBuilder b = new StringBuilder();
    b.append(
        "| system | workflow | runs | outage ms, median | min – max ms | answered before → after | target | met |\n");
    b.append("|---|---|---:|---:|---:|---|---|---|\n");
    for (Summary s : sums) {
      Target t = target(s);
      b.append(
          String.format(
              Locale.ROOT,
              "| %s | %s | %d | %d | %d – %d | %s | %s | %s |%n",
              s.system(),
              s.workflow().title + (s.ok() ? "" : " (FAILED)"),
              s.cases().size(),
              s.median(),
              s.min(),
              s.max(),
              s.answered(),
              t.text(),
              t.met()));
    }
    return b.toString();
  }

  /** A target of the issue and whether this run met it. */
  record Target(String text, String met) {}

  Target target(Summary s) {
    if (!s.system().equals("sipha")) {
      return new Target("reference", "—");
    }
    return switch (s.workflow()) {
      case SWITCHOVER ->
          new Target(
              "≤ " + SWITCHOVER_TARGET_MILLIS + " ms median",
              s.median() <= SWITCHOVER_TARGET_MILLIS ? "yes" : "no");
      case PRIMARY_FAILURE ->
          new Target(
              "≤ " + PRIMARY_FAILURE_TARGET_MILLIS + " ms median",
              s.median() <= PRIMARY_FAILURE_TARGET_MILLIS ? "yes" : "no");
      case HOST_DISCONNECTED ->
          new Target(
              "≤ " + HOST_LOSS_TARGET_MILLIS + " ms median, ≤ " + HOST_LOSS_MAX_MILLIS + " ms max",
              s.median() <= HOST_LOSS_TARGET_MILLIS && s.max() <= HOST_LOSS_MAX_MILLIS
                  ? "yes"
                  : s.median() <= HOST_LOSS_TARGET_MILLIS ? "median yes, max no" : "no");
      case HOST_AND_LEADER_LOST ->
          new Target(
              "≤ " + LEADER_LOSS_TARGET_MILLIS + " ms median",
              s.median() <= LEADER_LOSS_TARGET_MILLIS ? "yes" : "no");
      case RECONNECTION -> new Target("—", "—");
      default ->
          new Target(
              "no transition, no VIP move, no outage",
              s.cases().stream().allMatch(Case::ok) ? "yes" : "no");
    };
  }

  /** The false transitions of a steady summary, summed over its rounds. */
  static long falseTransitions(Summary s) {
    return s.cases().stream()
        .mapToLong(c -> c.extra().get("falseTransitions") instanceof Long l ? l : 0)
        .sum();
  }

  /** How long the VIP was on both hosts in a steady summary, summed over its rounds (ms). */
  static long vipOnTwoHostsMs(Summary s) {
    return s.cases().stream()
        .mapToLong(c -> c.extra().get("vipOnTwoHostsMs") instanceof Long l ? l : 0)
        .sum();
  }

  private static String yesNo(boolean all, boolean median) {
    return all ? "yes" : median ? "median yes, not every run" : "no";
  }

  private void writeJson(List<Summary> sums) {
    Map<String, Object> root = new LinkedHashMap<>();
    root.put("started", started.toString());
    root.put("rounds", rounds);
    root.put("machine", machine);
    root.put("setup", setup());
    root.put("problems", problems);
    if (keepalivedSkipped != null) {
      root.put("keepalivedSkipped", keepalivedSkipped);
    }
    List<Object> summaryList = new ArrayList<>();
    for (Summary s : sums) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("system", s.system());
      m.put("workflow", s.workflow().title);
      m.put("runs", s.cases().size());
      m.put("ok", s.ok());
      m.put("outageMs", s.outages());
      m.put("medianMs", s.median());
      m.put("answered", s.answered());
      m.put("target", target(s).text());
      m.put("met", target(s).met());
      m.put("timeline", s.fileName());
      summaryList.add(m);
    }
    root.put("summary", summaryList);
    List<Object> caseList = new ArrayList<>();
    for (Case c : cases) {
      Outage o = c.outage();
      long a = o.actionMicros();
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("system", c.system());
      m.put("workflow", c.workflow().title);
      m.put("round", c.round());
      m.put("ok", c.ok());
      m.put("action", c.action());
      m.put("actionAt", Instant.ofEpochSecond(a / 1_000_000, (a % 1_000_000) * 1000).toString());
      m.put("outageMs", o.outageMillis());
      m.put("outageFromMs", ms(o.gapStartMicros() - a));
      m.put("outageToMs", ms(o.gapEndMicros() - a));
      m.put("answeredBefore", o.before());
      m.put("answeredAfter", o.after());
      m.put("newHostAnswersFromMs", ms(o.switchMicros()));
      m.put("completedMs", c.doneMillis());
      m.put("answersAfterAction", o.answersAfterAction());
      m.put("probes", o.probes());
      m.put("timeouts", o.timeouts());
      m.put("baselineMaxGapMs", ms(o.baselineGapMicros()));
      Map<String, Object> extra = new LinkedHashMap<>(c.extra());
      extra.computeIfPresent("lastRenewal", (k, v) -> v.toString());
      m.putAll(extra);
      m.put(
          "marks",
          c.marks().stream()
              .map(k -> Map.of("ms", ms(k.atMicros() - a), "what", k.label()))
              .toList());
      m.put(
          "answers",
          o.runs().stream()
              .map(
                  r ->
                      Map.of(
                          "who",
                          r.who(),
                          "fromMs",
                          ms(r.fromMicros() - a),
                          "toMs",
                          ms(r.toMicros() - a),
                          "count",
                          r.count()))
              .toList());
      caseList.add(m);
    }
    root.put("cases", caseList);
    try {
      new ObjectMapper()
          .enable(SerializationFeature.INDENT_OUTPUT)
          .writeValue(out.resolve("results.json").toFile(), root);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * docs/lab/results.json: one entry per system and case (rounds, median, min, max, false
   * transitions), the run's date, revision and setup.
   */
  private Map<String, Object> docsResults(List<Summary> sums) {
    Map<String, Object> root = new LinkedHashMap<>();
    root.put("measured", started.toString());
    root.put("revision", revision());
    root.put("setup", setup());
    root.put("problems", problems);
    List<Object> entries = new ArrayList<>();
    for (Summary s : sums) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("system", s.system());
      m.put("case", s.workflow().key);
      m.put("rounds", s.cases().size());
      m.put("medianMs", s.median());
      m.put("minMs", s.min());
      m.put("maxMs", s.max());
      // a transition where none may happen; the timed workflows make one on purpose (null)
      m.put("falseTransitions", s.workflow().steady() ? falseTransitions(s) : null);
      if (s.workflow().steady()) {
        m.put("vipOnTwoHostsMs", vipOnTwoHostsMs(s));
      }
      m.put("failedRuns", s.cases().stream().filter(c -> !c.ok()).count());
      m.put("target", target(s).text());
      m.put("met", target(s).met());
      entries.add(m);
    }
    root.put("cases", entries);
    return root;
  }

  private Map<String, Object> setup() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("vip", NetLab.VIP + "/" + NetLab.VIP_PREFIX);
    m.put(
        "signalling",
        Map.of("host-a", "192.0.2.11", "host-b", "192.0.2.12", "client", NetLab.CLIENT_ADDRESS));
    m.put(
        "management",
        Map.of(
            "host-a",
            NetLab.managementAddress("host-a"),
            "host-b",
            NetLab.managementAddress("host-b"),
            "ctl",
            NetLab.CONTROL_ADDRESS));
    m.put("faultHeldSeconds", holdSeconds);
    m.put(
        "probe",
        "sipp OPTIONS to the VIP, 100 per second, answer timeout 500 ms, no retransmission");
    m.put(
        "sipha",
        Map.of(
            "nodeLossSeconds",
            SiphaOnLab.NODE_LOSS_SECONDS,
            "unreadyGraceSeconds",
            SiphaOnLab.UNREADY_GRACE_SECONDS,
            "agentRenewSeconds",
            SiphaOnLab.RENEW_EVERY.toSeconds(),
            "peerHeartbeat",
            "every 50 ms over the signalling network, silent after 300 ms (the agent's defaults)",
            "processes",
            "sipha agent inside each host, sipha operator inside ctl (the API reached over the"
                + " management network)",
            "scripts",
            "helm/sipha/files (sipha's defaults), run by the agent inside its host"));
    m.put(
        "keepalived",
        Map.of(
            "vrrpVersion",
            3,
            "advertInt",
            List.of(
                Keepalived.advertInt(Keepalived.DEFAULT_ADVERT_MILLIS),
                Keepalived.advertInt(Keepalived.TUNED_ADVERT_MILLIS)),
            "priorities",
            Keepalived.PRIORITY,
            "masterDownMs",
            List.of(
                Keepalived.detectionMillis(Keepalived.DEFAULT_ADVERT_MILLIS),
                Keepalived.detectionMillis(Keepalived.TUNED_ADVERT_MILLIS))));
    return m;
  }

  // ---- docs/BENCHMARKS.md and docs/lab/

  private void writeDocs(Path root, List<Summary> sums) {
    try {
      Path docsLab = root.resolve("docs/lab");
      Files.createDirectories(docsLab);
      for (Summary s : sums) {
        Files.copy(
            out.resolve(s.fileName()),
            docsLab.resolve(s.fileName()),
            StandardCopyOption.REPLACE_EXISTING);
      }
      new ObjectMapper()
          .enable(SerializationFeature.INDENT_OUTPUT)
          .writeValue(docsLab.resolve("results.json").toFile(), docsResults(sums));
      Path bench = root.resolve("docs/BENCHMARKS.md");
      String existing = Files.exists(bench) ? Files.readString(bench) : "# Benchmarks\n";
      Files.writeString(bench, replaceSection(existing, "## Network lab", section(sums)));
      System.out.println(
          "docs: "
              + bench
              + " (section \"Network lab\"), "
              + docsLab
              + "/results.json, "
              + docsLab
              + "/*.png");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Replaces the section that starts with {@code heading} (up to the next "## "), or appends it.
   */
  static String replaceSection(String doc, String heading, String section) {
    List<String> lines = new ArrayList<>(doc.lines().toList());
    int start = -1;
    for (int i = 0; i < lines.size(); i++) {
      if (lines.get(i).strip().equals(heading)) {
        start = i;
        break;
      }
    }
    String body = section.endsWith("\n") ? section : section + "\n";
    if (start < 0) {
      String d = doc.endsWith("\n") ? doc : doc + "\n";
      return d + "\n" + body;
    }
    int end = lines.size();
    for (int i = start + 1; i < lines.size(); i++) {
      if (lines.get(i).startsWith("## ")) {
        end = i;
        break;
      }
    }
    String before = String.join("\n", lines.subList(0, start));
    String after = String.join("\n", lines.subList(end, lines.size()));
    return (before.isEmpty() ? "" : before + "\n")
        + body
        + (after.isEmpty() ? "" : "\n" + after + "\n");
  }

  String section(List<Summary> sums) {
    StringBuilder b = new StringBuilder();
    b.append("## Network lab\n\n");
    b.append("Measured by `make lab` (")
        .append(DateTimeFormatter.ISO_LOCAL_DATE.format(started.atZone(ZoneOffset.UTC)))
        .append(", ")
        .append(rounds)
        .append(" rounds per timed workflow, each fault held ")
        .append(holdSeconds)
        .append(" s in ")
        .append(steadyRounds)
        .append(" round(s)). Two networks per host, as deployments have them:\n")
        .append(
            "the **signalling** network `sig` (a bridge, STP off: `host-a` 192.0.2.11, `host-b` 192.0.2.12, `client`\n")
        .append(
            "192.0.2.100; the VIP 192.0.2.10/24, the SIP traffic and the agents' peer heartbeat) and the **management**\n")
        .append(
            "network `mgmt` (`host-a` 198.51.100.11, `host-b` 198.51.100.12, `ctl` 198.51.100.1: the API and the\n")
        .append(
            "operator's probes of the agents). Each host runs `sipha agent` (a process inside its namespace, with\n")
        .append(
            "sipha's default VIP scripts and peer-channel settings: a heartbeat every 50 ms, silent after 300 ms) and\n")
        .append(
            "a stand-in SIP Server answering OPTIONS to the VIP with `X-Served-By: <host>`; `ctl` runs `sipha operator`\n")
        .append(
            "and the end of a relay to the lab's embedded API (which listens on loopback only), with a fault proxy\n")
        .append(
            "in between that slows or cuts the API for everyone. sipp in `client` sends an OPTIONS to the VIP every\n")
        .append(
            "10 ms (500 ms answer timeout, no retransmission). **Outage** = the longest gap between two consecutive\n")
        .append(
            "200 OK answers from the last answer before the action until 1.5 s after the workflow completed; with\n")
        .append(
            "nothing lost it is 10–16 ms. The client's ARP cache is flushed before each case. sipha: `nodeLossSeconds: 3`,\n")
        .append(
            "`unreadyGraceSeconds: 2`, Leases renewed every second; one switchover there and back, with probes, warms\n")
        .append("the JVMs up. ")
        .append(machine.get("keepalived"))
        .append(": VRRPv3 on the signalling network, priorities host-a ")
        .append(Keepalived.PRIORITY.get("host-a"))
        .append(" / host-b ")
        .append(Keepalived.PRIORITY.get("host-b"))
        .append(", at its default `advert_int 1`\n(host-b declares the master down after ")
        .append(Keepalived.detectionMillis(Keepalived.DEFAULT_ADVERT_MILLIS))
        .append(" ms) and tuned to `advert_int 0.1` (")
        .append(Keepalived.detectionMillis(Keepalived.TUNED_ADVERT_MILLIS))
        .append(" ms).\n\n");
    b.append(
            "Workflows: **manual switchover** (`spec.primary` sip-0 → sip-1); **primary failure** (host-b's SIP\n")
        .append(
            "Server process killed and pod sip-1 deleted); **host disconnected** (both of host-a's cables pulled;\n")
        .append(
            "its agent runs on, cut off, and host-a keeps its VIP); **reconnection** (the cables back: host-a still\n")
        .append(
            "holds the VIP at an old epoch); **host disconnected with the operator's leader** (the operator's two\n")
        .append(
            "replicas moved onto the hosts, the leader on host-a with the primary, then host-a's cables pulled).\n")
        .append("The pulls of the successive rounds are spread evenly over one second.\n")
        .append(
            "Faults under which nothing may move: **API server slowed** (every request delayed 2 s), **API server\n")
        .append(
            "down** (every connection dropped and refused), **primary's node cut from the API** (its management\n")
        .append(
            "cable pulled: its agent and SIP Server still fine on the signalling network), **signalling cut between\n")
        .append(
            "the hosts** (their bridge ports isolated from each other, both still reaching the client). keepalived\n")
        .append("has no API: it runs the host cases and the signalling cut.\n\n");
    b.append(table(sums)).append('\n');
    if (!problems.isEmpty()) {
      b.append("Problems in this run: ").append(String.join("; ", problems)).append("\n\n");
    }
    b.append(
            "Every run (ms; \"first answer from the new host\" counts from the action; \"CPU pressure\" is the share\n")
        .append(
            "of the case's time during which some task on the machine waited for a CPU, from /proc/pressure/cpu:\n")
        .append("high values mean the figures include waiting for the two cores):\n\n");
    b.append(
            "| system | workflow | round | outage | first answer from the new host | CPU pressure | details |\n")
        .append("|---|---|---:|---:|---:|---:|---|\n");
    for (Case c : cases) {
      b.append(
          String.format(
              Locale.ROOT,
              "| %s | %s | %d | %d | %s | %s | %s |%n",
              c.system(),
              c.workflow().title,
              c.round(),
              c.outage().outageMillis(),
              c.outage().before().equals(c.outage().after()) ? "—" : ms(c.outage().switchMicros()),
              c.extra().containsKey("cpuPressurePct")
                  ? c.extra().get("cpuPressurePct") + " %"
                  : "?",
              details(c)));
    }
    b.append('\n');
    b.append(
            "Timelines (one panel per round; a tick per answer in the lane of the host that sent it, a red tick\n")
        .append(
            "per probe without an answer, the outage shaded, the scripts run and the status changes numbered):\n\n");
    for (Summary s : sums) {
      b.append("- ")
          .append(s.system())
          .append(" ")
          .append(s.workflow().title)
          .append(": ![")
          .append(s.system())
          .append(" ")
          .append(s.workflow().title)
          .append("](lab/")
          .append(s.fileName())
          .append(")\n");
    }
    b.append('\n');
    b.append(againstTargets());
    b.append("\n### Machine\n\n");
    b.append("- ")
        .append(machine.get("cpu"))
        .append(", ")
        .append(machine.get("nproc"))
        .append(" cores (nproc); kernel ")
        .append(machine.get("kernel"))
        .append("; ")
        .append(machine.get("os"))
        .append('\n');
    b.append("- sipha ")
        .append(machine.get("sipha"))
        .append("; ")
        .append(machine.get("java"))
        .append("; ")
        .append(machine.get("sipp"))
        .append("; ")
        .append(machine.get("keepalived"))
        .append("; ")
        .append(machine.get("arping"))
        .append('\n');
    b.append("- load average at the start: ")
        .append(machine.get("loadavg"))
        .append("; the lab ran at nice ")
        .append(machine.get("nice"))
        .append(" (`make lab` runs it at `nice -n -10`, so that other work sharing the cores\n")
        .append("  disturbs the figures less; `LAB_NICE=0` turns that off)\n");
    b.append("\n### Reproduce\n\n```sh\n")
        .append(
            "# Debian/Ubuntu, as root (network namespaces); nothing leaves the lab's namespaces\n")
        .append(
            "apt-get install -y --no-install-recommends sip-tester iputils-arping keepalived iproute2\n")
        .append("make lab                          # = the two commands below\n")
        .append(
            "mvn -B -ntp -q -DskipTests test-compile dependency:build-classpath -Dmdep.includeScope=test \\\n")
        .append("    -Dmdep.outputFile=target/test.classpath\n")
        .append(
            "cd operator/demo && nice -n -10 java -cp target/test-classes:target/classes:$(cat target/test.classpath) \\\n")
        .append("    io.sipha.lab.LabMain --rounds ")
        .append(rounds)
        .append(" --hold-seconds ")
        .append(holdSeconds)
        .append(" --steady-rounds ")
        .append(steadyRounds)
        .append("\n")
        .append("```\n\n")
        .append(
            "It prints the table, writes `operator/demo/target/lab/results.json` (per case: who answered, as runs of\n")
        .append(
            "answers, the scripts run, the status changes, the detection figures), `operator/demo/target/lab/*.png`,\n")
        .append(
            "the logs of the agents, the operator, sipp and keepalived (`work/`), and updates this section,\n")
        .append(
            "`docs/lab/results.json` (one entry per system and case) and `docs/lab/*.png`. Not root: it says so and\n")
        .append(
            "exits 0. The smoke test `LabSmokeTest` (in `make test`; skipped when not root or without sipp/arping)\n")
        .append(
            "does one switchover and one host loss through the peer path on this wire and checks who answers.\n");
    return b.toString();
  }

  private String details(Case c) {
    List<String> d = new ArrayList<>();
    Map<String, Object> x = c.extra();
    if (x.get("handoverMs") != null) {
      d.add(
          "vip-disable on "
              + c.expectBefore()
              + " → vip-enable on "
              + c.expectAfter()
              + " done: "
              + x.get("handoverMs")
              + (x.get("releaseReportLagMs") == null
                  ? ""
                  : ", of which the release reported at the new epoch after "
                      + x.get("releaseReportLagMs")));
    }
    if (x.get("detectionMs") != null) {
      d.add(
          (c.system().equals("sipha")
                  ? "node-a declared lost (FailingOver) at +"
                  : "host-b's keepalived MASTER at +")
              + x.get("detectionMs")
              + ", first answer from host-b "
              + x.get("afterDetectionMs")
              + " later"
              + (x.get("leaseRunsOutMs") == null
                  ? ""
                  : " (its Lease would have run out at +" + x.get("leaseRunsOutMs") + ")"));
    }
    if (c.workflow() == Workflow.RECONNECTION && x.get("steps") instanceof List<?> steps) {
      d.add("keepalived: " + steps.stream().map(String::valueOf).collect(Collectors.joining(", ")));
    }
    if (c.workflow() == Workflow.RECONNECTION && c.system().equals("sipha")) {
      d.add(
          "stale VIP removed from host-a at +"
              + x.get("staleVipRemovedMs")
              + "; re-announced by "
              + x.get("reannouncedBy")
              + "; answers from host-a after reconnection: "
              + c.outage().answersAfterAction().getOrDefault("host-a", 0));
    }
    if (c.workflow().steady()) {
      d.add(
          x.get("falseTransitions")
              + " transitions, VIP on both hosts "
              + x.get("vipOnTwoHostsMs")
              + " ms, back "
              + x.get("recoveredAfterHealMs")
              + " ms after the heal");
      if (x.get("seen") instanceof List<?> seen && !seen.isEmpty()) {
        d.add(
            "seen: "
                + seen.stream()
                    .map(String::valueOf)
                    .map(t -> t.replace("|", "/"))
                    .collect(Collectors.joining(" → ")));
      }
    }
    if (c.outage().timeouts() > 0) {
      d.add(c.outage().timeouts() + " probes unanswered");
    }
    if (c.outage().baselineGapMicros() > 50_000) {
      d.add("a gap of " + ms(c.outage().baselineGapMicros()) + " before the action, not counted");
    }
    if (!c.ok()) {
      d.add("FAILED");
    }
    return String.join("; ", d);
  }

  /** Each goal of the issue against this run, and sipha beside keepalived default and tuned. */
  String againstTargets() {
    StringBuilder b = new StringBuilder("### Against the goals\n\n");
    b.append("| goal | sipha, median (min – max) ms | met |\n|---|---|---|\n");
    for (Workflow wf :
        List.of(
            Workflow.HOST_DISCONNECTED,
            Workflow.HOST_AND_LEADER_LOST,
            Workflow.SWITCHOVER,
            Workflow.PRIMARY_FAILURE)) {
      summary("sipha", wf)
          .ifPresent(
              s ->
                  b.append(
                      String.format(
                          Locale.ROOT,
                          "| %s %s | %d (%d – %d), %d runs | %s |%n",
                          wf.title,
                          target(s).text(),
                          s.median(),
                          s.min(),
                          s.max(),
                          s.cases().size(),
                          target(s).met())));
    }
    for (Workflow wf : Workflow.values()) {
      if (wf.steady()) {
        summary("sipha", wf)
            .ifPresent(
                s ->
                    b.append(
                        String.format(
                            Locale.ROOT,
                            "| no false failover: %s (%d s) | longest gap %d ms; %d transitions;"
                                + " VIP on both hosts %d ms | %s |%n",
                            wf.title,
                            holdSeconds,
                            s.max(),
                            falseTransitions(s),
                            vipOnTwoHostsMs(s),
                            target(s).met())));
      }
    }
    b.append("\nSide by side (medians in ms; a ratio below 1 is sipha ahead):\n\n");
    List<String> kas =
        List.of(
            Keepalived.system(Keepalived.DEFAULT_ADVERT_MILLIS),
            Keepalived.system(Keepalived.TUNED_ADVERT_MILLIS));
    b.append("| case | sipha");
    kas.forEach(k -> b.append(" | ").append(k).append(" | sipha / ").append(k));
    b.append(" |\n|---|---:");
    kas.forEach(k -> b.append("|---:|---:"));
    b.append("|\n");
    for (Workflow wf : List.of(Workflow.HOST_DISCONNECTED, Workflow.RECONNECTION)) {
      Optional<Summary> s = summary("sipha", wf);
      if (s.isEmpty()) {
        continue;
      }
      b.append("| ").append(wf.title).append(" | ").append(s.get().median());
      for (String k : kas) {
        Optional<Summary> ks = summary(k, wf);
        b.append(" | ")
            .append(ks.map(x -> String.valueOf(x.median())).orElse("—"))
            .append(" | ")
            .append(
                ks.filter(x -> x.median() > 0)
                    .map(
                        x ->
                            String.format(
                                Locale.ROOT, "%.2f", s.get().median() / (double) x.median()))
                    .orElse("—"));
      }
      b.append(" |\n");
    }
    Optional<Summary> cutS = summary("sipha", Workflow.SIGNALLING_CUT);
    if (cutS.isPresent()) {
      b.append("| ")
          .append(Workflow.SIGNALLING_CUT.title)
          .append(": transitions, VIP on both hosts | ")
          .append(falseTransitions(cutS.get()))
          .append(", ")
          .append(vipOnTwoHostsMs(cutS.get()))
          .append(" ms");
      for (String k : kas) {
        Optional<Summary> ks = summary(k, Workflow.SIGNALLING_CUT);
        b.append(" | ")
            .append(
                ks.map(x -> falseTransitions(x) + ", " + vipOnTwoHostsMs(x) + " ms").orElse("—"))
            .append(" | —");
      }
      b.append(" |\n");
    }
    if (keepalivedSkipped != null) {
      b.append("\nkeepalived comparison skipped: ").append(keepalivedSkipped).append(".\n");
    }
    return b.toString();
  }

  // ---- helpers

  /**
   * The kernel's CPU pressure counter (/proc/pressure/cpu, "some": µs during which at least one
   * runnable task waited for a CPU) and the time it was read (µs), or null where there is none.
   */
  static long[] cpuPressure() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/pressure/cpu"))) {
        if (line.startsWith("some")) {
          java.util.regex.Matcher m = java.util.regex.Pattern.compile("total=(\\d+)").matcher(line);
          if (m.find()) {
            return new long[] {Long.parseLong(m.group(1)), System.nanoTime() / 1000};
          }
        }
      }
    } catch (IOException | RuntimeException e) {
      // no PSI on this kernel
    }
    return null;
  }

  /** The commit the lab measured, and whether the main code differed from it. */
  static String revision() {
    Path root = io.sipha.Checkout.root();
    Sh.Result head = Sh.run("git", "-C", root.toString(), "log", "-1", "--format=%h (%cs)");
    if (!head.ok()) {
      return "not a git checkout";
    }
    Sh.Result dirty =
        Sh.run(
            "git",
            "-C",
            root.toString(),
            "status",
            "--porcelain",
            "--",
            "operator/src/main",
            "operator/demo/src/main",
            "helm/sipha/files");
    return "commit "
        + head.output().strip()
        + (dirty.ok() && dirty.output().isBlank()
            ? ""
            : " with uncommitted changes to the main code");
  }

  /** The nice value this JVM runs at (make lab runs it at -10). */
  static String niceness() {
    try {
      String stat = Files.readString(Path.of("/proc/self/stat"));
      String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
      return f[16];
    } catch (IOException | RuntimeException e) {
      return "?";
    }
  }

  static Map<String, Object> machine() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("nproc", Runtime.getRuntime().availableProcessors());
    m.put("kernel", Sh.run("uname", "-r").output().strip());
    m.put("cpu", firstMatch(Path.of("/proc/cpuinfo"), "model name").orElse("?"));
    m.put(
        "os",
        firstMatch(Path.of("/etc/os-release"), "PRETTY_NAME")
            .map(s -> s.replace("\"", ""))
            .orElse("?"));
    m.put("java", "Java " + System.getProperty("java.version"));
    m.put(
        "sipp",
        Sh.onPath("sipp")
            ? Sh.run("sipp", "-v")
                .output()
                .lines()
                .map(String::strip)
                .filter(l -> l.startsWith("SIPp"))
                .findFirst()
                .orElse("sipp ?")
            : "no sipp");
    m.put("keepalived", Sh.onPath("keepalived") ? Keepalived.version() : "no keepalived");
    m.put(
        "arping",
        Sh.onPath("arping")
            ? Sh.run("arping", "-V").output().strip().lines().findFirst().orElse("arping")
            : "no arping");
    m.put("nice", niceness());
    m.put("sipha", revision());
    try {
      m.put("loadavg", Files.readString(Path.of("/proc/loadavg")).strip());
    } catch (IOException e) {
      m.put("loadavg", "?");
    }
    return m;
  }

  private static Optional<String> firstMatch(Path file, String key) {
    try (Stream<String> lines = Files.lines(file)) {
      return lines
          .filter(l -> l.startsWith(key))
          .findFirst()
          .map(
              l ->
                  l.substring(l.indexOf(l.contains(":") && !l.contains("=") ? ':' : '=') + 1)
                      .strip());
    } catch (IOException | UncheckedIOException e) {
      return Optional.empty();
    }
  }

  static long median(List<Long> sorted) {
    if (sorted.isEmpty()) {
      return -1;
    }
    List<Long> s = sorted.stream().sorted().toList();
    int n = s.size();
    return n % 2 == 1 ? s.get(n / 2) : Math.round((s.get(n / 2 - 1) + s.get(n / 2)) / 2.0);
  }

  static long nowMicros() {
    return micros(Instant.now());
  }

  static long micros(Instant i) {
    return i.getEpochSecond() * 1_000_000 + i.getNano() / 1000;
  }

  static long ms(long micros) {
    return Math.round(micros / 1000.0);
  }

  private static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }
}
