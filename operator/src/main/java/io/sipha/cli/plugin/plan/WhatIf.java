package io.sipha.cli.plugin.plan;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sipha.api.SipServerPairSpec;
import io.sipha.cli.plugin.Formats;
import io.sipha.decision.AgentFact;
import io.sipha.decision.PairFacts;
import io.sipha.decision.PodFact;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The "what if" of {@code kubectl sipha plan --if ...}: a change made to the facts before the
 * decider sees them. Nothing is changed in the cluster.
 */
final class WhatIf {
  static final String HELP =
      "  primary-not-ready     the primary has been NotReady past the grace period%n"
          + "  not-ready=POD         that pod has been NotReady past unreadyGraceSeconds%n"
          + "  ready=POD             that pod is Ready (since now), scheduled, not failing%n"
          + "  primary-deleted       the primary pod is deleted%n"
          + "  pod-deleted=POD       that pod is deleted%n"
          + "  primary-failed        the primary's SIP Server container has terminated%n"
          + "  container-failed=POD  that pod's SIP Server container has terminated%n"
          + "  node-lost=NODE        its agent has not renewed its Lease for nodeLossSeconds%n"
          + "  node-back=NODE        its agent has just renewed its Lease%n"
          + "  switchover=POD        spec.primary is POD%n"
          + "  paused, unpaused      spec.paused is true, false%n"
          + "  failover-disabled     spec.failover.enabled: false (failover-enabled: true)%n"
          + "  after=DURATION        DURATION later (500ms, 5s, 2m): deadlines run out";

  private static final ObjectMapper JSON =
      new ObjectMapper().configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

  private final String text;
  private final String what;
  private final String arg;

  private WhatIf(String text, String what, String arg) {
    this.text = text;
    this.what = what;
    this.arg = arg;
  }

  /** Parses one --if value; throws IllegalArgumentException naming the supported ones. */
  static WhatIf parse(String text) {
    String t = text.strip();
    int eq = t.indexOf('=');
    String what = (eq < 0 ? t : t.substring(0, eq)).toLowerCase();
    String arg = eq < 0 ? null : t.substring(eq + 1).strip();
    boolean needsArg =
        switch (what) {
          case "not-ready",
              "ready",
              "pod-deleted",
              "container-failed",
              "node-lost",
              "node-back",
              "switchover",
              "after" ->
              true;
          case "primary-not-ready",
              "primary-deleted",
              "primary-failed",
              "paused",
              "unpaused",
              "failover-disabled",
              "failover-enabled" ->
              false;
          default ->
              throw new IllegalArgumentException(
                  "unknown --if '" + text + "'; one of:%n".formatted() + HELP.formatted());
        };
    if (needsArg && (arg == null || arg.isEmpty())) {
      throw new IllegalArgumentException("--if " + what + " needs a value: " + what + "=...");
    }
    if ("after".equals(what)) {
      Formats.duration(arg, "--if after=" + arg);
    }
    return new WhatIf(t, what, arg);
  }

  String text() {
    return text;
  }

  /**
   * Applies the changes, "after" first so that the others are relative to the new now; returns the
   * changed facts and, in {@code said}, each change in words.
   */
  static PairFacts apply(PairFacts f, List<WhatIf> changes, List<String> said) {
    Instant now = f.now();
    for (WhatIf w : changes) {
      if ("after".equals(w.what)) {
        Duration d = Formats.duration(w.arg, "--if after=" + w.arg);
        now = now.plus(d);
        said.add("the same facts " + Formats.millis(d.toMillis()) + " later");
      }
    }
    SipServerPairSpec spec =
        f.spec() == null ? null : JSON.convertValue(f.spec(), SipServerPairSpec.class);
    long generation = f.generation();
    Map<String, PodFact> pods = new LinkedHashMap<>(f.pods());
    Map<String, AgentFact> agents = new LinkedHashMap<>(f.agents());
    int grace =
        spec == null || spec.getFailover() == null
            ? 2
            : spec.getFailover().getUnreadyGraceSeconds();
    int nodeLoss =
        spec == null || spec.getFailover() == null ? 3 : spec.getFailover().getNodeLossSeconds();
    for (WhatIf w : changes) {
      String pod = w.arg;
      switch (w.what) {
        case "primary-not-ready", "primary-deleted", "primary-failed" -> pod = primary(f);
        default -> {}
      }
      switch (w.what) {
        case "primary-not-ready", "not-ready" -> {
          PodFact p = existing(pods, pod);
          pods.put(
              pod,
              new PodFact(
                  pod,
                  true,
                  p.node(),
                  false,
                  now.minusSeconds(grace + 1L),
                  p.failure(),
                  p.role(),
                  p.epoch(),
                  p.labelled()));
          said.add(
              pod
                  + " has been NotReady for more than "
                  + grace
                  + " s (failover.unreadyGraceSeconds)");
        }
        case "ready" -> {
          PodFact p = existing(pods, pod);
          if (p.node() == null) {
            throw new IllegalArgumentException(
                "--if ready=" + pod + ": the pod is not scheduled to a node");
          }
          pods.put(
              pod,
              new PodFact(
                  pod,
                  true,
                  p.node(),
                  true,
                  p.ready() ? p.readySince() : now,
                  null,
                  p.role(),
                  p.epoch(),
                  p.labelled()));
          said.add(pod + " is Ready on " + p.node());
        }
        case "primary-deleted", "pod-deleted" -> {
          existing(pods, pod);
          pods.put(pod, PodFact.missing(pod));
          said.add("pod " + pod + " is deleted");
        }
        case "primary-failed", "container-failed" -> {
          PodFact p = existing(pods, pod);
          pods.put(
              pod,
              new PodFact(
                  pod,
                  true,
                  p.node(),
                  false,
                  now,
                  "container sip-server terminated (Error, exit code 1)",
                  p.role(),
                  p.epoch(),
                  p.labelled()));
          said.add("the SIP Server container of " + pod + " has terminated");
        }
        case "node-lost" -> {
          AgentFact a = agents.getOrDefault(pod, new AgentFact(pod, null, null));
          agents.put(pod, new AgentFact(pod, now.minusSeconds(nodeLoss + 1L), a.report(), null));
          said.add(
              "node "
                  + pod
                  + " is lost: its agent has not renewed its Lease for more than "
                  + nodeLoss
                  + " s (failover.nodeLossSeconds)");
        }
        case "node-back" -> {
          AgentFact a = agents.getOrDefault(pod, new AgentFact(pod, null, null));
          agents.put(pod, new AgentFact(pod, now, a.report(), null));
          said.add("node " + pod + "'s agent has just renewed its Lease");
        }
        case "switchover" -> {
          requireSpec(spec, w);
          spec.setPrimary(pod);
          generation++;
          said.add("spec.primary is " + pod);
        }
        case "paused", "unpaused" -> {
          requireSpec(spec, w);
          spec.setPaused("paused".equals(w.what));
          generation++;
          said.add("spec.paused is " + spec.isPaused());
        }
        case "failover-disabled", "failover-enabled" -> {
          requireSpec(spec, w);
          spec.getFailover().setEnabled("failover-enabled".equals(w.what));
          generation++;
          said.add("spec.failover.enabled is " + spec.getFailover().isEnabled());
        }
        default -> {}
      }
    }
    return new PairFacts(
        f.namespace(),
        f.name(),
        generation,
        spec,
        f.status(),
        pods,
        agents,
        f.allowed(),
        f.vipClaimedBy(),
        now,
        f.nodeAddresses(),
        null);
  }

  private static void requireSpec(SipServerPairSpec spec, WhatIf w) {
    if (spec == null || spec.getFailover() == null) {
      throw new IllegalArgumentException("--if " + w.text + ": the pair has no spec");
    }
  }

  private static String primary(PairFacts f) {
    String p =
        f.status() != null && f.status().primary != null
            ? f.status().primary
            : f.spec() == null ? null : f.spec().getPrimary();
    if (p == null) {
      throw new IllegalArgumentException(
          "the pair has no primary yet: name the pod instead (not-ready=POD, ...)");
    }
    return p;
  }

  private static PodFact existing(Map<String, PodFact> pods, String name) {
    PodFact p = pods.get(name);
    if (p == null) {
      throw new IllegalArgumentException(
          name + " is not one of the pair's servers " + new ArrayList<>(pods.keySet()));
    }
    if (!p.exists()) {
      throw new IllegalArgumentException("pod " + name + " does not exist");
    }
    return p;
  }
}
