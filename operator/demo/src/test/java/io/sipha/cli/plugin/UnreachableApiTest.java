package io.sipha.cli.plugin;

import static org.assertj.core.api.Assertions.assertThat;

import io.sipha.cli.PluginMain;
import io.sipha.cli.sandbox.Kubeconfig;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ServerSocket;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** A plugin command whose API cannot be reached says which server it tried, as kubectl does. */
class UnreachableApiTest {
  @TempDir Path dir;

  @Test
  void theErrorNamesTheServerOfThisCommandsKubeconfig() throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      port = s.getLocalPort(); // closed again: nothing listens there
    }
    Path kubeconfig = Kubeconfig.write(dir.resolve("k"), "http://127.0.0.1:" + port, "voice");
    StringWriter err = new StringWriter();
    CommandLine cl = PluginMain.commandLine();
    cl.setErr(new PrintWriter(err, true));
    cl.setOut(new PrintWriter(new StringWriter(), true));
    int code = cl.execute("status", "--kubeconfig", kubeconfig.toString());
    assertThat(code).isEqualTo(1);
    assertThat(err.toString())
        .startsWith("error: cannot reach the Kubernetes API at http://127.0.0.1:" + port)
        .contains("check --kubeconfig or $KUBECONFIG, and --context");
  }
}
