package io.sipha.controlplane;

import io.fabric8.kubernetes.api.model.authentication.TokenRequest;
import io.fabric8.kubernetes.api.model.authentication.TokenRequestBuilder;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The control plane {@code make e2e} started (e2e/control-plane/cluster.sh): its admin kubeconfig,
 * its kubectl, clients with the admin's certificate or with a ServiceAccount's token. The tier runs
 * only against it: a test of this tier without it fails and says how to start it.
 */
public final class LocalControlPlane {
  private final Path kubeconfig;
  private final Path kubectl;
  private final String server;
  private final Path ca;

  private LocalControlPlane(Path kubeconfig, Path kubectl) throws IOException {
    this.kubeconfig = kubeconfig;
    this.kubectl = kubectl;
    String text = Files.readString(kubeconfig);
    this.server = find(text, "server:\\s*(\\S+)");
    this.ca = Path.of(find(text, "certificate-authority:\\s*(\\S+)"));
  }

  private static String find(String text, String regex) {
    Matcher m = Pattern.compile(regex).matcher(text);
    if (!m.find()) {
      throw new IllegalStateException("the control plane's kubeconfig has no " + regex);
    }
    return m.group(1);
  }

  /** The running control plane, from SIPHA_KUBECONFIG and SIPHA_KUBECTL (make e2e sets both). */
  public static LocalControlPlane fromEnvironment() {
    String kc = System.getenv("SIPHA_KUBECONFIG");
    String k = System.getenv("SIPHA_KUBECTL");
    if (kc == null || k == null || !Files.isReadable(Path.of(kc))) {
      throw new IllegalStateException(
          "no local control plane: this tier runs with `make e2e`, which builds and "
              + "starts it (SIPHA_KUBECONFIG and SIPHA_KUBECTL are not set, or the kubeconfig is missing)");
    }
    try {
      return new LocalControlPlane(Path.of(kc), Path.of(k));
    } catch (IOException e) {
      throw new IllegalStateException("cannot read " + kc, e);
    }
  }

  public Path kubeconfig() {
    return kubeconfig;
  }

  /** The repository's root. */
  public static Path repo() {
    return io.sipha.Checkout.root();
  }

  /** The repository's CRD applied server-side, as a platform team applies it, and Established. */
  public void applyCrds() {
    kubectl(null, "apply", "--server-side", "-f", repo().resolve("crds").toString()).ok();
    kubectl(
            null,
            "wait",
            "--for",
            "condition=Established",
            "crd/sipserverpairs.sipha.io",
            "--timeout",
            "30s")
        .ok();
  }

  /** The namespace, created if missing (a server-side apply). */
  public static void ensureNamespace(KubernetesClient admin, String name) {
    admin
        .namespaces()
        .resource(
            new io.fabric8.kubernetes.api.model.NamespaceBuilder()
                .withNewMetadata()
                .withName(name)
                .endMetadata()
                .build())
        .serverSideApply();
  }

  /** A client with the admin's certificate (system:masters). */
  public KubernetesClient adminClient() {
    try {
      return new KubernetesClientBuilder()
          .withConfig(Config.fromKubeconfig(Files.readString(kubeconfig)))
          .build();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * A token of this ServiceAccount from the TokenRequest API, bound to this pod (as the kubelet
   * gets one for a pod: it carries the pod's and its node's names) when {@code pod} is not null.
   */
  public String token(
      KubernetesClient admin,
      String namespace,
      String serviceAccount,
      io.fabric8.kubernetes.api.model.Pod pod) {
    TokenRequestBuilder b =
        new TokenRequestBuilder().withNewSpec().withExpirationSeconds(3600L).endSpec();
    if (pod != null) {
      b.editSpec()
          .withNewBoundObjectRef()
          .withApiVersion("v1")
          .withKind("Pod")
          .withName(pod.getMetadata().getName())
          .withUid(pod.getMetadata().getUid())
          .endBoundObjectRef()
          .endSpec();
    }
    TokenRequest r =
        admin
            .serviceAccounts()
            .inNamespace(namespace)
            .withName(serviceAccount)
            .tokenRequest(b.build());
    return r.getStatus().getToken();
  }

  /** A kubeconfig file in {@code dir} that authenticates with this token (and no certificate). */
  public Path kubeconfigWithToken(Path dir, String name, String token) throws IOException {
    Path p = dir.resolve(name + ".kubeconfig");
    Files.writeString(
        p,
        String.join(
            "\n",
            "apiVersion: v1",
            "kind: Config",
            "clusters:",
            "- name: local",
            "  cluster:",
            "    server: " + server,
            "    certificate-authority: " + ca,
            "users:",
            "- name: " + name,
            "  user:",
            "    token: " + token,
            "contexts:",
            "- name: local",
            "  context: {cluster: local, user: " + name + "}",
            "current-context: local",
            ""));
    return p;
  }

  /** A client that authenticates with this token. */
  public KubernetesClient clientWithToken(String token) {
    Config t =
        new io.fabric8.kubernetes.client.ConfigBuilder()
            .withMasterUrl(server)
            .withCaCertFile(ca.toString())
            .withOauthToken(token)
            .build();
    return new KubernetesClientBuilder().withConfig(t).build();
  }

  /** What a kubectl command printed and its exit code. */
  public record Result(int exitCode, String out, String err) {
    public Result ok() {
      if (exitCode != 0) {
        throw new AssertionError("the command exited " + exitCode + ": " + err + out);
      }
      return this;
    }
  }

  /**
   * Runs the control plane's kubectl with the admin kubeconfig, {@code stdin} fed to it (or none).
   */
  public Result kubectl(String stdin, String... args) {
    List<String> cmd =
        new ArrayList<>(List.of(kubectl.toString(), "--kubeconfig", kubeconfig.toString()));
    cmd.addAll(List.of(args));
    return run(cmd, stdin, Duration.ofSeconds(60));
  }

  static Result run(List<String> cmd, String stdin, Duration timeout) {
    try {
      Path out = Files.createTempFile("sipha-cmd", ".out");
      Path err = Files.createTempFile("sipha-cmd", ".err");
      ProcessBuilder pb =
          new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile());
      Process p = pb.start();
      if (stdin != null) {
        p.getOutputStream().write(stdin.getBytes(StandardCharsets.UTF_8));
      }
      p.getOutputStream().close();
      if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        p.destroyForcibly();
        throw new AssertionError(String.join(" ", cmd) + " did not end within " + timeout);
      }
      Result r = new Result(p.exitValue(), Files.readString(out), Files.readString(err));
      Files.deleteIfExists(out);
      Files.deleteIfExists(err);
      return r;
    } catch (IOException e) {
      throw new IllegalStateException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
