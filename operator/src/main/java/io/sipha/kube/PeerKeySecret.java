package io.sipha.kube;

import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.security.SecureRandom;
import java.util.Map;

/**
 * The agents' peer channel key: a Secret in the operator's namespace, made once by the operator
 * with random characters when it does not exist, never changed by it afterwards (an admin may
 * replace it; the agents read it when they start). The agents get it mounted from the Secret; no
 * key is ever rendered into a chart or a manifest, so that no two clusters share one.
 */
public final class PeerKeySecret {
  /** The Secret's key that holds the peer key. */
  public static final String KEY = "peer-key";

  private static final String ALPHABET =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  private static final SecureRandom RANDOM = new SecureRandom();

  private PeerKeySecret() {}

  /** What {@link #ensure} did. */
  public enum Outcome {
    EXISTS,
    CREATED
  }

  /**
   * Makes the Secret if it is not there (a racing replica's creation counts as there).
   *
   * @throws KubernetesClientException when the API refuses or cannot be reached
   */
  public static Outcome ensure(KubernetesClient client, String namespace, String name) {
    if (client.secrets().inNamespace(namespace).withName(name).get() != null) {
      return Outcome.EXISTS;
    }
    Secret s =
        new SecretBuilder()
            .withNewMetadata()
            .withName(name)
            .withNamespace(namespace)
            .withLabels(
                Map.of(
                    "app.kubernetes.io/name", "sipha",
                    "app.kubernetes.io/component", "agent",
                    "app.kubernetes.io/managed-by", "sipha-operator"))
            .endMetadata()
            .withType("Opaque")
            .withStringData(Map.of(KEY, randomKey(48)))
            .build();
    try {
      client.secrets().inNamespace(namespace).resource(s).create();
      return Outcome.CREATED;
    } catch (KubernetesClientException e) {
      if (e.getCode() == 409) {
        return Outcome.EXISTS;
      }
      throw e;
    }
  }

  static String randomKey(int length) {
    StringBuilder b = new StringBuilder(length);
    for (int i = 0; i < length; i++) {
      b.append(ALPHABET.charAt(RANDOM.nextInt(ALPHABET.length())));
    }
    return b.toString();
  }
}
