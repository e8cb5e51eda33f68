package io.sipha.cli.plugin;

import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.Watch;
import io.fabric8.kubernetes.client.Watcher;
import io.fabric8.kubernetes.client.WatcherException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.sipha.api.Condition;
import io.sipha.api.HistoryEntry;
import io.sipha.api.Phase;
import io.sipha.api.SipServerPair;
import io.sipha.api.SipServerPairStatus;
import io.sipha.api.VipStatus;
import io.sipha.kube.AgentReports;
import io.sipha.decision.Conditions;
import io.sipha.decision.VipReport;
import io.sipha.kube.Facts;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Callable;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code kubectl sipha switchover PAIR --to SERVER}: the merge patch of kubectl patch, then the switchover live. */
@Command(
    name = "switchover",
    mixinStandardHelpOptions = true,
    description = {
        "Switch a pair over to SERVER, and follow it live until the new primary holds the VIP.",
        "Sends the same merge patch as",
        "  kubectl patch ssp PAIR --type merge -p '{\"spec\":{\"primary\":\"SERVER\"}}'",
        "then follows the switchover live (each status step, which host ran which VIP script, the Events, elapsed"
            + " ms) until the new primary holds the VIP, or prints why the operator refused it.",
        "Exit codes: 0 done, 1 error or timeout, 2 bad usage, 3 refused (the request stays in spec.primary and is"
            + " carried out once the target is healthy) or the pair is paused."})
public final class SwitchoverCommand implements Callable<Integer> {
  static final int REFUSED = 3;

  @Spec CommandSpec spec;
  @Mixin KubeOptions kube;

  @Parameters(paramLabel = "PAIR", description = "The SipServerPair.")
  String pairName;

  @Option(names = "--to", required = true, paramLabel = "SERVER", description = "The server pod to make primary.")
  String to;

  @Option(names = "--no-wait", description = "Send the request and return at once.")
  boolean noWait;

  @Option(names = "--timeout", defaultValue = "60s", paramLabel = "DURATION",
      description = "Stop following after this long (the switchover goes on) (default: ${DEFAULT-VALUE}).")
  String timeout;

  private PrintWriter out;
  private long t0;

  @Override
  public Integer call() throws InterruptedException {
    Duration limit;
    try {
      limit = WhatIf.duration(timeout);
    } catch (IllegalArgumentException e) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--timeout " + timeout + ": a duration like 30s or 2m");
    }
    out = spec.commandLine().getOut();
    try (KubernetesClient client = kube.client()) {
      String ns = kube.namespace(client);
      SipServerPair pair = PairReader.pair(client, ns, pairName);
      List<String> servers = pair.getSpec() == null ? List.of() : pair.getSpec().getServers();
      if (!servers.contains(to)) {
        spec.commandLine().getErr().println("error: " + to + " is not a server of " + pair.key() + " (spec.servers: "
            + String.join(", ", servers) + ")");
        spec.commandLine().getErr().flush();
        return 2;
      }
      SipServerPairStatus before = pair.getStatus();
      String wanted = pair.getSpec().getPrimary();
      if (to.equals(wanted) && before != null && to.equals(before.primary) && before.transition == null) {
        out.println(to + " is already the primary of " + pair.key() + " (" + Text.summary(before) + "): nothing to do.");
        out.flush();
        return 0;
      }
      if (noWait) {
        SipServerPair patched = patch(client, pair);
        out.println("switchover of " + pair.key() + " to " + to + " requested (spec.primary: " + Text.or(wanted, "unset")
            + " -> " + to + ", generation " + patched.getMetadata().getGeneration() + ").");
        out.println("Follow it with: kubectl sipha status " + pairName + " -n " + ns);
        out.flush();
        return 0;
      }
      try (Follower f = new Follower(client, pair, kube.leaseNamespace)) {
        out.println("Switching " + pair.key() + " over to " + to + " (spec.primary: " + Text.or(wanted, "unset") + " -> "
            + to + "); following it live. Ctrl-C stops following, not the switchover.");
        t0 = System.nanoTime();
        line("before", statusLine(before));
        f.problems.forEach(p -> line("note", p));
        long generation;
        if (to.equals(wanted)) {
          generation = pair.getMetadata().getGeneration() == null ? 0 : pair.getMetadata().getGeneration();
          line("patch", "spec.primary already asks for " + to + ": following the pending request");
        } else {
          SipServerPair patched = patch(client, pair);
          generation = patched.getMetadata().getGeneration() == null ? 0 : patched.getMetadata().getGeneration();
          line("patch", "spec.primary=" + to + " (generation " + generation + ")");
        }
        return f.follow(generation, limit);
      }
    }
  }

  private SipServerPair patch(KubernetesClient client, SipServerPair pair) {
    return client.resources(SipServerPair.class).inNamespace(pair.getMetadata().getNamespace())
        .withName(pair.getMetadata().getName())
        .patch(PatchContext.of(PatchType.JSON_MERGE), "{\"spec\":{\"primary\":\"" + to + "\"}}");
  }

  private void line(String kind, String text) {
    out.printf("  +%6d ms  %-6s  %s%n", TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0), kind, text);
    out.flush();
  }

  static String statusLine(SipServerPairStatus s) {
    if (s == null) {
      return "no status yet";
    }
    Condition ready = Conditions.find(s.conditions, Conditions.READY).orElse(null);
    return Text.or(s.phase, "(no phase)") + ", epoch " + s.epoch + ": "
        + (ready == null ? Text.summary(s) : ready.message);
  }

  /** "node-a ran vip-disable 192.0.2.10/24 eth0: released at epoch 2", from two reports in a row. */
  static String hostLine(String node, VipReport before, VipReport now) {
    String vip = Text.or(now.address(), "the VIP") + (now.interfaceName() == null ? "" : " " + now.interfaceName());
    boolean held = before != null && before.is(VipReport.State.Bound);
    return switch (now.state()) {
      case Bound -> node + (held && before.epoch() == now.epoch() ? " ran vip-enable again (announce) " : " ran vip-enable ")
          + vip + ": bound at epoch " + now.epoch();
      case Unbound -> held || (before != null && before.is(VipReport.State.Failed))
          ? node + " ran vip-disable " + vip + ": released at epoch " + now.epoch()
              + (now.removedStaleEpoch() == null ? "" : " (a stale copy from epoch " + now.removedStaleEpoch() + ")")
          : node + " confirms " + vip + " is not on it at epoch " + now.epoch();
      case Failed -> node + " ran " + now.script() + " " + vip + ": FAILED with exit code " + now.exitCode()
          + (now.message() == null ? "" : " (" + Text.firstLine(now.message()) + ")") + "; the agent retries";
    };
  }

  /** Watches the pair, the agents' Leases and the pair's Events, and prints what changes. */
  private final class Follower implements AutoCloseable {
    private final BlockingQueue<Object> seen = new LinkedBlockingQueue<>();
    private final List<Watch> watches = new ArrayList<>();
    private final List<String> problems = new ArrayList<>();
    private final Map<String, VipReport> reports = new HashMap<>();
    private final Set<String> oldEvents = new HashSet<>();
    private final SipServerPair pair;
    private String lastLine;

    private record Gone(String what, String why) {}

    Follower(KubernetesClient client, SipServerPair pair, String leaseNamespace) {
      this.pair = pair;
      String ns = pair.getMetadata().getNamespace();
      lastLine = statusLine(pair.getStatus());
      try {
        List<Lease> shards = PairReader.reportLeases(client, leaseNamespace);
        for (Lease l : PairReader.agentLeases(client, leaseNamespace)) {
          VipReport r = Facts.reportOf(Facts.nodeOf(l), pair.key(), shards, l);
          if (r != null) {
            reports.put(Facts.nodeOf(l), r);
          }
        }
        // the reports are in the report Leases (an agent of before kept them in its heartbeat Lease)
        watches.add(client.leases().inNamespace(leaseNamespace)
            .withLabel(AgentReports.LEASE_LABEL, AgentReports.REPORTS_LABEL_VALUE).watch(watcher("Leases")));
        watches.add(client.leases().inNamespace(leaseNamespace)
            .withLabel(AgentReports.LEASE_LABEL, AgentReports.LEASE_LABEL_VALUE).watch(watcher("Leases")));
      } catch (KubernetesClientException e) {
        problems.add("cannot watch the node agents' Leases in " + leaseNamespace + " (" + e.getMessage()
            + "): host script runs are not shown");
      }
      try {
        client.v1().events().inNamespace(ns).list().getItems()
            .forEach(e -> oldEvents.add(e.getMetadata().getName()));
        watches.add(client.v1().events().inNamespace(ns).watch(watcher("Events")));
      } catch (KubernetesClientException e) {
        problems.add("cannot watch Events in " + ns + " (" + e.getMessage() + "): they are not shown");
      }
      watches.add(client.resources(SipServerPair.class).inNamespace(ns).withName(pair.getMetadata().getName())
          .watch(watcher("the pair")));
    }

    private <T> Watcher<T> watcher(String what) {
      return new Watcher<>() {
        @Override
        public void eventReceived(Action action, T resource) {
          seen.add(action == Action.DELETED && resource instanceof SipServerPair
              ? new Gone(what, "the pair was deleted") : resource);
        }

        @Override
        public void onClose(WatcherException cause) {
          seen.add(new Gone(what, cause.getMessage()));
        }
      };
    }

    /** Prints until done, refused or out of time; returns the exit code. */
    int follow(long generation, Duration limit) throws InterruptedException {
      long deadline = System.nanoTime() + limit.toNanos();
      SipServerPairStatus last = pair.getStatus();
      Integer outcome = null;
      String finalWords = null;
      long graceUntil = 0;
      while (true) {
        long left = (outcome == null ? deadline : graceUntil) - System.nanoTime();
        if (left <= 0) {
          break;
        }
        Object o = seen.poll(left, TimeUnit.NANOSECONDS);
        if (o == null) {
          break;
        }
        if (o instanceof Gone g) {
          if (g.why().contains("deleted")) {
            line("error", g.why());
            return 1;
          }
          line("note", "lost the watch on " + g.what() + ": " + g.why());
        } else if (o instanceof Lease l) {
          String node = Facts.agentFact(l, null).node();
          VipReport r = Facts.reports(l).get(pair.key());
          VipReport before = reports.get(node);
          if (r != null && !sameReport(before, r)) {
            reports.put(node, r);
            line("host", hostLine(node, before, r));
          }
        } else if (o instanceof Event e) {
          if (e.getInvolvedObject() != null && pair.getMetadata().getName().equals(e.getInvolvedObject().getName())
              && "SipServerPair".equals(e.getInvolvedObject().getKind()) && oldEvents.add(e.getMetadata().getName())) {
            line("event", e.getReason() + ": " + e.getMessage());
            if (outcome != null && (e.getReason().endsWith("Completed") || e.getReason().equals("SwitchoverRefused"))) {
              break;
            }
          }
        } else if (o instanceof SipServerPair p && outcome == null) {
          SipServerPairStatus s = p.getStatus();
          last = s;
          String l = statusLine(s);
          if (!Objects.equals(l, lastLine)) {
            lastLine = l;
            line("status", l);
          }
          if (s == null || s.observedGeneration == null || s.observedGeneration < generation) {
            continue;
          }
          Condition refused = Conditions.find(s.conditions, Conditions.SWITCHOVER_REFUSED).orElse(null);
          if (to.equals(s.primary) && s.transition == null && s.vip != null && s.vip.state == VipStatus.State.Bound) {
            outcome = 0;
            finalWords = done(p);
          } else if (refused != null && "True".equals(refused.status)) {
            outcome = REFUSED;
            finalWords = "Refused: " + refused.message + ".\nThe request stays in spec.primary and is carried out once "
                + to + " is healthy; to withdraw it: kubectl sipha switchover " + pairName + " --to "
                + Text.or(s.primary, "<the current primary>");
          } else if (s.phase == Phase.Invalid) {
            outcome = 1;
            finalWords = "The operator refused the spec (phase Invalid): "
                + Conditions.find(s.conditions, Conditions.READY).map(c -> c.message).orElse("");
          } else if (s.phase == Phase.Paused) {
            outcome = REFUSED;
            finalWords = pair.key() + " is paused (spec.paused: true): the operator changes no role until it is false;"
                + " the request stays in spec.primary.";
          }
          if (outcome != null) {
            // the operator records its Event right after the status: give it a moment to arrive
            graceUntil = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(watches.size() > 1 ? 1000 : 0);
          }
        }
      }
      if (outcome == null) {
        out.println("Still not done after " + Text.millis(limit.toMillis()) + ": " + statusLine(last)
            + ".\nThe operator goes on without us: kubectl sipha status " + pairName + " shows where it is.");
        out.flush();
        return 1;
      }
      out.println(finalWords);
      out.flush();
      return outcome;
    }

    private String done(SipServerPair p) {
      SipServerPairStatus s = p.getStatus();
      HistoryEntry h = s.history.stream().filter(e -> e.epoch == s.epoch && to.equals(e.to)).reduce((a, b) -> b)
          .orElse(null);
      return "Done: " + to + " is primary of " + p.key() + " on " + s.vip.node + " with " + s.vip.address + " at epoch "
          + s.epoch + " (" + s.phase + ")"
          + (h == null ? "." : "; the operator measured " + Text.millis(h.durationMillis) + " from its start to the VIP"
              + " bound on the new node.");
    }

    private static boolean sameReport(VipReport a, VipReport b) {
      return a != null && a.state() == b.state() && a.epoch() == b.epoch() && Objects.equals(a.at(), b.at());
    }

    @Override
    public void close() {
      watches.forEach(Watch::close);
    }
  }
}
