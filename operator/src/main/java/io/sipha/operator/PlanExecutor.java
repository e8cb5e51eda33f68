package io.sipha.operator;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.sipha.api.SipServerPair;
import io.sipha.decision.PairFacts;
import io.sipha.decision.Plan;
import java.util.Map;
import java.util.Objects;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Carries out a plan against the API: pod labels and role annotations with merge patches, the
 * status with a resourceVersion-checked update (a conflict fails the reconcile, which JOSDK retries
 * from fresh facts), then the Events. It never writes the spec.
 */
final class PlanExecutor {
  private static final Logger LOG = LoggerFactory.getLogger(PlanExecutor.class);
  private static final ObjectMapper JSON = new ObjectMapper();
  private final KubernetesClient client;
  private final EventRecorder events;
  private final OperatorMetrics metrics;

  PlanExecutor(KubernetesClient client, EventRecorder events, OperatorMetrics metrics) {
    this.client = client;
    this.events = events;
    this.metrics = metrics;
  }

  /**
   * Writes the plan: the pods, then the status (if it changed; {@code written} is told the pair as
   * the API stored it), then the Events.
   */
  void apply(SipServerPair pair, PairFacts facts, Plan plan, Consumer<SipServerPair> written) {
    writePods(pair, facts, plan);
    if (!sameJson(plan.status(), pair.getStatus())) {
      written.accept(writeStatus(pair, plan));
    }
    for (Plan.Note n : plan.events()) {
      LOG.info("step=event reason={} {}", n.reason(), n.message());
      events.record(pair, n.warning(), n.reason(), n.message());
      metrics.event(n);
    }
  }

  /**
   * One merge patch per pod: the pair label where it is missing, and the role annotations. A role
   * write carries the resourceVersion of the pod the plan was made from, so that the API refuses it
   * (409) when the pod changed since: a lagging cache or a deposed leader's late write can never
   * lower a pod's epoch. The reconcile then fails and is retried from fresh facts.
   */
  void writePods(SipServerPair pair, PairFacts facts, Plan plan) {
    String ns = pair.getMetadata().getNamespace();
    for (Plan.PodWrite w : plan.podWrites()) {
      Plan.RoleAssignment r = w.role();
      if (r != null && r.role() == null) {
        clearRole(ns, r.pod(), facts.pod(r.pod()));
        r = null;
        if (!w.label()) {
          continue;
        }
      }
      Map<String, Object> m = new java.util.LinkedHashMap<>();
      if (w.label()) {
        m.put("labels", Map.of(SipServerPair.PAIR_LABEL, pair.getMetadata().getName()));
      }
      if (r != null) {
        LOG.info("step=role pod={} role={} epoch={}", r.pod(), r.role(), r.epoch());
        m.put(
            "annotations",
            Map.of(
                SipServerPair.ROLE_ANNOTATION, r.role(),
                SipServerPair.EPOCH_ANNOTATION, String.valueOf(r.epoch())));
        String version = facts.pod(r.pod()).resourceVersion();
        if (version != null) {
          m.put("resourceVersion", version);
        }
      }
      patchPod(ns, w.pod(), Map.of("metadata", m));
    }
  }

  /**
   * Removes the role annotations a pod carries (a JSON patch: a merge patch cannot remove here).
   */
  private void clearRole(String ns, String pod, io.sipha.decision.PodFact fact) {
    java.util.List<Map<String, Object>> ops = new java.util.ArrayList<>();
    if (fact.role() != null) {
      ops.add(Map.of("op", "remove", "path", "/metadata/annotations/sipha.io~1role"));
    }
    if (fact.epoch() != null) {
      ops.add(Map.of("op", "remove", "path", "/metadata/annotations/sipha.io~1epoch"));
    }
    if (ops.isEmpty()) {
      return;
    }
    LOG.info("step=role pod={} role cleared", pod);
    try {
      client
          .pods()
          .inNamespace(ns)
          .withName(pod)
          .patch(PatchContext.of(PatchType.JSON), JSON.writeValueAsString(ops));
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * Replaces the status, locked on the resourceVersion the plan was made from: if the pair changed
   * meanwhile the write fails with 409 and the reconcile is retried from fresh facts (a plan is
   * never written over a status it did not see). Returns the pair as stored.
   */
  SipServerPair writeStatus(SipServerPair pair, Plan plan) {
    SipServerPair desired = new SipServerPair();
    desired.setMetadata(
        new io.fabric8.kubernetes.api.model.ObjectMetaBuilder(pair.getMetadata()).build());
    desired.setSpec(pair.getSpec());
    desired.setStatus(plan.status());
    return client.resource(desired).updateStatus();
  }

  private void patchPod(String ns, String name, Map<String, Object> patch) {
    try {
      client
          .pods()
          .inNamespace(ns)
          .withName(name)
          .patch(PatchContext.of(PatchType.JSON_MERGE), JSON.writeValueAsString(patch));
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  private static boolean sameJson(Object a, Object b) {
    return Objects.equals(JSON.valueToTree(a), JSON.valueToTree(b));
  }
}
