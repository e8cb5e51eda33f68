package io.sipha.cli.plugin.switchover;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.sipha.api.Condition;
import io.sipha.api.SipServerPair;
import io.sipha.api.SipServerPairStatus;
import io.sipha.cli.plugin.Formats;
import io.sipha.cli.plugin.KubeOptions;
import io.sipha.cli.plugin.PairReader;
import io.sipha.decision.Conditions;
import io.sipha.decision.VipReport;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code kubectl sipha switchover PAIR --to SERVER}: the merge patch of kubectl patch, then the
 * switchover live.
 */
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
          + " carried out once the target is healthy) or the pair is paused."
    })
public final class SwitchoverCommand implements Callable<Integer> {
  static final int REFUSED = 3;

  @Spec CommandSpec spec;
  @Mixin KubeOptions kube;

  @Parameters(paramLabel = "PAIR", description = "The SipServerPair.")
  String pairName;

  @Option(
      names = "--to",
      required = true,
      paramLabel = "SERVER",
      description = "The server pod to make primary.")
  String to;

  @Option(names = "--no-wait", description = "Send the request and return at once.")
  boolean noWait;

  @Option(
      names = "--timeout",
      defaultValue = "60s",
      paramLabel = "DURATION",
      description =
          "Stop following after this long (the switchover goes on) (default: ${DEFAULT-VALUE}).")
  String timeout;

  private PrintWriter out;
  private long t0;

  @Override
  public Integer call() throws InterruptedException {
    Duration limit;
    try {
      limit = Formats.duration(timeout, "--timeout " + timeout);
    } catch (IllegalArgumentException e) {
      throw new CommandLine.ParameterException(
          spec.commandLine(), "--timeout " + timeout + ": a duration like 30s or 2m");
    }
    out = spec.commandLine().getOut();
    try (KubernetesClient client = kube.client()) {
      String ns = kube.namespace(client);
      SipServerPair pair = PairReader.pair(client, ns, pairName);
      List<String> servers = pair.getSpec() == null ? List.of() : pair.getSpec().getServers();
      if (!servers.contains(to)) {
        spec.commandLine()
            .getErr()
            .println(
                "error: "
                    + to
                    + " is not a server of "
                    + pair.key()
                    + " (spec.servers: "
                    + String.join(", ", servers)
                    + ")");
        spec.commandLine().getErr().flush();
        return 2;
      }
      SipServerPairStatus before = pair.getStatus();
      String wanted = pair.getSpec().getPrimary();
      if (to.equals(wanted)
          && before != null
          && to.equals(before.primary)
          && before.transition == null) {
        out.println(
            to
                + " is already the primary of "
                + pair.key()
                + " ("
                + Formats.summary(before)
                + "): nothing to do.");
        out.flush();
        return 0;
      }
      if (noWait) {
        SipServerPair patched = patch(client, pair);
        out.println(
            "switchover of "
                + pair.key()
                + " to "
                + to
                + " requested (spec.primary: "
                + Formats.or(wanted, "unset")
                + " -> "
                + to
                + ", generation "
                + patched.getMetadata().getGeneration()
                + ").");
        out.println("Follow it with: kubectl sipha status " + pairName + " -n " + ns);
        out.flush();
        return 0;
      }
      try (SwitchoverFollower f =
          new SwitchoverFollower(client, pair, kube.leaseNamespace(), to, this::line)) {
        out.println(
            "Switching "
                + pair.key()
                + " over to "
                + to
                + " (spec.primary: "
                + Formats.or(wanted, "unset")
                + " -> "
                + to
                + "); following it live. Ctrl-C stops following, not the switchover.");
        t0 = System.nanoTime();
        line("before", statusLine(before));
        f.problems().forEach(p -> line("note", p));
        long generation;
        if (to.equals(wanted)) {
          generation =
              pair.getMetadata().getGeneration() == null ? 0 : pair.getMetadata().getGeneration();
          line("patch", "spec.primary already asks for " + to + ": following the pending request");
        } else {
          SipServerPair patched = patch(client, pair);
          generation =
              patched.getMetadata().getGeneration() == null
                  ? 0
                  : patched.getMetadata().getGeneration();
          line("patch", "spec.primary=" + to + " (generation " + generation + ")");
        }
        return f.follow(generation, limit, out);
      }
    }
  }

  private SipServerPair patch(KubernetesClient client, SipServerPair pair) {
    return client
        .resources(SipServerPair.class)
        .inNamespace(pair.getMetadata().getNamespace())
        .withName(pair.getMetadata().getName())
        .patch(PatchContext.of(PatchType.JSON_MERGE), mergePatch(client, to));
  }

  /** The merge patch that sets spec.primary, as kubectl patch --type merge sends it. */
  static String mergePatch(KubernetesClient client, String server) {
    return client.getKubernetesSerialization().asJson(Map.of("spec", Map.of("primary", server)));
  }

  private void line(String kind, String text) {
    out.printf(
        "  +%6d ms  %-6s  %s%n", TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0), kind, text);
    out.flush();
  }

  static String statusLine(SipServerPairStatus s) {
    if (s == null) {
      return "no status yet";
    }
    Condition ready = Conditions.find(s.conditions, Conditions.READY).orElse(null);
    return Formats.or(s.phase, "(no phase)")
        + ", epoch "
        + s.epoch
        + ": "
        + (ready == null ? Formats.summary(s) : ready.message);
  }

  /**
   * "node-a ran vip-disable 192.0.2.10/24 eth0: released at epoch 2", from two reports in a row.
   */
  static String hostLine(String node, VipReport before, VipReport now) {
    String vip =
        Formats.or(now.address(), "the VIP")
            + (now.interfaceName() == null ? "" : " " + now.interfaceName());
    boolean held = before != null && before.is(VipReport.State.Bound);
    return switch (now.state()) {
      case Bound ->
          node
              + (held && before.epoch() == now.epoch()
                  ? " ran vip-enable again (announce) "
                  : " ran vip-enable ")
              + vip
              + ": bound at epoch "
              + now.epoch();
      case Unbound ->
          held || (before != null && before.is(VipReport.State.Failed))
              ? node
                  + " ran vip-disable "
                  + vip
                  + ": released at epoch "
                  + now.epoch()
                  + (now.removedStaleEpoch() == null
                      ? ""
                      : " (a stale copy from epoch " + now.removedStaleEpoch() + ")")
              : node + " confirms " + vip + " is not on it at epoch " + now.epoch();
      case Failed ->
          node
              + " ran "
              + now.script()
              + " "
              + vip
              + ": FAILED with exit code "
              + now.exitCode()
              + (now.message() == null ? "" : " (" + Formats.firstLine(now.message()) + ")")
              + "; the agent retries";
    };
  }
}
