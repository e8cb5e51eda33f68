package io.sipha.badinput;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.sipha.api.SipServerPair;
import io.sipha.controlplane.LocalControlPlane;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The catalogue of docs/bad-inputs.md against kube-apiserver itself: each case the catalogue says
 * the schema refuses is refused by the real server (422, its message printed into the test report),
 * every other one is stored (the operator refuses it: BadInputCatalogueTest). The CRD is the
 * generated one, applied server-side, so the real server also judges its CEL rules' cost.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class BadInputsOnTheRealServerIT {
  static final String NS = "badinput";
  final LocalControlPlane cp = LocalControlPlane.fromEnvironment();
  final KubernetesClient admin = cp.adminClient();

  @BeforeAll
  void crdAndNamespace() {
    cp.applyCrds();
    LocalControlPlane.ensureNamespace(admin, NS);
  }

  @AfterAll
  void cleanUp() {
    admin.namespaces().withName(NS).delete();
    admin.close();
  }

  static Stream<BadInputCatalogueTest.Case> cases() throws Exception {
    return BadInputCatalogueTest.cases();
  }

  GenericKubernetesResource pair(String name, Map<String, Object> spec) {
    GenericKubernetesResource raw = new GenericKubernetesResource();
    raw.setApiVersion(SipServerPair.GROUP + "/" + SipServerPair.VERSION);
    raw.setKind("SipServerPair");
    raw.setMetadata(new ObjectMetaBuilder().withName(name).withNamespace(NS).build());
    raw.setAdditionalProperty("spec", spec);
    return raw;
  }

  /** What the real server answers to a create: null if it stored it, else its message. */
  String create(GenericKubernetesResource raw) {
    var ops = admin.genericKubernetesResources(raw.getApiVersion(), raw.getKind()).inNamespace(NS);
    try {
      ops.resource(raw).create();
      ops.withName(raw.getMetadata().getName()).delete();
      return null;
    } catch (KubernetesClientException e) {
      assertThat(e.getCode())
          .as("refused as invalid, not for another reason: " + e.getMessage())
          .isEqualTo(422);
      return e.getStatus() == null ? e.getMessage() : e.getStatus().getMessage();
    }
  }

  @Test
  void theValidPairOfTheCatalogueIsStored() {
    assertThat(create(pair("valid", BadInputCatalogueTest.validSpec()))).isNull();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void theRealServerRefusesExactlyWhatTheCatalogueSaysTheSchemaRefuses(
      BadInputCatalogueTest.Case c) {
    String refused =
        create(
            pair(
                "case-" + c.number(),
                BadInputCatalogueTest.merge(BadInputCatalogueTest.validSpec(), c.change())));
    System.out.println("case " + c + ": " + (refused == null ? "stored" : "refused: " + refused));
    if (c.schemaRefuses()) {
      assertThat(refused).as("kube-apiserver refuses case %s", c).isNotNull();
    } else {
      assertThat(refused)
          .as("kube-apiserver stores case %s (only the operator can refuse it)", c)
          .isNull();
    }
  }
}
