package io.sipha.demo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.client.KubernetesClientException;
import io.sipha.api.Phase;
import io.sipha.api.SipServerPair;
import io.sipha.api.SipServerPairStatus;
import java.time.Clock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class EmbeddedClusterTest {
  final EmbeddedCluster cluster = new EmbeddedCluster(Clock.systemUTC());

  @AfterEach
  void close() {
    cluster.close();
  }

  /**
   * As kube-apiserver: a status replaced from a read that is no longer the stored version is
   * refused with 409 (the mock alone accepts it), and one from the stored version is taken.
   */
  @Test
  void aStatusWrittenFromAStaleReadIsRefusedWithAConflict() {
    cluster.createNamespace("voice");
    var pairs = cluster.client().resources(SipServerPair.class).inNamespace("voice");
    pairs.resource(SimulatedSite.pair("voice", "pair-1", "sip-0", "sip-0", "sip-1")).create();
    SipServerPair read = pairs.withName("pair-1").get();
    SipServerPair fresh = pairs.withName("pair-1").get();
    fresh.setStatus(new SipServerPairStatus());
    fresh.getStatus().phase = Phase.Pending;
    pairs.resource(fresh).updateStatus();

    read.setStatus(new SipServerPairStatus());
    read.getStatus().phase = Phase.Active;
    assertThatThrownBy(() -> pairs.resource(read).updateStatus())
        .isInstanceOfSatisfying(
            KubernetesClientException.class, e -> assertThat(e.getCode()).isEqualTo(409))
        .hasMessageContaining("the object has been modified");
    assertThat(pairs.withName("pair-1").get().getStatus().phase).isEqualTo(Phase.Pending);

    SipServerPair current = pairs.withName("pair-1").get();
    current.getStatus().phase = Phase.Active;
    pairs.resource(current).updateStatus();
    assertThat(pairs.withName("pair-1").get().getStatus().phase).isEqualTo(Phase.Active);
  }
}
