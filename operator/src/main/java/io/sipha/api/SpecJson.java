package io.sipha.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;

/** The spec as JSON text, as the status keeps its last valid one ({@code status.lastValidSpec}). */
public final class SpecJson {
  private static final ObjectMapper JSON =
      new ObjectMapper().configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

  private SpecJson() {}

  public static String write(SipServerPairSpec spec) {
    try {
      return JSON.writeValueAsString(spec);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The spec this text holds, or null (none, or unreadable). */
  public static SipServerPairSpec read(String json) {
    try {
      return json == null ? null : JSON.readValue(json, SipServerPairSpec.class);
    } catch (JsonProcessingException e) {
      return null;
    }
  }
}
