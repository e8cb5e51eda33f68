package io.sipha.cli.plugin.switchover;

import static org.assertj.core.api.Assertions.assertThat;

import io.sipha.api.Phase;
import io.sipha.api.VipStatus;
import io.sipha.cli.plugin.PluginSite;
import io.sipha.decision.Conditions;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * kubectl sipha switchover: the patch, then the switchover followed live until Active, or the
 * refusal.
 */
class SwitchoverCommandTest extends PluginSite {

  @Test
  void followsTheSwitchoverStepByStepUntilTheNewPrimaryHoldsTheVip() {
    activePair();
    Run r = sipha("switchover", "pair-1", "--to", "sip-1");

    assertThat(r.code()).as(r.out() + r.err()).isZero();
    List<String> lines = r.out().lines().toList();
    assertThat(lines.get(0))
        .isEqualTo(
            "Switching voice/pair-1 over to sip-1 (spec.primary: sip-0 -> sip-1); following"
                + " it live. Ctrl-C stops following, not the switchover.");
    assertThat(lines)
        .allMatch(
            l ->
                l.equals(lines.get(0))
                    || l.startsWith("Done:")
                    || l.matches("  \\+\\s*\\d+ ms  \\w+\\s+.+"));
    int before = index(lines, "before  Active, epoch 1: sip-0 is primary on node-a");
    int patch = index(lines, "patch   spec.primary=sip-1 (generation 2)");
    int releasing =
        index(
            lines,
            "status  SwitchingOver, epoch 2: Switchover to sip-1 at epoch 2: waiting for node-a to release");
    int disabled = index(lines, "host    node-a ran vip-disable 192.0.2.10/24 eth0");
    int enabled =
        index(lines, "host    node-b ran vip-enable 192.0.2.10/24 eth0: bound at epoch 2");
    int active =
        index(
            lines,
            "status  Active, epoch 2: sip-1 is primary on node-b with 192.0.2.10/24 at epoch 2");
    // the old host may act on the pod's new role before the new status is seen: those two in any
    // order
    assertThat(
            List.of(
                before,
                patch,
                Math.min(releasing, disabled),
                Math.max(releasing, disabled),
                enabled,
                active))
        .isSorted();
    assertThat(r.out())
        .contains("event   SwitchoverStarted: spec.primary changed to sip-1")
        .contains("event   VipReleased: 192.0.2.10/24 released by node-a (confirmed by its agent)");
    assertThat(lines.get(lines.size() - 1))
        .matches(
            "Done: sip-1 is primary of voice/pair-1 on node-b with 192.0.2.10/24"
                + " at epoch 2 \\(Active\\); the operator measured \\d+ ms from its start to the VIP bound on the new node\\.");
    assertThat(status().primary).isEqualTo("sip-1");
    assertThat(site.host("node-b").vips()).containsExactly("192.0.2.10/24");
    assertThat(site.host("node-a").vips()).isEmpty();
  }

  @Test
  void noWaitSendsTheRequestAndReturnsAtOnce() {
    activePair();
    Run r = sipha("switchover", "pair-1", "--to", "sip-1", "--no-wait");

    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.out())
        .isEqualTo(
            "switchover of voice/pair-1 to sip-1 requested (spec.primary: sip-0 -> sip-1,"
                + " generation 2).\nFollow it with: kubectl sipha status pair-1 -n voice\n");
    awaitStatus(
        "the operator carries it out",
        s ->
            s.phase == Phase.Active
                && "sip-1".equals(s.primary)
                && s.vip.state == VipStatus.State.Bound);
  }

  @Test
  void aTargetThatIsNotReadyIsRefusedWithTheOperatorsReason() {
    activePair();
    site.cluster().setReady(NS, "sip-1", false);
    awaitStatus(
        "the operator saw sip-1 NotReady",
        s ->
            s.conditions.stream()
                .anyMatch(c -> c.type.equals(Conditions.BACKUP_READY) && c.status.equals("False")));

    Run r = sipha("switchover", "pair-1", "--to", "sip-1");

    assertThat(r.code()).as(r.out() + r.err()).isEqualTo(SwitchoverCommand.REFUSED);
    assertThat(r.out())
        .contains(
            "event   SwitchoverRefused: spec.primary asks for sip-1 but pod sip-1 is not Ready")
        .contains(
            "Refused: spec.primary asks for sip-1 but pod sip-1 is not Ready; nothing was changed, and the"
                + " switchover starts once it is healthy.")
        .contains("to withdraw it: kubectl sipha switchover pair-1 --to sip-0")
        .doesNotContain("host ");
    assertThat(status().primary).isEqualTo("sip-0");
    assertThat(site.host("node-a").vips()).containsExactly("192.0.2.10/24");
  }

  @Test
  void aPausedPairSaysSo() {
    activePair();
    patchSpec("{\"paused\":true}");
    awaitStatus("Paused", s -> s.phase == Phase.Paused);

    Run r = sipha("switchover", "pair-1", "--to", "sip-1");

    assertThat(r.code()).isEqualTo(SwitchoverCommand.REFUSED);
    assertThat(r.out()).contains("voice/pair-1 is paused (spec.paused: true)");
  }

  @Test
  void anUnknownServerOrTheCurrentPrimaryChangeNothing() {
    activePair();
    Run unknown = sipha("switchover", "pair-1", "--to", "sip-7");
    assertThat(unknown.code()).isEqualTo(2);
    assertThat(unknown.err())
        .contains("error: sip-7 is not a server of voice/pair-1 (spec.servers: sip-0, sip-1)");

    Run same = sipha("switchover", "pair-1", "--to", "sip-0");
    assertThat(same.code()).isZero();
    assertThat(same.out())
        .startsWith("sip-0 is already the primary of voice/pair-1")
        .contains("nothing to do");
    assertThat(status().epoch).isEqualTo(1);

    Run missing = sipha("switchover", "pair-1");
    assertThat(missing.code()).isEqualTo(2);
    assertThat(missing.err()).contains("Missing required option: '--to=SERVER'");
  }

  private static int index(List<String> lines, String part) {
    for (int i = 0; i < lines.size(); i++) {
      if (lines.get(i).contains(part)) {
        return i;
      }
    }
    throw new AssertionError("no line contains '" + part + "' in:\n" + String.join("\n", lines));
  }
}
