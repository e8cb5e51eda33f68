package io.sipha.decision;

import io.sipha.api.SipServerPair;
import io.sipha.api.SipServerPairStatus;
import io.sipha.api.VipStatus;
import io.sipha.vip.VipAddress;
import java.util.Map;
import java.util.Optional;

/**
 * The one rule that says when a host may hold a pair's VIP. The agent applies it on its node; the
 * decider relies on it. A node holds the VIP only when all of these hold:
 *
 * <ul>
 *   <li>the pair's status grants the VIP to this node (vip.node) in state Binding or Bound;
 *   <li>the status names a primary, and that pod runs on this node;
 *   <li>that pod carries role primary at the status's current epoch;
 *   <li>the status's VIP address and interface are valid.
 * </ul>
 *
 * Pod annotations alone never bind an address: the grant comes from the status, which only the
 * operator writes.
 */
public final class VipBindingRule {
  private VipBindingRule() {}

  /**
   * The status names this node for the VIP: granted (or being released) there, or fenced there.
   * Such a node must report on the pair: the operator waits for its confirmations.
   */
  public static boolean statusNames(SipServerPairStatus status, String node) {
    return status != null
        && ((status.vip != null && node.equals(status.vip.node))
            || status.fenced.stream().anyMatch(e -> node.equals(e.node)));
  }

  /** The binding a node must hold for a pair. */
  public record Binding(VipAddress vip, long epoch) {}

  /**
   * @param status the pair's status
   * @param node this node
   * @param primaryPodNode the node of the pod named status.primary (null if it does not exist)
   * @param primaryPodAnnotations that pod's annotations
   */
  public static Optional<Binding> binding(
      SipServerPairStatus status,
      String node,
      String primaryPodNode,
      Map<String, String> primaryPodAnnotations) {
    if (status == null || status.vip == null || status.primary == null || node == null) {
      return Optional.empty();
    }
    VipStatus vip = status.vip;
    if (!node.equals(vip.node)
        || !(vip.state == VipStatus.State.Binding || vip.state == VipStatus.State.Bound)) {
      return Optional.empty();
    }
    if (!node.equals(primaryPodNode) || primaryPodAnnotations == null) {
      return Optional.empty();
    }
    if (!SipServerPair.ROLE_PRIMARY.equals(primaryPodAnnotations.get(SipServerPair.ROLE_ANNOTATION))
        || !String.valueOf(status.epoch)
            .equals(primaryPodAnnotations.get(SipServerPair.EPOCH_ANNOTATION))) {
      return Optional.empty();
    }
    return VipAddress.parseCidr(vip.address, vip.interfaceName)
        .value()
        .map(v -> new Binding(v, status.epoch));
  }
}
