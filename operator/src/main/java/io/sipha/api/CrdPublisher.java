package io.sipha.api;

import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceColumnDefinition;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;

/**
 * Build step: takes the CRD the Fabric8 generator wrote, puts the printer columns in the order
 * {@code kubectl get ssp} shows them (the generator sorts them by path), and writes it to the
 * repository's crds/ folder and to the Helm chart's crds/ folder. Run by Maven at process-classes;
 * CI fails if the committed copy differs.
 */
public final class CrdPublisher {
  static final List<String> COLUMN_ORDER =
      List.of("PRIMARY", "BACKUP", "VIP", "NODE", "PHASE", "EPOCH", "AGE");

  private CrdPublisher() {}

  public static void main(String[] args) throws IOException {
    Path generated = Path.of(args[0]);
    CustomResourceDefinition crd;
    try (var in = Files.newInputStream(generated)) {
      crd = Serialization.unmarshal(in, CustomResourceDefinition.class);
    }
    for (var v : crd.getSpec().getVersions()) {
      List<CustomResourceColumnDefinition> cols = v.getAdditionalPrinterColumns();
      cols.sort(Comparator.comparingInt(c -> COLUMN_ORDER.indexOf(c.getName())));
    }
    String yaml =
        "# Generated from operator/src/main/java/io/sipha/api by the build (make crds). Do not edit.\n"
            + Serialization.asYaml(crd);
    for (int i = 1; i < args.length; i++) {
      Path out = Path.of(args[i]).normalize();
      Files.createDirectories(out.getParent());
      if (!Files.exists(out) || !Files.readString(out, StandardCharsets.UTF_8).equals(yaml)) {
        Files.writeString(out, yaml, StandardCharsets.UTF_8);
        System.out.println("wrote " + out);
      }
    }
  }
}
