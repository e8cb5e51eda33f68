package io.sipha.vip;

/** The three admin-owned scripts an agent runs, by file name in its scripts directory. */
public enum VipScript {
  ENABLE("vip-enable"),
  DISABLE("vip-disable"),
  STATUS("vip-status");

  private final String fileName;

  VipScript(String fileName) {
    this.fileName = fileName;
  }

  public String fileName() {
    return fileName;
  }
}
