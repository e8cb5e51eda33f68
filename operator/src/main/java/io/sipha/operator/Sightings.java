package io.sipha.operator;

import io.sipha.api.Transition;
import java.time.Instant;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;

/**
 * When this operator process saw a fact, on its own clock: a pod's readiness change, a step of a
 * transition. Grace periods, the failback delay and step deadlines count from these, never from a
 * time another machine wrote (the kubelet's lastTransitionTime, a previous leader's stepStartedAt).
 * A new process starts empty: nothing carries over a leader change, and a fact first seen now
 * counts from now. The simulation's operator uses it as it is.
 */
public final class Sightings {
  private record ReadySeen(String uid, boolean ready, Instant since) {}

  private record StepSeen(long epoch, Transition.Step step, Instant at) {}

  private final Map<String, ReadySeen> readiness = new ConcurrentHashMap<>();
  private final Map<String, StepSeen> steps = new ConcurrentHashMap<>();

  /** When the pod's readiness (a pod of that name and uid) was seen to become what it is now. */
  public Instant readySince(String podKey, String uid, boolean ready, Instant now) {
    ReadySeen seen = readiness.get(podKey);
    if (seen == null || seen.ready() != ready || !Objects.equals(seen.uid(), uid)) {
      seen = new ReadySeen(uid, ready, now);
      readiness.put(podKey, seen);
    }
    return seen.since();
  }

  /** When this process first saw the transition's current step (null: no transition). */
  public Instant stepSince(String pairKey, Transition t, Instant now) {
    if (t == null) {
      steps.remove(pairKey);
      return null;
    }
    StepSeen s = steps.get(pairKey);
    if (s == null || s.epoch() != t.epoch || s.step() != t.step) {
      s = new StepSeen(t.epoch, t.step, now);
      steps.put(pairKey, s);
    }
    return s.at();
  }

  /** A decision of this process started a step at {@code now}: its deadline counts from then. */
  public void stepDecided(String pairKey, Transition t, Instant now) {
    if (t == null) {
      steps.remove(pairKey);
    } else {
      StepSeen s = steps.get(pairKey);
      if (s == null || s.epoch() != t.epoch || s.step() != t.step) {
        steps.put(pairKey, new StepSeen(t.epoch, t.step, now));
      }
    }
  }
}
