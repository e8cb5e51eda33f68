package io.sipha.cli.plugin.plan;

import com.fasterxml.jackson.databind.JsonNode;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.sipha.api.Condition;
import io.sipha.api.SipServerPairStatus;
import io.sipha.api.Transition;
import io.sipha.api.VipStatus;
import io.sipha.cli.plugin.Formats;
import io.sipha.cli.plugin.KubeOptions;
import io.sipha.cli.plugin.PairReader;
import io.sipha.decision.Conditions;
import io.sipha.decision.PairDecider;
import io.sipha.decision.PairFacts;
import io.sipha.decision.Plan;
import io.sipha.vip.AllowedCidrs;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code kubectl sipha plan PAIR [--if ...]}: the operator's next step, computed here, changing
 * nothing.
 */
@Command(
    name = "plan",
    mixinStandardHelpOptions = true,
    description = {
      "What the operator would do next for a pair, given the facts right now. Changes nothing.",
      "The pod roles it would set, the status it would write (phase, epoch, where the VIP goes), the Events, and"
          + " when it would look again: computed by the operator's own decision core from a fresh read of the pair,"
          + " its pods and the node agents' Leases.",
      "",
      "--if asks 'what if' (repeat it, or separate with commas):",
      WhatIf.HELP,
      "",
      "Node liveness is judged by the renewTime in each agent's Lease; the operator uses the time it saw each"
          + " renewal, so the two agree when the clocks do."
    })
public final class PlanCommand implements Callable<Integer> {
  @Spec CommandSpec spec;
  @Mixin KubeOptions kube;

  @Parameters(paramLabel = "PAIR", description = "The SipServerPair.")
  String pairName;

  @Option(
      names = "--if",
      paramLabel = "WHAT",
      split = ",",
      description = "Change the facts first (see above).")
  List<String> whatIf = new ArrayList<>();

  @Option(
      names = "--allowed-vip-cidrs",
      split = ",",
      paramLabel = "CIDR",
      description = "The operator's --allowed-vip-cidrs, if it restricts VIPs (default: any).")
  List<String> allowedCidrs = new ArrayList<>();

  @Option(
      names = {"-o", "--output"},
      paramLabel = "json|yaml",
      description = "Print structured output instead of text.")
  Formats.Format output;

  /** What -o json prints. */
  record PlanView(
      String pair,
      String observedAt,
      List<String> whatIf,
      Summary now,
      Summary next,
      boolean changes,
      List<String> podsToLabel,
      List<Plan.RoleAssignment> roles,
      List<EventView> events,
      List<Condition> changedConditions,
      List<String> removedConditions,
      Long recheckAfterMillis,
      String agentsProblem,
      SipServerPairStatus status) {}

  record Summary(
      String phase,
      String primary,
      String backup,
      long epoch,
      VipStatus vip,
      Transition transition) {
    static Summary of(SipServerPairStatus s) {
      return s == null
          ? null
          : new Summary(
              s.phase == null ? null : s.phase.name(),
              s.primary,
              s.backup,
              s.epoch,
              s.vip,
              s.transition);
    }
  }

  record EventView(String type, String reason, String message) {}

  @Override
  public Integer call() {
    List<WhatIf> changes = new ArrayList<>();
    AllowedCidrs allowed;
    try {
      whatIf.forEach(w -> changes.add(WhatIf.parse(w)));
      allowed = AllowedCidrs.parse(allowedCidrs);
    } catch (IllegalArgumentException e) {
      throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
    }
    PrintWriter out = spec.commandLine().getOut();
    PlanView view;
    List<String> said = new ArrayList<>();
    try (KubernetesClient client = kube.client()) {
      PairReader.Snapshot snap =
          PairReader.read(client, kube.namespace(client), pairName, kube.leaseNamespace());
      PairFacts facts = snap.facts(allowed);
      try {
        facts = WhatIf.apply(facts, changes, said);
      } catch (IllegalArgumentException e) {
        throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
      }
      view = view(facts, PairDecider.decide(facts), said, snap.leaseProblem());
    }
    out.println(output != null ? Formats.render(view, output) : String.join("\n", words(view)));
    out.flush();
    return 0;
  }

  static PlanView view(PairFacts facts, Plan plan, List<String> said, String agentsProblem) {
    List<Condition> before = facts.status() == null ? List.of() : facts.status().conditions;
    List<Condition> changed = new ArrayList<>();
    for (Condition c : plan.status().conditions) {
      Condition b = Conditions.find(before, c.type).orElse(null);
      if (b == null
          || !Objects.equals(b.status, c.status)
          || !Objects.equals(b.reason, c.reason)
          || !Objects.equals(b.message, c.message)) {
        changed.add(c);
      }
    }
    List<String> removed =
        before.stream()
            .map(c -> c.type)
            .filter(t -> Conditions.find(plan.status().conditions, t).isEmpty())
            .toList();
    boolean statusChanges = !Objects.equals(tree(plan.status()), tree(facts.status()));
    return new PlanView(
        facts.key(),
        facts.now().truncatedTo(java.time.temporal.ChronoUnit.MILLIS).toString(),
        said,
        Summary.of(facts.status()),
        Summary.of(plan.status()),
        statusChanges
            || !plan.roles().isEmpty()
            || !plan.podsToLabel().isEmpty()
            || !plan.events().isEmpty(),
        plan.podsToLabel(),
        plan.roles(),
        plan.events().stream()
            .map(n -> new EventView(n.warning() ? "Warning" : "Normal", n.reason(), n.message()))
            .toList(),
        changed,
        removed,
        plan.recheckAfter() == null ? null : plan.recheckAfter().toMillis(),
        agentsProblem,
        plan.status());
  }

  private static JsonNode tree(Object o) {
    return o == null ? null : Formats.JSON.valueToTree(o);
  }

  static List<String> words(PlanView v) {
    List<String> out = new ArrayList<>();
    out.add("Plan for " + v.pair() + " from the facts read at " + v.observedAt());
    if (v.agentsProblem() != null) {
      out.add("warning: " + v.agentsProblem() + ": without them every node counts as lost");
    }
    for (String w : v.whatIf()) {
      out.add("what if: " + w);
    }
    List<String[]> rows = new ArrayList<>();
    rows.add(
        new String[] {"now:", v.now() == null ? "no status yet (a new pair)" : summary(v.now())});
    if (!v.changes()) {
      rows.add(
          new String[] {"next:", "nothing to do: no pod is touched and the status stays as it is"});
    } else {
      rows.add(new String[] {"next:", summary(v.next())});
      if (v.next().transition() != null) {
        rows.add(new String[] {"", Formats.transition(v.next().transition())});
      }
      if (!v.podsToLabel().isEmpty()) {
        rows.add(
            new String[] {"labels:", "add sipha.io/pair to " + String.join(", ", v.podsToLabel())});
      }
      if (v.roles().isEmpty()) {
        rows.add(new String[] {"roles:", "no pod annotation changes"});
      }
      for (int i = 0; i < v.roles().size(); i++) {
        Plan.RoleAssignment r = v.roles().get(i);
        rows.add(
            new String[] {
              i == 0 ? "roles:" : "",
              (i + 1) + ". " + r.pod() + " -> " + r.role() + " at epoch " + r.epoch()
            });
      }
      for (int i = 0; i < v.events().size(); i++) {
        EventView e = v.events().get(i);
        rows.add(
            new String[] {
              i == 0 ? "events:" : "", e.type() + " " + e.reason() + ": " + e.message()
            });
      }
      List<String> conditions = new ArrayList<>();
      v.changedConditions()
          .forEach(
              c -> conditions.add(c.type + "=" + c.status + " (" + c.reason + "): " + c.message));
      v.removedConditions().forEach(t -> conditions.add(t + " is removed"));
      for (int i = 0; i < conditions.size(); i++) {
        rows.add(new String[] {i == 0 ? "conditions:" : "", conditions.get(i)});
      }
    }
    rows.add(
        new String[] {
          "then:",
          v.recheckAfterMillis() == null
              ? "look again when the pair, one of its pods or a node agent's Lease changes"
              : "look again in "
                  + Formats.millis(v.recheckAfterMillis())
                  + ", or sooner if the pair, a pod or a Lease changes"
        });
    Formats.table(rows).forEach(l -> out.add("  " + l));
    out.add("Nothing was changed: this is what the operator would do next with these facts.");
    return out;
  }

  private static String summary(Summary s) {
    return Formats.or(s.phase(), "(no phase)")
        + ": primary "
        + Formats.or(s.primary(), "none")
        + ", backup "
        + Formats.or(s.backup(), "none")
        + ", epoch "
        + s.epoch()
        + ", VIP "
        + Formats.vip(s.vip());
  }
}
