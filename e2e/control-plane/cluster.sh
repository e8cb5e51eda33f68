#!/usr/bin/env bash
# The local control plane: etcd, kube-apiserver, kube-controller-manager, kube-scheduler and kwok
# (fake nodes node-a and node-b), every one listening on 127.0.0.1 only, built by build.sh.
#
#   cluster.sh up      start, print how to use it, and stay until Ctrl-C (then stop everything)
#   cluster.sh start   start and return once the API answers (the processes stay in the background)
#   cluster.sh down    stop every process start/up started and remove the cluster's data
#   cluster.sh env     print the kubeconfig path (for scripts)
#   cluster.sh restart-apiserver   stop kube-apiserver and start it again (its clients' watches end)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=versions.env
. "$here/versions.env"
cache="${SIPHA_CACHE:-$HOME/.cache/sipha}"
dir="${SIPHA_CLUSTER_DIR:-$cache/cluster}"
kube="$cache/kube/$KUBE_VERSION"
etcd_bin="$cache/etcd/$ETCD_VERSION/etcd"
kwok_dir="$cache/kwok/$KWOK_VERSION"
etcd_port="${SIPHA_ETCD_PORT:-23790}"
api_port="${SIPHA_API_PORT:-16443}"
kcm_port="${SIPHA_KCM_PORT:-20257}"
sched_port="${SIPHA_SCHEDULER_PORT:-20259}"
kubeconfig="$dir/admin.kubeconfig"

log() { echo "cluster: $*" >&2; }

# Every file the processes need: a CA, the API server's serving certificate for 127.0.0.1, an admin
# client certificate (O=system:masters) and the service-account signing key, all RSA.
pki() {
  local p="$dir/pki"
  mkdir -p "$p"
  openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=sipha-local-ca" \
    -keyout "$p/ca.key" -out "$p/ca.crt" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj "/CN=kube-apiserver" -keyout "$p/apiserver.key" -out "$p/apiserver.csr" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc\nextendedKeyUsage=serverAuth\n' > "$p/apiserver.ext"
  openssl x509 -req -in "$p/apiserver.csr" -CA "$p/ca.crt" -CAkey "$p/ca.key" -CAcreateserial -days 30 \
    -extfile "$p/apiserver.ext" -out "$p/apiserver.crt" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj "/O=system:masters/CN=sipha-admin" -keyout "$p/admin.key" -out "$p/admin.csr" 2>/dev/null
  printf 'extendedKeyUsage=clientAuth\n' > "$p/admin.ext"
  openssl x509 -req -in "$p/admin.csr" -CA "$p/ca.crt" -CAkey "$p/ca.key" -CAcreateserial -days 30 \
    -extfile "$p/admin.ext" -out "$p/admin.crt" 2>/dev/null
  openssl genrsa -out "$p/sa.key" 2048 2>/dev/null
  openssl rsa -in "$p/sa.key" -pubout -out "$p/sa.pub" 2>/dev/null
  cat > "$kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: sipha-local
  cluster:
    server: https://127.0.0.1:$api_port
    certificate-authority: $p/ca.crt
users:
- name: sipha-admin
  user:
    client-certificate: $p/admin.crt
    client-key: $p/admin.key
contexts:
- name: sipha-local
  context: {cluster: sipha-local, user: sipha-admin}
current-context: sipha-local
EOF
}

# Starts "$@" in the background in its own session, its output in $dir/logs/$name.log.
run() {
  local name="$1"; shift
  setsid "$@" > "$dir/logs/$name.log" 2>&1 < /dev/null &
  echo "$! $name" >> "$dir/pids"
}

wait_for() {
  local what="$1" tries="$2"; shift 2
  for _ in $(seq "$tries"); do
    if "$@" > /dev/null 2>&1; then return 0; fi
    sleep 0.5
  done
  log "$what did not come up; its log:"; tail -20 "$dir/logs/$what.log" >&2 || true
  return 1
}

# The fake nodes, managed by kwok (annotation kwok.x-k8s.io/node=fake), with no taint so that the
# examples schedule as they are. Their addresses are loopback ones: whatever a component might send
# to a node's address stays on this machine.
nodes() {
  for n in node-a node-b; do
    local ip; ip=$([ "$n" = node-a ] && echo 127.0.0.11 || echo 127.0.0.12)
    cat <<EOF
---
apiVersion: v1
kind: Node
metadata:
  name: $n
  annotations: {kwok.x-k8s.io/node: fake, node.alpha.kubernetes.io/ttl: "0"}
  labels: {kubernetes.io/hostname: $n, kubernetes.io/os: linux, kubernetes.io/arch: amd64, type: kwok}
status:
  addresses: [{type: InternalIP, address: $ip}, {type: Hostname, address: $n}]
  allocatable: {cpu: "32", memory: 256Gi, pods: "110"}
  capacity: {cpu: "32", memory: 256Gi, pods: "110"}
EOF
  done
}

# kube-apiserver, and the wait until it is ready.
apiserver() {
  local p="$dir/pki"
  run kube-apiserver "$kube/kube-apiserver" --etcd-servers "http://127.0.0.1:$etcd_port" \
    --bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "$api_port" \
    --endpoint-reconciler-type none --tls-cert-file "$p/apiserver.crt" --tls-private-key-file "$p/apiserver.key" \
    --client-ca-file "$p/ca.crt" --authorization-mode RBAC --allow-privileged=true \
    --service-account-issuer https://kubernetes.default.svc.cluster.local \
    --service-account-key-file "$p/sa.pub" --service-account-signing-key-file "$p/sa.key" \
    --service-cluster-ip-range 10.96.0.0/16 --cert-dir "$dir/apiserver-certs"
  wait_for kube-apiserver 240 curl -fsS --cacert "$p/ca.crt" --cert "$p/admin.crt" --key "$p/admin.key" \
    "https://127.0.0.1:$api_port/readyz"
}

# Stops kube-apiserver (SIGTERM, as an upgrade would) and starts it again on the same data: every
# client's connection and watch ends, and a watch resumed from before may be answered 410 Gone.
restart_apiserver() {
  [ -f "$dir/pids" ] || { log "no cluster is running from $dir"; exit 2; }
  local pid; pid=$(awk '$2 == "kube-apiserver" { print $1 }' "$dir/pids")
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid"
  for _ in $(seq 120); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
  kill -KILL -- "-$pid" 2>/dev/null || true
  grep -v " kube-apiserver$" "$dir/pids" > "$dir/pids.new" && mv "$dir/pids.new" "$dir/pids"
  mv "$dir/logs/kube-apiserver.log" "$dir/logs/kube-apiserver.$(date +%s).log"
  local t0; t0=$(date +%s.%N)
  apiserver
  log "kube-apiserver restarted, ready in $(awk "BEGIN { printf \"%.1f\", $(date +%s.%N) - $t0 }") s"
}

start() {
  for b in "$etcd_bin" "$kube/kube-apiserver" "$kube/kube-controller-manager" "$kube/kube-scheduler" "$kwok_dir/kwok"; do
    [ -x "$b" ] || { log "$b is missing: run $here/build.sh (make control-plane) first"; exit 2; }
  done
  if [ -f "$dir/pids" ]; then
    log "a cluster is already running from $dir (cluster.sh down stops it)"; exit 2
  fi
  rm -rf "$dir" && mkdir -p "$dir/logs" "$dir/etcd"
  local t0; t0=$(date +%s.%N)
  pki
  run etcd "$etcd_bin" --name sipha-local --data-dir "$dir/etcd" --unsafe-no-fsync \
    --listen-client-urls "http://127.0.0.1:$etcd_port" --advertise-client-urls "http://127.0.0.1:$etcd_port" \
    --listen-peer-urls "http://127.0.0.1:$((etcd_port + 1))" --initial-advertise-peer-urls "http://127.0.0.1:$((etcd_port + 1))" \
    --initial-cluster "sipha-local=http://127.0.0.1:$((etcd_port + 1))" --listen-metrics-urls "http://127.0.0.1:$((etcd_port + 2))"
  wait_for etcd 60 curl -fsS "http://127.0.0.1:$etcd_port/health"
  apiserver
  local p="$dir/pki"
  run kube-controller-manager "$kube/kube-controller-manager" --kubeconfig "$kubeconfig" \
    --authentication-kubeconfig "$kubeconfig" --authorization-kubeconfig "$kubeconfig" \
    --bind-address 127.0.0.1 --secure-port "$kcm_port" --leader-elect=false --use-service-account-credentials \
    --service-account-private-key-file "$p/sa.key" --root-ca-file "$p/ca.crt" \
    --cluster-signing-cert-file "$p/ca.crt" --cluster-signing-key-file "$p/ca.key" \
    --controllers '*' --node-monitor-grace-period 40s
  run kube-scheduler "$kube/kube-scheduler" --kubeconfig "$kubeconfig" \
    --authentication-kubeconfig "$kubeconfig" --authorization-kubeconfig "$kubeconfig" \
    --bind-address 127.0.0.1 --secure-port "$sched_port" --leader-elect=false
  local stages=() s
  for s in node/fast/node-initialize.yaml node/heartbeat-with-lease/node-heartbeat-with-lease.yaml \
    pod/general/pod-create.yaml pod/general/pod-ready.yaml pod/general/pod-complete.yaml pod/general/pod-delete.yaml; do
    stages+=(--config "$kwok_dir/stage/$s")
  done
  run kwok "$kwok_dir/kwok" --kubeconfig "$kubeconfig" "${stages[@]}" --manage-all-nodes=false \
    --manage-nodes-with-annotation-selector kwok.x-k8s.io/node=fake --cidr 10.244.0.0/16 \
    --node-lease-duration-seconds 40
  nodes | "$kube/kubectl" --kubeconfig "$kubeconfig" apply -f - > /dev/null
  wait_for kwok 120 "$kube/kubectl" --kubeconfig "$kubeconfig" wait --for condition=Ready node/node-a node/node-b --timeout 1s
  wait_for kube-controller-manager 120 "$kube/kubectl" --kubeconfig "$kubeconfig" get serviceaccount default -n default
  log "up in $(awk "BEGIN { printf \"%.1f\", $(date +%s.%N) - $t0 }") s: Kubernetes $KUBE_VERSION, etcd $ETCD_VERSION, kwok $KWOK_VERSION; data and logs in $dir"
}

usage() {
  cat <<EOF
The local control plane is up (every process on 127.0.0.1). Use it with:
  export KUBECONFIG=$kubeconfig
  export PATH=$kube:\$PATH     # kubectl $KUBE_VERSION
  kubectl get nodes
Logs: $dir/logs/. Stop it with: make cluster-down (or Ctrl-C where make cluster runs).
EOF
}

down() {
  if [ -f "$dir/pids" ]; then
    local pid name
    # the reverse of the start order: kwok and the controllers first, etcd last
    tac "$dir/pids" | while read -r pid name; do
      kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    done
    for _ in $(seq 40); do
      local alive=0
      while read -r pid name; do kill -0 "$pid" 2>/dev/null && alive=1; done < "$dir/pids"
      [ $alive = 0 ] && break
      sleep 0.25
    done
    while read -r pid name; do kill -KILL -- "-$pid" 2>/dev/null || true; done < "$dir/pids"
  fi
  rm -rf "$dir"
  log "stopped; $dir removed"
}

case "${1:-}" in
  start) start ;;
  up)
    trap 'down; exit 0' INT TERM
    start
    usage
    while sleep 3600; do :; done ;;
  down) down ;;
  restart-apiserver) restart_apiserver ;;
  env) echo "$kubeconfig" ;;
  *) sed -n '2,10p' "$0" >&2; exit 2 ;;
esac
