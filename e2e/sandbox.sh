#!/usr/bin/env bash
# make sandbox: the demo's site left running for your own kubectl, on the local control plane when
# its binaries are built (make cluster or make e2e built them into ~/.cache/sipha), else on the
# embedded API. SANDBOX_API chooses: auto (the default, as just said), real (builds the control
# plane first if needed: about 11 minutes once) or embedded.
#   usage: e2e/sandbox.sh [auto|real|embedded]   (from make sandbox, after the jar is built)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cp="$here/control-plane"
cd "$here/.."
jar=operator/demo/target/sipha-demo.jar
# shellcheck source=control-plane/versions.env
. "$cp/versions.env"
kubectl="${SIPHA_CACHE:-$HOME/.cache/sipha}/kube/$KUBE_VERSION/kubectl"

# on a control plane whose admin kubeconfig is $1: the CRD applied as a platform team applies it, then the sandbox
on_control_plane() {
  "$kubectl" --kubeconfig "$1" apply --server-side -f crds/ > /dev/null
  "$kubectl" --kubeconfig "$1" wait --for condition=Established crd/sipserverpairs.sipha.io --timeout 30s > /dev/null
  java -jar "$jar" demo --keep-running --control-plane "$1" --kubectl "$kubectl"
}

choice="${1:-auto}"
case "$choice" in
  started) on_control_plane "$SIPHA_KUBECONFIG"; exit ;;   # inside with-cluster.sh, below
  auto)
    if missing="$("$cp/build.sh" --check 2>&1)"; then
      choice=real
    else
      echo "sandbox: on the embedded API, because the local control plane is not built ($(echo "$missing" | tail -1));"
      echo "         make cluster builds it once (about 11 minutes), and make sandbox then runs on it."
      choice=embedded
    fi ;;
  real | embedded) ;;
  *) echo "SANDBOX_API=$choice: auto, real or embedded" >&2; exit 2 ;;
esac

if [ "$choice" = embedded ]; then
  exec java -jar "$jar" demo --keep-running
fi
# a control plane started by make cluster is used as it is, and stays up; otherwise one of the sandbox's own
shared="$(SIPHA_CLUSTER_DIR="" "$cp/cluster.sh" env)"
if [ -f "$shared" ] && [ -x "$kubectl" ] && "$kubectl" --kubeconfig "$shared" get --raw /readyz > /dev/null 2>&1; then
  echo "sandbox: on the local control plane make cluster started ($shared); it stays up afterwards"
  on_control_plane "$shared"
else
  echo "sandbox: on a local control plane of its own (Kubernetes $KUBE_VERSION, etcd $ETCD_VERSION, kwok $KWOK_VERSION), stopped with it"
  SIPHA_CLUSTER_DIR="${TMPDIR:-/tmp}/sipha-sandbox-cluster" exec "$here/with-cluster.sh" "$0" started
fi
