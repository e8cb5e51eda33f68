package io.sipha.cli.sandbox;

import io.fabric8.kubernetes.client.Config;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A kubeconfig with one context and a default namespace: the embedded API with any token, or a
 * local control plane with its admin's client certificate.
 */
public final class Kubeconfig {
  public static final String CONTEXT = "sipha-sandbox";

  private Kubeconfig() {}

  /** The embedded API's: writes it (creating the folder) and returns its absolute path. */
  public static Path write(Path file, String server, String namespace) {
    return write(
        file,
        "an embedded Kubernetes API on this machine",
        server,
        "",
        "    token: sandbox\n",
        namespace);
  }

  /** A control plane's, with the CA and the client certificate its admin config names. */
  public static Path write(Path file, Config admin, String namespace) {
    if (admin.getCaCertFile() == null
        || admin.getClientCertFile() == null
        || admin.getClientKeyFile() == null) {
      throw new IllegalStateException(
          "the control plane's kubeconfig names no certificate-authority, client-certificate"
              + " or client-key file: the sandbox writes its own kubeconfig from those");
    }
    return write(
        file,
        "the local control plane on this machine",
        admin.getMasterUrl(),
        "    certificate-authority: " + admin.getCaCertFile() + "\n",
        "    client-certificate: "
            + admin.getClientCertFile()
            + "\n    client-key: "
            + admin.getClientKeyFile()
            + "\n",
        namespace);
  }

  private static Path write(
      Path file,
      String what,
      String server,
      String clusterLines,
      String userLines,
      String namespace) {
    String url = server.endsWith("/") ? server.substring(0, server.length() - 1) : server;
    String text =
        """
        # the sipha sandbox (sipha demo --keep-running): %4$s
        apiVersion: v1
        kind: Config
        clusters:
        - name: %1$s
          cluster:
            server: %2$s
        %5$susers:
        - name: %1$s
          user:
        %6$scontexts:
        - name: %1$s
          context:
            cluster: %1$s
            user: %1$s
            namespace: %3$s
        current-context: %1$s
        """
            .formatted(CONTEXT, url, namespace, what, clusterLines, userLines);
    try {
      Path abs = file.toAbsolutePath();
      if (abs.getParent() != null) {
        Files.createDirectories(abs.getParent());
      }
      Files.writeString(abs, text);
      return abs;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
