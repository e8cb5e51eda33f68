package io.sipha.cli.plugin.switchover;

import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.Watch;
import io.fabric8.kubernetes.client.Watcher;
import io.fabric8.kubernetes.client.WatcherException;
import io.sipha.api.Condition;
import io.sipha.api.HistoryEntry;
import io.sipha.api.Phase;
import io.sipha.api.SipServerPair;
import io.sipha.api.SipServerPairStatus;
import io.sipha.api.VipStatus;
import io.sipha.cli.plugin.Formats;
import io.sipha.cli.plugin.PairReader;
import io.sipha.decision.Conditions;
import io.sipha.decision.VipReport;
import io.sipha.kube.AgentReports;
import io.sipha.kube.Facts;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import java.util.function.Function;

/**
 * Follows a switchover live: watches the pair, the agents' Leases and the pair's Events, prints
 * what changes, and says how it ended (done, refused, paused, invalid, or out of time).
 */
final class SwitchoverFollower implements AutoCloseable {
  /** What the watches saw, one kind each; each knows what following it means. */
  sealed interface Observed {
    /** Shows it; true when following should stop now. */
    boolean shownBy(SwitchoverFollower f);
  }

  record PairChanged(SipServerPair pair) implements Observed {
    @Override
    public boolean shownBy(SwitchoverFollower f) {
      f.pairChanged(pair);
      return false;
    }
  }

  record AgentLeaseChanged(Lease lease) implements Observed {
    @Override
    public boolean shownBy(SwitchoverFollower f) {
      f.leaseChanged(lease);
      return false;
    }
  }

  record PairEvent(Event event) implements Observed {
    @Override
    public boolean shownBy(SwitchoverFollower f) {
      return f.eventSeen(event);
    }
  }

  /** A watch ended: the pair was deleted (following ends in an error), or the watch closed. */
  record WatchEnded(String what, String why, boolean pairDeleted) implements Observed {
    @Override
    public boolean shownBy(SwitchoverFollower f) {
      if (pairDeleted) {
        f.line.accept("error", why);
        f.outcome = 1;
        f.finalWords = null;
        return true;
      }
      f.line.accept("note", "lost the watch on " + what + ": " + why);
      return false;
    }
  }

  private final BlockingQueue<Observed> seen = new LinkedBlockingQueue<>();
  private final List<Watch> watches = new ArrayList<>();
  private final List<String> problems = new ArrayList<>();
  private final Map<String, VipReport> reports = new HashMap<>();
  private final Set<String> oldEvents = new HashSet<>();
  private final SipServerPair pair;
  private final String to;
  private final String pairName;
  private final BiConsumer<String, String> line;
  private String lastLine;
  private SipServerPairStatus last;
  private long generation;
  private Integer outcome;
  private String finalWords;
  private long graceUntil;

  /**
   * @param to the server to be primary
   * @param line prints one timed line: its kind (status, host, event, note, error) and text
   */
  SwitchoverFollower(
      KubernetesClient client,
      SipServerPair pair,
      String leaseNamespace,
      String to,
      BiConsumer<String, String> line) {
    this.pair = pair;
    this.to = to;
    this.pairName = pair.getMetadata().getName();
    this.line = line;
    String ns = pair.getMetadata().getNamespace();
    last = pair.getStatus();
    lastLine = SwitchoverCommand.statusLine(last);
    try {
      List<Lease> shards = PairReader.reportLeases(client, leaseNamespace);
      for (Lease l : PairReader.agentLeases(client, leaseNamespace)) {
        VipReport r = Facts.reportOf(Facts.nodeOf(l), pair.key(), shards, l);
        if (r != null) {
          reports.put(Facts.nodeOf(l), r);
        }
      }
      // the reports are in the report Leases (an agent of before kept them in its heartbeat Lease)
      for (String label :
          List.of(AgentReports.REPORTS_LABEL_VALUE, AgentReports.LEASE_LABEL_VALUE)) {
        watches.add(
            client
                .leases()
                .inNamespace(leaseNamespace)
                .withLabel(AgentReports.LEASE_LABEL, label)
                .watch(watcher("Leases", AgentLeaseChanged::new)));
      }
    } catch (KubernetesClientException e) {
      problems.add(
          "cannot watch the node agents' Leases in "
              + leaseNamespace
              + " ("
              + e.getMessage()
              + "): host script runs are not shown");
    }
    try {
      client
          .v1()
          .events()
          .inNamespace(ns)
          .list()
          .getItems()
          .forEach(e -> oldEvents.add(e.getMetadata().getName()));
      watches.add(client.v1().events().inNamespace(ns).watch(watcher("Events", PairEvent::new)));
    } catch (KubernetesClientException e) {
      problems.add(
          "cannot watch Events in " + ns + " (" + e.getMessage() + "): they are not shown");
    }
    watches.add(
        client
            .resources(SipServerPair.class)
            .inNamespace(ns)
            .withName(pairName)
            .watch(watcher("the pair", PairChanged::new)));
  }

  /** What could not be watched, for a person. */
  List<String> problems() {
    return problems;
  }

  private <T> Watcher<T> watcher(String what, Function<T, Observed> observed) {
    return new Watcher<>() {
      @Override
      public void eventReceived(Action action, T resource) {
        seen.add(
            action == Action.DELETED && resource instanceof SipServerPair
                ? new WatchEnded(what, "the pair was deleted", true)
                : observed.apply(resource));
      }

      @Override
      public void onClose(WatcherException cause) {
        seen.add(new WatchEnded(what, cause.getMessage(), false));
      }
    };
  }

  /** Prints until done, refused or out of time; returns the exit code and prints the last words. */
  int follow(long generation, Duration limit, java.io.PrintWriter out) throws InterruptedException {
    this.generation = generation;
    long deadline = System.nanoTime() + limit.toNanos();
    while (true) {
      long left = (outcome == null ? deadline : graceUntil) - System.nanoTime();
      if (left <= 0) {
        break;
      }
      Observed o = seen.poll(left, TimeUnit.NANOSECONDS);
      if (o == null || o.shownBy(this)) {
        break;
      }
    }
    if (outcome == null) {
      out.println(
          "Still not done after "
              + Formats.millis(limit.toMillis())
              + ": "
              + SwitchoverCommand.statusLine(last)
              + ".\nThe operator goes on without us: kubectl sipha status "
              + pairName
              + " shows where it is.");
      out.flush();
      return 1;
    }
    if (finalWords != null) {
      out.println(finalWords);
      out.flush();
    }
    return outcome;
  }

  private void leaseChanged(Lease l) {
    String node = Facts.agentFact(l, null).node();
    VipReport r = Facts.reports(l).get(pair.key());
    VipReport before = reports.get(node);
    if (r != null && !sameReport(before, r)) {
      reports.put(node, r);
      line.accept("host", SwitchoverCommand.hostLine(node, before, r));
    }
  }

  /** Shows an Event about the pair; true when it is the last word after the outcome. */
  private boolean eventSeen(Event e) {
    boolean ours =
        e.getInvolvedObject() != null
            && pairName.equals(e.getInvolvedObject().getName())
            && "SipServerPair".equals(e.getInvolvedObject().getKind());
    if (!ours || !oldEvents.add(e.getMetadata().getName())) {
      return false;
    }
    line.accept("event", e.getReason() + ": " + e.getMessage());
    return outcome != null
        && (e.getReason().endsWith("Completed") || e.getReason().equals("SwitchoverRefused"));
  }

  private void pairChanged(SipServerPair p) {
    if (outcome != null) {
      return;
    }
    SipServerPairStatus s = p.getStatus();
    last = s;
    String l = SwitchoverCommand.statusLine(s);
    if (!Objects.equals(l, lastLine)) {
      lastLine = l;
      line.accept("status", l);
    }
    if (s == null || s.observedGeneration == null || s.observedGeneration < generation) {
      return;
    }
    Condition refused = Conditions.find(s.conditions, Conditions.SWITCHOVER_REFUSED).orElse(null);
    if (to.equals(s.primary)
        && s.transition == null
        && s.vip != null
        && s.vip.state == VipStatus.State.Bound) {
      outcome = 0;
      finalWords = done(p);
    } else if (refused != null && "True".equals(refused.status)) {
      outcome = SwitchoverCommand.REFUSED;
      finalWords =
          "Refused: "
              + refused.message
              + ".\nThe request stays in spec.primary and is carried out once "
              + to
              + " is healthy; to withdraw it: kubectl sipha switchover "
              + pairName
              + " --to "
              + Formats.or(s.primary, "<the current primary>");
    } else if (s.phase == Phase.Invalid) {
      outcome = 1;
      finalWords =
          "The operator refused the spec (phase Invalid): "
              + Conditions.find(s.conditions, Conditions.READY).map(c -> c.message).orElse("");
    } else if (s.phase == Phase.Paused) {
      outcome = SwitchoverCommand.REFUSED;
      finalWords =
          pair.key()
              + " is paused (spec.paused: true): the operator changes no role until it is false;"
              + " the request stays in spec.primary.";
    }
    if (outcome != null) {
      // the operator records its Event right after the status: give it a moment to arrive
      graceUntil = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(watches.size() > 1 ? 1000 : 0);
    }
  }

  private String done(SipServerPair p) {
    SipServerPairStatus s = p.getStatus();
    HistoryEntry h =
        s.history.stream()
            .filter(e -> e.epoch == s.epoch && to.equals(e.to))
            .reduce((a, b) -> b)
            .orElse(null);
    return "Done: "
        + to
        + " is primary of "
        + p.key()
        + " on "
        + s.vip.node
        + " with "
        + s.vip.address
        + " at epoch "
        + s.epoch
        + " ("
        + s.phase
        + ")"
        + (h == null
            ? "."
            : "; the operator measured "
                + Formats.millis(h.durationMillis)
                + " from its start to the VIP"
                + " bound on the new node.");
  }

  private static boolean sameReport(VipReport a, VipReport b) {
    return a != null
        && a.state() == b.state()
        && a.epoch() == b.epoch()
        && Objects.equals(a.at(), b.at());
  }

  @Override
  public void close() {
    watches.forEach(Watch::close);
  }
}
