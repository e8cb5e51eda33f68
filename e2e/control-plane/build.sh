#!/usr/bin/env bash
# Builds the local control plane from Go modules into a cache outside the repository, keyed by
# version: kube-apiserver, kube-controller-manager, kube-scheduler and kubectl from
# k8s.io/kubernetes, etcd from go.etcd.io/etcd/server/v3, kwok from sigs.k8s.io/kwok.
# A component whose binaries are already in the cache is not built again.
#   usage: build.sh [kube|etcd|kwok ...]   (default: all)
#          build.sh --check                 exit 0 if every component is built, else say what is missing
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=versions.env
. "$here/versions.env"
cache="${SIPHA_CACHE:-$HOME/.cache/sipha}"
export GOFLAGS="${GOFLAGS:--buildvcs=false}" CGO_ENABLED=0

log() { echo "control-plane build: $*" >&2; }

# A wrapper module in $1 (made anew) that requires $2 at $3.
wrapper() {
  rm -rf "$1" && mkdir -p "$1"
  (cd "$1" && go mod init sipha.local/control-plane-build >/dev/null 2>&1 && go mod edit -require="$2@$3")
}

# Records the packages to build as the wrapper's imports, so that go mod tidy resolves every module
# they need (and their go.sum lines).
tools() {
  { echo '//go:build tools'; echo; echo 'package tools'; echo; for p in "$@"; do echo "import _ \"$p\""; done; } > tools.go
  go mod tidy
}

built_kube() {
  local out="$cache/kube/$KUBE_VERSION"
  [ -x "$out/kube-apiserver" ] && [ -x "$out/kube-controller-manager" ] && [ -x "$out/kube-scheduler" ] && [ -x "$out/kubectl" ]
}
built_etcd() { [ -x "$cache/etcd/$ETCD_VERSION/etcd" ]; }
built_kwok() { [ -x "$cache/kwok/$KWOK_VERSION/kwok" ] && [ -d "$cache/kwok/$KWOK_VERSION/stage" ]; }

build_kube() {
  local out="$cache/kube/$KUBE_VERSION"
  if built_kube; then log "kube $KUBE_VERSION already in $out"; return; fi
  local src="$cache/src/kube-$KUBE_VERSION" minor="${KUBE_VERSION#v1.}"
  local staging="v0.${minor}"
  wrapper "$src" k8s.io/kubernetes "$KUBE_VERSION"
  cd "$src"
  # k8s.io/kubernetes requires its staging modules at v0.0.0 and replaces them with ./staging/...:
  # replace each with its published version instead; keep its godebug line
  local gomod
  gomod="$(go mod download -json "k8s.io/kubernetes@$KUBE_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')"
  local n=0
  while read -r mod; do
    go mod edit -replace="$mod=$mod@$staging"; n=$((n + 1))
  done < <(sed -n 's#^[[:space:]]*\(k8s.io/[^[:space:]]*\) => ./staging/.*#\1#p' "$gomod")
  log "kube $KUBE_VERSION: $n staging modules replaced by their $staging releases"
  grep '^godebug' "$gomod" >> go.mod || true
  local cmds="k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubectl"
  tools $cmds
  local pkg=k8s.io/component-base/version cpkg=k8s.io/client-go/pkg/version
  local ld="-s -w"
  for p in $pkg $cpkg; do
    ld="$ld -X $p.gitVersion=$KUBE_VERSION -X $p.gitMajor=1 -X $p.gitMinor=${minor%%.*} -X $p.gitTreeState=clean -X $p.buildDate=1970-01-01T00:00:00Z"
  done
  mkdir -p "$out.tmp"
  log "building kube-apiserver, kube-controller-manager, kube-scheduler, kubectl $KUBE_VERSION (cold: many minutes)"
  # shellcheck disable=SC2086
  go build -trimpath -ldflags "$ld" -o "$out.tmp/" $cmds
  rm -rf "$out" && mv "$out.tmp" "$out"
}

build_etcd() {
  local out="$cache/etcd/$ETCD_VERSION"
  if built_etcd; then log "etcd $ETCD_VERSION already in $out"; return; fi
  local src="$cache/src/etcd-$ETCD_VERSION"
  wrapper "$src" go.etcd.io/etcd/server/v3 "$ETCD_VERSION"
  cd "$src"
  local gomod
  gomod="$(go mod download -json "go.etcd.io/etcd/server/v3@$ETCD_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')"
  # the server's go.mod replaces its sibling modules with ../: take their releases at the same version
  while read -r mod; do
    go mod edit -replace="$mod=$mod@$ETCD_VERSION"
  done < <(sed -n 's#^[[:space:]]*\(go.etcd.io/etcd/[^[:space:]]*\) => \.\./.*#\1#p' "$gomod")
  tools go.etcd.io/etcd/server/v3
  mkdir -p "$out.tmp"
  log "building etcd $ETCD_VERSION"
  go build -trimpath -ldflags "-s -w" -o "$out.tmp/etcd" go.etcd.io/etcd/server/v3
  rm -rf "$out" && mv "$out.tmp" "$out"
}

build_kwok() {
  local out="$cache/kwok/$KWOK_VERSION"
  if built_kwok; then log "kwok $KWOK_VERSION already in $out"; return; fi
  local src="$cache/src/kwok-$KWOK_VERSION"
  wrapper "$src" sigs.k8s.io/kwok "$KWOK_VERSION"
  cd "$src"
  tools sigs.k8s.io/kwok/cmd/kwok
  mkdir -p "$out.tmp"
  log "building kwok $KWOK_VERSION"
  go build -trimpath -ldflags "-s -w" -o "$out.tmp/kwok" sigs.k8s.io/kwok/cmd/kwok
  local dir
  dir="$(go list -m -f '{{.Dir}}' sigs.k8s.io/kwok)"
  cp -r "$dir/kustomize/stage" "$out.tmp/stage" && chmod -R u+w "$out.tmp/stage"
  rm -rf "$out" && mv "$out.tmp" "$out"
}

if [ "${1:-}" = --check ]; then
  missing=()
  for c in etcd kwok kube; do "built_$c" || missing+=("$c"); done
  if [ ${#missing[@]} -gt 0 ]; then log "not built in $cache: ${missing[*]}"; exit 1; fi
  exit 0
fi

what=("$@")
[ ${#what[@]} -eq 0 ] && what=(etcd kwok kube)
for c in "${what[@]}"; do
  start=$(date +%s)
  "build_$c"
  log "$c done in $(( $(date +%s) - start )) s"
done
