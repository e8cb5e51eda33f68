package io.sipha.demo;

import io.fabric8.kubernetes.api.model.APIGroup;
import io.fabric8.kubernetes.api.model.APIGroupBuilder;
import io.fabric8.kubernetes.api.model.APIGroupListBuilder;
import io.fabric8.kubernetes.api.model.APIResource;
import io.fabric8.kubernetes.api.model.APIResourceBuilder;
import io.fabric8.kubernetes.api.model.APIResourceList;
import io.fabric8.kubernetes.api.model.APIResourceListBuilder;
import io.fabric8.kubernetes.api.model.APIVersionsBuilder;
import io.fabric8.kubernetes.api.model.ContainerStateBuilder;
import io.fabric8.kubernetes.api.model.ContainerStatusBuilder;
import io.fabric8.kubernetes.api.model.GroupVersionForDiscoveryBuilder;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.PodConditionBuilder;
import io.fabric8.kubernetes.api.model.PodStatus;
import io.fabric8.kubernetes.api.model.PodStatusBuilder;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.fabric8.mockwebserver.ServerRequest;
import io.fabric8.mockwebserver.ServerResponse;
import io.sipha.api.SipServerPair;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.time.Clock;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.stream.Stream;

/**
 * An embedded Kubernetes API (the Fabric8 mock server, storing objects CRUD-style, with canned
 * answers where the mock has none) with the SipServerPair CRD installed, plus the kubelet's part
 * for pods: the mock has no scheduler and no kubelet, so pod placement and readiness are written
 * here.
 */
public final class EmbeddedCluster implements SiteApi {
  private static final Logger MOCK_LOG = Logger.getLogger("io.fabric8.mockwebserver");
  private final KubernetesMockServer server;
  private final KubernetesClient client;
  private final Clock clock;

  public EmbeddedCluster(Clock clock) {
    MOCK_LOG.setLevel(Level.WARNING);
    this.clock = clock;
    Map<ServerRequest, Queue<ServerResponse>> responses = new HashMap<>();
    this.server =
        new KubernetesMockServer(
            new Context(), new MockWebServer(), responses, new StatusConflicts(responses), false);
    server.init();
    // leader election first asks what it may do with Leases: the mock has no authorization
    server
        .expect()
        .post()
        .withPath("/apis/authorization.k8s.io/v1/selfsubjectrulesreviews")
        .andReturn(
            201,
            "{\"apiVersion\":\"authorization.k8s.io/v1\",\"kind\":\"SelfSubjectRulesReview\","
                + "\"status\":{\"incomplete\":false,\"nonResourceRules\":[],\"resourceRules\":[{\"apiGroups\":"
                + "[\"coordination.k8s.io\"],\"resources\":[\"leases\"],\"verbs\":[\"get\",\"list\",\"watch\","
                + "\"create\",\"update\",\"patch\"]}]}}")
        .always();
    serveDiscovery();
    this.client = server.createClient();
    try (InputStream crd =
        EmbeddedCluster.class.getResourceAsStream(
            "/META-INF/fabric8/sipserverpairs.sipha.io-v1.yml")) {
      if (crd == null) {
        throw new IllegalStateException(
            "the generated CRD is not on the classpath; build with mvn process-classes");
      }
      client
          .apiextensions()
          .v1()
          .customResourceDefinitions()
          .resource(
              client.getKubernetesSerialization().unmarshal(crd, CustomResourceDefinition.class))
          .create();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Canned answers that come before the stored objects: how tests inject API faults (409, 500). */
  public io.fabric8.mockwebserver.dsl.MockServerExpectation expect() {
    return server.expect();
  }

  /** A client to the API at another address (a proxy in front of it). */
  public KubernetesClient newClient(String url) {
    return server.createClient(
        b ->
            b.withConfig(
                new io.fabric8.kubernetes.client.ConfigBuilder(client.getConfiguration())
                    .withMasterUrl(url)
                    .build()));
  }

  /** The port the embedded API listens on (localhost). */
  public int port() {
    return java.net.URI.create(url()).getPort();
  }

  /**
   * The discovery documents a real kubectl reads before anything else (the mock answers them with
   * plain lists): the core group, our group and the few groups the demo uses. kubectl asks each
   * path bare and with {@code ?timeout=32s}.
   */
  private void serveDiscovery() {
    List<String> verbs =
        List.of("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch");
    List<String> sub = List.of("get", "patch", "update");
    String pairs = SipServerPair.GROUP + "/" + SipServerPair.VERSION;
    Map<String, Object> docs = new java.util.LinkedHashMap<>();
    docs.put("/api", new APIVersionsBuilder().withVersions("v1").build());
    docs.put(
        "/apis",
        new APIGroupListBuilder()
            .withGroups(
                Stream.of(pairs, "coordination.k8s.io/v1", "apiextensions.k8s.io/v1")
                    .map(EmbeddedCluster::group)
                    .toList())
            .build());
    docs.put(
        "/api/v1",
        resources(
            "v1",
            resource("pods", "pod", "Pod", true, verbs, "po"),
            resource("pods/status", "", "Pod", true, sub),
            resource("namespaces", "namespace", "Namespace", false, verbs, "ns"),
            resource("configmaps", "configmap", "ConfigMap", true, verbs, "cm"),
            resource("events", "event", "Event", true, verbs, "ev")));
    docs.put(
        "/apis/" + pairs,
        resources(
            pairs,
            resource("sipserverpairs", "sipserverpair", "SipServerPair", true, verbs, "ssp"),
            resource("sipserverpairs/status", "", "SipServerPair", true, sub)));
    docs.put(
        "/apis/coordination.k8s.io/v1",
        resources("coordination.k8s.io/v1", resource("leases", "lease", "Lease", true, verbs)));
    docs.put(
        "/apis/apiextensions.k8s.io/v1",
        resources(
            "apiextensions.k8s.io/v1",
            resource(
                "customresourcedefinitions",
                "customresourcedefinition",
                "CustomResourceDefinition",
                false,
                verbs,
                "crd",
                "crds")));
    docs.forEach(
        (path, doc) -> {
          String json = Serialization.asJson(doc);
          server.expect().get().withPath(path).andReturn(200, json).always();
          server.expect().get().withPath(path + "?timeout=32s").andReturn(200, json).always();
        });
    // no OpenAPI documents: kubectl then validates nothing on the client side
    for (String path : new String[] {"/openapi/v2", "/openapi/v3"}) {
      server.expect().get().withPath(path).andReturn(404, "").always();
      server.expect().get().withPath(path + "?timeout=32s").andReturn(404, "").always();
    }
  }

  /** A group of one version ("coordination.k8s.io/v1"), its preferred one. */
  private static APIGroup group(String groupVersion) {
    String name = groupVersion.substring(0, groupVersion.indexOf('/'));
    var version =
        new GroupVersionForDiscoveryBuilder()
            .withGroupVersion(groupVersion)
            .withVersion(groupVersion.substring(name.length() + 1))
            .build();
    return new APIGroupBuilder()
        .withName(name)
        .withVersions(version)
        .withPreferredVersion(version)
        .build();
  }

  private static APIResourceList resources(String groupVersion, APIResource... resources) {
    return new APIResourceListBuilder()
        .withGroupVersion(groupVersion)
        .withResources(resources)
        .build();
  }

  private static APIResource resource(
      String name,
      String singular,
      String kind,
      boolean namespaced,
      List<String> verbs,
      String... shortNames) {
    return new APIResourceBuilder()
        .withName(name)
        .withSingularName(singular)
        .withNamespaced(namespaced)
        .withKind(kind)
        .withVerbs(verbs)
        .withShortNames(shortNames)
        .build();
  }

  /** A new client to the embedded API, as a separate process would have. */
  @Override
  public KubernetesClient newClient() {
    return server.createClient();
  }

  @Override
  public KubernetesClient client() {
    return client;
  }

  @Override
  public String url() {
    return client.getConfiguration().getMasterUrl();
  }

  public void createNamespace(String name) {
    client
        .namespaces()
        .resource(new NamespaceBuilder().withNewMetadata().withName(name).endMetadata().build())
        .create();
  }

  @Override
  public void ensureNamespace(String name) {
    if (client.namespaces().withName(name).get() == null) {
      createNamespace(name);
    }
  }

  /** None of its own: the site gives its nodes addresses ({@link #nodeAddresses}). */
  @Override
  public String nodeAddress(String node) {
    return null;
  }

  /** A SIP Server pod as its StatefulSet would make it, scheduled on a node and Ready. */
  public Pod createServerPod(
      String namespace, String name, String pair, String node, boolean labelled) {
    client
        .pods()
        .inNamespace(namespace)
        .resource(serverPod(namespace, name, pair, node, labelled))
        .create();
    return setReady(namespace, name, true);
  }

  /**
   * A SIP Server pod bound to a node (one container, app=sip-server, the pair's label if {@code
   * labelled}), as the demo, the tests and the benches create it on any API server.
   */
  public static Pod serverPod(
      String namespace, String name, String pair, String node, boolean labelled) {
    Map<String, String> labels = new HashMap<>();
    labels.put("app", "sip-server");
    if (labelled) {
      labels.put(SipServerPair.PAIR_LABEL, pair);
    }
    return new PodBuilder()
        .withNewMetadata()
        .withName(name)
        .withNamespace(namespace)
        .withLabels(labels)
        .endMetadata()
        .withNewSpec()
        .withNodeName(node)
        .addNewContainer()
        .withName("sip-server")
        .withImage("example.org/sip-server:1")
        .endContainer()
        .endSpec()
        .build();
  }

  /** Acts as the kubelet: sets the pod's Ready condition. */
  @Override
  public Pod setReady(String namespace, String name, boolean ready) {
    String now = clock.instant().toString();
    return writeStatus(
        namespace,
        name,
        new PodStatusBuilder()
            .withPhase("Running")
            .addToConditions(
                new PodConditionBuilder()
                    .withType("Ready")
                    .withStatus(ready ? "True" : "False")
                    .withLastTransitionTime(now)
                    .build())
            .addToContainerStatuses(
                new ContainerStatusBuilder()
                    .withName("sip-server")
                    .withReady(ready)
                    .withRestartCount(0)
                    .withState(
                        new ContainerStateBuilder()
                            .withNewRunning()
                            .withStartedAt(now)
                            .endRunning()
                            .build())
                    .build())
            .build());
  }

  /** Acts as the kubelet: the SIP Server container has terminated with this exit code. */
  @Override
  public Pod terminateContainer(String namespace, String name, int exitCode) {
    String now = clock.instant().toString();
    return writeStatus(
        namespace,
        name,
        new PodStatusBuilder()
            .withPhase("Running")
            .addToConditions(
                new PodConditionBuilder()
                    .withType("Ready")
                    .withStatus("False")
                    .withLastTransitionTime(now)
                    .build())
            .addToContainerStatuses(
                new ContainerStatusBuilder()
                    .withName("sip-server")
                    .withReady(false)
                    .withRestartCount(0)
                    .withState(
                        new ContainerStateBuilder()
                            .withNewTerminated()
                            .withExitCode(exitCode)
                            .withReason("Error")
                            .withFinishedAt(now)
                            .endTerminated()
                            .build())
                    .build())
            .build());
  }

  private volatile java.util.function.Function<String, String> nodeAddress = node -> null;

  /** The address of each node, which the kubelet writes as status.hostIP of the pods there. */
  public void nodeAddresses(java.util.function.Function<String, String> byNode) {
    this.nodeAddress = byNode;
  }

  /**
   * Replaces the pod's whole status with a JSON patch (no resourceVersion: the kubelet's write
   * wins).
   */
  private Pod writeStatus(String namespace, String name, PodStatus status) {
    Pod pod = client.pods().inNamespace(namespace).withName(name).get();
    String node = pod == null || pod.getSpec() == null ? null : pod.getSpec().getNodeName();
    String hostIp = node == null ? null : nodeAddress.apply(node);
    if (hostIp != null) {
      status.setHostIP(hostIp);
    }
    String value = client.getKubernetesSerialization().asJson(status);
    return client
        .pods()
        .inNamespace(namespace)
        .withName(name)
        .patch(
            PatchContext.of(PatchType.JSON),
            "[{\"op\":\"add\",\"path\":\"/status\",\"value\":" + value + "}]");
  }

  @Override
  public void close() {
    client.close();
    server.destroy();
  }
}
