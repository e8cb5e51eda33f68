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

.PHONY: demo
# the four workflows on an embedded API: no cluster, no root, no network
demo:
	$(MVN) -q -DskipTests package
	java -jar operator/target/sipha.jar demo

.PHONY: image
IMAGE ?= sipha:0.1.0
# needs a Docker engine (not available on the development machines: see docs/kubernetes.md)
image:
	docker build -t $(IMAGE) .

.PHONY: bench
# the control path on the embedded API: switchovers, failovers, 1,000 pairs; writes operator/target/bench/results.json
bench:
	$(MVN) -q -DskipTests test-compile
	$(MVN) -q -pl operator dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile=target/test.classpath
	cd operator && java -Xmx2g -cp target/test-classes:target/classes:$$(cat target/test.classpath) io.sipha.bench.Bench $(BENCH_ARGS)
