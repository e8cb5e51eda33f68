package io.sipha.operator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.sipha.api.SipServerPair;
import io.sipha.api.SipServerPairStatus;
import io.sipha.decision.PairFacts;
import io.sipha.decision.Plan;
import io.sipha.demo.EmbeddedCluster;
import io.sipha.demo.SimulatedSite;
import io.sipha.vip.AllowedCidrs;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Role writes are made on the version of the pod the plan saw: stale facts never lower an epoch. */
class RoleWritePreconditionTest {
  private final EmbeddedCluster cluster = new EmbeddedCluster(Clock.systemUTC());

  @AfterEach
  void stop() {
    cluster.close();
  }

  @Test
  void aRoleWriteFromAStaleViewOfThePodIsRefusedAndTheNewerEpochStays() {
    cluster.createNamespace("voice");
    Pod seen = cluster.createServerPod("voice", "sip-0", "pair-1", "node-a", true);
    // meanwhile another writer (the new leader) raised the epoch: this operator's view is stale
    cluster.client().pods().inNamespace("voice").withName("sip-0").patch(PatchContext.of(PatchType.JSON_MERGE),
        "{\"metadata\":{\"annotations\":{\"sipha.io/role\":\"primary\",\"sipha.io/epoch\":\"5\"}}}");

    SipServerPair pair = SimulatedSite.pair("voice", "pair-1", "sip-0", "sip-0", "sip-1");
    PairFacts facts = Facts.pairFacts(pair, name -> name.equals("sip-0") ? seen : null, List.of(),
        AllowedCidrs.any(), null, Instant.now(), List.of());
    Plan plan = new Plan(List.of(), List.of(new Plan.RoleAssignment("sip-0", SipServerPair.ROLE_BACKUP, 4)),
        new SipServerPairStatus(), List.of(), null);
    var executor = new PlanExecutor(cluster.client(), null, OperatorMetrics.none());

    assertThatThrownBy(() -> executor.writePods(pair, facts, plan))
        .isInstanceOf(KubernetesClientException.class)
        .satisfies(e -> assertThat(((KubernetesClientException) e).getCode()).isEqualTo(409));
    Map<String, String> now = cluster.client().pods().inNamespace("voice").withName("sip-0").get()
        .getMetadata().getAnnotations();
    assertThat(now).containsEntry(SipServerPair.EPOCH_ANNOTATION, "5").containsEntry(SipServerPair.ROLE_ANNOTATION, "primary");
  }

  @Test
  void aRoleWriteFromTheCurrentViewLands() {
    cluster.createNamespace("voice");
    Pod seen = cluster.createServerPod("voice", "sip-0", "pair-1", "node-a", true);
    SipServerPair pair = SimulatedSite.pair("voice", "pair-1", "sip-0", "sip-0", "sip-1");
    PairFacts facts = Facts.pairFacts(pair, name -> name.equals("sip-0") ? seen : null, List.of(),
        AllowedCidrs.any(), null, Instant.now(), List.of());
    Plan plan = new Plan(List.of(), List.of(new Plan.RoleAssignment("sip-0", SipServerPair.ROLE_PRIMARY, 1)),
        new SipServerPairStatus(), List.of(), null);
    new PlanExecutor(cluster.client(), null, OperatorMetrics.none()).writePods(pair, facts, plan);
    assertThat(cluster.client().pods().inNamespace("voice").withName("sip-0").get().getMetadata().getAnnotations())
        .containsEntry(SipServerPair.EPOCH_ANNOTATION, "1");
  }
}
