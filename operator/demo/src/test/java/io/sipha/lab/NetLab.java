package io.sipha.lab;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The network lab of docs/BENCHMARKS.md, built from network namespaces (root, Linux), with two
 * networks per host as real deployments have them:
 *
 * <pre>
 *   sig:     br0 (STP off, forward delay 0), the signalling network: ports sa, sb, sc
 *   mgmt:    br0, the management network: ports ma, mb, mk
 *   host-a:  eth0 192.0.2.11/24 (sa)  eth1 198.51.100.11/24 (ma)  SIP responder on the VIP, agent
 *   host-b:  eth0 192.0.2.12/24 (sb)  eth1 198.51.100.12/24 (mb)  SIP responder on the VIP, agent
 *   client:  eth0 192.0.2.100/24 (sc)                              sipp sending OPTIONS to the VIP
 *   ctl:     eth0 198.51.100.1/24 (mk)                             the API's relay, the operator
 * </pre>
 *
 * The VIP 192.0.2.10, the SIP traffic and the agents' peer heartbeat ride the signalling network;
 * the agents reach the API server (and the operator reaches the agents) on the management network.
 * A host lost pulls both cables, "API unreachable from a node" only the management one, "SIP NIC
 * dead" only the signalling one.
 *
 * <p>Each namespace name carries a suffix unique to this lab ({@code host-a-sipha<pid>-<n>}), so
 * two labs never meet. Documentation addresses only; nothing is sent outside these namespaces (the
 * root namespace gets no interface). {@link #close()} removes every namespace and process it made,
 * also after a failure; a JVM shutdown hook does the same if the JVM is stopped first, and {@link
 * #create} removes what a killed lab left behind.
 *
 * <p>Each host gets wrapper scripts {@code vip-enable}, {@code vip-disable}, {@code vip-status} for
 * the node agent that runs inside the host's namespace: they run sipha's default scripts ({@code
 * helm/sipha/files}), and those of enable and disable append a line per call to {@link
 * #scriptLog()}.
 */
public final class NetLab implements AutoCloseable {
  public static final String VIP = "192.0.2.10";
  public static final int VIP_PREFIX = 24;
  public static final int SIP_PORT = 5060;
  public static final String CLIENT_ADDRESS = "192.0.2.100";
  public static final int CLIENT_PORT = 5070;
  public static final List<String> HOSTS = List.of("host-a", "host-b");

  /** The control namespace's address on the management network: the API's relay listens here. */
  public static final String CONTROL_ADDRESS = "198.51.100.1";

  private static final Map<String, String> ADDRESS =
      Map.of("host-a", "192.0.2.11", "host-b", "192.0.2.12", "client", CLIENT_ADDRESS);
  private static final Map<String, String> MANAGEMENT_ADDRESS =
      Map.of("host-a", "198.51.100.11", "host-b", "198.51.100.12", "ctl", CONTROL_ADDRESS);
  private static final Map<String, String> SIG_PORT =
      Map.of("host-a", "sa", "host-b", "sb", "client", "sc");
  private static final Map<String, String> MGMT_PORT =
      Map.of("host-a", "ma", "host-b", "mb", "ctl", "mk");
  private static final Pattern OURS =
      Pattern.compile("^(?:sig|mgmt|lan|ctl|host-a|host-b|client)-sipha(\\d+)-\\d+$");
  private static final AtomicInteger LABS = new AtomicInteger();

  private final String suffix;
  private final Path dir;
  private final Path scenario;
  private final List<String> namespaces = new ArrayList<>();
  private final Map<String, Process> responders = new LinkedHashMap<>();
  private final List<Process> processes = new ArrayList<>();
  private final Thread shutdownHook;
  private boolean closed;

  private NetLab(Path dir) {
    this.suffix = "-sipha" + ProcessHandle.current().pid() + "-" + LABS.getAndIncrement();
    this.dir = dir;
    this.scenario = dir.resolve("options-probe.xml");
    this.shutdownHook = new Thread(this::teardown, "netlab-teardown");
  }

  /**
   * Why the lab cannot run here, or empty when it can: it needs Linux, root, ip (iproute2) with
   * network namespaces, sipp (sip-tester) and arping (iputils-arping).
   */
  public static Optional<String> unavailable() {
    if (!System.getProperty("os.name", "").toLowerCase().contains("linux")) {
      return Optional.of(
          "needs Linux network namespaces (this is " + System.getProperty("os.name") + ")");
    }
    Sh.Result id = Sh.run("id", "-u");
    if (!id.ok() || !"0".equals(id.output().strip())) {
      return Optional.of(
          "needs root and ip netns (network namespaces); running as uid " + id.output().strip());
    }
    if (!Sh.onPath("ip")) {
      return Optional.of("needs ip (Debian package iproute2)");
    }
    String probe = "sipha-netns-probe-" + ProcessHandle.current().pid();
    Sh.Result add = Sh.run("ip", "netns", "add", probe);
    if (!add.ok()) {
      return Optional.of(
          "needs root and ip netns: cannot create a network namespace here: "
              + add.output().strip());
    }
    Sh.Result veth =
        Sh.run(
            "ip", "-n", probe, "link", "add", "probe0", "type", "veth", "peer", "name", "probe1");
    Sh.run("ip", "netns", "del", probe);
    if (!veth.ok()) {
      return Optional.of("needs veth interfaces in network namespaces: " + veth.output().strip());
    }
    if (!Sh.onPath("sipp")) {
      return Optional.of("needs sipp (Debian package sip-tester)");
    }
    if (!Sh.onPath("arping")) {
      return Optional.of("needs arping (Debian package iputils-arping)");
    }
    return Optional.empty();
  }

  /** Builds the topology, the wrapper scripts and the sipp scenario under {@code dir}. */
  public static NetLab create(Path dir) {
    removeLeftovers();
    NetLab lab = new NetLab(dir);
    Runtime.getRuntime().addShutdownHook(lab.shutdownHook);
    try {
      lab.build();
      return lab;
    } catch (RuntimeException | Error e) {
      lab.close();
      throw e;
    }
  }

  private void build() {
    try {
      Files.createDirectories(dir);
      try (InputStream in = NetLab.class.getResourceAsStream("/lab/options-probe.xml")) {
        if (in == null) {
          throw new IllegalStateException("lab/options-probe.xml is not on the test classpath");
        }
        Files.copy(in, scenario, StandardCopyOption.REPLACE_EXISTING);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    String sig = bridge("sig");
    String mgmt = bridge("mgmt");
    for (String role : List.of("host-a", "host-b", "client", "ctl")) {
      String ns = addNamespace(role);
      Sh.ok("ip", "-n", ns, "link", "set", "lo", "up");
      if (SIG_PORT.containsKey(role)) {
        plug(ns, "eth0", ADDRESS.get(role), sig, SIG_PORT.get(role));
      }
      if (MGMT_PORT.containsKey(role)) {
        plug(
            ns,
            role.equals("ctl") ? "eth0" : "eth1",
            MANAGEMENT_ADDRESS.get(role),
            mgmt,
            MGMT_PORT.get(role));
      }
      if (role.startsWith("host-")) {
        // the responder binds the VIP before the VIP is on its host
        Sh.ok(
            "ip", "netns", "exec", ns, "sh", "-c", "echo 1 > /proc/sys/net/ipv4/ip_nonlocal_bind");
        writeWrappers(role, ns);
      }
    }
  }

  /** A namespace holding one bridge (STP off, forward delay 0): a network of the lab. */
  private String bridge(String role) {
    String ns = addNamespace(role);
    Sh.ok("ip", "-n", ns, "link", "set", "lo", "up");
    Sh.ok(
        "ip",
        "-n",
        ns,
        "link",
        "add",
        "br0",
        "type",
        "bridge",
        "stp_state",
        "0",
        "forward_delay",
        "0");
    Sh.ok("ip", "-n", ns, "link", "set", "br0", "up");
    return ns;
  }

  /** A cable from the namespace's interface {@code dev} to a port of a network's bridge. */
  private static void plug(String ns, String dev, String address, String network, String port) {
    Sh.ok(
        "ip", "-n", ns, "link", "add", dev, "type", "veth", "peer", "name", port, "netns", network);
    Sh.ok("ip", "-n", ns, "addr", "add", address + "/24", "dev", dev);
    Sh.ok("ip", "-n", ns, "link", "set", dev, "up");
    // "dev": a port named like a keyword of ip link set (ma: master) is taken as that keyword
    Sh.ok("ip", "-n", network, "link", "set", "dev", port, "master", "br0");
    Sh.ok("ip", "-n", network, "link", "set", "dev", port, "up");
  }

  private String addNamespace(String role) {
    String ns = role + suffix;
    Sh.ok("ip", "netns", "add", ns);
    namespaces.add(ns);
    return ns;
  }

  /** The name of a role's namespace in this lab: sig, mgmt, host-a, host-b, client, ctl. */
  public String ns(String role) {
    return role + suffix;
  }

  public Path dir() {
    return dir;
  }

  /** The wrapper scripts a node agent runs for this host. */
  public Path scriptsDir(String host) {
    return dir.resolve("scripts").resolve(host);
  }

  /** One line per enable or disable call: {@code EPOCH_MICROS HOST SCRIPT begin|end ...}. */
  public Path scriptLog() {
    return dir.resolve("scripts.log");
  }

  private void writeWrappers(String host, String ns) {
    Path real = dir.resolve("scripts").resolve("default");
    Path wrappers = scriptsDir(host);
    Path log = scriptLog();
    try {
      Files.createDirectories(real);
      Files.createDirectories(wrappers);
      for (String s : List.of("vip-enable", "vip-disable", "vip-status")) {
        Path r = real.resolve(s);
        if (!Files.exists(r)) {
          Files.copy(io.sipha.Checkout.root().resolve("helm/sipha/files").resolve(s), r);
          Files.setPosixFilePermissions(r, PosixFilePermissions.fromString("rwxr-xr-x"));
        }
        String body =
            s.equals("vip-status")
                ? "exec " + r + " \"$@\"\n"
                : "echo \"${EPOCHREALTIME//[!0-9]/} "
                    + host
                    + " "
                    + s
                    + " begin $*\" >> '"
                    + log
                    + "'\n"
                    + r
                    + " \"$@\"\n"
                    + "rc=$?\n"
                    + "echo \"${EPOCHREALTIME//[!0-9]/} "
                    + host
                    + " "
                    + s
                    + " end $rc\" >> '"
                    + log
                    + "'\n"
                    + "exit $rc\n";
        Path w = wrappers.resolve(s);
        // bash: $EPOCHREALTIME stamps the calls without starting a process
        Files.writeString(
            w,
            "#!/bin/bash\n# sipha network lab: sipha's default "
                + s
                + " for the agent inside "
                + ns
                + "\n"
                + body,
            StandardCharsets.UTF_8);
        Files.setPosixFilePermissions(w, PosixFilePermissions.fromString("rwxr-xr-x"));
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  // ---- the SIP responders

  /**
   * Starts the host's SIP responder (a JVM inside the host's namespace) and waits until it is
   * bound.
   */
  public synchronized void startResponder(String host) {
    killResponder(host);
    Path out = dir.resolve("responder-" + host + ".log");
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Process p =
        Sh.start(
            out,
            "ip",
            "netns",
            "exec",
            ns(host),
            java,
            "-Xmx32m",
            "-Xss512k",
            "-XX:+UseSerialGC",
            "-XX:TieredStopAtLevel=1",
            "-cp",
            classesDir().toString(),
            SipResponder.class.getName(),
            VIP,
            String.valueOf(SIP_PORT),
            host);
    responders.put(host, p);
    Sh.awaitOutput(p, out, "ready", "the SIP responder of " + host);
  }

  /** Kills the host's SIP responder at once (SIGKILL): the SIP Server died. */
  public synchronized void killResponder(String host) {
    Process p = responders.remove(host);
    if (p != null) {
      p.destroyForcibly();
      try {
        p.waitFor();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /**
   * The hosts whose responder was started and has exited since (not killed by {@link
   * #killResponder}).
   */
  public synchronized List<String> deadResponders() {
    return responders.entrySet().stream()
        .filter(e -> !e.getValue().isAlive())
        .map(Map.Entry::getKey)
        .toList();
  }

  private static Path classesDir() {
    try {
      return Path.of(
          SipResponder.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  // ---- the wire

  /** The host's (or ctl's) address on the management network. */
  public static String managementAddress(String role) {
    return MANAGEMENT_ADDRESS.get(role);
  }

  /** The host's (or the client's) address on the signalling network. */
  public static String signallingAddress(String role) {
    return ADDRESS.get(role);
  }

  /** Pulls both of the host's cables (its ports go down): the host keeps what it holds. */
  public void linkDown(String host) {
    cutSignalling(host);
    cutManagement(host);
  }

  public void linkUp(String host) {
    healSignalling(host);
    healManagement(host);
  }

  /** The host's signalling cable: its VIP, its SIP traffic and its peer heartbeat. */
  public void cutSignalling(String host) {
    Sh.ok("ip", "-n", ns("sig"), "link", "set", "dev", SIG_PORT.get(host), "down");
  }

  public void healSignalling(String host) {
    Sh.ok("ip", "-n", ns("sig"), "link", "set", "dev", SIG_PORT.get(host), "up");
  }

  /**
   * Cuts (or restores) the signalling network between the two hosts only: their bridge ports are
   * isolated from each other (a port flag of the bridge), while both still reach the client.
   */
  public void isolateHosts(boolean isolated) {
    for (String h : HOSTS) {
      Sh.ok(
          "bridge",
          "-n",
          ns("sig"),
          "link",
          "set",
          "dev",
          SIG_PORT.get(h),
          "isolated",
          isolated ? "on" : "off");
    }
  }

  /** The host's management cable: its agent's way to the API server and the operator's to it. */
  public void cutManagement(String host) {
    Sh.ok("ip", "-n", ns("mgmt"), "link", "set", "dev", MGMT_PORT.get(host), "down");
  }

  public void healManagement(String host) {
    Sh.ok("ip", "-n", ns("mgmt"), "link", "set", "dev", MGMT_PORT.get(host), "up");
  }

  /** Forgets the client's ARP entries (lab.md: they survive between cases). */
  public void flushClientArp() {
    Sh.ok("ip", "-n", ns("client"), "neigh", "flush", "dev", "eth0");
  }

  /** The client's ARP entry for the VIP, e.g. "192.0.2.10 lladdr 5e:... REACHABLE", or "". */
  public String clientArpEntry() {
    return Sh.run("ip", "-n", ns("client"), "neigh", "show", VIP, "dev", "eth0").output().strip();
  }

  /**
   * The host sends one gratuitous ARP for the VIP (in the background: arping takes a second to
   * return).
   */
  public void announce(String host) {
    track(
        Sh.start(
            dir.resolve("arping-" + host + ".log"),
            "ip",
            "netns",
            "exec",
            ns(host),
            "arping",
            "-q",
            "-U",
            "-c",
            "1",
            "-I",
            "eth0",
            VIP));
  }

  /** Whether the VIP is on the host's eth0 now. */
  public boolean holdsVip(String host) {
    return Sh.run("ip", "-n", ns(host), "-o", "addr", "show", "dev", "eth0")
        .output()
        .contains(" inet " + VIP + "/" + VIP_PREFIX + " ");
  }

  /** The hosts that hold the VIP now. */
  public List<String> vipHolders() {
    return HOSTS.stream().filter(this::holdsVip).toList();
  }

  public void removeVip(String host) {
    if (holdsVip(host)) {
      Sh.ok("ip", "-n", ns(host), "addr", "del", VIP + "/" + VIP_PREFIX, "dev", "eth0");
    }
  }

  /** A MAC address of a host's eth0, to read ARP entries. */
  public String mac(String host) {
    Matcher m =
        Pattern.compile("link/ether ([0-9a-f:]+)")
            .matcher(Sh.ok("ip", "-n", ns(host), "-o", "link", "show", "dev", "eth0"));
    return m.find() ? m.group(1) : "?";
  }

  // ---- the client

  /** Starts sipp sending OPTIONS to the VIP at 100 per second until {@link Sipp.Run#stop()}. */
  public Sipp.Run startProbe(String name) {
    Path log = dir.resolve("sipp-" + name + ".log");
    return Sipp.start(
        Sipp.command(
            ns("client"),
            CLIENT_ADDRESS,
            CLIENT_PORT,
            VIP + ":" + SIP_PORT,
            scenario,
            log,
            100,
            null),
        log,
        dir.resolve("sipp-" + name + ".screen"));
  }

  /** Sends a few OPTIONS (20 per second) and returns what came back. */
  public List<Sipp.Sample> probe(int calls) {
    Path log = dir.resolve("sipp-probe.log");
    try (Sipp.Run run =
        Sipp.start(
            Sipp.command(
                ns("client"),
                CLIENT_ADDRESS,
                CLIENT_PORT,
                VIP + ":" + SIP_PORT,
                scenario,
                log,
                20,
                calls),
            log,
            dir.resolve("sipp-probe.screen"))) {
      return run.await(10_000);
    }
  }

  /**
   * Who answers OPTIONS sent to the VIP now: the X-Served-By of the last of three answers, or
   * "none".
   */
  public String answeredBy() {
    List<Sipp.Sample> s = probe(3);
    return s.isEmpty() || !s.get(s.size() - 1).answered() ? "none" : s.get(s.size() - 1).host();
  }

  // ---- other processes in the hosts

  /**
   * Starts a process inside a host's namespace; it is stopped at the latest by {@link #close()}.
   */
  public Process startIn(String role, Path output, String... command) {
    List<String> cmd = new ArrayList<>(List.of("ip", "netns", "exec", ns(role)));
    cmd.addAll(List.of(command));
    return track(Sh.start(output, cmd.toArray(String[]::new)));
  }

  private synchronized Process track(Process p) {
    processes.removeIf(q -> !q.isAlive());
    processes.add(p);
    return p;
  }

  // ---- teardown

  @Override
  public void close() {
    teardown();
    try {
      Runtime.getRuntime().removeShutdownHook(shutdownHook);
    } catch (IllegalStateException e) {
      // the JVM is shutting down: the hook runs teardown (a no-op now)
    }
  }

  private synchronized void teardown() {
    if (closed) {
      return;
    }
    closed = true;
    for (String h : List.copyOf(responders.keySet())) {
      killResponder(h);
    }
    for (Process p : processes) {
      Sh.stop(p, 2_000);
    }
    processes.clear();
    List<String> reversed = new ArrayList<>(namespaces);
    java.util.Collections.reverse(reversed);
    for (String ns : reversed) {
      removeNamespace(ns);
    }
    namespaces.clear();
  }

  /**
   * Kills what still runs inside one of our namespaces (children of scripts: arping), then deletes
   * it.
   */
  private static void removeNamespace(String ns) {
    for (String pid : Sh.run("ip", "netns", "pids", ns).output().split("\\s+")) {
      if (pid.matches("\\d+")) {
        ProcessHandle.of(Long.parseLong(pid)).ifPresent(ProcessHandle::destroyForcibly);
      }
    }
    Sh.Result r = Sh.run("ip", "netns", "del", ns);
    if (!r.ok()) {
      System.err.println(
          "netlab: could not delete network namespace " + ns + ": " + r.output().strip());
    }
  }

  /** Deletes namespaces of labs whose JVM is gone (killed before it could clean up). */
  private static void removeLeftovers() {
    for (String line : Sh.run("ip", "netns", "list").output().split("\n")) {
      String name = line.strip().split("\\s+")[0];
      Matcher m = OURS.matcher(name);
      if (m.matches()
          && ProcessHandle.of(Long.parseLong(m.group(1))).map(h -> !h.isAlive()).orElse(true)) {
        System.err.println("netlab: removing " + name + " left behind by a lab that was killed");
        removeNamespace(name);
      }
    }
  }
}
