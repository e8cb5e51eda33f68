package io.sipha.decision;

/**
 * What the operator's own probe of a node's agent (over the network, never through the API) says:
 * the second observer of a node, beside its peer agent.
 *
 * @param state what the probe says
 * @param silentMillis for {@link State#GONE}: how long the agent has not answered
 */
public record AgentProbe(State state, long silentMillis) {
  public enum State {
    /** No probe of this agent: it publishes no endpoint, or the operator hears no agent at all. */
    UNKNOWN,
    /** The agent answered within the probe's budget. */
    ANSWERS,
    /** The agent has not answered for the probe's budget, while other agents do. */
    GONE
  }

  /** No answer for this long (while other agents answer): gone. */
  public static final java.time.Duration GONE_AFTER = java.time.Duration.ofMillis(300);

  public static final AgentProbe UNKNOWN = new AgentProbe(State.UNKNOWN, 0);
  public static final AgentProbe ANSWERS = new AgentProbe(State.ANSWERS, 0);

  public static AgentProbe gone(long silentMillis) {
    return new AgentProbe(State.GONE, silentMillis);
  }

  public boolean gone() {
    return state == State.GONE;
  }

  /**
   * What the probe says of {@code node} at {@code now}: it answers if its last answer is younger
   * than {@code goneAfter}; it is gone if it has not answered for that long (counted from its last
   * answer or, never answered, from when it was first asked) while another agent answers; anything
   * else is unknown (not asked long enough yet, or no agent answers at all: then the one asking is
   * the one cut off, and it says nothing of any node).
   *
   * @param answered when each agent probed last answered (absent: never)
   * @param since when the node's agent was first asked
   */
  public static AgentProbe view(
      String node,
      java.util.Map<String, java.time.Instant> answered,
      java.time.Instant since,
      java.time.Instant now,
      java.time.Duration goneAfter) {
    java.time.Instant last = answered.get(node);
    java.time.Instant from = last != null ? last : since;
    long silent = java.time.Duration.between(from, now).toMillis();
    if (silent < goneAfter.toMillis()) {
      return last != null ? ANSWERS : UNKNOWN;
    }
    boolean othersAnswer =
        answered.entrySet().stream()
            .anyMatch(
                e ->
                    !e.getKey().equals(node)
                        && java.time.Duration.between(e.getValue(), now).compareTo(goneAfter) < 0);
    return othersAnswer ? gone(silent) : UNKNOWN;
  }
}
