#!/usr/bin/env bash
# e2e/with-cluster.sh COMMAND...: builds the local control plane (a no-op when cached), starts a
# cluster of its own, runs COMMAND with SIPHA_KUBECONFIG and SIPHA_KUBECTL set to it, and stops the
# cluster whatever the outcome. make e2e and make bench BENCH_ARGS=real run through it.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cp="$here/control-plane"
"$cp/build.sh"
export SIPHA_CLUSTER_DIR="${SIPHA_CLUSTER_DIR:-${TMPDIR:-/tmp}/sipha-e2e-cluster}"
"$cp/cluster.sh" down > /dev/null 2>&1 || true
trap '"$cp/cluster.sh" down' EXIT
"$cp/cluster.sh" start
. "$cp/versions.env"
SIPHA_KUBECONFIG="$("$cp/cluster.sh" env)"
SIPHA_KUBECTL="${SIPHA_CACHE:-$HOME/.cache/sipha}/kube/$KUBE_VERSION/kubectl"
export SIPHA_KUBECONFIG SIPHA_KUBECTL
"$@"
