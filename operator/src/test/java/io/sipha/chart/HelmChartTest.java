package io.sipha.chart;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.marcnuri.helm.Helm;
import com.marcnuri.helm.LintResult;
import com.marcnuri.helm.TemplateCommand;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.KubernetesList;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBinding;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.sipha.api.SipServerPair;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Helm chart helm/sipha, rendered by real Helm (helm-java), the plain manifests generated from
 * it, and the examples. The working directory is operator/.
 */
class HelmChartTest {
  static final Path ROOT = Path.of("..");
  static final Path CHART = ROOT.resolve("helm/sipha");
  static final Path CRD = ROOT.resolve("crds/sipserverpairs.sipha.io.yaml");
  static final Path CHART_CRD = CHART.resolve("crds/sipserverpairs.sipha.io.yaml");
  static final Path MANIFESTS = ROOT.resolve("manifests/sipha.yaml");
  static final Path EXAMPLES = ROOT.resolve("examples");

  static final String RELEASE = "sipha";
  static final String NAMESPACE = "sipha-system";
  static final Set<String> WRITE_VERBS =
      Set.of("create", "update", "patch", "delete", "deletecollection", "*");
  static final String REPLACED_VIP_ENABLE =
      "#!/bin/sh\n# site script: the VIP through the site's own tool\nexec /usr/local/bin/site-vip add \"$@\"\n";

  static final KubernetesSerialization SERIALIZATION = new KubernetesSerialization();

  static {
    SERIALIZATION.registerKubernetesResource(SipServerPair.class);
  }

  @TempDir static Path tmp;

  static List<HasMetadata> defaults;
  static List<HasMetadata> custom;
  static List<HasMetadata> existingConfigMap;

  @BeforeAll
  static void render() throws IOException {
    defaults = parse(template().call());

    Path values = tmp.resolve("custom-values.yaml");
    Files.writeString(
        values,
        """
        allowedVipCidrs: [192.0.2.0/24, "2001:db8::/64"]
        logFormat: json
        agent:
          nodeSelector:
            sipha.io/agent: "true"
          scripts:
            vipEnable: |
        """
            + REPLACED_VIP_ENABLE.indent(6)
            + """
        metrics:
          serviceMonitor:
            enabled: true
            labels:
              release: prometheus
        """);
    custom = parse(template().withValuesFile(values).set("operator.replicas", 1).call());

    existingConfigMap =
        parse(template().set("agent.scripts.existingConfigMap", "site-vip-scripts").call());
  }

  static TemplateCommand template() {
    return new Helm(CHART).template().withName(RELEASE).withNamespace(NAMESPACE);
  }

  /** Every document of a multi-document YAML stream as a Fabric8 object. */
  static List<HasMetadata> parse(String yaml) {
    Object parsed = SERIALIZATION.unmarshal(yaml);
    Collection<?> items;
    if (parsed instanceof KubernetesList list) {
      items = list.getItems();
    } else if (parsed instanceof Collection<?> list) {
      items = list;
    } else {
      items = parsed == null ? List.of() : List.of(parsed);
    }
    List<HasMetadata> result = new ArrayList<>();
    for (Object item : items) {
      if (item != null) {
        assertThat(item).as("a Kubernetes object").isInstanceOf(HasMetadata.class);
        result.add((HasMetadata) item);
      }
    }
    return result;
  }

  static <T extends HasMetadata> List<T> all(List<HasMetadata> objects, Class<T> type) {
    return objects.stream().filter(type::isInstance).map(type::cast).toList();
  }

  static <T extends HasMetadata> T one(List<HasMetadata> objects, Class<T> type, String name) {
    List<T> found =
        all(objects, type).stream().filter(o -> o.getMetadata().getName().equals(name)).toList();
    assertThat(found).as("%s %s", type.getSimpleName(), name).hasSize(1);
    return found.get(0);
  }

  static Deployment operator(List<HasMetadata> objects) {
    return one(objects, Deployment.class, "sipha-operator");
  }

  static DaemonSet agent(List<HasMetadata> objects) {
    return one(objects, DaemonSet.class, "sipha-agent");
  }

  static Container container(PodSpec pod) {
    assertThat(pod.getContainers()).hasSize(1);
    return pod.getContainers().get(0);
  }

  static Map<String, String> scripts(List<HasMetadata> objects) {
    return one(objects, ConfigMap.class, "sipha-vip-scripts").getData();
  }

  static String file(Path path) throws IOException {
    return Files.readString(path, StandardCharsets.UTF_8);
  }

  // ---------------------------------------------------------------------------------------------

  @Test
  void lintIsClean() {
    LintResult result = new Helm(CHART).lint().strict().call();
    assertThat(result.isFailed()).as("helm lint --strict: %s", result.getMessages()).isFalse();
    // only [INFO] remarks (e.g. "icon is recommended"); no [WARNING] or [ERROR]
    assertThat(result.getMessages()).allMatch(m -> m.startsWith("[INFO]"), "only [INFO] messages");
  }

  @Test
  void defaultValuesRenderEveryObjectAsItsFabric8Type() {
    Map<String, Long> kinds =
        defaults.stream()
            .collect(
                Collectors.groupingBy(o -> o.getClass().getSimpleName(), Collectors.counting()));
    assertThat(kinds)
        .containsExactlyInAnyOrderEntriesOf(
            Map.ofEntries(
                Map.entry("ServiceAccount", 2L),
                Map.entry("ClusterRole", 2L),
                Map.entry("ClusterRoleBinding", 2L),
                Map.entry("Role", 2L),
                Map.entry("RoleBinding", 2L),
                Map.entry("ConfigMap", 1L),
                Map.entry("Service", 1L),
                Map.entry("Deployment", 1L),
                Map.entry("DaemonSet", 1L),
                Map.entry("ValidatingAdmissionPolicy", 1L),
                Map.entry("ValidatingAdmissionPolicyBinding", 1L)));
    one(defaults, ServiceAccount.class, "sipha-operator");
    one(defaults, ServiceAccount.class, "sipha-agent");
    one(defaults, Service.class, "sipha-operator-metrics");
    for (HasMetadata o : defaults) {
      boolean clusterScoped =
          o instanceof ClusterRole
              || o instanceof ClusterRoleBinding
              || o.getKind().startsWith("ValidatingAdmissionPolicy");
      assertThat(o.getMetadata().getNamespace())
          .as(o.getKind() + " " + o.getMetadata().getName())
          .isEqualTo(clusterScoped ? null : NAMESPACE);
      assertThat(o.getMetadata().getLabels())
          .as("labels of %s", o.getMetadata().getName())
          .containsEntry("app.kubernetes.io/name", "sipha")
          .containsEntry("app.kubernetes.io/instance", RELEASE)
          .containsEntry("app.kubernetes.io/version", "0.1.0")
          .containsEntry("app.kubernetes.io/managed-by", "Helm")
          .containsKey("app.kubernetes.io/component");
    }
  }

  @Test
  void nonDefaultValuesRender() {
    assertThat(custom)
        .allMatch(
            o -> !(o instanceof GenericKubernetesResource) || o.getKind().equals("ServiceMonitor"),
            "only the ServiceMonitor has no Fabric8 class");
    GenericKubernetesResource monitor =
        one(custom, GenericKubernetesResource.class, "sipha-operator");
    assertThat(monitor.getApiVersion()).isEqualTo("monitoring.coreos.com/v1");
    assertThat(monitor.getKind()).isEqualTo("ServiceMonitor");
    assertThat(monitor.getMetadata().getLabels()).containsEntry("release", "prometheus");
    assertThat(monitor.<String>get("spec", "endpoints", 0, "port")).isEqualTo("http-metrics");
    assertThat(monitor.<Map<String, String>>get("spec", "selector", "matchLabels"))
        .isEqualTo(operator(custom).getSpec().getSelector().getMatchLabels());
    assertThat(all(defaults, GenericKubernetesResource.class))
        .as("no ServiceMonitor by default")
        .isEmpty();

    assertThat(operator(custom).getSpec().getReplicas()).isEqualTo(1);
    assertThat(operator(defaults).getSpec().getReplicas()).isEqualTo(2);
    assertThat(container(operator(custom).getSpec().getTemplate().getSpec()).getArgs())
        .containsSequence("--log-format", "json");
    assertThat(container(agent(custom).getSpec().getTemplate().getSpec()).getArgs())
        .containsSequence("--log-format", "json");
    assertThat(agent(custom).getSpec().getTemplate().getSpec().getNodeSelector())
        .isEqualTo(Map.of("sipha.io/agent", "true"));
    assertThat(agent(defaults).getSpec().getTemplate().getSpec().getNodeSelector()).isNullOrEmpty();
  }

  /**
   * The agents' admission policy names the release's agent ServiceAccount; it can be turned off.
   */
  @Test
  void theAgentsAreKeptToTheirOwnNodesLeasesUnlessTurnedOff() {
    var policy =
        defaults.stream()
            .filter(
                o ->
                    o
                        instanceof
                        io.fabric8.kubernetes.api.model.admissionregistration.v1
                            .ValidatingAdmissionPolicy)
            .map(
                io.fabric8.kubernetes.api.model.admissionregistration.v1.ValidatingAdmissionPolicy
                        .class
                    ::cast)
            .findFirst()
            .orElseThrow();
    assertThat(policy.getSpec().getMatchConditions().get(0).getExpression())
        .contains("system:serviceaccount:" + NAMESPACE + ":sipha-agent");
    assertThat(policy.getSpec().getFailurePolicy()).isEqualTo("Fail");
    List<HasMetadata> off = parse(template().set("agent.nodeRestriction", false).call());
    assertThat(off).noneMatch(o -> o.getKind().startsWith("ValidatingAdmissionPolicy"));
  }

  @Test
  void theSchemaRejectsUnknownOrInvalidValues() {
    assertThatThrownBy(() -> template().set("replicas", 1).call())
        .hasMessageContaining("Additional property replicas is not allowed");
    assertThatThrownBy(() -> template().set("logFormat", "xml").call())
        .hasMessageContaining("logFormat");
    assertThatThrownBy(() -> template().set("operator.replicas", 0).call())
        .hasMessageContaining("operator.replicas");
    assertThatThrownBy(() -> template().set("agent.scripts.vipStatus", "exit 0").call())
        .hasMessageContaining("agent.scripts.vipStatus");
  }

  @Test
  void noRbacRuleHasAWildcard() {
    for (List<HasMetadata> objects : List.of(defaults, custom, existingConfigMap)) {
      List<PolicyRule> rules =
          Stream.concat(
                  all(objects, ClusterRole.class).stream().flatMap(r -> r.getRules().stream()),
                  all(objects, Role.class).stream().flatMap(r -> r.getRules().stream()))
              .toList();
      assertThat(rules).isNotEmpty();
      for (PolicyRule rule : rules) {
        assertThat(rule.getApiGroups()).isNotEmpty().doesNotContain("*");
        assertThat(rule.getResources()).isNotEmpty().noneMatch(r -> r.contains("*"));
        assertThat(rule.getVerbs()).isNotEmpty().doesNotContain("*");
        assertThat(orEmpty(rule.getResourceNames())).doesNotContain("*");
        assertThat(rule.getNonResourceURLs()).isNullOrEmpty();
      }
    }
  }

  static <T> List<T> orEmpty(List<T> list) {
    return list == null ? List.of() : list;
  }

  /** The ConfigMap the agent mounts at /etc/sipha/scripts. */
  static String mountedScripts(List<HasMetadata> objects) {
    PodSpec pod = agent(objects).getSpec().getTemplate().getSpec();
    String volume =
        container(pod).getVolumeMounts().stream()
            .filter(m -> m.getMountPath().equals("/etc/sipha/scripts"))
            .findFirst()
            .orElseThrow()
            .getName();
    return pod.getVolumes().stream()
        .filter(v -> v.getName().equals(volume))
        .findFirst()
        .orElseThrow()
        .getConfigMap()
        .getName();
  }

  /** apiGroup/resource → verbs, over all the rules of a role. */
  static Map<String, Set<String>> grants(List<PolicyRule> rules) {
    Map<String, Set<String>> grants = new java.util.TreeMap<>();
    for (PolicyRule rule : rules) {
      for (String group : rule.getApiGroups()) {
        for (String resource : rule.getResources()) {
          grants
              .computeIfAbsent(group + "/" + resource, k -> new java.util.TreeSet<>())
              .addAll(rule.getVerbs());
        }
      }
    }
    return grants;
  }

  @Test
  void rbacIsLeastPrivilege() {
    assertThat(grants(one(defaults, ClusterRole.class, "sipha-operator").getRules()))
        .isEqualTo(
            Map.of(
                "sipha.io/sipserverpairs", Set.of("get", "list", "watch", "patch", "update"),
                "sipha.io/sipserverpairs/status", Set.of("get", "update", "patch"),
                "/pods", Set.of("get", "list", "watch", "patch"),
                "/events", Set.of("create", "patch")));
    assertThat(grants(one(defaults, Role.class, "sipha-operator").getRules()))
        .isEqualTo(
            Map.of(
                // patch: the leader election renews its Lease with a PATCH (the real API server
                // refused it: 403)
                "coordination.k8s.io/leases",
                Set.of("get", "list", "watch", "create", "update", "patch"),
                // the agents' peer key: made when missing, read by name only
                "/secrets",
                Set.of("get", "create")));

    Map<String, Set<String>> agentCluster =
        grants(one(defaults, ClusterRole.class, "sipha-agent").getRules());
    Map<String, Set<String>> agentNamespace =
        grants(one(defaults, Role.class, "sipha-agent").getRules());
    assertThat(agentCluster)
        .isEqualTo(
            Map.of(
                "/pods", Set.of("get", "list", "watch"),
                "sipha.io/sipserverpairs", Set.of("get", "list", "watch")));
    assertThat(agentNamespace)
        .isEqualTo(Map.of("coordination.k8s.io/leases", Set.of("get", "create", "update")));
    // the agent can write nothing but its Lease: no pod, no pair, no status
    for (Map<String, Set<String>> grants : List.of(agentCluster, agentNamespace)) {
      grants.forEach(
          (resource, verbs) -> {
            if (!resource.equals("coordination.k8s.io/leases")) {
              assertThat(verbs).as(resource).doesNotContainAnyElementsOf(WRITE_VERBS);
            }
          });
    }

    // each role is bound to its own ServiceAccount in the release namespace
    for (String component : List.of("operator", "agent")) {
      String name = "sipha-" + component;
      ClusterRoleBinding crb = one(defaults, ClusterRoleBinding.class, name);
      assertThat(crb.getRoleRef().getKind()).isEqualTo("ClusterRole");
      assertThat(crb.getRoleRef().getName()).isEqualTo(name);
      assertThat(crb.getSubjects())
          .singleElement()
          .satisfies(
              s -> {
                assertThat(s.getKind()).isEqualTo("ServiceAccount");
                assertThat(s.getName()).isEqualTo(name);
                assertThat(s.getNamespace()).isEqualTo(NAMESPACE);
              });
      RoleBinding rb = one(defaults, RoleBinding.class, name);
      assertThat(rb.getRoleRef().getKind()).isEqualTo("Role");
      assertThat(rb.getRoleRef().getName()).isEqualTo(name);
      assertThat(rb.getSubjects())
          .singleElement()
          .satisfies(s -> assertThat(s.getName()).isEqualTo(name));
    }
    assertThat(operator(defaults).getSpec().getTemplate().getSpec().getServiceAccountName())
        .isEqualTo("sipha-operator");
    assertThat(agent(defaults).getSpec().getTemplate().getSpec().getServiceAccountName())
        .isEqualTo("sipha-agent");
  }

  /**
   * The agent on the host network with NET_ADMIN and NET_RAW only: nothing privileged, no host path
   * (default and custom values).
   */
  @Test
  void theAgentIsUnprivilegedOnTheHostNetwork() {
    for (List<HasMetadata> objects : List.of(defaults, custom)) {
      PodSpec pod = agent(objects).getSpec().getTemplate().getSpec();
      Container c = container(pod);
      assertThat(pod.getHostNetwork()).isTrue();
      assertThat(pod.getDnsPolicy()).isEqualTo("ClusterFirstWithHostNet");
      var sc = c.getSecurityContext();
      assertThat(sc.getPrivileged()).isNotEqualTo(Boolean.TRUE);
      assertThat(sc.getAllowPrivilegeEscalation()).isFalse();
      assertThat(sc.getRunAsUser()).isZero();
      assertThat(sc.getReadOnlyRootFilesystem()).isTrue();
      assertThat(sc.getCapabilities().getDrop()).containsExactly("ALL");
      assertThat(sc.getCapabilities().getAdd()).containsExactlyInAnyOrder("NET_ADMIN", "NET_RAW");
      assertThat(pod.getSecurityContext() == null || pod.getSecurityContext().getSysctls() == null)
          .isTrue();
      assertThat(pod.getHostPID()).isNotEqualTo(Boolean.TRUE);
      assertThat(pod.getHostIPC()).isNotEqualTo(Boolean.TRUE);
      assertThat(pod.getVolumes()).noneMatch(v -> v.getHostPath() != null);
    }
  }

  /**
   * The agent's arguments, its node and namespace from the downward API (default and custom
   * values).
   */
  @Test
  void theAgentGetsItsNodeAndNamespaceFromTheDownwardApi() {
    for (List<HasMetadata> objects : List.of(defaults, custom)) {
      PodSpec pod = agent(objects).getSpec().getTemplate().getSpec();
      Container c = container(pod);
      assertThat(c.getArgs())
          .startsWith(
              "agent",
              "--node",
              "$(NODE_NAME)",
              "--scripts-dir",
              "/etc/sipha/scripts",
              "--lease-namespace",
              "$(POD_NAMESPACE)",
              "--http-port",
              "9477");
      assertThat(c.getEnv())
          .anySatisfy(
              e -> {
                assertThat(e.getName()).isEqualTo("NODE_NAME");
                assertThat(e.getValueFrom().getFieldRef().getFieldPath())
                    .isEqualTo("spec.nodeName");
              });
      assertThat(c.getEnv())
          .anySatisfy(
              e -> {
                assertThat(e.getName()).isEqualTo("POD_NAMESPACE");
                assertThat(e.getValueFrom().getFieldRef().getFieldPath())
                    .isEqualTo("metadata.namespace");
              });
    }
  }

  /**
   * The agent's liveness probe on its port, and the VIP scripts mounted executable (default and
   * custom values).
   */
  @Test
  void theAgentServesItsProbeAndMountsItsScripts() {
    for (List<HasMetadata> objects : List.of(defaults, custom)) {
      PodSpec pod = agent(objects).getSpec().getTemplate().getSpec();
      Container c = container(pod);
      assertThat(c.getLivenessProbe().getHttpGet().getPath()).isEqualTo("/healthz");
      assertThat(c.getPorts())
          .filteredOn(p -> "TCP".equals(p.getProtocol()))
          .singleElement()
          .satisfies(
              p -> {
                assertThat(p.getName())
                    .isEqualTo(c.getLivenessProbe().getHttpGet().getPort().getStrVal());
                assertThat(p.getContainerPort()).isEqualTo(9477);
              });
      assertThat(c.getVolumeMounts())
          .anySatisfy(
              m -> {
                assertThat(m.getMountPath()).isEqualTo("/etc/sipha/scripts");
                assertThat(m.getName()).isEqualTo("vip-scripts");
              });
      assertThat(pod.getVolumes())
          .anySatisfy(
              v -> {
                assertThat(v.getName()).isEqualTo("vip-scripts");
                assertThat(v.getConfigMap().getDefaultMode()).isEqualTo(0755);
              });
    }
  }

  /**
   * The peer channel on by default: the agents get the key from a Secret the operator makes when it
   * is missing (no key is rendered: no two installs share one), mounted read-only for the agent
   * alone and optional until it exists; an admin's Secret replaces it (and the operator makes none,
   * nor may it); off, nothing of it is left.
   */
  @Test
  void theAgentsHeartbeatEachOtherWithAKeyFromASecretTheOperatorMakes() {
    assertThat(all(defaults, Secret.class)).as("no key in the chart's output").isEmpty();
    assertThat(
            String.join(
                " ", container(operator(defaults).getSpec().getTemplate().getSpec()).getArgs()))
        .contains("--peer-key-secret sipha-agent-peer-key");
    Role role = one(defaults, Role.class, "sipha-operator");
    assertThat(role.getRules())
        .anySatisfy(
            r -> {
              assertThat(r.getResources()).containsExactly("secrets");
              assertThat(r.getResourceNames()).containsExactly("sipha-agent-peer-key");
              assertThat(r.getVerbs()).containsExactly("get");
            });

    PodSpec pod = agent(defaults).getSpec().getTemplate().getSpec();
    Container c = container(pod);
    assertThat(String.join(" ", c.getArgs()))
        .contains(
            "--peer-key-file /etc/sipha/peer/peer-key --peer-heartbeat-port 9478"
                + " --peer-interval-ms 50 --peer-silent-ms 300");
    assertThat(c.getPorts())
        .anySatisfy(
            p -> {
              assertThat(p.getName()).isEqualTo("peer");
              assertThat(p.getProtocol()).isEqualTo("UDP");
              assertThat(p.getContainerPort()).isEqualTo(9478);
            });
    assertThat(c.getVolumeMounts())
        .anySatisfy(
            m -> {
              assertThat(m.getMountPath()).isEqualTo("/etc/sipha/peer");
              assertThat(m.getReadOnly()).isTrue();
            });
    assertThat(pod.getVolumes())
        .filteredOn(v -> v.getSecret() != null)
        .anySatisfy(
            v -> {
              assertThat(v.getSecret().getSecretName()).isEqualTo("sipha-agent-peer-key");
              assertThat(v.getSecret().getDefaultMode()).isEqualTo(0400);
              assertThat(v.getSecret().getOptional()).isTrue();
            });

    List<HasMetadata> admins =
        parse(template().set("agent.peer.existingSecret", "site-peer-key").call());
    assertThat(agent(admins).getSpec().getTemplate().getSpec().getVolumes())
        .filteredOn(v -> v.getSecret() != null)
        .anySatisfy(v -> assertThat(v.getSecret().getSecretName()).isEqualTo("site-peer-key"));
    assertThat(container(operator(admins).getSpec().getTemplate().getSpec()).getArgs())
        .containsSequence("--peer-key-secret", "");
    assertThat(one(admins, Role.class, "sipha-operator").getRules())
        .noneMatch(r -> r.getResources().contains("secrets"));

    List<HasMetadata> off = parse(template().set("agent.peer.enabled", false).call());
    Container offAgent = container(agent(off).getSpec().getTemplate().getSpec());
    assertThat(offAgent.getArgs()).noneMatch(a -> a.startsWith("--peer"));
    assertThat(offAgent.getPorts()).hasSize(1);
    assertThat(one(off, Role.class, "sipha-operator").getRules())
        .noneMatch(r -> r.getResources().contains("secrets"));
  }

  /**
   * The agent on every node (every taint tolerated), with resource requests (default and custom
   * values).
   */
  @Test
  void theAgentToleratesEveryTaintAndRequestsResources() {
    for (List<HasMetadata> objects : List.of(defaults, custom)) {
      PodSpec pod = agent(objects).getSpec().getTemplate().getSpec();
      Container c = container(pod);
      // tolerates every taint by default: no node of a SIP Server goes without an agent
      assertThat(pod.getTolerations())
          .singleElement()
          .satisfies(
              t -> {
                assertThat(t.getOperator()).isEqualTo("Exists");
                assertThat(t.getKey()).isNull();
                assertThat(t.getEffect()).isNull();
              });
      assertThat(c.getResources().getRequests()).containsKeys("cpu", "memory");
    }
  }

  /** The operator: its image, arguments, downward-API environment, port and probes. */
  @Test
  void theOperatorRunsTheImageWithItsArgumentsAndProbes() {
    Deployment deployment = operator(defaults);
    PodSpec pod = deployment.getSpec().getTemplate().getSpec();
    Container c = container(pod);
    assertThat(c.getImage()).isEqualTo("sipha:0.1.0");
    assertThat(c.getImagePullPolicy()).isEqualTo("IfNotPresent");
    assertThat(c.getArgs())
        .containsExactly(
            "operator",
            "--lease-namespace",
            "$(POD_NAMESPACE)",
            "--http-port",
            "8080",
            "--log-format",
            "text",
            "--peer-key-secret",
            "sipha-agent-peer-key");
    assertThat(c.getEnv())
        .extracting(e -> e.getName() + "=" + e.getValueFrom().getFieldRef().getFieldPath())
        .containsExactlyInAnyOrder("POD_NAMESPACE=metadata.namespace", "POD_NAME=metadata.name");
    assertThat(c.getPorts())
        .singleElement()
        .satisfies(
            p -> {
              assertThat(p.getName()).isEqualTo("http");
              assertThat(p.getContainerPort()).isEqualTo(8080);
            });
    assertThat(c.getLivenessProbe().getHttpGet().getPath()).isEqualTo("/healthz");
    assertThat(c.getLivenessProbe().getHttpGet().getPort().getStrVal()).isEqualTo("http");
    assertThat(c.getReadinessProbe().getHttpGet().getPath()).isEqualTo("/readyz");
    assertThat(c.getReadinessProbe().getHttpGet().getPort().getStrVal()).isEqualTo("http");
  }

  /**
   * The operator runs as non-root, read-only, with no capability and the runtime's seccomp profile.
   */
  @Test
  void theOperatorIsHardened() {
    Deployment deployment = operator(defaults);
    PodSpec pod = deployment.getSpec().getTemplate().getSpec();
    Container c = container(pod);
    var sc = c.getSecurityContext();
    assertThat(sc.getRunAsNonRoot()).isTrue();
    assertThat(sc.getRunAsUser()).isEqualTo(10001L);
    assertThat(sc.getReadOnlyRootFilesystem()).isTrue();
    assertThat(sc.getAllowPrivilegeEscalation()).isFalse();
    assertThat(sc.getCapabilities().getDrop()).containsExactly("ALL");
    assertThat(sc.getCapabilities().getAdd()).isNullOrEmpty();
    assertThat(sc.getSeccompProfile().getType()).isEqualTo("RuntimeDefault");
    assertThat(pod.getHostNetwork()).isNotEqualTo(Boolean.TRUE);
    assertThat(c.getVolumeMounts()).anySatisfy(m -> assertThat(m.getMountPath()).isEqualTo("/tmp"));
    assertThat(pod.getVolumes()).anySatisfy(v -> assertThat(v.getEmptyDir()).isNotNull());
  }

  /** The operator's resource requests and memory limit. */
  @Test
  void theOperatorHasResourceRequestsAndAMemoryLimit() {
    Deployment deployment = operator(defaults);
    PodSpec pod = deployment.getSpec().getTemplate().getSpec();
    Container c = container(pod);
    assertThat(c.getResources().getRequests())
        .containsEntry("cpu", new Quantity("100m"))
        .containsEntry("memory", new Quantity("256Mi"));
    assertThat(c.getResources().getLimits()).containsEntry("memory", new Quantity("512Mi"));
  }

  /** The metrics Service selects exactly the operator pods, on the http port. */
  @Test
  void theMetricsServiceSelectsExactlyTheOperatorPods() {
    Deployment deployment = operator(defaults);
    PodSpec pod = deployment.getSpec().getTemplate().getSpec();
    Container c = container(pod);
    // the metrics Service selects exactly the operator pods
    Service metrics = one(defaults, Service.class, "sipha-operator-metrics");
    assertThat(metrics.getSpec().getSelector())
        .isEqualTo(deployment.getSpec().getSelector().getMatchLabels());
    assertThat(deployment.getSpec().getTemplate().getMetadata().getLabels())
        .containsAllEntriesOf(metrics.getSpec().getSelector());
    assertThat(metrics.getSpec().getSelector())
        .doesNotContainEntry("app.kubernetes.io/component", "agent");
    assertThat(metrics.getSpec().getPorts())
        .singleElement()
        .satisfies(
            p -> {
              assertThat(p.getName()).isEqualTo("http-metrics");
              assertThat(p.getPort()).isEqualTo(8080);
              assertThat(p.getTargetPort().getStrVal()).isEqualTo("http");
            });
  }

  @Test
  void theOperatorArgsCarryTheAllowedVipCidrs() {
    assertThat(container(operator(custom).getSpec().getTemplate().getSpec()).getArgs())
        .containsSequence("--allowed-vip-cidrs", "192.0.2.0/24,2001:db8::/64");
    assertThat(container(operator(defaults).getSpec().getTemplate().getSpec()).getArgs())
        .doesNotContain("--allowed-vip-cidrs");
    // the same list through --set
    List<String> args =
        container(
                operator(parse(template().set("allowedVipCidrs[0]", "198.51.100.0/24").call()))
                    .getSpec()
                    .getTemplate()
                    .getSpec())
            .getArgs();
    assertThat(args).containsSequence("--allowed-vip-cidrs", "198.51.100.0/24");
  }

  @Test
  void theScriptsConfigMapHoldsTheChartFilesByDefault() throws IOException {
    assertThat(scripts(defaults))
        .containsExactlyInAnyOrderEntriesOf(
            Map.of(
                "vip-enable", file(CHART.resolve("files/vip-enable")),
                "vip-disable", file(CHART.resolve("files/vip-disable")),
                "vip-status", file(CHART.resolve("files/vip-status"))));
    assertThat(mountedScripts(defaults)).isEqualTo("sipha-vip-scripts");
  }

  @Test
  void anAdminCanReplaceAScript() throws IOException {
    assertThat(scripts(custom))
        .containsExactlyInAnyOrderEntriesOf(
            Map.of(
                "vip-enable", REPLACED_VIP_ENABLE,
                "vip-disable", file(CHART.resolve("files/vip-disable")),
                "vip-status", file(CHART.resolve("files/vip-status"))));
  }

  @Test
  void anAdminCanMountAnExistingConfigMap() {
    assertThat(all(existingConfigMap, ConfigMap.class)).as("no ConfigMap rendered").isEmpty();
    assertThat(mountedScripts(existingConfigMap)).isEqualTo("site-vip-scripts");
  }

  @Test
  void theChartCrdIsTheGeneratedCrd() throws IOException {
    assertThat(Files.mismatch(CHART_CRD, CRD))
        .as(
            "helm/sipha/crds/ must be a copy of crds/: cp crds/sipserverpairs.sipha.io.yaml helm/sipha/crds/")
        .isEqualTo(-1L);
  }

  @Test
  void theNotesTellHowToCheckAndSwitchOver() throws IOException {
    String notes = file(CHART.resolve("templates/NOTES.txt"));
    assertThat(notes)
        .contains("kubectl get ssp -A")
        .contains(
            "kubectl patch ssp <name> -n <ns> --type merge -p '{\"spec\":{\"primary\":\"<server>\"}}'");
  }

  /** manifests/sipha.yaml: Namespace, CRD, then the chart with default values. */
  static String renderManifests() throws IOException {
    String chart = template().call().strip();
    return "# Generated by HelmChartTest.manifestsAreRenderedFromTheChart from helm/sipha with default values\n"
        + "# (release "
        + RELEASE
        + ", namespace "
        + NAMESPACE
        + "). Do not edit: change the chart and run the test.\n"
        + "# Install: kubectl apply -f manifests/\n"
        + "---\n"
        + "apiVersion: v1\n"
        + "kind: Namespace\n"
        + "metadata:\n"
        + "  name: "
        + NAMESPACE
        + "\n"
        + "  labels:\n"
        + "    # the agents run on the host network with NET_ADMIN and NET_RAW\n"
        + "    pod-security.kubernetes.io/enforce: privileged\n"
        + crdDocument()
        + "\n"
        + chart
        + "\n";
  }

  /** The CRD file as one document headed like Helm's: "---", "# Source: ...", then the CRD. */
  static String crdDocument() throws IOException {
    String crd = file(CRD);
    // the generated file opens with comment lines and "---": keep its body only
    Matcher header = Pattern.compile("\\A(?:#[^\n]*\n|\\s*\n)*---\n").matcher(crd);
    String body = header.find() ? crd.substring(header.end()) : crd;
    return "---\n# Source: sipha/crds/sipserverpairs.sipha.io.yaml (generated from operator/src/main/java/io/sipha/api)\n"
        + body.stripTrailing();
  }

  @Test
  void manifestsAreRenderedFromTheChart() throws IOException {
    String manifests = renderManifests();
    assertThat(renderManifests()).as("deterministic").isEqualTo(manifests);
    assertThat(manifests).doesNotContain("\r");

    List<HasMetadata> objects = parse(manifests);
    assertThat(objects.get(0))
        .isInstanceOfSatisfying(
            Namespace.class, ns -> assertThat(ns.getMetadata().getName()).isEqualTo(NAMESPACE));
    assertThat(objects.get(1))
        .isInstanceOfSatisfying(
            CustomResourceDefinition.class,
            crd -> assertThat(crd.getMetadata().getName()).isEqualTo("sipserverpairs.sipha.io"));
    assertThat(objects.get(1)).as("the CRD of crds/").isEqualTo(parse(file(CRD)).get(0));
    assertThat(objects.subList(2, objects.size()))
        .extracting(o -> o.getKind() + "/" + o.getMetadata().getName())
        .containsExactlyElementsOf(
            defaults.stream().map(o -> o.getKind() + "/" + o.getMetadata().getName()).toList());

    if (!Files.exists(MANIFESTS) || !file(MANIFESTS).equals(manifests)) {
      Files.createDirectories(MANIFESTS.getParent());
      Files.writeString(MANIFESTS, manifests, StandardCharsets.UTF_8);
    }
    assertThat(file(MANIFESTS)).isEqualTo(manifests);
  }

  @Test
  void theExamplesParseAndFitTogether() throws IOException {
    List<HasMetadata> objects = new ArrayList<>();
    try (Stream<Path> files = Files.list(EXAMPLES)) {
      for (Path f : files.filter(p -> p.toString().endsWith(".yaml")).sorted().toList()) {
        List<HasMetadata> parsed = parse(file(f));
        assertThat(parsed)
            .as(f.toString())
            .isNotEmpty()
            .noneMatch(o -> o instanceof GenericKubernetesResource);
        objects.addAll(parsed);
      }
    }
    SipServerPair pair = one(objects, SipServerPair.class, "pair-1");
    StatefulSet sts = one(objects, StatefulSet.class, "sip");
    one(objects, Namespace.class, "voice");

    assertThat(pair.getMetadata().getNamespace()).isEqualTo("voice");
    assertThat(sts.getMetadata().getNamespace()).isEqualTo("voice");
    int replicas = sts.getSpec().getReplicas();
    assertThat(replicas).isEqualTo(2);
    List<String> podNames =
        java.util.stream.IntStream.range(0, replicas)
            .mapToObj(i -> sts.getMetadata().getName() + "-" + i)
            .toList();
    assertThat(pair.getSpec().getServers())
        .containsExactlyElementsOf(podNames)
        .containsExactly("sip-0", "sip-1");
    assertThat(pair.getSpec().getPrimary()).isEqualTo("sip-0");
    assertThat(sts.getSpec().getTemplate().getMetadata().getLabels())
        .containsEntry(SipServerPair.PAIR_LABEL, pair.getMetadata().getName());
    assertThat(sts.getSpec().getTemplate().getMetadata().getLabels())
        .containsAllEntriesOf(sts.getSpec().getSelector().getMatchLabels());

    PodSpec pod = sts.getSpec().getTemplate().getSpec();
    assertThat(container(pod).getImage()).isEqualTo("registry.example.org/sip-server:1.0");
    assertThat(container(pod).getReadinessProbe()).isNotNull();
    assertThat(
            pod.getAffinity()
                .getPodAntiAffinity()
                .getRequiredDuringSchedulingIgnoredDuringExecution())
        .singleElement()
        .satisfies(
            term -> {
              assertThat(term.getTopologyKey()).isEqualTo("kubernetes.io/hostname");
              assertThat(term.getLabelSelector().getMatchLabels())
                  .containsEntry(SipServerPair.PAIR_LABEL, pair.getMetadata().getName());
            });

    var vip = pair.getSpec().getVirtualIP();
    assertThat(vip.getAddress() + "/" + vip.getPrefixLength()).isEqualTo("192.0.2.10/24");
    assertThat(vip.getInterfaceName()).isEqualTo("eth0");
    assertThat(pair.getSpec().getFailover().isEnabled()).isTrue();
    assertThat(pair.getSpec().getFailover().getUnreadyGraceSeconds()).isEqualTo(2);
    assertThat(pair.getSpec().getFailover().getNodeLossSeconds()).isEqualTo(3);
    assertThat(pair.getSpec().getFailback()).isEqualTo(io.sipha.api.FailbackMode.Manual);

    // switchover.sh patches pair-1 so that sip-1, its other server, becomes primary
    String script = file(EXAMPLES.resolve("switchover.sh"));
    assertThat(Files.isExecutable(EXAMPLES.resolve("switchover.sh"))).isTrue();
    Matcher patch =
        Pattern.compile("kubectl patch ssp (\\S+) -n (\\S+) --type merge -p '([^']+)'")
            .matcher(script);
    assertThat(patch.find()).as("a kubectl patch in switchover.sh").isTrue();
    assertThat(patch.group(1)).isEqualTo(pair.getMetadata().getName());
    assertThat(patch.group(2)).isEqualTo(pair.getMetadata().getNamespace());
    SipServerPair patched =
        SERIALIZATION.unmarshal(
            mergePatch(JSON.readTree(SERIALIZATION.asJson(pair)), JSON.readTree(patch.group(3)))
                .toString(),
            SipServerPair.class);
    assertThat(patched.getSpec().getPrimary()).isEqualTo("sip-1").isIn(pair.getSpec().getServers());
    assertThat(patched.getSpec().getServers()).isEqualTo(pair.getSpec().getServers());
  }

  static final ObjectMapper JSON = new ObjectMapper();

  /** RFC 7386 JSON merge patch, as {@code kubectl patch --type merge} applies it. */
  static JsonNode mergePatch(JsonNode target, JsonNode patch) {
    if (!patch.isObject()) {
      return patch;
    }
    ObjectNode result =
        target != null && target.isObject()
            ? ((ObjectNode) target).deepCopy()
            : JsonNodeFactory.instance.objectNode();
    patch
        .fields()
        .forEachRemaining(
            e -> {
              if (e.getValue().isNull()) {
                result.remove(e.getKey());
              } else {
                result.set(e.getKey(), mergePatch(result.get(e.getKey()), e.getValue()));
              }
            });
    return result;
  }

  @Test
  void everyAddressIsADocumentationAddress() throws IOException {
    Pattern ipv4 = Pattern.compile("\\b(\\d{1,3})\\.(\\d{1,3})\\.(\\d{1,3})\\.(\\d{1,3})\\b");
    Function<String, Boolean> documentation =
        a -> a.startsWith("192.0.2.") || a.startsWith("198.51.100.") || a.startsWith("203.0.113.");
    List<Path> files = new ArrayList<>();
    try (Stream<Path> examples = Files.list(EXAMPLES);
        Stream<Path> chart = Files.walk(CHART)) {
      files.addAll(examples.toList());
      files.addAll(
          chart
              .filter(Files::isRegularFile)
              .filter(p -> !p.startsWith(CHART.resolve("crds")))
              .toList());
    }
    for (Path f : files) {
      Matcher m = ipv4.matcher(file(f));
      while (m.find()) {
        assertThat(documentation.apply(m.group()))
            .as("%s: %s is a documentation address", f, m.group())
            .isTrue();
      }
    }
  }
}
