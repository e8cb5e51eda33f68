package io.sipha.decision;

import java.time.Duration;
import java.time.Instant;

/**
 * A node agent as the operator sees it through its Lease.
 *
 * @param node the node
 * @param renewedAt the Lease's last renewTime, null when there is no Lease
 * @param report its report for the pair being decided, or null
 */
public record AgentFact(String node, Instant renewedAt, VipReport report) {

  /** The agent renewed its Lease less than {@code nodeLoss} ago. */
  public boolean alive(Instant now, Duration nodeLoss) {
    return renewedAt != null && now.isBefore(renewedAt.plus(nodeLoss));
  }

  /** When the node is declared lost if the Lease is not renewed again. */
  public Instant lostAt(Duration nodeLoss) {
    return renewedAt == null ? Instant.EPOCH : renewedAt.plus(nodeLoss);
  }
}
