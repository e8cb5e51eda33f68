package io.sipha.sim;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import net.jqwik.api.lifecycle.AroundPropertyHook;
import net.jqwik.api.lifecycle.PropertyExecutionResult;
import net.jqwik.api.lifecycle.PropertyExecutor;
import net.jqwik.api.lifecycle.PropertyLifecycleContext;

/**
 * On a failed property, writes at the top of the failure message: the seed and how to replay it,
 * jqwik's shrunk schedule (one step per line), and a minimal schedule found by removing steps one
 * at a time while the same invariant still breaks (jqwik cannot shrink below the 20-step minimum of
 * the generator, so its shrunk schedule may keep filler steps). Then the invariant's own message
 * for the minimal schedule: the invariant, the step, the state, and the run traced step by step.
 */
public final class ReplayHint implements AroundPropertyHook {
  @Override
  public PropertyExecutionResult aroundProperty(
      PropertyLifecycleContext context, PropertyExecutor property) {
    PropertyExecutionResult result = property.execute();
    if (result.status() != PropertyExecutionResult.Status.FAILED) {
      return result;
    }
    String seed = result.seed().orElse("unknown");
    Schedule shrunk =
        result
            .falsifiedParameters()
            .flatMap(
                ps ->
                    ps.stream()
                        .filter(Schedule.class::isInstance)
                        .map(Schedule.class::cast)
                        .findFirst())
            .orElse(null);
    StringBuilder msg =
        new StringBuilder(context.label())
            .append(" failed.\n")
            .append("seed = ")
            .append(seed)
            .append("\n")
            .append("Replay it: @Property(seed = \"")
            .append(seed)
            .append("\", tries = 1000) on the property,")
            .append(
                " or PairSimulationScenarioTest.replay(...) with the minimal schedule below (see docs/reliability.md).\n");
    Throwable cause = result.throwable().orElse(null);
    if (shrunk != null && cause instanceof World.Violation v) {
      Schedule minimal = minimize(shrunk, v.invariant);
      World.Violation again = failure(minimal);
      msg.append("jqwik's shrunk ")
          .append(shrunk)
          .append("\n\n")
          .append("Minimal (steps removed while \"")
          .append(v.invariant)
          .append("\" still breaks) ")
          .append(minimal)
          .append("\n\n")
          .append(again == null ? v.getMessage() : again.getMessage());
    } else {
      msg.append("Shrunk sample: ")
          .append(
              result
                  .falsifiedParameters()
                  .map(ps -> ps.stream().map(String::valueOf).collect(Collectors.joining("\n")))
                  .orElse("(none)"))
          .append("\n\n")
          .append(cause == null ? "" : cause.toString());
    }
    return result.mapToFailed(new AssertionError(msg.toString(), cause));
  }

  /** Runs a schedule as the property does; returns the broken invariant, or null. */
  static World.Violation failure(Schedule s) {
    try {
      World w = World.active();
      w.run(s.steps());
      w.healAndConverge();
      return null;
    } catch (World.Violation v) {
      return v;
    }
  }

  /** Removes steps one at a time, as long as the same invariant still breaks. */
  static Schedule minimize(Schedule s, String invariant) {
    List<Step> steps = new ArrayList<>(s.steps());
    boolean removed = true;
    while (removed) {
      removed = false;
      for (int i = steps.size() - 1; i >= 0; i--) {
        List<Step> fewer = new ArrayList<>(steps);
        fewer.remove(i);
        World.Violation v = failure(new Schedule(fewer));
        if (v != null && v.invariant.equals(invariant)) {
          steps = fewer;
          removed = true;
        }
      }
    }
    return new Schedule(steps);
  }
}
