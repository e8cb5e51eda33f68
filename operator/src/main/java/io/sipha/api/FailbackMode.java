package io.sipha.api;

/** What happens once the server named in spec.primary is healthy again after a failover. */
public enum FailbackMode {
  /** Stay on the new primary; a later change of spec.primary is a switchover request. */
  Manual,
  /** Switch back to spec.primary once it has been Ready for failbackDelaySeconds. */
  Automatic;

  /** The mode named, or null when the text is neither Manual nor Automatic. */
  public static FailbackMode of(String value) {
    for (FailbackMode m : values()) {
      if (m.name().equals(value)) {
        return m;
      }
    }
    return null;
  }
}
