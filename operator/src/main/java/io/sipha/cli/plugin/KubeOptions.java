package io.sipha.cli.plugin;

import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** The options every kubectl command has: which kubeconfig, which context, which namespace. */
public final class KubeOptions {
  @Option(
      names = "--kubeconfig",
      paramLabel = "FILE",
      description =
          "Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then in-cluster).")
  private Path kubeconfig;

  @Option(
      names = "--context",
      paramLabel = "NAME",
      description = "The kubeconfig context to use (default: its current context).")
  private String context;

  @Option(
      names = {"-n", "--namespace"},
      paramLabel = "NS",
      description = "The pairs' namespace (default: the context's namespace, then default).")
  private String namespace;

  @Option(
      names = "--lease-namespace",
      paramLabel = "NS",
      defaultValue = "sipha-system",
      description =
          "Where the node agents keep their Leases: the operator's namespace (default: ${DEFAULT-VALUE}).")
  private String leaseNamespace;

  /** The API server this command's client was made for, to say which one could not be reached. */
  private String server;

  /** The operator's namespace, where the agents keep their Leases. */
  public String leaseNamespace() {
    return leaseNamespace;
  }

  /** The API server of {@link #client()}, once it was made; null before. */
  public String server() {
    return server;
  }

  /** A client as kubectl would configure it; fails fast when the API cannot be reached. */
  public KubernetesClient client() {
    Config config;
    if (kubeconfig != null) {
      if (!Files.isReadable(kubeconfig)) {
        throw new IllegalArgumentException("cannot read kubeconfig " + kubeconfig);
      }
      config = Config.fromKubeconfig(context, kubeconfig.toFile());
    } else {
      config = Config.autoConfigure(context);
    }
    server = config.getMasterUrl();
    config.setRequestRetryBackoffLimit(1);
    config.setConnectionTimeout(5_000);
    return new KubernetesClientBuilder().withConfig(config).build();
  }

  /** -n, else the context's namespace, else default. */
  public String namespace(KubernetesClient client) {
    if (namespace != null) {
      return namespace;
    }
    String ns = client.getConfiguration().getNamespace();
    return ns == null || ns.isBlank() ? "default" : ns;
  }
}
