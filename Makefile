# sipha — make targets. `make test` runs every test; `make crds` regenerates crds/.
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
