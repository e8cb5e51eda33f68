package io.sipha.cli.plugin;

import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.sipha.api.Phase;
import io.sipha.api.SipServerPair;
import io.sipha.api.SipServerPairStatus;
import io.sipha.cli.PluginMain;
import io.sipha.cli.sandbox.Kubeconfig;
import io.sipha.demo.SimulatedSite;
import io.sipha.operator.OperatorMetrics;
import io.sipha.vip.AllowedCidrs;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * A running site for one plugin test: the embedded API, node-a and node-b with their agents, the
 * operator, pods sip-0 (node-a) and sip-1 (node-b) in namespace voice, and a kubeconfig whose
 * context points at the API with namespace voice, as a user's would.
 */
public abstract class PluginSite {
  protected static final String NS = "voice";
  protected static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path dir;
  protected SimulatedSite site;
  protected Path kubeconfig;

  /** What a command printed, and its exit code. */
  protected record Run(int code, String out, String err) {
    public JsonNode json() {
      try {
        return JSON.readTree(out);
      } catch (Exception e) {
        throw new AssertionError("not JSON: " + out, e);
      }
    }
  }

  @BeforeEach
  protected void startSite() {
    site =
        new SimulatedSite(
            dir.resolve("hosts"),
            List.of("node-a", "node-b"),
            Duration.ofSeconds(2),
            AllowedCidrs.parse(List.of("192.0.2.0/24")),
            OperatorMetrics.none());
    site.cluster().createNamespace(NS);
    site.startAgents();
    site.startOperator();
    kubeconfig = Kubeconfig.write(dir.resolve("kubeconfig"), site.cluster().url(), NS);
  }

  @AfterEach
  protected void stopSite() {
    if (site != null) {
      site.close();
    }
  }

  /** Pods, and pair-1 with primary sip-0, Active with the VIP on node-a. */
  protected void activePair() {
    site.cluster().createServerPod(NS, "sip-0", "pair-1", "node-a", true);
    site.cluster().createServerPod(NS, "sip-1", "pair-1", "node-b", true);
    site.client()
        .resources(SipServerPair.class)
        .inNamespace(NS)
        .resource(SimulatedSite.pair(NS, "pair-1", "sip-0", "sip-0", "sip-1"))
        .create();
    awaitStatus(
        "pair-1 Active with sip-0", s -> s.phase == Phase.Active && "sip-0".equals(s.primary));
  }

  /** `kubectl sipha ARGS --kubeconfig FILE`, in this JVM. */
  protected Run sipha(String... args) {
    List<String> all = new ArrayList<>(List.of(args));
    all.add("--kubeconfig");
    all.add(kubeconfig.toString());
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cl = PluginMain.commandLine();
    cl.setOut(new PrintWriter(out, true));
    cl.setErr(new PrintWriter(err, true));
    int code = cl.execute(all.toArray(String[]::new));
    return new Run(code, out.toString(), err.toString());
  }

  protected SipServerPairStatus status() {
    SipServerPair p =
        site.client().resources(SipServerPair.class).inNamespace(NS).withName("pair-1").get();
    return p == null ? null : p.getStatus();
  }

  protected SipServerPairStatus awaitStatus(String what, Predicate<SipServerPairStatus> p) {
    return await(what)
        .atMost(Duration.ofSeconds(20))
        .pollInterval(Duration.ofMillis(50))
        .until(this::status, s -> s != null && p.test(s));
  }

  protected void patchSpec(String json) {
    site.client()
        .resources(SipServerPair.class)
        .inNamespace(NS)
        .withName("pair-1")
        .patch(PatchContext.of(PatchType.JSON_MERGE), "{\"spec\":" + json + "}");
  }
}
