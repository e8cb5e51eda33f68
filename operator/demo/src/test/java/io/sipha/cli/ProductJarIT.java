package io.sipha.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarFile;
import org.junit.jupiter.api.Test;

/**
 * The two jars the build makes: {@code sipha.jar}, the product the image, the chart and {@code
 * kubectl sipha} run (the operator, the node agent, the plugin), and {@code sipha-demo.jar}, the
 * same with the demo, the sandbox and the embedded API they run on. The product carries no mock
 * server and nothing of the demo, and none of its own classes needs what was left out.
 */
class ProductJarIT {
  static final Path PRODUCT = Path.of(System.getProperty("sipha.jar", "target/sipha.jar"));
  static final Path DEMO = Path.of(System.getProperty("sipha.demoJar", "target/sipha-demo.jar"));

  /**
   * What only the demo needs: the Fabric8 mock server, its web server, Vert.x and Netty under them,
   * the demo.
   */
  static final List<String> DEMO_ONLY =
      List.of(
          "io/fabric8/kubernetes/client/server/mock/",
          "io/fabric8/mockwebserver/",
          "io/vertx/",
          "io/netty/",
          "io/sipha/demo/",
          "io/sipha/cli/sandbox/",
          "io/sipha/cli/DemoCommand");

  static List<String> entries(Path jar) throws IOException {
    try (JarFile j = new JarFile(jar.toFile())) {
      return Collections.list(j.entries()).stream().map(e -> e.getName()).toList();
    }
  }

  record Run(int code, String out) {}

  static Run run(String... cmd) throws Exception {
    Path out = Files.createTempFile("sipha-jar", ".out");
    Process p =
        new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile()).start();
    assertThat(p.waitFor(180, TimeUnit.SECONDS)).as(String.join(" ", cmd) + " ended").isTrue();
    String text = Files.readString(out, StandardCharsets.UTF_8);
    Files.delete(out);
    return new Run(p.exitValue(), text);
  }

  @Test
  void theProductJarCarriesNoMockServerAndNothingOfTheDemo() throws Exception {
    List<String> product = entries(PRODUCT);
    List<String> demo = entries(DEMO);
    System.out.printf(
        "sipha.jar: %.1f MB, %d entries; sipha-demo.jar: %.1f MB, %d entries%n",
        Files.size(PRODUCT) / 1e6, product.size(), Files.size(DEMO) / 1e6, demo.size());
    for (String prefix : DEMO_ONLY) {
      assertThat(product)
          .as("the product jar holds nothing under " + prefix)
          .noneMatch(e -> e.startsWith(prefix));
    }
    assertThat(product)
        .contains(
            "io/sipha/operator/SiphaOperator.class",
            "io/sipha/agent/NodeAgent.class",
            "io/sipha/cli/PluginMain.class",
            "io/sipha/cli/Main.class");
    assertThat(demo)
        .contains(
            "io/sipha/demo/EmbeddedCluster.class",
            "io/sipha/cli/sandbox/Sandbox.class",
            "io/fabric8/kubernetes/client/server/mock/KubernetesMockServer.class");
  }

  /**
   * The CRD generator's annotations on the resource classes: read at build time (scope provided),
   * never loaded at run time (the JVM skips an annotation whose class is absent), in no jar.
   */
  static final List<String> BUILD_TIME_ONLY =
      List.of("io.fabric8.generator.annotation.", "io.fabric8.crd.generator.annotation.");

  /**
   * Micrometer's binders for Netty: for applications that run Netty, which the product does not.
   */
  static final List<String> OPTIONAL_BINDERS =
      List.of("io.micrometer.core.instrument.binder.netty4.");

  /**
   * jdeps reads every class's references. None of sipha's own points at a class the product jar
   * does not hold, and no class of the libraries it does hold points at one that the shade left out
   * of it but the demo's jar has (a library the product needs, excluded as the mock's).
   */
  @Test
  void noClassInTheProductJarNeedsAClassTheShadeLeftOut() throws Exception {
    Path jdeps = Path.of(System.getProperty("java.home"), "bin", "jdeps");
    Run r = run(jdeps.toString(), "--missing-deps", "--multi-release", "17", PRODUCT.toString());
    java.util.Set<String> inDemo = new java.util.HashSet<>();
    for (String e : entries(DEMO)) {
      if (e.endsWith(".class")) {
        inDemo.add(e.substring(0, e.length() - ".class".length()).replace('/', '.'));
      }
    }
    List<String> ours = new ArrayList<>();
    List<String> leftOut = new ArrayList<>();
    for (String line : r.out().split("\n")) {
      String[] w = line.strip().split("\\s+");
      if (w.length < 4 || !w[1].equals("->") || !line.contains("not found")) {
        continue;
      }
      boolean buildTime = BUILD_TIME_ONLY.stream().anyMatch(w[2]::startsWith);
      boolean fromDemo =
          DEMO_ONLY.stream().anyMatch(d -> w[0].replace('.', '/').startsWith(d))
              || OPTIONAL_BINDERS.stream().anyMatch(w[0]::startsWith);
      if (w[0].startsWith("io.sipha.") && !buildTime) {
        ours.add(line.strip());
      } else if (inDemo.contains(w[2]) && !fromDemo) {
        leftOut.add(line.strip());
      }
    }
    assertThat(ours)
        .as("sipha classes of the product jar that refer to a class it does not hold")
        .isEmpty();
    assertThat(leftOut)
        .as("classes of the product jar that refer to a class the shade left out")
        .isEmpty();
  }

  @Test
  void theProductJarRunsTheOperatorTheAgentAndThePluginAndPointsToTheDemosJar() throws Exception {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Run help = run(java, "-jar", PRODUCT.toString(), "--help");
    assertThat(help.code()).as(help.out()).isZero();
    assertThat(help.out()).contains("operator").contains("agent");
    assertThat(run(java, "-jar", PRODUCT.toString(), "operator", "--help").code()).isZero();
    assertThat(run(java, "-jar", PRODUCT.toString(), "agent", "--help").code()).isZero();
    assertThat(run(java, "-cp", PRODUCT.toString(), "io.sipha.cli.PluginMain", "--help").code())
        .isZero();

    Run demo = run(java, "-jar", PRODUCT.toString(), "demo");
    assertThat(demo.code()).isEqualTo(2);
    assertThat(demo.out()).contains("sipha-demo.jar").contains("make demo");
    Run demoHelp = run(java, "-jar", DEMO.toString(), "demo", "--help");
    assertThat(demoHelp.code()).as(demoHelp.out()).isZero();
    assertThat(demoHelp.out()).contains("--keep-running");
  }
}
