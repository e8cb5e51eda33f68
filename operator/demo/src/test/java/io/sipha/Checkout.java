package io.sipha;

import java.nio.file.Files;
import java.nio.file.Path;

/** The checkout the tests run in: its root, found from the working directory (operator/demo) up. */
public final class Checkout {
  private Checkout() {}

  /**
   * The folder holding helm/sipha/files: Maven's sipha.repo when it is set, else the nearest one
   * above.
   */
  public static Path root() {
    String set = System.getProperty("sipha.repo");
    if (set != null) {
      return Path.of(set);
    }
    Path p = Path.of("").toAbsolutePath();
    while (p != null) {
      if (Files.isRegularFile(p.resolve("helm/sipha/files/vip-enable"))) {
        return p;
      }
      p = p.getParent();
    }
    throw new IllegalStateException(
        "cannot find helm/sipha/files/vip-enable above " + Path.of("").toAbsolutePath());
  }
}
