package io.sipha.agent;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class DriftCheckTest {
  @ParameterizedTest(name = "{0} pairs on a node are all drift-checked within three resync periods")
  @ValueSource(ints = {1, 64, 200, 300, 1000, 1801})
  void everyPairIsCheckedWithinThreeResyncPeriods(int pairs) {
    int batch = NodeAgent.driftBatch(pairs);
    assertThat(3L * batch).isGreaterThanOrEqualTo(pairs);
    assertThat(batch).isGreaterThanOrEqualTo(Math.min(pairs, NodeAgent.RESYNC_BATCH));
  }
}
