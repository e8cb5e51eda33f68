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

  public static final AgentProbe UNKNOWN = new AgentProbe(State.UNKNOWN, 0);
  public static final AgentProbe ANSWERS = new AgentProbe(State.ANSWERS, 0);

  public static AgentProbe gone(long silentMillis) {
    return new AgentProbe(State.GONE, silentMillis);
  }

  public boolean gone() {
    return state == State.GONE;
  }
}
