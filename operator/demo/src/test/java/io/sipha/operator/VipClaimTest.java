package io.sipha.operator;

import static org.assertj.core.api.Assertions.assertThat;

import io.sipha.api.SipServerPair;
import io.sipha.api.SipServerPairStatus;
import io.sipha.api.VipStatus;
import io.sipha.demo.SimulatedSite;
import io.sipha.kube.Facts;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** Who a contested VIP belongs to: the pair that holds it, whatever the ages. */
class VipClaimTest {
  static SipServerPair pair(String name, String created, String address, VipStatus.State held) {
    SipServerPair p = SimulatedSite.pair("voice", name, "a", "a", "b");
    p.getMetadata().setCreationTimestamp(created);
    p.getSpec().getVirtualIP().setAddress(address);
    if (held != null) {
      SipServerPairStatus st = new SipServerPairStatus();
      st.vip = new VipStatus(address + "/24", "eth0", "node-b", held, 0);
      p.setStatus(st);
    }
    return p;
  }

  static String owner(
      SipServerPair claimant, Map<String, Set<String>> reported, SipServerPair... all) {
    return Facts.vipClaimedBy(
        claimant, Stream.of(all), Facts::vipHost, h -> reported.getOrDefault(h, Set.of()));
  }

  @Test
  void aYoungerPairThatHoldsTheVipKeepsItAgainstAnOlderClaimant() {
    SipServerPair older = pair("pair-1", "2030-01-01T00:00:00Z", "192.0.2.20", null);
    SipServerPair younger =
        pair("pair-2", "2030-01-02T00:00:00Z", "192.0.2.20", VipStatus.State.Bound);
    assertThat(owner(older, Map.of(), older, younger)).isEqualTo("voice/pair-2");
    assertThat(owner(younger, Map.of(), older, younger)).isNull();
  }

  @Test
  void aPairReleasingTheVipStillHoldsIt() {
    SipServerPair older = pair("pair-1", "2030-01-01T00:00:00Z", "192.0.2.20", null);
    SipServerPair releasing =
        pair("pair-2", "2030-01-02T00:00:00Z", "192.0.2.30", VipStatus.State.Releasing);
    releasing.getStatus().vip.address = "192.0.2.20/24";
    assertThat(owner(older, Map.of(), older, releasing)).isEqualTo("voice/pair-2");
  }

  @Test
  void aNodeThatStillReportsTheAddressForAPairHoldsItForThatPair() {
    SipServerPair older = pair("pair-1", "2030-01-01T00:00:00Z", "192.0.2.20", null);
    SipServerPair moved =
        pair("pair-2", "2030-01-02T00:00:00Z", "192.0.2.30", VipStatus.State.Binding);
    Map<String, Set<String>> reported = Map.of("192.0.2.20", Set.of("voice/pair-2"));
    assertThat(owner(older, reported, older, moved)).isEqualTo("voice/pair-2");
    assertThat(owner(older, Map.of("192.0.2.20", Set.of("voice/gone")), older))
        .isEqualTo("voice/gone");
  }

  @Test
  void whenNobodyHoldsItTheFirstClaimantGetsIt() {
    SipServerPair older = pair("pair-1", "2030-01-01T00:00:00Z", "192.0.2.20", null);
    SipServerPair younger = pair("pair-2", "2030-01-02T00:00:00Z", "192.0.2.20", null);
    assertThat(owner(older, Map.of(), older, younger)).isNull();
    assertThat(owner(younger, Map.of(), older, younger)).isEqualTo("voice/pair-1");
  }

  @Test
  void anOlderPairBeingDeletedThatHoldsNothingClaimsNothingButOneThatHoldsItKeepsIt() {
    SipServerPair deleted =
        pair("pair-1", "2030-01-01T00:00:00Z", "192.0.2.20", VipStatus.State.Unbound);
    deleted.getMetadata().setDeletionTimestamp("2030-01-03T00:00:00Z");
    SipServerPair waiting = pair("pair-2", "2030-01-02T00:00:00Z", "192.0.2.20", null);
    assertThat(owner(waiting, Map.of(), deleted, waiting)).isNull();
    deleted.getStatus().vip.state = VipStatus.State.Releasing;
    assertThat(owner(waiting, Map.of(), deleted, waiting)).isEqualTo("voice/pair-1");
  }
}
