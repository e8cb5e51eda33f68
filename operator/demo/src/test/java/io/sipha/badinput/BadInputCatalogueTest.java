package io.sipha.badinput;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.sipha.api.Phase;
import io.sipha.api.SipServerPair;
import io.sipha.api.SipServerPairSpec;
import io.sipha.api.SipServerPairStatus;
import io.sipha.decision.Conditions;
import io.sipha.demo.SimulatedSite;
import io.sipha.e2e.SiteTest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every case of docs/bad-inputs.md, as written there: refused by the CRD schema exactly where the
 * catalogue says so, refused by the operator always (field named, Warning Event, no script run, no
 * role given), and working once fixed.
 */
class BadInputCatalogueTest extends SiteTest {
  static final Path CATALOGUE = io.sipha.Checkout.root().resolve("docs/bad-inputs.md");
  static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
  static CrdSchema schema;

  /** One case of the catalogue. */
  record Case(
      int number, String title, String field, boolean schemaRefuses, Map<String, Object> change) {
    @Override
    public String toString() {
      return number + ". " + title;
    }
  }

  @BeforeAll
  static void loadSchema() throws IOException {
    schema = new CrdSchema(io.sipha.Checkout.root().resolve("crds/sipserverpairs.sipha.io.yaml"));
  }

  static List<Case> catalogue() throws IOException {
    String text = Files.readString(CATALOGUE);
    Matcher m =
        Pattern.compile(
                "### (\\d+)\\. (.+?)\\n.*?field: (\\S+) · schema refuses: (yes|no)\\n\\n```yaml\\n(.*?)```",
                Pattern.DOTALL)
            .matcher(text);
    List<Case> out = new ArrayList<>();
    while (m.find()) {
      @SuppressWarnings("unchecked")
      Map<String, Object> change = YAML.readValue(m.group(5), Map.class);
      out.add(
          new Case(
              Integer.parseInt(m.group(1)),
              m.group(2),
              m.group(3),
              m.group(4).equals("yes"),
              change));
    }
    return out;
  }

  static Stream<Case> cases() throws IOException {
    return catalogue().stream();
  }

  /** The valid pair of the catalogue's head, as a map. */
  static Map<String, Object> validSpec() {
    SipServerPairSpec spec = SimulatedSite.pair(NS, "pair-1", "sip-0", "sip-0", "sip-1").getSpec();
    @SuppressWarnings("unchecked")
    Map<String, Object> m = YAML.convertValue(spec, Map.class);
    return m;
  }

  /** Merges a change into a spec: maps are merged, null removes, anything else replaces. */
  @SuppressWarnings("unchecked")
  static Map<String, Object> merge(Map<String, Object> base, Map<String, Object> change) {
    Map<String, Object> out = new LinkedHashMap<>(base);
    change.forEach(
        (k, v) -> {
          if (v == null) {
            out.remove(k);
          } else if (v instanceof Map && out.get(k) instanceof Map) {
            out.put(k, merge((Map<String, Object>) out.get(k), (Map<String, Object>) v));
          } else {
            out.put(k, v);
          }
        });
    return out;
  }

  @Test
  void theCatalogueHasAtLeastTwentyCasesNumberedInOrder() throws IOException {
    List<Case> all = catalogue();
    assertThat(all).hasSizeGreaterThanOrEqualTo(20);
    for (int i = 0; i < all.size(); i++) {
      assertThat(all.get(i).number()).isEqualTo(i + 1);
    }
    assertThat(schema.violations(validSpec())).as("the valid pair passes the schema").isEmpty();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void refusedWhereTheCatalogueSaysAndRecoversOnceFixed(Case c) {
    Map<String, Object> bad = merge(validSpec(), c.change());
    List<String> schemaSays = schema.violations(bad);
    if (c.schemaRefuses()) {
      assertThat(schemaSays).as("the CRD schema refuses it").isNotEmpty();
    } else {
      assertThat(schemaSays).as("the CRD schema cannot express this rule").isEmpty();
    }

    createPods();
    // sent as written, not through the Java classes (which would drop what they cannot hold)
    GenericKubernetesResource raw = new GenericKubernetesResource();
    raw.setApiVersion(SipServerPair.GROUP + "/" + SipServerPair.VERSION);
    raw.setKind("SipServerPair");
    raw.setMetadata(new ObjectMetaBuilder().withName("pair-1").withNamespace(NS).build());
    raw.setAdditionalProperty("spec", bad);
    site.client()
        .genericKubernetesResources(raw.getApiVersion(), raw.getKind())
        .inNamespace(NS)
        .resource(raw)
        .create();

    SipServerPairStatus s = awaitStatus("Invalid", x -> x.phase == Phase.Invalid);
    var ready = condition(s, Conditions.READY);
    assertThat(ready.reason).isEqualTo("InvalidSpec");
    assertThat(ready.message).as("the message names the field").contains(c.field() + ":");
    assertThat(ready.message).doesNotContain("\n");
    awaitEvent(
        "a Warning InvalidSpec Event",
        e -> e.startsWith("Warning InvalidSpec") && e.contains(c.field()));
    assertThat(site.timeline()).as("nothing ran on any host").isEmpty();
    for (String name : List.of("sip-0", "sip-1")) {
      Pod p = pod(name);
      assertThat(p.getMetadata().getAnnotations())
          .as("no role given to " + name)
          .doesNotContainKey(SipServerPair.ROLE_ANNOTATION);
    }

    site.client()
        .resources(SipServerPair.class)
        .inNamespace(NS)
        .withName("pair-1")
        .edit(
            x -> {
              x.setSpec(YAML.convertValue(validSpec(), SipServerPairSpec.class));
              return x;
            });
    awaitStatus("Active once fixed", x -> x.phase == Phase.Active && "sip-0".equals(x.primary));
    assertThat(site.host("node-a").vips()).containsExactly(VIP);
  }
}
