#!/usr/bin/env bash
# End-to-end throughput of newsflow against the client/broker ceiling, in one run, on one
# data set: the generated corpus (articles of about SIZE bytes, 20% exact and 5% near
# duplicates) on an input topic of PARTITIONS partitions, consumed by
#   (a) a pass-through consumer→producer with newsflow's client settings and offset
#       handling and no processing (the ceiling), then
#   (b) newsflow (the release binary as its own process; app::run in-process for the
#       embedded broker),
# (a) again after (b), each run on a fresh broker fed the same corpus: first a real broker
# process (Tansu 0.6.0, SQLite storage; TANSU_ARTICLES articles, default 5,000: it slows
# down steeply as its topics grow, see BENCHMARKS.md),
# then through the in-process broker (librdkafka's mock cluster; ARTICLES, default 50,000).
# Latency comes from a second, paced feed (LATENCY_COUNT articles at LATENCY_RATE/s;
# TANSU_LATENCY_* on Tansu). Prints one table; the driver is examples/e2e.rs, the figures
# are explained in BENCHMARKS.md.
#
#   bench/e2e.sh              the comparison (about 2 minutes on 2 cores)
#   bench/e2e.sh --scaling    newsflow (its own process) on the in-process broker: input
#                             partitions 1, 2, 4 × processing.workers 1, 2, then
#                             dedup.max_entries 100k / 1M / 10M; then pipeline throughput
#                             and memory with 100k / 1M / 10M indexed articles (no Kafka);
#                             about 8 minutes
#   ARTICLES=20000 TANSU_ARTICLES=2000 bench/e2e.sh   a shorter run
#
# Needs tansu 0.6.0 (TANSU_BIN, $NEWSFLOW_TOOLS/bin or PATH; `scripts/e2e.sh --install-only`
# installs it). Results are also appended as JSON lines to $OUT (default target/bench/e2e.jsonl).
set -euo pipefail
cd "$(dirname "$0")/.."

ARTICLES="${ARTICLES:-50000}"
TANSU_ARTICLES="${TANSU_ARTICLES:-5000}"
SIZE="${SIZE:-4096}"
PARTITIONS="${PARTITIONS:-4}"
LATENCY_COUNT="${LATENCY_COUNT:-3000}"
LATENCY_RATE="${LATENCY_RATE:-300}"
TANSU_LATENCY_COUNT="${TANSU_LATENCY_COUNT:-1000}"
TANSU_LATENCY_RATE="${TANSU_LATENCY_RATE:-100}"
MODE="${1:-compare}"

TOOLS="${NEWSFLOW_TOOLS:-$HOME/.cache/newsflow-tools}"
tansu_ok() { [ -x "$1" ] && "$1" --version 2>/dev/null | grep -q '^tansu 0\.6\.0$'; }
if [ -n "${TANSU_BIN:-}" ] && tansu_ok "$TANSU_BIN"; then :
elif tansu_ok "$TOOLS/bin/tansu"; then TANSU_BIN="$TOOLS/bin/tansu"
elif command -v tansu >/dev/null && tansu_ok "$(command -v tansu)"; then TANSU_BIN="$(command -v tansu)"
else
  scripts/e2e.sh --install-only
  TANSU_BIN="$TOOLS/bin/tansu"
fi

TARGET="${CARGO_TARGET_DIR:-target}"
cargo build --release --quiet --bin newsflow --example e2e
E2E="$TARGET/release/examples/e2e"
NEWSFLOW="$TARGET/release/newsflow"
mkdir -p "$TARGET/bench"
OUT="${OUT:-$TARGET/bench/e2e.jsonl}"
: > "$OUT"

started=$(date +%s)
echo "machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(free -g | awk '/^Mem:/ {print $2}') GiB RAM"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "corpus: articles of about $SIZE bytes, $PARTITIONS partitions; Tansu: $TANSU_ARTICLES articles, latency feed $TANSU_LATENCY_COUNT at $TANSU_LATENCY_RATE/s; in-process: $ARTICLES articles, latency feed $LATENCY_COUNT at $LATENCY_RATE/s"

# Each run gets a fresh Tansu (SQLite storage in a fresh directory) fed the same corpus.
# The SQLite path is relative to the broker's working directory.
START="'$TANSU_BIN' broker --listener-url tcp://127.0.0.1:{port} --advertised-listener-url tcp://127.0.0.1:{port} --storage-engine sqlite://tansu.db"
CREATE="cd '{dir}' && '$TANSU_BIN' topic create {topic} --partitions {partitions} --broker tcp://127.0.0.1:{port}"
# Tansu and the mock cluster hold every fetch for fetch.wait.max.ms even when data is ready.
COMMON=(--size "$SIZE" --set kafka.consumer_properties.fetch.wait.max.ms=25 --json "$OUT")
TANSU=(broker --label tansu --start "$START" --create-topic "$CREATE" --bin "$NEWSFLOW"
  --count "$TANSU_ARTICLES")

case "$MODE" in
  compare)
    "$E2E" "${TANSU[@]}" --partitions "$PARTITIONS" --latency-count "$TANSU_LATENCY_COUNT" \
      --latency-rate "$TANSU_LATENCY_RATE" "${COMMON[@]}" >/dev/null
    "$E2E" embedded --label in-process --count "$ARTICLES" --partitions "$PARTITIONS" \
      --latency-count "$LATENCY_COUNT" --latency-rate "$LATENCY_RATE" "${COMMON[@]}" >/dev/null
    ;;
  --scaling)
    # On the in-process broker (Tansu's own slowdown as it fills would hide the service's
    # scaling), with newsflow as a process of its own so its CPU and memory are its alone.
    "$E2E" embedded --label in-process --service-bin "$NEWSFLOW" --count "$ARTICLES" \
      --partitions 1,2,4 --workers 1,2 --latency-count 0 "${COMMON[@]}" >/dev/null
    "$E2E" embedded --label in-process --service-bin "$NEWSFLOW" --count "$ARTICLES" \
      --partitions 4 --workers 0 --max-entries 100000,1000000,10000000 --no-ceiling \
      --latency-count 0 "${COMMON[@]}" >/dev/null
    ;;
  *) echo "usage: bench/e2e.sh [--scaling]" >&2; exit 2 ;;
esac

echo
"$E2E" report "$OUT"
if [ "$MODE" = --scaling ]; then
  echo
  "$E2E" window --sizes 100000,1000000,10000000 --count 20000 --size "$SIZE"
fi
echo
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg); took $(( $(date +%s) - started ))s"
