package io.sipha.operator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.sipha.api.Phase;
import io.sipha.api.SipServerPair;
import io.sipha.api.SipServerPairStatus;
import io.sipha.controlplane.LocalControlPlane;
import io.sipha.decision.Plan;
import io.sipha.demo.EmbeddedCluster;
import io.sipha.demo.SimulatedSite;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The operator's writes are locked on the version it planned from, and kube-apiserver enforces the
 * lock where the embedded API does not (it takes a status PUT with any resourceVersion): a plan
 * made from a stale view of a pod or a pair (a lagging cache, a deposed leader) is refused with 409
 * and never overwrites a newer write. No operator runs here: the writes are the executor's own.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class StaleWritesOnTheRealServerIT {
  static final String NS = "stale-writes";
  final LocalControlPlane cp = LocalControlPlane.fromEnvironment();
  final KubernetesClient admin = cp.adminClient();

  @BeforeAll
  void namespace() {
    cp.applyCrds();
    LocalControlPlane.ensureNamespace(admin, NS);
  }

  @AfterAll
  void cleanUp() {
    admin.namespaces().withName(NS).delete();
    admin.close();
  }

  /**
   * A server pod as the operator would see it once the node's (fake) kubelet has made it Running:
   * the kubelet's own status writes come right after the create, and a view taken before them is
   * already stale (a write from it is refused with 409, as it should be).
   */
  Pod pod(String name) {
    admin
        .pods()
        .inNamespace(NS)
        .resource(EmbeddedCluster.serverPod(NS, name, "pair-1", "node-a", true))
        .create();
    String[] last = {null};
    org.awaitility.Awaitility.await()
        .atMost(java.time.Duration.ofSeconds(30))
        .pollInterval(java.time.Duration.ofMillis(500))
        .until(
            () -> {
              Pod p = admin.pods().inNamespace(NS).withName(name).get();
              String rv = p.getMetadata().getResourceVersion();
              boolean settled =
                  p.getStatus() != null
                      && "Running".equals(p.getStatus().getPhase())
                      && rv.equals(last[0]);
              last[0] = rv;
              return settled;
            });
    return admin.pods().inNamespace(NS).withName(name).get();
  }

  @Test
  void aRoleWriteFromAStaleViewOfThePodIsRefusedWith409AndTheNewerEpochStays() {
    RoleWritePreconditionTest.assertAStaleRoleWriteIsRefused(admin, pod("sip-stale"));
  }

  @Test
  void aRoleWriteFromTheCurrentViewOfThePodLands() {
    RoleWritePreconditionTest.assertACurrentRoleWriteLands(admin, pod("sip-current"));
  }

  @Test
  void aStatusWriteFromAStaleViewOfThePairIsRefusedWith409AndTheNewerStatusStays() {
    SipServerPair seen =
        admin
            .resources(SipServerPair.class)
            .inNamespace(NS)
            .resource(SimulatedSite.pair(NS, "pair-1", "sip-0", "sip-0", "sip-1"))
            .create();
    var executor = new PlanExecutor(admin, null, OperatorMetrics.none());
    // the new leader writes epoch 3 from the current view
    SipServerPair written = executor.writeStatus(seen, plan(status(3, "sip-0")));
    assertThat(written.getStatus().epoch).isEqualTo(3);

    // a deposed leader, still on the view from before that write, writes epoch 2
    assertThatThrownBy(() -> executor.writeStatus(seen, plan(status(2, "sip-1"))))
        .isInstanceOf(KubernetesClientException.class)
        .satisfies(e -> assertThat(((KubernetesClientException) e).getCode()).isEqualTo(409))
        .hasMessageContaining("the object has been modified");
    SipServerPairStatus now =
        admin.resources(SipServerPair.class).inNamespace(NS).withName("pair-1").get().getStatus();
    assertThat(now.epoch).isEqualTo(3);
    assertThat(now.primary).isEqualTo("sip-0");
  }

  static SipServerPairStatus status(long epoch, String primary) {
    SipServerPairStatus s = new SipServerPairStatus();
    s.epoch = epoch;
    s.primary = primary;
    s.phase = Phase.Active;
    return s;
  }

  static Plan plan(SipServerPairStatus status) {
    return new Plan(List.of(), List.of(), status, List.of(), null);
  }
}
