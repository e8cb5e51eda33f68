#!/usr/bin/env bash
# make e2e: the control-plane tier (the *IT tests, Maven profile e2e) against a local control plane
# of its own (e2e/with-cluster.sh builds it when needed, starts it and stops it afterwards).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here/.."
# shellcheck disable=SC2086
exec "$here/with-cluster.sh" ${MVN:-mvn -B -ntp} -Pe2e verify "$@"
