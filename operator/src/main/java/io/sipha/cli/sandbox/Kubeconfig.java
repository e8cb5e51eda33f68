package io.sipha.cli.sandbox;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** A kubeconfig with one context: the embedded API, any token, a default namespace. */
public final class Kubeconfig {
  public static final String CONTEXT = "sipha-sandbox";

  private Kubeconfig() {}

  /** Writes it (creating the folder) and returns its absolute path. */
  public static Path write(Path file, String server, String namespace) {
    String url = server.endsWith("/") ? server.substring(0, server.length() - 1) : server;
    String text = """
        # the sipha sandbox (sipha demo --keep-running): an embedded Kubernetes API on this machine
        apiVersion: v1
        kind: Config
        clusters:
        - name: %1$s
          cluster:
            server: %2$s
        users:
        - name: %1$s
          user:
            token: sandbox
        contexts:
        - name: %1$s
          context:
            cluster: %1$s
            user: %1$s
            namespace: %3$s
        current-context: %1$s
        """.formatted(CONTEXT, url, namespace);
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
