package io.sipha.cli;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.util.ContextInitializer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/** --log-format json: one JSON object per line, with the pair, the epoch and the step. */
class LogFormatTest {
  @Test
  void jsonLinesCarryThePairTheEpochAndTheStep() throws Exception {
    PrintStream out = System.out;
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    LoggerContext ctx = (LoggerContext) LoggerFactory.getILoggerFactory();
    try {
      System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
      LogFormat.json.apply();
      MDC.put("pair", "voice/pair-1");
      MDC.put("epoch", "7");
      MDC.put("step", "Switchover/Release");
      LoggerFactory.getLogger("io.sipha.operator.PlanExecutor")
          .info("step=role pod={} role={}", "sip-0", "backup");
    } finally {
      MDC.clear();
      System.setOut(out);
      ctx.reset();
      new ContextInitializer(ctx).autoConfig();
    }
    String line =
        buf.toString(StandardCharsets.UTF_8)
            .lines()
            .filter(l -> l.contains("step=role"))
            .findFirst()
            .orElseThrow();
    JsonNode json = new ObjectMapper().readTree(line);
    assertThat(json.path("level").asText()).isEqualTo("INFO");
    assertThat(json.path("formattedMessage").asText()).isEqualTo("step=role pod=sip-0 role=backup");
    assertThat(json.path("mdc").path("pair").asText()).isEqualTo("voice/pair-1");
    assertThat(json.path("mdc").path("epoch").asText()).isEqualTo("7");
    assertThat(json.path("mdc").path("step").asText()).isEqualTo("Switchover/Release");
  }
}
