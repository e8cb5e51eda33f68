package io.sipha.demo;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** `make demo` as a user runs it: every workflow succeeds and the timeline says what happened. */
class DemoTest {
  @Test
  void theFourWorkflowsSucceedAndThePrintoutShowsEachStep() {
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    Demo demo = new Demo(new PrintStream(buf, true, StandardCharsets.UTF_8));
    int code = demo.run();
    String out = buf.toString(StandardCharsets.UTF_8);

    assertThat(code).as(out).isZero();
    assertThat(demo.rows())
        .extracting(Demo.Row::workflow)
        .containsExactly(
            "Election (setup)",
            "1. Manual switchover",
            "2. Primary server failure",
            "3. Primary host disconnected",
            "4. Reconnection (stale primary)");
    assertThat(demo.rows()).allMatch(Demo.Row::ok);
    // a lost host's VIP is up on the other host within nodeLossSeconds (3 s) and a little
    assertThat(demo.rows().get(3).vipBoundMillis()).isBetween(1_900L, 4_500L);
    assertThat(out)
        .contains("node-a ran vip-disable 192.0.2.10/24 eth0")
        .contains("node-b ran vip-enable 192.0.2.10/24 eth0")
        .contains("SplitBrainDetected")
        .contains("SplitBrainResolved")
        .contains("All workflows succeeded.");
  }
}
