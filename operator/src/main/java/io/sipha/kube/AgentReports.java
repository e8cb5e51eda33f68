package io.sipha.kube;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sipha.decision.VipReport;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** The agent's per-pair reports as kept in its Lease annotation. */
public final class AgentReports {
  /** Lease annotation holding a JSON object: pair namespace/name → {@link VipReport}. */
  public static final String ANNOTATION = "sipha.io/vips";

  /** The label on every agent Lease. */
  public static final String LEASE_LABEL = "app.kubernetes.io/component";

  public static final String LEASE_LABEL_VALUE = "sipha-node-agent";
  public static final String LEASE_PREFIX = "sipha-agent-";

  /**
   * Lease annotation an agent writes while it renews its Lease but does not work (its work loop has
   * completed no pass, or its start-up check has not finished, for {@code STALL}): why, for a
   * person. The operator counts such an agent as not alive.
   */
  public static final String NOT_WORKING_ANNOTATION = "sipha.io/not-working";

  /** Lease annotation: the node's own addresses, comma-separated, which no VIP may be. */
  public static final String NODE_ADDRESSES_ANNOTATION = "sipha.io/node-addresses";

  /**
   * Lease annotation an agent writes when it stops on purpose: how many seconds it expects to be
   * away. A duration, not a time: the operator counts it on its own clock from when it saw it.
   */
  public static final String RESTARTING_ANNOTATION = "sipha.io/restarting-for-seconds";

  /**
   * Annotation of the report Leases and of the heartbeat Lease: a number the agent raises with
   * every report Lease it writes. On a report Lease, the write's number; on the heartbeat, the
   * highest number it has written. A reader whose report Leases are behind the heartbeat's number
   * (they come by another watch, which may lag) has not seen the node's latest reports yet.
   */
  public static final String REPORTS_SEQ_ANNOTATION = "sipha.io/reports-seq";

  /**
   * Heartbeat Lease annotations: the peer nodes the agent hears over the peer channel now, and
   * those it has heard nothing from for its silence budget (comma-separated node names). Written at
   * once when either changes, and with every renewal.
   */
  public static final String PEERS_HEARD_ANNOTATION = "sipha.io/peers-heard";

  public static final String PEERS_SILENT_ANNOTATION = "sipha.io/peers-silent";

  /**
   * Heartbeat Lease annotation: where the agent's peer channel listens (host:port, UDP, on the
   * signalling network), for the agents of its peer nodes.
   */
  public static final String PEER_ENDPOINT_ANNOTATION = "sipha.io/peer-endpoint";

  /**
   * Heartbeat Lease annotation: where the operator probes the agent directly (host:port of its
   * /healthz), the operator's own evidence of the node beside the Lease.
   */
  public static final String PROBE_ENDPOINT_ANNOTATION = "sipha.io/probe-endpoint";

  /** What an agent says it hears of its peers, as its heartbeat Lease's annotations hold it. */
  public static io.sipha.decision.PeerHearing hearing(java.util.Map<String, String> annotations) {
    if (annotations == null) {
      return io.sipha.decision.PeerHearing.NONE;
    }
    return new io.sipha.decision.PeerHearing(
        nodes(annotations.get(PEERS_HEARD_ANNOTATION)),
        nodes(annotations.get(PEERS_SILENT_ANNOTATION)));
  }

  /** A comma-separated list of node names as a set (empty for null). */
  public static java.util.Set<String> nodes(String list) {
    if (list == null || list.isBlank()) {
      return java.util.Set.of();
    }
    java.util.Set<String> out = new java.util.TreeSet<>();
    for (String n : list.split(",")) {
      if (!n.isBlank()) {
        out.add(n.strip());
      }
    }
    return out;
  }

  /** The report sequence number in these annotations, or 0 (absent or unreadable). */
  public static long reportsSeq(java.util.Map<String, String> annotations) {
    String v = annotations == null ? null : annotations.get(REPORTS_SEQ_ANNOTATION);
    try {
      return v == null ? 0 : Math.max(0, Long.parseLong(v.strip()));
    } catch (NumberFormatException e) {
      return 0;
    }
  }

  /** The seconds of an announced restart, or null (absent or unreadable). */
  public static Integer restartSeconds(java.util.Map<String, String> annotations) {
    String v = annotations == null ? null : annotations.get(RESTARTING_ANNOTATION);
    try {
      return v == null ? null : Integer.valueOf(v.strip());
    } catch (NumberFormatException e) {
      return null;
    }
  }

  private static final ObjectMapper JSON =
      new ObjectMapper().configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

  private AgentReports() {}

  public static String leaseName(String node) {
    return LEASE_PREFIX + node;
  }

  /**
   * The label value of the Leases that hold an agent's reports, apart from its heartbeat Lease (so
   * that the heartbeat never fails because of them, and never carries them): a node's reports are
   * spread over {@link #SHARDS} of them by pair, each written only when its reports change.
   */
  public static final String REPORTS_LABEL_VALUE = "sipha-node-agent-reports";

  /** How many report Leases a node has at most (a pair's report is always in the same one). */
  public static final int SHARDS = 8;

  /**
   * The most a report Lease's annotation may hold; above it the reports are written without their
   * messages (the API refuses more than 256 KiB of annotations on one object).
   */
  public static final int MAX_SHARD_BYTES = 200 * 1024;

  /** The report Lease that holds this pair's report from this node. */
  public static String shardName(String node, String pairKey) {
    return shardName(node, Math.floorMod(pairKey.hashCode(), SHARDS));
  }

  public static String shardName(String node, int shard) {
    return "sipha-reports-" + node + "-" + shard;
  }

  /** Renders the reports within {@link #MAX_SHARD_BYTES}: their messages go first if needed. */
  public static String renderBounded(Map<String, VipReport> reports) {
    String body = render(reports);
    if (body.length() <= MAX_SHARD_BYTES) {
      return body;
    }
    Map<String, VipReport> terse = new TreeMap<>();
    reports.forEach(
        (k, r) ->
            terse.put(
                k,
                new VipReport(
                    r.state(),
                    r.epoch(),
                    r.address(),
                    r.script(),
                    r.exitCode(),
                    null,
                    r.at(),
                    r.removedStaleEpoch(),
                    r.interfaceName(),
                    r.alsoOnHost())));
    return render(terse);
  }

  /** Parses the annotation; a missing or unreadable one is no report at all. */
  public static Map<String, VipReport> parse(String json) {
    if (json == null || json.isBlank()) {
      return Map.of();
    }
    try {
      Map<String, Json> wire = JSON.readValue(json, new TypeReference<TreeMap<String, Json>>() {});
      Map<String, VipReport> out = new TreeMap<>();
      wire.forEach(
          (k, v) -> {
            if (v != null) {
              out.put(k, v.toReport());
            }
          });
      return out;
    } catch (JsonProcessingException e) {
      return Map.of();
    }
  }

  public static String render(Map<String, VipReport> reports) {
    try {
      Map<String, Json> wire = new TreeMap<>();
      reports.forEach((k, r) -> wire.put(k, Json.of(r)));
      return JSON.writeValueAsString(wire);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * A report as JSON, in the annotation and in {@code kubectl sipha status -o json}: absent fields
   * left out, the interface under {@code interface}.
   */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record Json(
      VipReport.State state,
      long epoch,
      String address,
      String script,
      Integer exitCode,
      String message,
      String at,
      Long removedStaleEpoch,
      @JsonProperty("interface") String interfaceName,
      List<OnHostJson> alsoOnHost) {

    public static Json of(VipReport r) {
      return r == null
          ? null
          : new Json(
              r.state(),
              r.epoch(),
              r.address(),
              r.script(),
              r.exitCode(),
              r.message(),
              r.at(),
              r.removedStaleEpoch(),
              r.interfaceName(),
              r.alsoOnHost() == null
                  ? null
                  : r.alsoOnHost().stream()
                      .map(o -> new OnHostJson(o.address(), o.interfaceName()))
                      .toList());
    }

    public VipReport toReport() {
      return new VipReport(
          state,
          epoch,
          address,
          script,
          exitCode,
          message,
          at,
          removedStaleEpoch,
          interfaceName,
          alsoOnHost == null
              ? null
              : alsoOnHost.stream()
                  .map(o -> o == null ? null : new VipReport.OnHost(o.address(), o.interfaceName()))
                  .toList());
    }
  }

  /** An other address on the host, as JSON. */
  public record OnHostJson(String address, @JsonProperty("interface") String interfaceName) {}
}
