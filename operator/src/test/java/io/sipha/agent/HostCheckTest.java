package io.sipha.agent;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.sipha.api.SipServerPair;
import io.sipha.api.SipServerPairStatus;
import io.sipha.api.VipStatus;
import io.sipha.decision.VipReport;
import io.sipha.vip.ScriptResult;
import io.sipha.vip.VipAddress;
import io.sipha.vip.VipScript;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * The start-up check against a host whose addresses are a set and whose scripts answer as the
 * default ones do (vip-status: 0 present, 1 absent; vip-disable: removes it), or fail.
 */
@DisplayName("HostCheck: what is really on the host at start")
class HostCheckTest {
  static final VipAddress V10 = VipAddress.parseCidr("192.0.2.10/24", "eth0").value().orElseThrow();
  static final VipAddress V40 = VipAddress.parseCidr("192.0.2.40/24", "eth0").value().orElseThrow();

  final Set<String> host = new HashSet<>();
  final List<String> ran = new ArrayList<>();
  boolean disableFails;

  HostCheck check() {
    return new HostCheck(
        "node-a",
        Clock.fixed(Instant.parse("2030-01-01T00:00:00Z"), ZoneOffset.UTC),
        (script, vip) -> {
          ran.add(script.fileName() + " " + vip.cidr());
          if (script == VipScript.STATUS) {
            return new ScriptResult(script, host.contains(vip.host()) ? 0 : 1, false, "", 1);
          }
          if (script == VipScript.DISABLE && !disableFails) {
            host.remove(vip.host());
            return new ScriptResult(script, 0, false, "", 1);
          }
          return new ScriptResult(
              script, 2, false, "RTNETLINK answers: Operation not permitted", 1);
        });
  }

  static SipServerPair pair(String address, String node, VipStatus.State state) {
    SipServerPair p = new SipServerPair();
    p.setMetadata(new ObjectMetaBuilder().withNamespace("voice").withName("pair-1").build());
    SipServerPairStatus st = new SipServerPairStatus();
    st.epoch = 2;
    st.vip = new VipStatus(address + "/24", "eth0", node, state, 0);
    p.setStatus(st);
    return p;
  }

  @Test
  void anAddressThePreviousRunReportedUnboundIsRemovedWhenTheStatusNamesAnotherOne() {
    host.add(V10.host()); // a vip-enable of it was in flight when the previous run ended
    VipReport previous =
        new VipReport(VipReport.State.Unbound, 1, V10.cidr(), null, null, null, "t", null, "eth0");
    HostCheck.Startup found =
        check()
            .startup(
                List.of(pair("192.0.2.40", "node-b", VipStatus.State.Bound)),
                p -> true,
                Map.of("voice/pair-1", previous));
    assertThat(host).isEmpty();
    assertThat(found.unsure()).isNull();
    assertThat(ran).contains("vip-status 192.0.2.10/24", "vip-disable 192.0.2.10/24");
  }

  @Test
  void anAddressAReportSaidMayAlsoBeOnTheHostIsRemovedAndTheStatusVipIsFound() {
    host.add(V10.host());
    host.add(V40.host());
    VipReport failedAdd =
        new VipReport(
                VipReport.State.Failed, 1, V40.cidr(), "vip-enable", 2, "failed", "t", null, "eth0")
            .withAlsoOnHost(List.of(V10));
    HostCheck.Startup found =
        check()
            .startup(
                List.of(pair("192.0.2.40", "node-a", VipStatus.State.Binding)),
                p -> true,
                Map.of("voice/pair-1", failedAdd));
    assertThat(host).containsExactly(V40.host());
    assertThat(found.held()).containsKey("voice/pair-1");
    assertThat(found.reports().get("voice/pair-1").state()).isEqualTo(VipReport.State.Bound);
  }

  @Test
  void aLeftoverThatCannotBeRemovedMakesTheStartUpCheckUnsure() {
    host.add(V10.host());
    disableFails = true;
    VipReport previous =
        new VipReport(VipReport.State.Bound, 1, V10.cidr(), null, null, null, "t", null, "eth0");
    HostCheck.Startup found =
        check()
            .startup(
                List.of(pair("192.0.2.40", "node-b", VipStatus.State.Bound)),
                p -> true,
                Map.of("voice/pair-1", previous));
    assertThat(found.unsure()).contains("192.0.2.10/24").contains("Operation not permitted");
    assertThat(host).containsExactly(V10.host());
  }

  @Test
  void anotherPairsAddressGrantedHereIsNeverRemoved() {
    host.add(V10.host());
    SipServerPair other = pair("192.0.2.10", "node-a", VipStatus.State.Bound);
    other.getMetadata().setName("pair-2");
    VipReport previous =
        new VipReport(VipReport.State.Unbound, 1, V10.cidr(), null, null, null, "t", null, "eth0");
    check()
        .startup(
            List.of(pair("192.0.2.40", "node-b", VipStatus.State.Bound), other),
            p -> false,
            Map.of("voice/pair-1", previous));
    assertThat(host).containsExactly(V10.host());
  }
}
