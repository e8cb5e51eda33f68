package io.sipha.cli.plugin.status;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.sipha.api.Phase;
import io.sipha.cli.plugin.PluginSite;
import java.util.List;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.Test;

/** kubectl sipha status and history, as a user reads them, and their -o json|yaml. */
class StatusAndHistoryTest extends PluginSite {

  @Test
  void everyCommandHasHelpWithTheKubectlFlags() {
    Run top = sipha("--help");
    assertThat(top.code()).isZero();
    assertThat(top.out())
        .contains("switchover")
        .contains("status")
        .contains("history")
        .contains("plan");
    for (String cmd : List.of("switchover", "status", "history", "plan")) {
      Run r = sipha(cmd, "--help");
      assertThat(r.code()).as(cmd).isZero();
      assertThat(r.out())
          .as(cmd)
          .contains("--kubeconfig")
          .contains("--context")
          .contains("-n, --namespace");
    }
    assertThat(sipha("switchover", "--help").out())
        .contains("--to")
        .contains("--no-wait")
        .contains("{\"spec\":{\"primary\":\"SERVER\"}}");
    assertThat(sipha("plan", "--help").out())
        .contains("--if")
        .contains("node-lost=NODE")
        .contains("primary-not-ready");
  }

  @Test
  void statusOfAPairReadsAsAReport() {
    activePair();
    Run r = sipha("status", "pair-1");

    assertThat(r.code()).as(r.err()).isZero();
    List<String> lines = r.out().lines().toList();
    assertThat(lines)
        .anyMatch(l -> l.matches("Pair:\\s+voice/pair-1"))
        .anyMatch(
            l ->
                l.matches(
                    "Phase:\\s+Active\\s+sip-0 is primary on node-a with 192.0.2.10/24 at epoch 1"))
        .anyMatch(l -> l.matches("Primary:\\s+sip-0 on node-a"))
        .anyMatch(l -> l.matches("Backup:\\s+sip-1 on node-b"))
        .anyMatch(l -> l.matches("Epoch:\\s+1"))
        .anyMatch(l -> l.matches("VIP:\\s+192.0.2.10/24 dev eth0, Bound on node-a"))
        .anyMatch(l -> l.matches("Transition:\\s+none"));
    // conditions with their reasons, one per line
    assertThat(lines)
        .anyMatch(
            l ->
                l.matches(
                    "\\s+Ready\\s+True\\s+Active\\s+\\d+(\\.\\d)? m?s\\s+sip-0 is primary on node-a.*"))
        .anyMatch(
            l ->
                l.matches(
                    "\\s+VipBound\\s+True\\s+Bound\\s+.*192.0.2.10/24 is bound on node-a at epoch 1"))
        .anyMatch(
            l -> l.matches("\\s+BackupReady\\s+True\\s+PodReady\\s+.*sip-1 is Ready on node-b"));
    // the pods with their roles, the agents with their heartbeat age and their report
    assertThat(lines)
        .anyMatch(l -> l.matches("\\s+sip-0\\s+node-a\\s+True\\s+primary\\s+1"))
        .anyMatch(l -> l.matches("\\s+sip-1\\s+node-b\\s+True\\s+backup\\s+1"))
        .anyMatch(
            l ->
                l.matches(
                    "\\s+node-a\\s+\\d+(\\.\\d)? (ms|s) ago\\s+alive\\s+Bound at epoch 1, .* ago"))
        .anyMatch(
            l ->
                l.matches(
                    "\\s+node-b\\s+\\d+(\\.\\d)? (ms|s) ago\\s+alive\\s+Unbound at epoch 1, .* ago"));
    assertThat(r.out()).contains("Last transition: Election of sip-0 at epoch 1 (Elected)");
  }

  @Test
  void statusWithoutAPairIsOneLinePerPair() {
    activePair();
    Run r = sipha("status");

    assertThat(r.code()).as(r.err()).isZero();
    List<String> lines = r.out().lines().toList();
    assertThat(lines).hasSize(2);
    assertThat(lines.get(0))
        .matches("NAME\\s+PRIMARY\\s+BACKUP\\s+VIP\\s+NODE\\s+PHASE\\s+EPOCH\\s+AGE");
    assertThat(lines.get(1))
        .matches("pair-1\\s+sip-0\\s+sip-1\\s+192.0.2.10/24\\s+node-a\\s+Active\\s+1\\s+\\S+");
    assertThat(sipha("status", "-A").out()).startsWith("NAMESPACE").contains("voice");
    assertThat(sipha("status", "-n", "elsewhere").out())
        .contains("No SipServerPairs found in namespace elsewhere.");
  }

  @Test
  void statusAsJsonAndYaml() throws Exception {
    activePair();
    JsonNode j = sipha("status", "pair-1", "-o", "json").json();

    assertThat(j.get("name").asText()).isEqualTo("pair-1");
    assertThat(j.get("namespace").asText()).isEqualTo("voice");
    assertThat(j.get("phase").asText()).isEqualTo("Active");
    assertThat(j.get("primary").asText()).isEqualTo("sip-0");
    assertThat(j.get("backup").asText()).isEqualTo("sip-1");
    assertThat(j.get("epoch").asLong()).isEqualTo(1);
    assertThat(j.at("/vip/node").asText()).isEqualTo("node-a");
    assertThat(j.at("/vip/state").asText()).isEqualTo("Bound");
    assertThat(j.at("/vip/address").asText()).isEqualTo("192.0.2.10/24");
    assertThat(
            StreamSupport.stream(j.get("conditions").spliterator(), false)
                .filter(c -> c.get("type").asText().equals("Ready"))
                .findFirst()
                .orElseThrow()
                .get("reason")
                .asText())
        .isEqualTo("Active");
    assertThat(j.get("pods")).hasSize(2);
    assertThat(j.at("/pods/0/role").asText()).isEqualTo("primary");
    JsonNode agents = j.get("agents");
    assertThat(agents).hasSize(2);
    assertThat(agents.get(0).get("node").asText()).isEqualTo("node-a");
    assertThat(agents.get(0).get("state").asText()).isEqualTo("alive");
    assertThat(agents.get(0).get("heartbeatAgeMillis").asLong()).isBetween(0L, 5_000L);
    assertThat(agents.get(0).at("/report/state").asText()).isEqualTo("Bound");
    assertThat(agents.get(0).at("/report/epoch").asLong()).isEqualTo(1);
    assertThat(j.at("/lastTransition/kind").asText()).isEqualTo("Election");

    JsonNode y =
        new ObjectMapper(new YAMLFactory()).readTree(sipha("status", "pair-1", "-o", "yaml").out());
    assertThat(y.get("phase").asText()).isEqualTo("Active");
    assertThat(y.at("/vip/node").asText()).isEqualTo("node-a");

    JsonNode all = sipha("status", "-o", "json").json();
    assertThat(all.get("items")).hasSize(1);
    assertThat(all.at("/items/0/name").asText()).isEqualTo("pair-1");
  }

  @Test
  void aMissingPairIsAnErrorThatSaysSo() {
    Run r = sipha("status", "pair-9");
    assertThat(r.code()).isEqualTo(1);
    assertThat(r.err()).contains("error: sipserverpair \"pair-9\" not found in namespace voice");
  }

  @Test
  void historyListsTheTransitionsWithDurationsAndReasons() {
    activePair();
    patchSpec("{\"primary\":\"sip-1\"}");
    awaitStatus(
        "switched over",
        s -> s.phase == Phase.Active && "sip-1".equals(s.primary) && s.history.size() == 2);

    Run r = sipha("history", "pair-1");
    assertThat(r.code()).as(r.err()).isZero();
    List<String> lines = r.out().lines().toList();
    assertThat(lines).hasSize(3);
    assertThat(lines.get(0))
        .matches("EPOCH\\s+KIND\\s+FROM\\s+TO\\s+REASON\\s+STARTED\\s+AGO\\s+DURATION");
    assertThat(lines.get(1))
        .matches("1\\s+Election\\s+-\\s+sip-0\\s+Elected\\s+\\S+Z\\s+.+\\s+\\d+ ms");
    assertThat(lines.get(2))
        .matches(
            "2\\s+Switchover\\s+sip-0\\s+sip-1\\s+SwitchoverRequested\\s+\\S+Z\\s+.+\\s+\\d+(\\.\\d)? m?s");

    JsonNode j = sipha("history", "pair-1", "-o", "json").json();
    assertThat(j.get("pair").asText()).isEqualTo("voice/pair-1");
    assertThat(j.get("history")).hasSize(2);
    assertThat(j.at("/history/1/kind").asText()).isEqualTo("Switchover");
    assertThat(j.at("/history/1/from").asText()).isEqualTo("sip-0");
    assertThat(j.at("/history/1/to").asText()).isEqualTo("sip-1");
    assertThat(j.at("/history/1/reason").asText()).isEqualTo("SwitchoverRequested");
    assertThat(j.at("/history/1/durationMillis").asLong()).isPositive();
  }
}
