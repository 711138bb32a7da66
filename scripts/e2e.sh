#!/usr/bin/env bash
# The real-broker test tier: Tansu 0.6.0 (an Apache-Kafka-compatible broker) as a separate
# process, the newsflow binary as a separate process, Python confluent-kafka as the client.
# Installs what it needs on first use into $NEWSFLOW_TOOLS (default ~/.cache/newsflow-tools):
#   - tansu 0.6.0 via `cargo install` (about 15 minutes the first time; reused afterwards)
#   - a Python venv with confluent-kafka from PyPI
#   - the Debian package prometheus (server and promtool), when running as root
# Extra arguments go to the test binaries (e.g. a test name filter); --install-only stops
# after installing.
set -euo pipefail
cd "$(dirname "$0")/.."
TOOLS="${NEWSFLOW_TOOLS:-$HOME/.cache/newsflow-tools}"
mkdir -p "$TOOLS"

tansu_ok() { [ -x "$1" ] && "$1" --version 2>/dev/null | grep -q '^tansu 0\.6\.0$'; }
if tansu_ok "$TOOLS/bin/tansu"; then
  TANSU_BIN="$TOOLS/bin/tansu"
elif command -v tansu >/dev/null && tansu_ok "$(command -v tansu)"; then
  TANSU_BIN="$(command -v tansu)"
else
  echo "e2e: installing tansu 0.6.0 into $TOOLS (first run only)"
  cargo install tansu --version 0.6.0 --features dynostore,libsql --root "$TOOLS"
  TANSU_BIN="$TOOLS/bin/tansu"
fi
export TANSU_BIN

if ! command -v prometheus >/dev/null || ! command -v promtool >/dev/null; then
  if [ "$(id -u)" = 0 ]; then
    echo "e2e: installing the Debian package prometheus (server and promtool)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq prometheus >/dev/null \
      || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq prometheus >/dev/null; }
  else
    echo "e2e: prometheus/promtool missing; install the Debian package prometheus" >&2
  fi
fi

if ! "$TOOLS/venv/bin/python" -c 'import confluent_kafka' 2>/dev/null; then
  echo "e2e: creating a Python venv with confluent-kafka in $TOOLS/venv"
  python3 -m venv "$TOOLS/venv"
  "$TOOLS/venv/bin/pip" install --quiet 'confluent-kafka>=2.3,<3'
fi
export NEWSFLOW_E2E_PYTHON="$TOOLS/venv/bin/python"

[ "${1:-}" = "--install-only" ] && exit 0

echo "e2e: $("$TANSU_BIN" --version), confluent-kafka $("$NEWSFLOW_E2E_PYTHON" -c 'import confluent_kafka as c; print(c.version()[0] + " (librdkafka " + c.libversion()[0] + ")")')"
# One broker per test; run them one at a time so timings stay predictable on small machines.
# tests/faults.rs holds the fault scenarios (kill -9, SIGTERM, broker outage, rejected
# output, rebalances, backlog); `scripts/e2e.sh kill_9` runs one of them.
cargo test --test e2e --test faults -- --ignored --test-threads=1 "$@"
