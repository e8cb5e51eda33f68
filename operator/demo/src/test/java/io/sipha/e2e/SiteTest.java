package io.sipha.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.sipha.api.Condition;
import io.sipha.api.Phase;
import io.sipha.api.SipServerPair;
import io.sipha.api.SipServerPairStatus;
import io.sipha.decision.Conditions;
import io.sipha.demo.SimulatedSite;
import io.sipha.operator.OperatorMetrics;
import io.sipha.vip.AllowedCidrs;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;

/**
 * A running site for one test: the embedded API, node-a and node-b with their agents and real
 * scripts, the operator, and the pods sip-0 (node-a) and sip-1 (node-b) in namespace voice.
 */
public abstract class SiteTest {
  protected static final String NS = "voice";
  protected static final String VIP = "192.0.2.10/24";

  @TempDir protected Path hostsDir;
  protected SimulatedSite site;
  protected final List<Long> epochsSeen = new CopyOnWriteArrayList<>();

  @BeforeEach
  void startSite() {
    site =
        new SimulatedSite(
            hostsDir,
            List.of("node-a", "node-b"),
            Duration.ofSeconds(1),
            AllowedCidrs.parse(List.of("192.0.2.0/24", "2001:db8::/32")),
            OperatorMetrics.none());
    site.cluster().createNamespace(NS);
    site.startAgents();
    site.startOperator();
  }

  @AfterEach
  void stopSite() {
    if (site != null) {
      site.close();
    }
  }

  protected void createPods() {
    site.cluster().createServerPod(NS, "sip-0", "pair-1", "node-a", true);
    site.cluster().createServerPod(NS, "sip-1", "pair-1", "node-b", true);
  }

  /**
   * Creates pods and pair-1 (primary sip-0) and waits until it is Active with the VIP on node-a.
   */
  protected void activePair() {
    createPods();
    createPair(SimulatedSite.pair(NS, "pair-1", "sip-0", "sip-0", "sip-1"));
    awaitStatus(
        "Active with sip-0 on node-a", s -> s.phase == Phase.Active && "sip-0".equals(s.primary));
    assertThat(site.host("node-a").vips()).containsExactly(VIP);
  }

  protected void createPair(SipServerPair p) {
    site.client().resources(SipServerPair.class).inNamespace(NS).resource(p).create();
  }

  protected SipServerPair pair() {
    return site.client().resources(SipServerPair.class).inNamespace(NS).withName("pair-1").get();
  }

  protected SipServerPairStatus status() {
    SipServerPair p = pair();
    return p == null ? null : p.getStatus();
  }

  /** What `kubectl patch ssp pair-1 --type merge -p '{"spec":{"primary":"sip-1"}}'` sends. */
  protected void switchOverTo(String server) {
    site.client()
        .resources(SipServerPair.class)
        .inNamespace(NS)
        .withName("pair-1")
        .patch(
            PatchContext.of(PatchType.JSON_MERGE), "{\"spec\":{\"primary\":\"" + server + "\"}}");
  }

  /** Waits for a status, checking on every look that the epoch never goes back. */
  protected SipServerPairStatus awaitStatus(String what, Predicate<SipServerPairStatus> p) {
    try {
      return awaitStatusOrTimeout(what, p);
    } catch (org.awaitility.core.ConditionTimeoutException e) {
      throw new AssertionError(e.getMessage() + "\n" + siteState(), e);
    }
  }

  /**
   * What a reader of a failed wait needs: the pair's status, the agents' Leases, the hosts' VIPs.
   */
  protected String siteState() {
    StringBuilder b = new StringBuilder("status:\n");
    SipServerPair pair = pair();
    b.append(
        pair == null
            ? "none"
            : io.fabric8.kubernetes.client.utils.Serialization.asYaml(pair.getStatus()));
    site.client()
        .leases()
        .inNamespace("sipha-system")
        .list()
        .getItems()
        .forEach(
            l ->
                b.append("lease ")
                    .append(l.getMetadata().getName())
                    .append(" renewed ")
                    .append(l.getSpec().getRenewTime())
                    .append(" annotations ")
                    .append(l.getMetadata().getAnnotations())
                    .append('\n'));
    for (String node : List.of("node-a", "node-b")) {
      b.append(node).append(" holds ").append(site.host(node).vips()).append('\n');
    }
    return b.toString();
  }

  private SipServerPairStatus awaitStatusOrTimeout(String what, Predicate<SipServerPairStatus> p) {
    return await(what)
        .atMost(Duration.ofSeconds(20))
        .pollInterval(Duration.ofMillis(50))
        .until(
            () -> {
              SipServerPairStatus s = status();
              if (s != null) {
                if (!epochsSeen.isEmpty()) {
                  assertThat(s.epoch)
                      .as("the epoch only grows")
                      .isGreaterThanOrEqualTo(epochsSeen.get(epochsSeen.size() - 1));
                }
                epochsSeen.add(s.epoch);
                assertOnePrimaryAtCurrentEpoch(s);
              }
              return s;
            },
            s -> s != null && p.test(s));
  }

  protected void assertOnePrimaryAtCurrentEpoch(SipServerPairStatus s) {
    long primaries =
        site.client().pods().inNamespace(NS).list().getItems().stream()
            .filter(
                pod ->
                    pod.getMetadata().getLabels() != null
                        && "pair-1"
                            .equals(pod.getMetadata().getLabels().get(SipServerPair.PAIR_LABEL)))
            .filter(
                pod ->
                    "primary".equals(ann(pod, SipServerPair.ROLE_ANNOTATION))
                        && String.valueOf(s.epoch).equals(ann(pod, SipServerPair.EPOCH_ANNOTATION)))
            .count();
    assertThat(primaries)
        .as("pods of pair-1 annotated primary at the current epoch")
        .isLessThanOrEqualTo(1);
  }

  protected static String ann(Pod pod, String key) {
    Map<String, String> a = pod.getMetadata().getAnnotations();
    return a == null ? null : a.get(key);
  }

  protected Pod pod(String name) {
    return site.client().pods().inNamespace(NS).withName(name).get();
  }

  /** "primary@3" for a pod's role annotations. */
  protected String role(String name) {
    Pod p = pod(name);
    return ann(p, SipServerPair.ROLE_ANNOTATION) + "@" + ann(p, SipServerPair.EPOCH_ANNOTATION);
  }

  protected static Condition condition(SipServerPairStatus s, String type) {
    return Conditions.find(s.conditions, type).orElse(null);
  }

  protected static boolean conditionIs(SipServerPairStatus s, String type, String status) {
    Condition c = condition(s, type);
    return c != null && status.equals(c.status);
  }

  /** The pair's Events as kubectl describe lists them: "Warning SwitchoverRefused: ...". */
  protected List<String> events() {
    return site.client().v1().events().inNamespace(NS).list().getItems().stream()
        .filter(
            e -> e.getInvolvedObject() != null && "pair-1".equals(e.getInvolvedObject().getName()))
        .sorted(
            java.util.Comparator.comparing(
                Event::getLastTimestamp, java.util.Comparator.nullsFirst(String::compareTo)))
        .map(e -> e.getType() + " " + e.getReason() + ": " + e.getMessage())
        .toList();
  }

  /**
   * Waits for an Event about the pair: the operator writes the status first and its Events after,
   * so an Event may land a moment after the status that a test has just seen.
   */
  protected void awaitEvent(String what, Predicate<String> p) {
    await(what)
        .atMost(Duration.ofSeconds(5))
        .pollInterval(Duration.ofMillis(50))
        .untilAsserted(() -> assertThat(events()).anyMatch(p));
  }

  /** Waits until the pair's Events carry all these reasons (see {@link #awaitEvent}). */
  protected void awaitEventReasons(String... reasons) {
    await("events " + String.join(", ", reasons))
        .atMost(Duration.ofSeconds(5))
        .pollInterval(Duration.ofMillis(50))
        .untilAsserted(() -> assertThat(eventReasons()).contains(reasons));
  }

  protected List<String> eventReasons() {
    return events().stream()
        .map(e -> e.substring(e.indexOf(' ') + 1, e.indexOf(':')))
        .filter(Objects::nonNull)
        .toList();
  }
}
