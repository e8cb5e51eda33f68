package io.sipha.cli.plugin.status;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.sipha.api.Condition;
import io.sipha.api.HistoryEntry;
import io.sipha.api.SipServerPair;
import io.sipha.api.SipServerPairStatus;
import io.sipha.cli.plugin.Formats;
import io.sipha.cli.plugin.KubeOptions;
import io.sipha.cli.plugin.PairReader;
import io.sipha.cli.plugin.history.HistoryCommand;
import io.sipha.vip.AllowedCidrs;
import java.io.PrintWriter;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code kubectl sipha status [PAIR]}. */
@Command(
    name = "status",
    mixinStandardHelpOptions = true,
    description = {
      "Show a pair: phase, roles, epoch, VIP, conditions, pods and node agents.",
      "Phase, primary, backup, epoch, the VIP and the node that holds it, the transition in progress, the"
          + " conditions with their reasons, the two pods, and each node agent's heartbeat age and its VIP report"
          + " for the pair.",
      "Without PAIR: one line per pair (the columns kubectl get ssp shows on a real cluster)."
    })
public final class StatusCommand implements Callable<Integer> {
  @Spec CommandSpec spec;
  @Mixin KubeOptions kube;

  @Parameters(
      arity = "0..1",
      paramLabel = "PAIR",
      description = "The SipServerPair (default: all in the namespace).")
  String pairName;

  @Option(
      names = {"-A", "--all-namespaces"},
      description = "Without PAIR: the pairs of every namespace.")
  boolean allNamespaces;

  @Option(
      names = {"-o", "--output"},
      paramLabel = "json|yaml",
      description = "Print structured output instead of text.")
  Formats.Format output;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    try (KubernetesClient client = kube.client()) {
      String ns = kube.namespace(client);
      if (pairName != null) {
        PairReader.Snapshot snap = PairReader.read(client, ns, pairName, kube.leaseNamespace());
        StatusView v = StatusView.of(snap, snap.facts(AllowedCidrs.any()));
        out.println(
            output != null
                ? Formats.render(v, output)
                : String.join("\n", describe(v, snap.now())));
      } else {
        Instant now = Instant.now();
        List<SipServerPair> pairs =
            new ArrayList<>(
                allNamespaces
                    ? client.resources(SipServerPair.class).inAnyNamespace().list().getItems()
                    : client.resources(SipServerPair.class).inNamespace(ns).list().getItems());
        pairs.sort(Comparator.comparing(SipServerPair::key));
        if (output != null) {
          List<StatusView> items = new ArrayList<>();
          for (SipServerPair p : pairs) {
            PairReader.Snapshot snap = PairReader.read(client, p, kube.leaseNamespace(), now);
            items.add(StatusView.of(snap, snap.facts(AllowedCidrs.any())));
          }
          out.println(Formats.render(Map.of("items", items), output));
        } else if (pairs.isEmpty()) {
          out.println(
              allNamespaces
                  ? "No SipServerPairs found."
                  : "No SipServerPairs found in namespace " + ns + ".");
        } else {
          table(pairs, now).forEach(out::println);
        }
      }
    }
    out.flush();
    return 0;
  }

  /** NAME PRIMARY BACKUP VIP NODE PHASE EPOCH AGE, as the CRD's printer columns. */
  List<String> table(List<SipServerPair> pairs, Instant now) {
    List<String[]> rows = new ArrayList<>();
    List<String> head =
        new ArrayList<>(
            List.of("NAME", "PRIMARY", "BACKUP", "VIP", "NODE", "PHASE", "EPOCH", "AGE"));
    if (allNamespaces) {
      head.add(0, "NAMESPACE");
    }
    rows.add(head.toArray(String[]::new));
    for (SipServerPair p : pairs) {
      SipServerPairStatus s = p.getStatus();
      List<String> r =
          new ArrayList<>(
              List.of(
                  p.getMetadata().getName(),
                  Formats.or(s == null ? null : s.primary, "<none>"),
                  Formats.or(s == null ? null : s.backup, "<none>"),
                  Formats.or(s == null || s.vip == null ? null : s.vip.address, "<none>"),
                  Formats.or(s == null || s.vip == null ? null : s.vip.node, "<none>"),
                  Formats.or(s == null ? null : s.phase, "<none>"),
                  s == null ? "<none>" : String.valueOf(s.epoch),
                  Formats.shortAge(Formats.instant(p.getMetadata().getCreationTimestamp()), now)));
      if (allNamespaces) {
        r.add(0, p.getMetadata().getNamespace());
      }
      rows.add(r.toArray(String[]::new));
    }
    return Formats.table(rows);
  }

  static List<String> describe(StatusView v, Instant now) {
    List<String> out = new ArrayList<>();
    Condition ready =
        v.conditions() == null
            ? null
            : v.conditions().stream().filter(c -> "Ready".equals(c.type)).findFirst().orElse(null);
    List<String[]> head = new ArrayList<>();
    head.add(new String[] {"Pair:", v.namespace() + "/" + v.name()});
    head.add(
        new String[] {
          "Phase:",
          Formats.or(v.phase(), "(none: the operator has not written a status)")
              + (ready == null || ready.message == null ? "" : "   " + ready.message)
        });
    head.add(new String[] {"Primary:", Formats.or(v.primary(), "none") + onNode(v, v.primary())});
    head.add(new String[] {"Backup:", Formats.or(v.backup(), "none") + onNode(v, v.backup())});
    head.add(new String[] {"Epoch:", String.valueOf(v.epoch())});
    head.add(
        new String[] {
          "VIP:",
          v.vip() == null
              ? "-"
              : v.vip().address
                  + " dev "
                  + v.vip().interfaceName
                  + ", "
                  + v.vip().state
                  + (v.vip().node == null ? "" : " on " + v.vip().node)
                  + (v.vip().announce > 0
                      ? " (announced again " + v.vip().announce + " time(s))"
                      : "")
        });
    head.add(new String[] {"Transition:", Formats.transition(v.transition())});
    if (v.fenced() != null && !v.fenced().isEmpty()) {
      head.add(
          new String[] {
            "Fenced:",
            String.join(
                ", ",
                v.fenced().stream()
                    .map(
                        f ->
                            f.node
                                + " ("
                                + Formats.or(f.pod, "?")
                                + " at epoch "
                                + f.epoch
                                + ", not yet confirmed it dropped the VIP)")
                    .toList())
          });
    }
    if (v.spec() != null) {
      StatusView.SpecView s = v.spec();
      head.add(
          new String[] {
            "Spec:",
            "servers "
                + String.join(", ", s.servers())
                + "; primary "
                + Formats.or(s.primary(), "-")
                + "; VIP "
                + s.vip()
                + (s.paused() ? "; PAUSED" : "")
                + "; failover "
                + (s.failoverEnabled()
                    ? "after "
                        + s.unreadyGraceSeconds()
                        + " s NotReady or "
                        + s.nodeLossSeconds()
                        + " s without a heartbeat"
                    : "disabled")
                + "; failback "
                + s.failback()
          });
    }
    head.add(
        new String[] {
          "Generation:",
          v.generation() + " (status reflects " + Formats.or(v.observedGeneration(), "none") + ")"
        });
    out.addAll(Formats.table(head));

    out.add("");
    out.add("Conditions:");
    if (v.conditions() == null || v.conditions().isEmpty()) {
      out.add("  none");
    } else {
      List<String[]> rows = new ArrayList<>();
      rows.add(new String[] {"TYPE", "STATUS", "REASON", "SINCE", "MESSAGE"});
      for (Condition c : v.conditions()) {
        rows.add(
            new String[] {
              c.type,
              c.status,
              c.reason,
              Formats.age(Formats.instant(c.lastTransitionTime), now),
              c.message
            });
      }
      Formats.table(rows).forEach(l -> out.add("  " + l));
    }

    out.add("");
    out.add("Pods:");
    List<String[]> pods = new ArrayList<>();
    pods.add(new String[] {"NAME", "NODE", "READY", "ROLE", "EPOCH", "PROBLEM"});
    for (StatusView.PodView p : v.pods()) {
      pods.add(
          p.exists()
              ? new String[] {
                p.name(),
                Formats.or(p.node(), "<unscheduled>"),
                p.ready() ? "True" : "False",
                Formats.or(p.role(), "<none>"),
                Formats.or(p.epoch(), "<none>"),
                p.failure() != null
                    ? p.failure()
                    : p.labelled() ? "" : "lacks label sipha.io/pair=" + v.name()
              }
              : new String[] {p.name(), "-", "-", "-", "-", "does not exist"});
    }
    Formats.table(pods).forEach(l -> out.add("  " + l));

    out.add("");
    out.add("Node agents:");
    if (v.agentsProblem() != null) {
      out.add("  " + v.agentsProblem());
    }
    if (!v.agents().isEmpty()) {
      List<String[]> rows = new ArrayList<>();
      rows.add(new String[] {"NODE", "HEARTBEAT", "STATE", "VIP REPORT FOR THIS PAIR"});
      for (StatusView.AgentView a : v.agents()) {
        rows.add(
            new String[] {
              a.node(),
              a.heartbeatAgeMillis() == null
                  ? "never"
                  : Formats.millis(a.heartbeatAgeMillis()) + " ago",
              a.state(),
              Formats.report(a.report() == null ? null : a.report().toReport(), now)
            });
      }
      Formats.table(rows).forEach(l -> out.add("  " + l));
    }

    HistoryEntry h = v.lastTransition();
    if (h != null) {
      out.add("");
      out.add(
          "Last transition: "
              + HistoryCommand.line(h, now)
              + "  (kubectl sipha history "
              + v.name()
              + ")");
    }
    return out;
  }

  private static String onNode(StatusView v, String pod) {
    if (pod == null) {
      return "";
    }
    return v.pods().stream()
        .filter(p -> p.name().equals(pod) && p.exists() && p.node() != null)
        .map(p -> " on " + p.node() + (p.ready() ? "" : " (NotReady)"))
        .findFirst()
        .orElse(
            v.pods().stream().anyMatch(p -> p.name().equals(pod) && !p.exists())
                ? " (pod does not exist)"
                : "");
  }
}
