package io.sipha.operator;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Set;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

@DisplayName("VipClaims: which pair this operator lets hold each address")
class VipClaimsTest {
  static final String A = "voice/pair-1";
  static final String B = "voice/pair-2";

  @Test
  void aSecondPairCannotClaimAnAddressTheFirstHoldsUntilTheFirstLetsItGo() {
    VipClaims c = new VipClaims();
    assertThat(c.claim(A, "192.0.2.40", k -> true)).isNull();
    assertThat(c.claim(B, "192.0.2.40", k -> true)).isEqualTo(A);
    assertThat(c.heldByOther(B, "192.0.2.40", k -> true)).isEqualTo(A);
    c.settle(A, "192.0.2.10"); // A's status holds another address now
    assertThat(c.claim(B, "192.0.2.40", k -> true)).isNull();
  }

  @Test
  void theClaimOfAPairThatIsGoneWithoutItsCleanupBlocksNobody() {
    VipClaims c = new VipClaims();
    c.claim(A, "192.0.2.40", k -> true);
    c.settle(A, "192.0.2.40");
    Set<String> existing = Set.of(B); // A was deleted, its finalizer stripped: no cleanup ran
    assertThat(c.heldByOther(B, "192.0.2.40", existing::contains)).isNull();
    assertThat(c.claim(B, "192.0.2.40", existing::contains)).isNull();
    assertThat(c.heldByOther(A, "192.0.2.40", k -> true)).isEqualTo(B);
  }
}
