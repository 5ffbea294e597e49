#!/usr/bin/env bash
# A local Kubernetes cluster for the end-to-end suite.
#
#   scripts/e2e/cluster.sh up          start it (or reuse a running one), write its kubeconfig
#   scripts/e2e/cluster.sh down        tear it down and remove its kubeconfig
#   scripts/e2e/cluster.sh kubeconfig  print the kubeconfig's path (after `up`)
#
# Provider (E2E_CLUSTER_PROVIDER, from the tools env file unless set): kwok (default) runs
# etcd, kube-apiserver, kube-controller-manager, kube-scheduler and kwok as local processes built
# by tools.sh (kwokctl --runtime=binary), all bound to 127.0.0.1, with fake nodes whose pods
# become Ready without running anything; context uses the existing kube context E2E_KUBE_CONTEXT
# (never created or deleted here); kind uses `kind`.
#
# Env: E2E_CLUSTER_NAME (platform-e2e), E2E_CONTEXT (kwok-platform-e2e: the context name in the
# written kubeconfig), E2E_KUBECONFIG (default $E2E_TOOLS_CACHE/clusters/<name>/kubeconfig),
# E2E_NODES (1: fake nodes), E2E_CLUSTER_TIMEOUT (180 seconds), E2E_ENV_FILE (tools env file).
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
E2E_TOOLS_CACHE="${E2E_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/gitlab-k8s-platform/e2e}"
E2E_ENV_FILE="${E2E_ENV_FILE:-$E2E_TOOLS_CACHE/env.sh}"
E2E_CLUSTER_NAME="${E2E_CLUSTER_NAME:-platform-e2e}"
E2E_CONTEXT="${E2E_CONTEXT:-kwok-platform-e2e}"
E2E_NODES="${E2E_NODES:-1}"
E2E_CLUSTER_TIMEOUT="${E2E_CLUSTER_TIMEOUT:-180}"

log() { printf '%s\n' "$*" >&2; }
die() { log "cluster.sh: $*"; exit 1; }

# Tools: the env file that tools.sh writes (made now if missing). Values already in the
# environment win over the file's for the provider choice.
load_tools_env() {
  local provider_override="${E2E_CLUSTER_PROVIDER:-}" context_override="${E2E_KUBE_CONTEXT:-}"
  if [ ! -f "$E2E_ENV_FILE" ]; then
    log "no tools env file at $E2E_ENV_FILE: running tools.sh"
    "$SCRIPT_DIR/tools.sh" --env-file "$E2E_ENV_FILE" >&2
  fi
  # shellcheck disable=SC1090 # written by tools.sh
  . "$E2E_ENV_FILE"
  if [ -n "$provider_override" ]; then E2E_CLUSTER_PROVIDER="$provider_override"; fi
  if [ -n "$context_override" ]; then E2E_KUBE_CONTEXT="$context_override"; fi
  E2E_CLUSTER_PROVIDER="${E2E_CLUSTER_PROVIDER:-auto}"
  if [ "$E2E_CLUSTER_PROVIDER" = auto ]; then
    if [ -n "${E2E_KUBE_CONTEXT:-}" ]; then E2E_CLUSTER_PROVIDER=context; else E2E_CLUSTER_PROVIDER=kwok; fi
  fi
  E2E_TOOLS_CACHE="${E2E_TOOLS_CACHE%/}"
  E2E_KUBECONFIG="${E2E_KUBECONFIG:-$E2E_TOOLS_CACHE/clusters/$E2E_CLUSTER_NAME/kubeconfig}"
  # kwokctl keeps each cluster's files (pki, etcd data, logs) here instead of ~/.kwok.
  export KWOK_WORKDIR="${KWOK_WORKDIR:-$E2E_TOOLS_CACHE/kwok-workdir}"
}

kc() { kubectl --kubeconfig "$E2E_KUBECONFIG" --context "$E2E_CONTEXT" "$@"; }

# wait_for SECONDS DESCRIPTION COMMAND...: retries COMMAND every second.
wait_for() {
  local limit="$1" what="$2" start
  shift 2
  start="$(date +%s)"
  until "$@" >/dev/null 2>&1; do
    if [ $(($(date +%s) - start)) -ge "$limit" ]; then
      log "timed out after ${limit}s waiting for $what; last attempt:"
      "$@" >&2 || true
      return 1
    fi
    sleep 1
  done
}

# Fails unless a node is Ready.
node_ready() {
  kc get nodes -o jsonpath='{range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}' | grep -qx True
}

# ---- kwok ------------------------------------------------------------------------------------
kwok_exists() {
  kwokctl get clusters 2>/dev/null | grep -qx "$E2E_CLUSTER_NAME"
}

kwok_up() {
  command -v kwokctl >/dev/null 2>&1 || die "kwokctl is not on PATH; run scripts/e2e/tools.sh"
  local cfg="$KWOK_WORKDIR/$E2E_CLUSTER_NAME.kwokctl.yaml"
  mkdir -p "$KWOK_WORKDIR"
  # Every component listens on loopback only (kwokctl's default is 0.0.0.0).
  cat >"$cfg" <<'EOF'
apiVersion: config.kwok.x-k8s.io/v1alpha1
kind: KwokctlConfiguration
options:
  bindAddress: 127.0.0.1
EOF
  if kwok_exists; then
    log "kwok cluster $E2E_CLUSTER_NAME exists: starting it if stopped"
    kwokctl start cluster --name "$E2E_CLUSTER_NAME" >&2
  else
    # Secure port with RBAC (--authorization-mode=Node,RBAC) and the default admission plugins
    # (PodSecurity among them) are kwokctl's defaults for this Kubernetes version; stated anyway.
    kwokctl create cluster --name "$E2E_CLUSTER_NAME" --runtime binary --config "$cfg" \
      --secure-port=true --kube-authorization=true --kube-admission=true \
      --quiet-pull --timeout "${E2E_CLUSTER_TIMEOUT}s" --wait "${E2E_CLUSTER_TIMEOUT}s" \
      --kubeconfig "$E2E_KUBECONFIG.kwok" >&2
  fi
  rm -f "$E2E_KUBECONFIG.kwok"
  # kwokctl names the context kwok-<name>; rename it to E2E_CONTEXT in our own file.
  kwokctl get kubeconfig --name "$E2E_CLUSTER_NAME" >"$E2E_KUBECONFIG.tmp"
  local from="kwok-$E2E_CLUSTER_NAME"
  if [ "$from" != "$E2E_CONTEXT" ]; then
    kubectl --kubeconfig "$E2E_KUBECONFIG.tmp" config rename-context "$from" "$E2E_CONTEXT" >/dev/null
  fi
  kubectl --kubeconfig "$E2E_KUBECONFIG.tmp" config use-context "$E2E_CONTEXT" >/dev/null
  mv "$E2E_KUBECONFIG.tmp" "$E2E_KUBECONFIG"
  wait_for "$E2E_CLUSTER_TIMEOUT" "the API server" kc get --raw /readyz
  # Fake nodes: kwok manages nodes annotated kwok.x-k8s.io/node=fake and makes their pods Ready.
  local have
  have="$(kc get nodes -l type=kwok -o name | wc -l)"
  if [ "$have" -lt "$E2E_NODES" ]; then
    kwokctl scale node --name "$E2E_CLUSTER_NAME" --replicas "$E2E_NODES" >&2
  fi
}

no_cluster_processes() {
  ! pgrep -f "$KWOK_WORKDIR/clusters/$E2E_CLUSTER_NAME/bin/" >/dev/null
}

kwok_down() {
  if command -v kwokctl >/dev/null 2>&1 && kwok_exists; then
    kwokctl delete cluster --name "$E2E_CLUSTER_NAME" >&2
    # kwokctl returns while its processes are still exiting; wait for them (matched by this
    # cluster's own binary paths), so that a following `up` starts clean.
    wait_for 60 "the cluster's processes to exit" no_cluster_processes
  else
    log "no kwok cluster $E2E_CLUSTER_NAME"
  fi
}

# ---- an existing context ---------------------------------------------------------------------
context_up() {
  [ -n "${E2E_KUBE_CONTEXT:-}" ] || die "E2E_CLUSTER_PROVIDER=context needs E2E_KUBE_CONTEXT"
  kubectl config view --raw --minify --flatten --context "$E2E_KUBE_CONTEXT" >"$E2E_KUBECONFIG.tmp"
  if [ "$E2E_KUBE_CONTEXT" != "$E2E_CONTEXT" ]; then
    kubectl --kubeconfig "$E2E_KUBECONFIG.tmp" config rename-context "$E2E_KUBE_CONTEXT" "$E2E_CONTEXT" >/dev/null
  fi
  mv "$E2E_KUBECONFIG.tmp" "$E2E_KUBECONFIG"
  wait_for "$E2E_CLUSTER_TIMEOUT" "the API server" kc get --raw /readyz
}

# ---- kind ------------------------------------------------------------------------------------
kind_up() {
  command -v kind >/dev/null 2>&1 || die "no kind on PATH"
  if ! kind get clusters 2>/dev/null | grep -qx "$E2E_CLUSTER_NAME"; then
    kind create cluster --name "$E2E_CLUSTER_NAME" --wait "${E2E_CLUSTER_TIMEOUT}s" \
      --kubeconfig "$E2E_KUBECONFIG.kind" >&2
    rm -f "$E2E_KUBECONFIG.kind"
  fi
  kind get kubeconfig --name "$E2E_CLUSTER_NAME" >"$E2E_KUBECONFIG.tmp"
  kubectl --kubeconfig "$E2E_KUBECONFIG.tmp" config rename-context "kind-$E2E_CLUSTER_NAME" "$E2E_CONTEXT" >/dev/null
  mv "$E2E_KUBECONFIG.tmp" "$E2E_KUBECONFIG"
  wait_for "$E2E_CLUSTER_TIMEOUT" "the API server" kc get --raw /readyz
}

kind_down() {
  if command -v kind >/dev/null 2>&1 && kind get clusters 2>/dev/null | grep -qx "$E2E_CLUSTER_NAME"; then
    kind delete cluster --name "$E2E_CLUSTER_NAME" >&2
  fi
}

# ---- main ------------------------------------------------------------------------------------
cmd="${1:-}"
case "$cmd" in
  up|down|kubeconfig) ;;
  *) sed -n '2,16p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
load_tools_env

case "$cmd" in
  up)
    start="$(date +%s)"
    mkdir -p "$(dirname "$E2E_KUBECONFIG")"
    case "$E2E_CLUSTER_PROVIDER" in
      kwok) kwok_up ;;
      context) context_up ;;
      kind) kind_up ;;
      *) die "unknown E2E_CLUSTER_PROVIDER $E2E_CLUSTER_PROVIDER" ;;
    esac
    wait_for "$E2E_CLUSTER_TIMEOUT" "a Ready node" node_ready
    # Pods are refused until the namespace's default service account exists.
    wait_for "$E2E_CLUSTER_TIMEOUT" "the default service account" kc -n default get serviceaccount default
    log "cluster $E2E_CLUSTER_NAME ($E2E_CLUSTER_PROVIDER) up in $(($(date +%s) - start))s; context $E2E_CONTEXT"
    printf '%s\n' "$E2E_KUBECONFIG"
    ;;
  down)
    case "$E2E_CLUSTER_PROVIDER" in
      kwok) kwok_down ;;
      kind) kind_down ;;
      context) log "context provider: leaving $E2E_KUBE_CONTEXT alone" ;;
    esac
    rm -f "$E2E_KUBECONFIG"
    ;;
  kubeconfig)
    [ -f "$E2E_KUBECONFIG" ] || die "no kubeconfig at $E2E_KUBECONFIG: run 'cluster.sh up' first"
    printf '%s\n' "$E2E_KUBECONFIG"
    ;;
esac
