package io.sipha.demo;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMixedDispatcher;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.fabric8.mockwebserver.ServerRequest;
import io.fabric8.mockwebserver.ServerResponse;
import io.fabric8.mockwebserver.dsl.HttpMethod;
import io.fabric8.mockwebserver.http.MockResponse;
import io.fabric8.mockwebserver.http.RecordedRequest;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Queue;

/**
 * The mock's dispatcher (canned answers first, then the stored objects), which also refuses a
 * status replace ({@code PUT .../status}) carrying a resourceVersion other than the stored one with
 * 409 Conflict, as kube-apiserver does. The mock enforces 409 on the main resource only: without
 * this, a status written from a stale read landed on the embedded API where the real server refuses
 * it (the operator's status writes are resourceVersion-locked and rely on that).
 *
 * <p>The stored object is read from the mock's own store, never through its canned answers, so a
 * test's injected fault is not used up by this check. The check and the write are two steps: a
 * write that lands between them is not seen (the real server does both at once).
 */
final class StatusConflicts extends KubernetesMixedDispatcher {
  private final KubernetesCrudDispatcher store;

  StatusConflicts(Map<ServerRequest, Queue<ServerResponse>> responses) {
    super(responses);
    try {
      var f = KubernetesMixedDispatcher.class.getDeclaredField("kubernetesCrudDispatcher");
      f.setAccessible(true);
      store = (KubernetesCrudDispatcher) f.get(this);
    } catch (ReflectiveOperationException | RuntimeException e) {
      throw new IllegalStateException(
          "the Fabric8 mock's dispatcher has no field kubernetesCrudDispatcher any more (its"
              + " version changed?): the embedded API cannot check status resourceVersions",
          e);
    }
  }

  @Override
  public MockResponse dispatch(RecordedRequest request) {
    String path = request.getPath();
    int q = path.indexOf('?');
    String bare = q < 0 ? path : path.substring(0, q);
    if (request.method() == HttpMethod.PUT && bare.endsWith("/status")) {
      // the body read without using it up (the store reads it after)
      String sent =
          resourceVersion(new String(request.getBody().getBytes(), StandardCharsets.UTF_8));
      if (sent != null && !sent.isEmpty()) {
        MockResponse current =
            store.handleGet(bare.substring(0, bare.length() - "/status".length()));
        String stored =
            current.getStatus().contains(" 200")
                ? resourceVersion(new String(current.getBody().getBytes(), StandardCharsets.UTF_8))
                : null;
        if (stored != null && !stored.equals(sent)) {
          return conflict(bare);
        }
      }
    }
    return super.dispatch(request);
  }

  private static String resourceVersion(String json) {
    try {
      GenericKubernetesResource r = Serialization.unmarshal(json, GenericKubernetesResource.class);
      return r == null || r.getMetadata() == null ? null : r.getMetadata().getResourceVersion();
    } catch (RuntimeException e) {
      return null;
    }
  }

  private static MockResponse conflict(String path) {
    String name = path.replaceAll("/status$", "").replaceAll(".*/", "");
    return new MockResponse()
        .setResponseCode(409)
        .addHeader("Content-Type", "application/json")
        .setBody(
            "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\",\"reason\":\"Conflict\","
                + "\"code\":409,\"message\":\"Operation cannot be fulfilled on "
                + name
                + ": the object has been modified; please apply your changes to the latest version"
                + " and try again\"}");
  }
}
