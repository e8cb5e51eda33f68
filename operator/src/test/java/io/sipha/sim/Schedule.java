package io.sipha.sim;

import java.util.List;

/**
 * A generated schedule: printed one numbered step per line (so a shrunk failure reads as a story).
 */
record Schedule(List<Step> steps) {
  @Override
  public String toString() {
    StringBuilder b = new StringBuilder("Schedule of ").append(steps.size()).append(" steps:");
    for (int i = 0; i < steps.size(); i++) {
      b.append(String.format("%n  %3d. %s", i + 1, steps.get(i)));
    }
    return b.toString();
  }
}
