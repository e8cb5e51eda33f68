package io.sipha.kube;

import static org.assertj.core.api.Assertions.assertThat;

import io.sipha.decision.VipReport;
import io.sipha.vip.VipAddress;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The JSON of the reports in an agent's Lease: the form agents of every version read and write. */
class AgentReportsTest {

  @Test
  void aReportIsWrittenWithItsInterfaceUnderInterfaceAndWithoutAbsentFields() {
    VipReport r =
        new VipReport(
                VipReport.State.Bound,
                3,
                "192.0.2.10/24",
                "vip-enable",
                0,
                "ok",
                "2026-12-02T10:00:00Z",
                null,
                "eth0")
            .withAlsoOnHost(
                List.of(VipAddress.parseCidr("192.0.2.11/24", "eth1").value().orElseThrow()));
    String json = AgentReports.render(Map.of("voice/pair-1", r));
    assertThat(json)
        .isEqualTo(
            "{\"voice/pair-1\":{\"state\":\"Bound\",\"epoch\":3,\"address\":\"192.0.2.10/24\","
                + "\"script\":\"vip-enable\",\"exitCode\":0,\"message\":\"ok\",\"at\":\"2026-12-02T10:00:00Z\","
                + "\"interface\":\"eth0\",\"alsoOnHost\":[{\"address\":\"192.0.2.11/24\",\"interface\":\"eth1\"}]}}");
    assertThat(AgentReports.parse(json)).isEqualTo(Map.of("voice/pair-1", r));
  }

  @Test
  void aReportFromAnotherVersionIsReadWithoutTheFieldsItDoesNotKnow() {
    Map<String, VipReport> read =
        AgentReports.parse(
            "{\"voice/pair-1\":{\"state\":\"Unbound\",\"epoch\":4,"
                + "\"address\":\"192.0.2.10/24\",\"interface\":\"eth0\",\"addedLater\":true}}");
    assertThat(read.get("voice/pair-1"))
        .isEqualTo(
            new VipReport(
                VipReport.State.Unbound, 4, "192.0.2.10/24", null, null, null, null, null, "eth0"));
  }

  @Test
  void anUnreadableAnnotationIsNoReportAtAll() {
    assertThat(AgentReports.parse("{not json")).isEmpty();
    assertThat(AgentReports.parse("")).isEmpty();
  }
}
