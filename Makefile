# sipha — make targets. `make demo` plays the four workflows; `make test` runs every test;
# `make crds` regenerates crds/.
MVN ?= mvn -B -ntp

.PHONY: build test crds clean

build:
	$(MVN) -DskipTests package

test:
	$(MVN) verify

crds:
	$(MVN) -DskipTests process-classes

clean:
	$(MVN) -q clean

.PHONY: format format-check
# google-java-format (Spotless) over every module's Java sources; CI runs format-check
format:
	$(MVN) -q spotless:apply

format-check:
	$(MVN) -q spotless:check

.PHONY: demo
# the four workflows on an embedded API: no cluster, no root, no network
demo:
	$(MVN) -q -DskipTests package
	java -jar operator/demo/target/sipha-demo.jar demo

.PHONY: image
IMAGE ?= sipha:0.1.0
# needs a Docker engine (not available on the development machines: see docs/kubernetes.md)
image:
	docker build -t $(IMAGE) .

.PHONY: soak
# the simulation's property over 10,000 random fault schedules (make test runs 1,000); prints the
# count and any shrunk failure with its seed
soak:
	$(MVN) -pl operator test -Dtest=PairSimulationPropertyTest -Dsipha.excludedGroups=none -Dgroups=soak \
	  -Dsurefire.failIfNoSpecifiedTests=false -DtrimStackTrace=false
	@grep -h -A3 'tries' operator/target/surefire-reports/*PairSimulationPropertyTest*.txt 2>/dev/null || true

.PHONY: bench demo-classpath
# the control path on the embedded API: switchovers, failovers, 1,000 pairs; writes operator/demo/target/bench/results.json.
# BENCH_ARGS=real also runs the 1,000 pairs on the local control plane (built and started for the run; needs Go).
bench: demo-classpath
	cd operator/demo && $(if $(filter real real-only,$(BENCH_ARGS)),../../e2e/with-cluster.sh) java -Xmx2g $(BENCH_JVM) \
	  -cp target/test-classes:target/classes:$$(cat target/test.classpath) io.sipha.bench.Bench $(BENCH_ARGS)

# operator/demo's test classes and their classpath (the product's classes and every dependency), for bench and lab
demo-classpath:
	$(MVN) -q -DskipTests test-compile dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile=target/test.classpath

.PHONY: sandbox
# the demo's site left running for your own kubectl (writes target/sandbox.kubeconfig); Ctrl-C stops it.
# On the local control plane when it is built (make cluster builds it), else on the embedded API:
# SANDBOX_API=auto (default), real (builds it if needed) or embedded
SANDBOX_API ?= auto
sandbox:
	$(MVN) -q -DskipTests package
	e2e/sandbox.sh $(SANDBOX_API)

.PHONY: install-plugin
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
# `kubectl sipha`: writes the launcher $(BINDIR)/kubectl-sipha, which runs the plugin from this clone's jar,
# and $(BINDIR)/kubectl_complete-sipha, which kubectl runs to complete `kubectl sipha <TAB>`
install-plugin:
	$(MVN) -q -DskipTests package
	mkdir -p "$(BINDIR)"
	{ echo '#!/bin/sh'; \
	  echo '# kubectl sipha: the sipha kubectl plugin, written by make install-plugin'; \
	  echo 'jar="$(CURDIR)/operator/target/sipha.jar"'; \
	  echo '[ -f "$$jar" ] || { echo "kubectl-sipha: $$jar is missing: run make install-plugin again" >&2; exit 1; }'; \
	  echo 'exec java -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -cp "$$jar" io.sipha.cli.PluginMain "$$@"'; \
	} > "$(BINDIR)/kubectl-sipha"
	chmod 755 "$(BINDIR)/kubectl-sipha"
	{ echo '#!/bin/sh'; \
	  echo '# kubectl sipha <TAB>: kubectl (1.26+) asks this for the completions, written by make install-plugin'; \
	  echo 'exec "$$(dirname "$$0")/kubectl-sipha" __complete "$$@"'; \
	} > "$(BINDIR)/kubectl_complete-sipha"
	chmod 755 "$(BINDIR)/kubectl_complete-sipha"
	@echo "installed $(BINDIR)/kubectl-sipha and kubectl_complete-sipha: try kubectl sipha --help"

.PHONY: lab
# the network lab (root, Linux): sipha, then keepalived, moving a VIP between network namespaces,
# measured by sipp; writes operator/demo/target/lab/ and updates docs/BENCHMARKS.md and docs/lab/.
# Needs sip-tester, iputils-arping, keepalived, iproute2. Defaults: 10 rounds per timed workflow, each
# fault that must move nothing held 60 s; a short run: make lab LAB_ARGS="--rounds 2 --hold-seconds 10".
# It runs at nice -10 so that other work on the machine disturbs the figures less (LAB_NICE=0: not).
LAB_ARGS ?=
LAB_NICE ?= -10
lab:
	@if [ "$$(id -u)" != 0 ] || ! ip netns list >/dev/null 2>&1; then \
	  echo "make lab: skipped: needs root and ip netns (Linux network namespaces)"; exit 0; fi; \
	$(MAKE) --no-print-directory demo-classpath MVN="$(MVN)" && \
	cd operator/demo && nice -n $(LAB_NICE) java -cp target/test-classes:target/classes:$$(cat target/test.classpath) \
	  io.sipha.lab.LabMain $(LAB_ARGS)

.PHONY: control-plane cluster cluster-down e2e
# the local control plane (kube-apiserver, kube-controller-manager, kube-scheduler, kubectl, etcd,
# kwok) built from Go modules into ~/.cache/sipha/ (a no-op once built): see e2e/control-plane/
control-plane:
	bash e2e/control-plane/build.sh

# starts it (everything on 127.0.0.1, fake nodes node-a and node-b) and stays until Ctrl-C
cluster: control-plane
	bash e2e/control-plane/cluster.sh up

cluster-down:
	bash e2e/control-plane/cluster.sh down

# the control-plane tier: the chart, the operator and the agents on a real API server
e2e:
	MVN="$(MVN)" bash e2e/run.sh
