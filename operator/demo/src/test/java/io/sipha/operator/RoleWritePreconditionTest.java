package io.sipha.operator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.sipha.api.SipServerPair;
import io.sipha.api.SipServerPairStatus;
import io.sipha.decision.PairFacts;
import io.sipha.decision.Plan;
import io.sipha.demo.EmbeddedCluster;
import io.sipha.demo.SimulatedSite;
import io.sipha.kube.Facts;
import io.sipha.vip.AllowedCidrs;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Role writes are made on the version of the pod the plan saw: stale facts never lower an epoch. On
 * the embedded API here; {@code StaleWritesOnTheRealServerIT} runs the same scenarios on
 * kube-apiserver.
 */
class RoleWritePreconditionTest {
  private final EmbeddedCluster cluster = new EmbeddedCluster(Clock.systemUTC());

  @AfterEach
  void stop() {
    cluster.close();
  }

  @Test
  void aRoleWriteFromAStaleViewOfThePodIsRefusedAndTheNewerEpochStays() {
    cluster.createNamespace("voice");
    assertAStaleRoleWriteIsRefused(
        cluster.client(), cluster.createServerPod("voice", "sip-0", "pair-1", "node-a", true));
  }

  @Test
  void aRoleWriteFromTheCurrentViewLands() {
    cluster.createNamespace("voice");
    assertACurrentRoleWriteLands(
        cluster.client(), cluster.createServerPod("voice", "sip-0", "pair-1", "node-a", true));
  }

  /** The operator saw {@code seen}; another writer (a new leader) raised its epoch since. */
  static void assertAStaleRoleWriteIsRefused(KubernetesClient client, Pod seen) {
    String ns = seen.getMetadata().getNamespace();
    String name = seen.getMetadata().getName();
    client
        .pods()
        .inNamespace(ns)
        .withName(name)
        .patch(
            PatchContext.of(PatchType.JSON_MERGE),
            "{\"metadata\":{\"annotations\":{\"sipha.io/role\":\"primary\",\"sipha.io/epoch\":\"5\"}}}");

    SipServerPair pair = SimulatedSite.pair(ns, "pair-1", name, name, "sip-1");
    PairFacts facts =
        Facts.pairFacts(
            pair,
            n -> n.equals(name) ? seen : null,
            List.of(),
            AllowedCidrs.any(),
            null,
            Instant.now(),
            List.of());
    Plan plan =
        new Plan(
            List.of(),
            List.of(new Plan.RoleAssignment(name, SipServerPair.ROLE_BACKUP, 4)),
            new SipServerPairStatus(),
            List.of(),
            null);
    var executor = new PlanExecutor(client, null, OperatorMetrics.none());

    assertThatThrownBy(() -> executor.writePods(pair, facts, plan))
        .isInstanceOf(KubernetesClientException.class)
        .satisfies(e -> assertThat(((KubernetesClientException) e).getCode()).isEqualTo(409));
    Map<String, String> now =
        client.pods().inNamespace(ns).withName(name).get().getMetadata().getAnnotations();
    assertThat(now)
        .containsEntry(SipServerPair.EPOCH_ANNOTATION, "5")
        .containsEntry(SipServerPair.ROLE_ANNOTATION, "primary");
  }

  static void assertACurrentRoleWriteLands(KubernetesClient client, Pod seen) {
    String ns = seen.getMetadata().getNamespace();
    String name = seen.getMetadata().getName();
    SipServerPair pair = SimulatedSite.pair(ns, "pair-1", name, name, "sip-1");
    PairFacts facts =
        Facts.pairFacts(
            pair,
            n -> n.equals(name) ? seen : null,
            List.of(),
            AllowedCidrs.any(),
            null,
            Instant.now(),
            List.of());
    Plan plan =
        new Plan(
            List.of(),
            List.of(new Plan.RoleAssignment(name, SipServerPair.ROLE_PRIMARY, 1)),
            new SipServerPairStatus(),
            List.of(),
            null);
    new PlanExecutor(client, null, OperatorMetrics.none()).writePods(pair, facts, plan);
    assertThat(client.pods().inNamespace(ns).withName(name).get().getMetadata().getAnnotations())
        .containsEntry(SipServerPair.EPOCH_ANNOTATION, "1");
  }
}
