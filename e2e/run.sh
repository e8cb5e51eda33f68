#!/usr/bin/env bash
# make e2e: builds the local control plane (a no-op when cached), starts a cluster of its own for
# the run, runs the control-plane tier (the *IT tests, Maven profile e2e) against it, and stops it.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cp="$here/control-plane"
"$cp/build.sh"
export SIPHA_CLUSTER_DIR="${SIPHA_CLUSTER_DIR:-${TMPDIR:-/tmp}/sipha-e2e-cluster}"
"$cp/cluster.sh" down > /dev/null 2>&1 || true
trap '"$cp/cluster.sh" down' EXIT
"$cp/cluster.sh" start
. "$cp/versions.env"
export SIPHA_KUBECONFIG="$("$cp/cluster.sh" env)"
export SIPHA_KUBECTL="${SIPHA_CACHE:-$HOME/.cache/sipha}/kube/$KUBE_VERSION/kubectl"
cd "$here/.."
${MVN:-mvn -B -ntp} -Pe2e verify "$@"
