package io.sipha.cli.plugin.plan;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodCondition;
import io.fabric8.kubernetes.client.Watch;
import io.fabric8.kubernetes.client.Watcher;
import io.fabric8.kubernetes.client.WatcherException;
import io.sipha.api.SipServerPair;
import io.sipha.api.SipServerPairStatus;
import io.sipha.cli.plugin.PluginSite;
import io.sipha.decision.VipReport;
import io.sipha.kube.AgentReports;
import io.sipha.kube.Facts;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.Test;

/**
 * kubectl sipha plan gives the operator's next action: for each scenario the plan is computed
 * first, then the real operator acts on the same facts, and its first status write, its first role
 * annotations and its Events are compared with the plan.
 */
class PlanMatchesOperatorTest extends PluginSite {

  @Test
  void switchoverRequested() {
    activePair();
    site.stopOperator();
    patchSpec("{\"primary\":\"sip-1\"}");
    JsonNode plan = plan();
    assertThat(plan.at("/next/phase").asText()).isEqualTo("SwitchingOver");
    assertThat(plan.at("/next/transition/step").asText()).isEqualTo("Release");
    assertOperatorDoes(plan, site::startOperator);
  }

  @Test
  void switchoverToANotReadyTargetIsRefused() {
    activePair();
    site.stopOperator();
    site.cluster().setReady(NS, "sip-1", false);
    patchSpec("{\"primary\":\"sip-1\"}");
    JsonNode plan = plan();
    assertThat(condition(plan.at("/status/conditions"), "SwitchoverRefused"))
        .isEqualTo("True/TargetNotHealthy");
    assertThat(plan.get("roles")).isEmpty();
    assertOperatorDoes(plan, site::startOperator);
  }

  @Test
  void primaryPodDeleted() {
    activePair();
    site.stopOperator();
    JsonNode whatIf = plan("--if", "primary-deleted");
    site.client().pods().inNamespace(NS).withName("sip-0").delete();
    await("node-a's agent saw it")
        .atMost(Duration.ofSeconds(10))
        .until(() -> report("node-a"), r -> r != null && r.is(VipReport.State.Unbound));
    JsonNode plan = plan();
    assertThat(plan.at("/next/phase").asText()).isEqualTo("FailingOver");
    assertThat(plan.at("/next/transition/reason").asText()).isEqualTo("PrimaryPodDeleted");
    assertSameAnswer(whatIf, plan);
    assertOperatorDoes(plan, site::startOperator);
  }

  @Test
  void primaryNotReadyPastTheGrace() {
    activePair();
    site.stopOperator();
    JsonNode whatIf = plan("--if", "primary-not-ready");
    site.cluster().setReady(NS, "sip-0", false);
    Instant since = readySince("sip-0");
    await("past unreadyGraceSeconds")
        .atMost(Duration.ofSeconds(5))
        .pollInterval(Duration.ofMillis(50))
        .until(() -> Instant.now().isAfter(since.plusMillis(1_200)));
    JsonNode plan = plan();
    assertThat(plan.at("/next/transition/reason").asText()).isEqualTo("PrimaryNotReady");
    assertSameAnswer(whatIf, plan);
    // a new operator process counts the grace on its own clock from its first look at the pod (the
    // kubelet's lastTransitionTime is another machine's clock): it fails over one grace later, as
    // planned
    assertOperatorDoes(plan, site::startOperator, st -> st.transition != null);
  }

  @Test
  void nodeLostAskedWithWhatIfThenReal() {
    activePair();
    JsonNode plan = plan("--if", "node-lost=node-a");
    assertThat(plan.get("whatIf").get(0).asText()).startsWith("node node-a is lost");
    assertThat(plan.at("/next/phase").asText()).isEqualTo("FailingOver");
    assertThat(plan.at("/next/transition/reason").asText()).isEqualTo("NodeLost");
    assertThat(plan.at("/next/primary").asText()).isEqualTo("sip-1");
    assertThat(plan.at("/next/vip/node").asText()).isEqualTo("node-b");
    // the operator keeps running: the host is cut off for real now
    assertOperatorDoes(plan, () -> site.stopAgent("node-a"));
  }

  @Test
  void paused() {
    activePair();
    site.stopOperator();
    patchSpec("{\"paused\":true}");
    JsonNode plan = plan();
    assertThat(plan.at("/next/phase").asText()).isEqualTo("Paused");
    assertThat(plan.get("roles")).isEmpty();
    assertOperatorDoes(plan, site::startOperator);
  }

  @Test
  void invalidSpec() {
    activePair();
    site.stopOperator();
    patchSpec("{\"primary\":\"sip-9\"}");
    JsonNode plan = plan();
    assertThat(plan.at("/next/phase").asText()).isEqualTo("Invalid");
    assertThat(condition(plan.at("/status/conditions"), "Ready")).isEqualTo("False/InvalidSpec");
    assertOperatorDoes(plan, site::startOperator);
  }

  @Test
  void thePlanInWordsSaysTheSame() {
    activePair();
    Run r = sipha("plan", "pair-1", "--if", "node-lost=node-a");
    assertThat(r.code()).as(r.err()).isZero();
    List<String> lines = r.out().lines().toList();
    assertThat(lines.get(0)).startsWith("Plan for voice/pair-1 from the facts read at ");
    assertThat(lines.get(1))
        .isEqualTo(
            "what if: node node-a is lost: its agent has not renewed its Lease for more than"
                + " 2 s (failover.nodeLossSeconds)");
    assertThat(lines)
        .anyMatch(
            l ->
                l.matches(
                    "  now:\\s+Active: primary sip-0, backup sip-1, epoch 1, VIP 192.0.2.10/24 Bound on node-a"))
        .anyMatch(
            l ->
                l.matches(
                    "  next:\\s+FailingOver: primary sip-1, backup sip-0, epoch 2, VIP 192.0.2.10/24 Binding on node-b"))
        .anyMatch(
            l ->
                l.matches(
                    "\\s+Failover sip-0 -> sip-1 at epoch 2 \\(NodeLost\\), step Bind: node-b binds the VIP"))
        .anyMatch(l -> l.matches("  roles:\\s+1\\. sip-0 -> backup at epoch 2"))
        .anyMatch(l -> l.matches("\\s+2\\. sip-1 -> primary at epoch 2"))
        .anyMatch(l -> l.matches("  events:\\s+Warning FailoverStarted: node node-a is lost.*"))
        .anyMatch(l -> l.matches("  then:\\s+look again in .*"));
    assertThat(lines.get(lines.size() - 1))
        .isEqualTo(
            "Nothing was changed: this is what the operator would do next with these facts.");
    assertThat(status().epoch).isEqualTo(1);

    Run nothing = sipha("plan", "pair-1");
    assertThat(nothing.out())
        .containsPattern(
            "  next:\\s+nothing to do: no pod is touched and the status stays as it is");

    Run bad = sipha("plan", "pair-1", "--if", "meteor-strike");
    assertThat(bad.code()).isEqualTo(2);
    assertThat(bad.err()).contains("unknown --if 'meteor-strike'").contains("node-lost=NODE");
  }

  // ------------------------------------------------------------------ helpers

  JsonNode plan(String... more) {
    List<String> args = new ArrayList<>(List.of("plan", "pair-1", "-o", "json"));
    args.addAll(List.of(more));
    Run r = sipha(args.toArray(String[]::new));
    assertThat(r.code()).as(r.err()).isZero();
    return r.json();
  }

  /**
   * The parts of two plans that make the answer: roles, next phase, epoch, VIP, transition,
   * conditions.
   */
  static void assertSameAnswer(JsonNode a, JsonNode b) {
    assertThat(a.get("roles")).isEqualTo(b.get("roles"));
    for (String p :
        List.of(
            "/next/phase",
            "/next/epoch",
            "/next/primary",
            "/next/backup",
            "/next/vip/node",
            "/next/vip/state",
            "/next/transition/kind",
            "/next/transition/step",
            "/next/transition/reason")) {
      assertThat(a.at(p)).as(p).isEqualTo(b.at(p));
    }
    assertThat(conditions(a.at("/status/conditions")))
        .isEqualTo(conditions(b.at("/status/conditions")));
  }

  /**
   * Does {@code trigger}, then checks the operator's first status write and role annotations
   * against the plan.
   */
  void assertOperatorDoes(JsonNode plan, Runnable trigger) {
    assertOperatorDoes(plan, trigger, st -> true);
  }

  /** The same, against the first status write the operator makes that {@code which} accepts. */
  void assertOperatorDoes(
      JsonNode plan, Runnable trigger, java.util.function.Predicate<SipServerPairStatus> which) {
    try (OperatorWatch w = new OperatorWatch()) {
      trigger.run();
      SipServerPairStatus s =
          await("the operator's first status write")
              .atMost(Duration.ofSeconds(15))
              .until(
                  () -> w.statuses.stream().filter(which).findFirst().orElse(null),
                  java.util.Objects::nonNull);
      assertThat(s.phase.name()).as("phase").isEqualTo(plan.at("/next/phase").asText());
      assertThat(s.epoch).as("epoch").isEqualTo(plan.at("/next/epoch").asLong());
      assertThat(String.valueOf(s.primary)).as("primary").isEqualTo(text(plan.at("/next/primary")));
      assertThat(String.valueOf(s.backup)).as("backup").isEqualTo(text(plan.at("/next/backup")));
      assertThat(String.valueOf(s.vip.node))
          .as("VIP node")
          .isEqualTo(text(plan.at("/next/vip/node")));
      assertThat(s.vip.state.name()).as("VIP state").isEqualTo(plan.at("/next/vip/state").asText());
      assertThat(
              s.transition == null
                  ? "null"
                  : s.transition.kind + "/" + s.transition.step + "/" + s.transition.reason)
          .as("transition")
          .isEqualTo(
              plan.at("/next/transition").isMissingNode()
                  ? "null"
                  : plan.at("/next/transition/kind").asText()
                      + "/"
                      + plan.at("/next/transition/step").asText()
                      + "/"
                      + plan.at("/next/transition/reason").asText());
      Map<String, String> actual = new TreeMap<>();
      s.conditions.forEach(c -> actual.put(c.type, c.status + "/" + c.reason));
      assertThat(actual).as("conditions").isEqualTo(conditions(plan.at("/status/conditions")));

      Map<String, String> roles = new TreeMap<>();
      plan.get("roles")
          .forEach(
              r ->
                  roles.put(
                      r.get("pod").asText(),
                      r.get("role").asText() + "@" + r.get("epoch").asLong()));
      await("the pods get the plan's roles")
          .atMost(Duration.ofSeconds(5))
          .untilAsserted(() -> assertThat(w.firstRole).containsAllEntriesOf(roles));
      if (roles.isEmpty()) {
        assertThat(w.firstRole).as("no pod annotation changes").isEmpty();
      }
      Set<String> reasons = new HashSet<>();
      plan.get("events").forEach(e -> reasons.add(e.get("reason").asText()));
      await("the operator records the plan's Events")
          .atMost(Duration.ofSeconds(5))
          .untilAsserted(() -> assertThat(w.eventReasons).containsAll(reasons));
    }
  }

  private static String text(JsonNode n) {
    return n.isMissingNode() || n.isNull() ? "null" : n.asText();
  }

  static Map<String, String> conditions(JsonNode list) {
    Map<String, String> m = new TreeMap<>();
    list.forEach(
        c ->
            m.put(
                c.get("type").asText(), c.get("status").asText() + "/" + c.get("reason").asText()));
    return m;
  }

  static String condition(JsonNode list, String type) {
    return StreamSupport.stream(list.spliterator(), false)
        .filter(c -> c.get("type").asText().equals(type))
        .map(c -> c.get("status").asText() + "/" + c.get("reason").asText())
        .findFirst()
        .orElse(null);
  }

  VipReport report(String node) {
    var lease =
        site.client()
            .leases()
            .inNamespace("sipha-system")
            .withName(AgentReports.shardName(node, NS + "/pair-1"))
            .get();
    return lease == null ? null : Facts.reports(lease).get(NS + "/pair-1");
  }

  Instant readySince(String pod) {
    Pod p = site.client().pods().inNamespace(NS).withName(pod).get();
    return p.getStatus().getConditions().stream()
        .filter(c -> c.getType().equals("Ready"))
        .map(PodCondition::getLastTransitionTime)
        .map(Instant::parse)
        .findFirst()
        .orElseThrow();
  }

  /**
   * From now on: every status write that changes the status, each pod's first new role, new Events.
   */
  final class OperatorWatch implements AutoCloseable {
    final List<SipServerPairStatus> statuses = new CopyOnWriteArrayList<>();
    final Map<String, String> firstRole = new ConcurrentHashMap<>();
    final Set<String> eventReasons = ConcurrentHashMap.newKeySet();
    private final Map<String, String> baselineRoles = new ConcurrentHashMap<>();
    private final Set<String> oldEvents = new HashSet<>();
    private final JsonNode baseline;
    private final List<Watch> watches = new ArrayList<>();

    OperatorWatch() {
      baseline = JSON.valueToTree(status());
      for (Pod p : site.client().pods().inNamespace(NS).list().getItems()) {
        baselineRoles.put(p.getMetadata().getName(), role(p));
      }
      site.client()
          .v1()
          .events()
          .inNamespace(NS)
          .list()
          .getItems()
          .forEach(e -> oldEvents.add(e.getMetadata().getName()));
      watches.add(
          site.client()
              .resources(SipServerPair.class)
              .inNamespace(NS)
              .withName("pair-1")
              .watch(
                  watcher(
                      p -> {
                        if (p.getStatus() != null
                            && !JSON.valueToTree(p.getStatus()).equals(baseline)) {
                          statuses.add(p.getStatus());
                        }
                      })));
      watches.add(
          site.client()
              .pods()
              .inNamespace(NS)
              .watch(
                  watcher(
                      (Pod p) -> {
                        String name = p.getMetadata().getName();
                        String role = role(p);
                        if (!role.equals(baselineRoles.getOrDefault(name, "null@null"))) {
                          firstRole.putIfAbsent(name, role);
                        }
                      })));
      watches.add(
          site.client()
              .v1()
              .events()
              .inNamespace(NS)
              .watch(
                  watcher(
                      (Event e) -> {
                        if (!oldEvents.contains(e.getMetadata().getName())) {
                          eventReasons.add(e.getReason());
                        }
                      })));
    }

    private String role(Pod p) {
      Map<String, String> a =
          p.getMetadata().getAnnotations() == null ? Map.of() : p.getMetadata().getAnnotations();
      return a.get(SipServerPair.ROLE_ANNOTATION) + "@" + a.get(SipServerPair.EPOCH_ANNOTATION);
    }

    private <T> Watcher<T> watcher(java.util.function.Consumer<T> onChange) {
      return new Watcher<>() {
        @Override
        public void eventReceived(Action action, T resource) {
          if (action != Action.DELETED) {
            onChange.accept(resource);
          }
        }

        @Override
        public void onClose(WatcherException cause) {}
      };
    }

    @Override
    public void close() {
      watches.forEach(Watch::close);
    }
  }
}
