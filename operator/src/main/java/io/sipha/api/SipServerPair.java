package io.sipha.api;

import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.kubernetes.api.model.Namespaced;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.ShortNames;
import io.fabric8.kubernetes.model.annotation.Version;

/**
 * A pair of SIP Server pods with IP Address Takeover high availability: one is primary and owns the
 * virtual IP on its node, the other is a hot backup.
 */
@Group(SipServerPair.GROUP)
@Version(SipServerPair.VERSION)
@ShortNames("ssp")
@AdditionalPrinterColumn(
    name = "PRIMARY",
    jsonPath = ".status.primary",
    type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(
    name = "BACKUP",
    jsonPath = ".status.backup",
    type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(
    name = "VIP",
    jsonPath = ".status.vip.address",
    type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(
    name = "NODE",
    jsonPath = ".status.vip.node",
    type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(
    name = "PHASE",
    jsonPath = ".status.phase",
    type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(
    name = "EPOCH",
    jsonPath = ".status.epoch",
    type = AdditionalPrinterColumn.Type.INTEGER)
@AdditionalPrinterColumn(
    name = "AGE",
    jsonPath = ".metadata.creationTimestamp",
    type = AdditionalPrinterColumn.Type.DATE)
public class SipServerPair extends CustomResource<SipServerPairSpec, SipServerPairStatus>
    implements Namespaced {
  public static final String GROUP = "sipha.io";
  public static final String VERSION = "v1alpha1";

  /** Label every server pod of a pair carries; its value is the pair's name. */
  public static final String PAIR_LABEL = "sipha.io/pair";

  /** Pod annotation: primary or backup, written by the operator only. */
  public static final String ROLE_ANNOTATION = "sipha.io/role";

  /** Pod annotation: the epoch at which the role was given. */
  public static final String EPOCH_ANNOTATION = "sipha.io/epoch";

  public static final String ROLE_PRIMARY = "primary";
  public static final String ROLE_BACKUP = "backup";

  /** namespace/name, the key agents use in their reports. */
  public String key() {
    return getMetadata().getNamespace() + "/" + getMetadata().getName();
  }
}
