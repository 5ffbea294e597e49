#!/usr/bin/env bash
# Finds, or builds from Go modules, the tools the end-to-end suite needs, into a cache outside the
# repository keyed by version, and writes an env file that a test runner can `source`.
#
#   scripts/e2e/tools.sh [--env-file FILE] [--no-build] [TOOL...]
#
# --no-build (or E2E_NO_BUILD=1): build nothing; exit 3, naming the tools, when any is missing
# (the end-to-end suite skips then rather than spend an hour building).
#
# TOOL is any of: pulumi pulumi-language-nodejs pulumi-resource-kubernetes kubernetes etcd kwok
# (default: all that the chosen cluster provider needs). Every pin below can be overridden by env.
#
# Tools already on the machine win: a `pulumi` on PATH at least E2E_PULUMI_MIN_VERSION (with the
# language host next to it), a kubernetes provider on PATH or in the Pulumi plugin cache at the
# version the npm SDK pins, an existing kube context (E2E_KUBE_CONTEXT: no cluster tools at all),
# or `kind` with a working Docker when E2E_CLUSTER_PROVIDER=kind.
set -euo pipefail

# ---- pins (each overridable by env) ----------------------------------------------------------
# Pulumi CLI: github.com/pulumi/pulumi/pkg/v3 + sdk/v3 at the same version.
E2E_PULUMI_VERSION="${E2E_PULUMI_VERSION:-3.274.1}"
# A pulumi already on PATH is used when it is at least this version.
E2E_PULUMI_MIN_VERSION="${E2E_PULUMI_MIN_VERSION:-3.208.0}"
# Kubernetes provider: the module proxy serves provider/v4 only as a pseudo-version; this one is
# the commit tagged v4.25.0 (the npm SDK is 4.34.2, whose commit is not served).
E2E_K8S_PROVIDER_VERSION="${E2E_K8S_PROVIDER_VERSION:-4.25.0}"
E2E_K8S_PROVIDER_MODULE_VERSION="${E2E_K8S_PROVIDER_MODULE_VERSION:-v4.0.0-20260115033456-f47bc2d6f199}"
E2E_K8S_PROVIDER_SDK_VERSION="${E2E_K8S_PROVIDER_SDK_VERSION:-v4.25.0}"
# The version of @pulumi/kubernetes that the project pins; a provider plugin of exactly this
# version in the Pulumi plugin cache (a developer machine with internet) is used instead of a build.
E2E_K8S_PROVIDER_WANTED_VERSION="${E2E_K8S_PROVIDER_WANTED_VERSION:-4.34.2}"
# Control plane: k8s.io/kubernetes with its staging modules at v0.<minor>.<patch>.
E2E_KUBE_VERSION="${E2E_KUBE_VERSION:-1.36.3}"
# etcd: go.etcd.io/etcd/server/v3 (its root package is the etcd main package).
E2E_ETCD_VERSION="${E2E_ETCD_VERSION:-3.6.16}"
# kwok and kwokctl: sigs.k8s.io/kwok.
E2E_KWOK_VERSION="${E2E_KWOK_VERSION:-0.8.0}"
# auto: E2E_KUBE_CONTEXT if set, else kind if E2E_CLUSTER_PROVIDER=kind, else kwok.
E2E_CLUSTER_PROVIDER="${E2E_CLUSTER_PROVIDER:-auto}"
E2E_KUBE_CONTEXT="${E2E_KUBE_CONTEXT:-}"
# Only the Go on this machine is used unless told otherwise (go1.27.3 is the one other served).
export GOTOOLCHAIN="${E2E_GOTOOLCHAIN:-local}"

E2E_TOOLS_CACHE="${E2E_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/gitlab-k8s-platform/e2e}"
SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
LANGHOST_SRC="$SCRIPT_DIR/nodejs-langhost"

ENV_FILE=""
NO_BUILD="${E2E_NO_BUILD:-0}"
REQUESTED=()
while [ $# -gt 0 ]; do
  case "$1" in
    --env-file) ENV_FILE="$2"; shift 2 ;;
    --env-file=*) ENV_FILE="${1#--env-file=}"; shift ;;
    --no-build) NO_BUILD=1; shift ;;
    -h|--help) sed -n '2,16p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "tools.sh: unknown option $1" >&2; exit 2 ;;
    *) REQUESTED+=("$1"); shift ;;
  esac
done
ENV_FILE="${ENV_FILE:-$E2E_TOOLS_CACHE/env.sh}"

mkdir -p "$E2E_TOOLS_CACHE"
E2E_TOOLS_CACHE="$(cd "$E2E_TOOLS_CACHE" && pwd)"
LOG_DIR="$E2E_TOOLS_CACHE/logs"
mkdir -p "$LOG_DIR"

log() { printf '%s\n' "$*" >&2; }
die() { log "tools.sh: $*"; exit 1; }

# version_ge A B: A >= B (dotted versions, an optional leading v).
version_ge() {
  [ "$(printf '%s\n%s\n' "${1#v}" "${2#v}" | sort -V | head -n1)" = "${2#v}" ]
}

# report TOOL VERSION STATUS DETAIL
report() { printf '%-28s %-12s %-7s %s\n' "$1" "$2" "$3" "$4"; }

PATH_DIRS=()
add_path() {
  local d
  for d in "${PATH_DIRS[@]+"${PATH_DIRS[@]}"}"; do [ "$d" = "$1" ] && return 0; done
  PATH_DIRS+=("$1")
}
ENV_LINES=()
add_env() { ENV_LINES+=("export $1=$(printf '%q' "$2")"); }

TOTAL_BUILD_SECONDS=0

require_go() {
  command -v go >/dev/null 2>&1 || die "go is needed to build the tools (Go >= 1.26.6)"
  local v
  v="$(go env GOVERSION)"
  v="${v#go}"
  version_ge "$v" "1.26.6" || die "Go $v is too old: the pinned modules need Go >= 1.26.6"
}

# cached TOOLDIR: the tool was built completely before.
cached() { [ -f "$1/.complete" ]; }

# build_tool NAME VERSION DIR FUNCTION: runs FUNCTION STAGE (a fresh directory whose bin/ the
# function fills), then moves STAGE to DIR. Output goes to a log; failure prints its tail.
MISSING=()
build_tool() {
  local name="$1" version="$2" dir="$3" fn="$4" stage start end secs logf
  if [ "$NO_BUILD" = 1 ]; then
    report "$name" "$version" missing "not built (--no-build)"
    MISSING+=("$name")
    return 0
  fi
  require_go
  stage="$(mktemp -d "$E2E_TOOLS_CACHE/.stage-$name.XXXXXX")"
  chmod 0755 "$stage"
  logf="$LOG_DIR/$name-$version.log"
  log "building $name $version (log: $logf)"
  start="$(date +%s)"
  # Not in an `if`: there bash would ignore `set -e` inside the subshell.
  local rc=0
  set +e
  ( set -euo pipefail; mkdir -p "$stage/bin"; "$fn" "$stage" ) >"$logf" 2>&1
  rc=$?
  set -e
  if [ "$rc" -ne 0 ]; then
    tail -n 40 "$logf" >&2 || true
    rm -rf "$stage"
    die "building $name $version failed; full log: $logf"
  fi
  end="$(date +%s)"
  secs=$((end - start))
  TOTAL_BUILD_SECONDS=$((TOTAL_BUILD_SECONDS + secs))
  printf '%s\n' "$secs" >"$stage/.complete"
  rm -rf "$dir"
  mv "$stage" "$dir"
  report "$name" "$version" built "${secs}s -> $dir/bin"
}

# Each build function works in its own source dir under $E2E_TOOLS_CACHE/src (generated wrapper
# modules, never committed) and puts binaries in "$1/bin".
src_dir() {
  local d="$E2E_TOOLS_CACHE/src/$1"
  rm -rf "$d"
  mkdir -p "$d"
  printf '%s\n' "$d"
}

# mod_info MODULE@VERSION FIELD: downloads a module and prints one field of `go mod download -json`.
mod_info() {
  local out
  out="$(go mod download -json "$1")" || { printf '%s\n' "$out" >&2; return 1; }
  printf '%s\n' "$out" | jq -er --arg f "$2" '.[$f]'
}

# copy_version_replaces GOMOD: adds to the current module the replace directives of GOMOD that
# point at another module version (local-path replaces are dropped).
copy_version_replaces() {
  local args=()
  mapfile -t args < <(go mod edit -json "$1" | jq -r '.Replace[]? | select(.New.Version != null)
    | "-replace=\(.Old.Path)\(if .Old.Version then "@" + .Old.Version else "" end)=\(.New.Path)@\(.New.Version)"')
  if [ "${#args[@]}" -gt 0 ]; then go mod edit "${args[@]}"; fi
}

# ---- pulumi CLI ------------------------------------------------------------------------------
build_pulumi() {
  local out="$1" v="$E2E_PULUMI_VERSION" src gomod
  src="$(src_dir "pulumi-$v")"
  cd "$src"
  go mod init e2e.local/pulumi-cli
  go mod edit -go=1.26 \
    -require="github.com/pulumi/pulumi/pkg/v3@v$v" -require="github.com/pulumi/pulumi/sdk/v3@v$v"
  gomod="$(mod_info "github.com/pulumi/pulumi/pkg/v3@v$v" GoMod)"
  copy_version_replaces "$gomod"
  # -mod=mod rather than `go mod tidy`: tidy would also fetch the test dependencies of every package.
  CGO_ENABLED=0 go build -mod=mod -trimpath -tags osusergo,grpcnotrace \
    -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$v" \
    -o "$out/bin/pulumi" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
  write_node_shims "$out/bin"
}

# The shell-script plugins that Pulumi's release ships next to the CLI: dynamic providers, and the
# policy-pack analyzer used when no nodejs language plugin is found (with one, policy packs run
# through the language host's RunPlugin). Both resolve @pulumi/pulumi from the working directory.
write_node_shims() {
  cat >"$1/pulumi-resource-pulumi-nodejs" <<'EOF'
#!/bin/sh
PULUMI_DYNAMIC_PROVIDER_SCRIPT_PATH=$(node -e "console.log(require.resolve('@pulumi/pulumi/cmd/dynamic-provider'))")
if [ -n "$PULUMI_DYNAMIC_PROVIDER_SCRIPT_PATH" ]; then
    exec node "$PULUMI_DYNAMIC_PROVIDER_SCRIPT_PATH" "$@"
fi
EOF
  cat >"$1/pulumi-analyzer-policy" <<'EOF'
#!/bin/sh
PULUMI_RUN_SCRIPT_PATH=$(node -e "try { console.log(require.resolve('@pulumi/pulumi/cmd/run-policy-pack')) } catch (e) { console.error(e.message) }")
if [ -n "$PULUMI_RUN_SCRIPT_PATH" ]; then
    exec node "$PULUMI_RUN_SCRIPT_PATH" "$@"
fi
EOF
  chmod 0755 "$1/pulumi-resource-pulumi-nodejs" "$1/pulumi-analyzer-policy"
}

# ---- nodejs language host --------------------------------------------------------------------
# Pulumi's own pulumi-language-nodejs is a separate, untagged module that the module proxy does not
# serve; scripts/e2e/nodejs-langhost is a small host of our own against sdk/v3.
langhost_key() {
  (cd "$LANGHOST_SRC" && cat ./*.go) | sha256sum | cut -c1-12
}
build_langhost() {
  local out="$1" v="$E2E_PULUMI_VERSION" src
  src="$(src_dir "pulumi-language-nodejs-$v")"
  cp "$LANGHOST_SRC"/*.go "$src/"
  rm -f "$src"/*_test.go
  cd "$src"
  go mod init e2e.local/pulumi-language-nodejs
  go mod edit -go=1.26 -require="github.com/pulumi/pulumi/sdk/v3@v$v"
  CGO_ENABLED=0 go build -mod=mod -trimpath -tags osusergo,grpcnotrace -ldflags "-s -w -X main.version=$v-e2e" \
    -o "$out/bin/pulumi-language-nodejs" .
}

# ---- pulumi-resource-kubernetes --------------------------------------------------------------
build_k8s_provider() {
  local out="$1" src pdir sdir
  src="$(src_dir "pulumi-kubernetes-$E2E_K8S_PROVIDER_VERSION")"
  pdir="$(mod_info "github.com/pulumi/pulumi-kubernetes/provider/v4@$E2E_K8S_PROVIDER_MODULE_VERSION" Dir)"
  sdir="$(mod_info "github.com/pulumi/pulumi-kubernetes/sdk/v4@$E2E_K8S_PROVIDER_SDK_VERSION" Dir)"
  # provider/go.mod replaces sdk/v4 => ../sdk; the module zip lacks the generated schema-embed.json.
  cp -R "$pdir" "$src/provider"
  cp -R "$sdir" "$src/sdk"
  chmod -R u+w "$src"
  (cd "$src/provider/cmd/pulumi-resource-kubernetes" && VERSION="$E2E_K8S_PROVIDER_VERSION" go run -mod=mod ./generate.go)
  cd "$src/provider"
  CGO_ENABLED=0 go build -mod=mod -trimpath \
    -ldflags "-s -w -X github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version.Version=$E2E_K8S_PROVIDER_VERSION" \
    -o "$out/bin/pulumi-resource-kubernetes" ./cmd/pulumi-resource-kubernetes
}

# ---- kube-apiserver, kube-controller-manager, kube-scheduler ---------------------------------
build_kubernetes() {
  local out="$1" v="$E2E_KUBE_VERSION" src gomod minor staging args=()
  minor="$(printf '%s' "$v" | cut -d. -f2)"
  staging="v0.${v#*.}"
  src="$(src_dir "kubernetes-$v")"
  cd "$src"
  go mod init e2e.local/kubernetes
  go mod edit -go=1.26 -require="k8s.io/kubernetes@v$v"
  gomod="$(mod_info "k8s.io/kubernetes@v$v" GoMod)"
  # k8s.io/kubernetes requires its staging modules at v0.0.0 with ./staging replaces: point each at
  # its published v0.<minor>.<patch>, and keep any replace that names a version.
  mapfile -t args < <(go mod edit -json "$gomod" | jq -r --arg s "$staging" '.Replace[]?
    | if (.New.Path | startswith("./staging/")) then "-replace=\(.Old.Path)=\(.Old.Path)@\($s)"
      elif .New.Version != null then "-replace=\(.Old.Path)\(if .Old.Version then "@" + .Old.Version else "" end)=\(.New.Path)@\(.New.Version)"
      else empty end')
  go mod edit "${args[@]}"
  local ld="" pkg
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ld="$ld -X $pkg.gitVersion=v$v -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean"
    ld="$ld -X $pkg.buildDate=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  done
  CGO_ENABLED=0 go build -mod=mod -trimpath -ldflags "-s -w$ld" -o "$out/bin/" \
    k8s.io/kubernetes/cmd/kube-apiserver \
    k8s.io/kubernetes/cmd/kube-controller-manager \
    k8s.io/kubernetes/cmd/kube-scheduler
}

# ---- etcd ------------------------------------------------------------------------------------
build_etcd() {
  local out="$1" v="$E2E_ETCD_VERSION" src
  src="$(src_dir "etcd-$v")"
  cd "$src"
  go mod init e2e.local/etcd
  go mod edit -go=1.26 -require="go.etcd.io/etcd/server/v3@v$v"
  CGO_ENABLED=0 go build -mod=mod -trimpath -ldflags "-s -w" -o "$out/bin/etcd" go.etcd.io/etcd/server/v3
}

# ---- kwok, kwokctl ---------------------------------------------------------------------------
build_kwok() {
  local out="$1" v="$E2E_KWOK_VERSION"
  cd "$E2E_TOOLS_CACHE"
  CGO_ENABLED=0 GOBIN="$out/bin" go install -trimpath \
    -ldflags "-s -w -X sigs.k8s.io/kwok/pkg/consts.Version=$v" \
    "sigs.k8s.io/kwok/cmd/kwok@v$v" "sigs.k8s.io/kwok/cmd/kwokctl@v$v"
}

# ---- per-tool logic: found (user's) / cached / built -----------------------------------------
USER_PULUMI_DIR=""
OUR_PULUMI_DIR=""

ensure_pulumi() {
  local p uv dir="$E2E_TOOLS_CACHE/pulumi-$E2E_PULUMI_VERSION"
  if p="$(command -v pulumi 2>/dev/null)" && [ "$(dirname "$p")" != "$dir/bin" ]; then
    uv="$(pulumi version 2>/dev/null || true)"
    if [ -n "$uv" ] && version_ge "$uv" "$E2E_PULUMI_MIN_VERSION"; then
      USER_PULUMI_DIR="$(dirname "$(readlink -f "$p")")"
      report pulumi "${uv#v}" found "$p"
      return 0
    fi
    log "pulumi on PATH is ${uv:-of unknown version}, older than $E2E_PULUMI_MIN_VERSION: using the cache"
  fi
  if cached "$dir"; then
    report pulumi "$E2E_PULUMI_VERSION" cached "$dir/bin"
  else
    build_tool pulumi "$E2E_PULUMI_VERSION" "$dir" build_pulumi
  fi
  OUR_PULUMI_DIR="$dir"
  add_path "$dir/bin"
}

ensure_langhost() {
  local key dir
  if [ -n "$USER_PULUMI_DIR" ] && [ -x "$USER_PULUMI_DIR/pulumi-language-nodejs" ]; then
    report pulumi-language-nodejs "-" found "$USER_PULUMI_DIR/pulumi-language-nodejs"
    return 0
  fi
  [ -d "$LANGHOST_SRC" ] || die "missing $LANGHOST_SRC"
  key="$(langhost_key)"
  dir="$E2E_TOOLS_CACHE/pulumi-language-nodejs-$E2E_PULUMI_VERSION-$key"
  if cached "$dir"; then
    report pulumi-language-nodejs "$E2E_PULUMI_VERSION" cached "$dir/bin"
  else
    build_tool pulumi-language-nodejs "$E2E_PULUMI_VERSION" "$dir" build_langhost
  fi
  add_path "$dir/bin"
  # Next to our pulumi, where the CLI looks for bundled plugins: no "using ... from $PATH" warning.
  if [ -n "$OUR_PULUMI_DIR" ] && [ -d "$OUR_PULUMI_DIR/bin" ] && [ -d "$dir/bin" ]; then
    ln -sfn "$dir/bin/pulumi-language-nodejs" "$OUR_PULUMI_DIR/bin/pulumi-language-nodejs"
  fi
  # The CLI's own shims, also needed next to a user's pulumi that lacks them.
  if [ -n "$USER_PULUMI_DIR" ] && [ ! -x "$USER_PULUMI_DIR/pulumi-resource-pulumi-nodejs" ]; then
    write_node_shims "$dir/bin"
  fi
}

ensure_k8s_provider() {
  local p home dir="$E2E_TOOLS_CACHE/pulumi-resource-kubernetes-$E2E_K8S_PROVIDER_VERSION"
  if p="$(command -v pulumi-resource-kubernetes 2>/dev/null)" && [ "$(dirname "$p")" != "$dir/bin" ]; then
    report pulumi-resource-kubernetes "-" found "$p (on PATH)"
    return 0
  fi
  home="${PULUMI_HOME:-$HOME/.pulumi}"
  p="$home/plugins/resource-kubernetes-v$E2E_K8S_PROVIDER_WANTED_VERSION/pulumi-resource-kubernetes"
  if [ -x "$p" ]; then
    report pulumi-resource-kubernetes "$E2E_K8S_PROVIDER_WANTED_VERSION" found "$p (plugin cache)"
    return 0
  fi
  if cached "$dir"; then
    report pulumi-resource-kubernetes "$E2E_K8S_PROVIDER_VERSION" cached "$dir/bin"
  else
    build_tool pulumi-resource-kubernetes "$E2E_K8S_PROVIDER_VERSION" "$dir" build_k8s_provider
  fi
  add_path "$dir/bin"
}

ensure_kubernetes() {
  local dir="$E2E_TOOLS_CACHE/kubernetes-$E2E_KUBE_VERSION"
  if cached "$dir"; then
    report kubernetes "$E2E_KUBE_VERSION" cached "$dir/bin"
  else
    build_tool kubernetes "$E2E_KUBE_VERSION" "$dir" build_kubernetes
  fi
  add_env KWOK_KUBE_BINARY_PREFIX "$dir/bin"
  add_env KWOK_KUBE_VERSION "v$E2E_KUBE_VERSION"
}

ensure_etcd() {
  local dir="$E2E_TOOLS_CACHE/etcd-$E2E_ETCD_VERSION"
  if cached "$dir"; then
    report etcd "$E2E_ETCD_VERSION" cached "$dir/bin"
  else
    build_tool etcd "$E2E_ETCD_VERSION" "$dir" build_etcd
  fi
  add_env KWOK_ETCD_BINARY "$dir/bin/etcd"
  add_env KWOK_ETCD_VERSION "$E2E_ETCD_VERSION"
}

ensure_kwok() {
  local dir="$E2E_TOOLS_CACHE/kwok-$E2E_KWOK_VERSION"
  if cached "$dir"; then
    report kwok "$E2E_KWOK_VERSION" cached "$dir/bin"
  else
    build_tool kwok "$E2E_KWOK_VERSION" "$dir" build_kwok
  fi
  add_path "$dir/bin"
  add_env KWOK_CONTROLLER_BINARY "$dir/bin/kwok"
  add_env KWOK_RUNTIME binary
  # Where kwokctl keeps its clusters (cluster.sh uses the same default).
  add_env KWOK_WORKDIR "${KWOK_WORKDIR:-$E2E_TOOLS_CACHE/kwok-workdir}"
}

ensure_kubectl() {
  local p
  if p="$(command -v kubectl 2>/dev/null)"; then
    report kubectl "$(kubectl version --client -o json 2>/dev/null | jq -r '.clientVersion.gitVersion' 2>/dev/null || echo '?')" found "$p"
  else
    log "warning: no kubectl on PATH; cluster.sh and the suite use kubectl"
  fi
}

# ---- main ------------------------------------------------------------------------------------
provider="$E2E_CLUSTER_PROVIDER"
if [ "$provider" = auto ]; then
  if [ -n "$E2E_KUBE_CONTEXT" ]; then provider=context; else provider=kwok; fi
fi
case "$provider" in
  context) [ -n "$E2E_KUBE_CONTEXT" ] || die "E2E_CLUSTER_PROVIDER=context needs E2E_KUBE_CONTEXT" ;;
  kind) command -v kind >/dev/null 2>&1 || die "E2E_CLUSTER_PROVIDER=kind but no kind on PATH" ;;
  kwok) ;;
  *) die "E2E_CLUSTER_PROVIDER must be auto, kwok, kind or context (got $provider)" ;;
esac

if [ "${#REQUESTED[@]}" -eq 0 ]; then
  REQUESTED=(pulumi pulumi-language-nodejs pulumi-resource-kubernetes)
  if [ "$provider" = kwok ]; then REQUESTED+=(etcd kwok kubernetes); fi
fi

# pulumi decides whether the language host is the user's, so it always goes first.
if printf '%s\n' "${REQUESTED[@]}" | grep -qx pulumi-language-nodejs && ! printf '%s\n' "${REQUESTED[@]}" | grep -qx pulumi; then
  REQUESTED=(pulumi "${REQUESTED[@]}")
fi

all_start="$(date +%s)"
report TOOL VERSION STATUS DETAIL
for t in "${REQUESTED[@]}"; do
  case "$t" in
    pulumi) ensure_pulumi ;;
    pulumi-language-nodejs) ensure_langhost ;;
    pulumi-resource-kubernetes) ensure_k8s_provider ;;
    kubernetes) ensure_kubernetes ;;
    etcd) ensure_etcd ;;
    kwok) ensure_kwok ;;
    *) die "unknown tool $t" ;;
  esac
done
ensure_kubectl
if [ "$provider" = kind ]; then report kind "$(kind version -q 2>/dev/null || echo '?')" found "$(command -v kind)"; fi
if [ "$provider" = context ]; then report kube-context "-" found "$E2E_KUBE_CONTEXT"; fi
all_end="$(date +%s)"
if [ "${#MISSING[@]}" -gt 0 ]; then
  log "missing tools: ${MISSING[*]} (run scripts/e2e/tools.sh without --no-build to build them)"
  exit 3
fi

mkdir -p "$(dirname "$ENV_FILE")"
{
  echo "# Written by scripts/e2e/tools.sh; source it before running the end-to-end suite."
  add_env E2E_TOOLS_CACHE "$E2E_TOOLS_CACHE"
  add_env E2E_CLUSTER_PROVIDER "$provider"
  if [ -n "$E2E_KUBE_CONTEXT" ]; then add_env E2E_KUBE_CONTEXT "$E2E_KUBE_CONTEXT"; fi
  # No update checks or plugin downloads from the CLI: everything it needs is on PATH.
  add_env PULUMI_SKIP_UPDATE_CHECK true
  printf '%s\n' "${ENV_LINES[@]}"
  if [ "${#PATH_DIRS[@]}" -gt 0 ]; then
    joined="$(IFS=:; printf '%s' "${PATH_DIRS[*]}")"
    # shellcheck disable=SC2016 # $PATH is for the shell that sources the file
    printf 'export PATH=%q:"$PATH"\n' "$joined"
  fi
} >"$ENV_FILE"

log ""
log "tools: $((all_end - all_start))s in all, of which ${TOTAL_BUILD_SECONDS}s building; cache $E2E_TOOLS_CACHE ($(du -sh "$E2E_TOOLS_CACHE" 2>/dev/null | cut -f1))"
log "env file: $ENV_FILE  (source it: . $(printf '%q' "$ENV_FILE"))"
