package io.sipha.decision;

import io.sipha.api.TransitionKind;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;

/** Who is to be primary when nobody is, or when the primary leaves the pair. */
final class Election {
  private final Decision d;
  private final TransitionSteps steps;

  Election(Decision d, TransitionSteps steps) {
    this.d = d;
    this.steps = steps;
  }

  /** No primary yet: the desired primary if healthy, else the first healthy server. */
  void elect() {
    String c = preferredCandidate();
    if (c == null) {
      d.degradedWhy = "waiting for a healthy server: " + whyNoCandidate();
      return;
    }
    boolean asked = c.equals(d.spec.getPrimary());
    // spec.primary counts as done only if it is the one elected; otherwise it stays a request
    d.st.acceptedPrimary = asked ? c : null;
    steps.start(
        TransitionKind.Election,
        null,
        c,
        "Elected",
        c + " is elected primary" + (asked ? " as spec.primary asks" : ""));
  }

  /**
   * The primary was taken out of spec.servers: it is demoted first, and the VIP moves to a server
   * of the pair as in a switchover (its node confirms the release before the new node binds). Until
   * one of spec.servers can take over it stays primary, and the pair says so.
   */
  void leave(String primary) {
    String c = preferredCandidate();
    if (c == null) {
      d.degradedWhy =
          "primary pod "
              + primary
              + " is no longer in spec.servers but stays primary until a server of"
              + " the pair can take over: "
              + whyNoCandidate();
      return;
    }
    d.st.acceptedPrimary = c.equals(d.spec.getPrimary()) ? c : d.st.acceptedPrimary;
    steps.start(
        TransitionKind.Switchover,
        primary,
        c,
        "PrimaryLeftPair",
        "primary pod " + primary + " is no longer in spec.servers");
  }

  /**
   * spec.primary if it is a candidate, else the first server of spec.servers that is; null if none.
   */
  private String preferredCandidate() {
    List<String> order = new ArrayList<>();
    if (d.spec.getPrimary() != null) {
      order.add(d.spec.getPrimary());
    }
    order.addAll(d.spec.getServers());
    for (String c : new LinkedHashSet<>(order)) {
      if (d.candidate(c)) {
        return c;
      }
    }
    return null;
  }

  /** Why no server of spec.servers is a candidate, one reason each. */
  private String whyNoCandidate() {
    List<String> waits = new ArrayList<>();
    for (String s : d.spec.getServers()) {
      waits.add(d.whyNotCandidate(s));
    }
    return String.join("; ", waits);
  }
}
