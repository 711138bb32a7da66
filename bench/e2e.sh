#!/usr/bin/env bash
# End-to-end throughput of newsflow against the client/broker ceiling, in one run, on one
# data set: the generated corpus (ARTICLES articles of about SIZE bytes, 20% exact and 5%
# near duplicates) on an input topic of PARTITIONS partitions, consumed by
#   (a) a pass-through consumer→producer with newsflow's client settings and offset
#       handling and no processing (the ceiling), then
#   (b) newsflow (the release binary as its own process; app::run in-process for the
#       embedded broker),
# first through a real broker process (Tansu 0.6.0, SQLite storage), then through the
# in-process broker (librdkafka's mock cluster). Latency comes from a second, paced feed
# (LATENCY_COUNT articles at LATENCY_RATE/s). Prints one table; the driver is
# examples/e2e.rs, the figures are explained in BENCHMARKS.md.
#
#   bench/e2e.sh              the comparison (about 5 minutes on 2 cores)
#   bench/e2e.sh --scaling    newsflow only: input partitions 1, 2, 4 × processing.workers
#                             1, 2, and dedup.max_entries 100k / 1M / 10M, on Tansu; then
#                             pipeline throughput and memory with 100k / 1M / 10M indexed
#                             articles (no Kafka)
#   ARTICLES=20000 bench/e2e.sh   a shorter run
#
# Needs tansu 0.6.0 (TANSU_BIN, $NEWSFLOW_TOOLS/bin or PATH; `scripts/e2e.sh --install-only`
# installs it). Results are also appended as JSON lines to $OUT (default target/bench/e2e.jsonl).
set -euo pipefail
cd "$(dirname "$0")/.."

ARTICLES="${ARTICLES:-50000}"
SIZE="${SIZE:-4096}"
PARTITIONS="${PARTITIONS:-4}"
LATENCY_COUNT="${LATENCY_COUNT:-3000}"
LATENCY_RATE="${LATENCY_RATE:-300}"
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
echo "corpus: $ARTICLES articles of about $SIZE bytes; latency feed $LATENCY_COUNT at $LATENCY_RATE/s"

DIR="$(mktemp -d)"
TANSU_PID=""
cleanup() {
  [ -n "$TANSU_PID" ] && kill "$TANSU_PID" 2>/dev/null && wait "$TANSU_PID" 2>/dev/null
  rm -rf "$DIR"
}
trap cleanup EXIT

PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
# The SQLite path is relative to the broker's working directory.
(cd "$DIR" && exec "$TANSU_BIN" broker --listener-url "tcp://127.0.0.1:$PORT" \
  --advertised-listener-url "tcp://127.0.0.1:$PORT" --storage-engine sqlite://tansu.db \
  >"$DIR/broker.log" 2>&1) &
TANSU_PID=$!
for _ in $(seq 1 300); do
  (echo >"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break
  sleep 0.1
done

CREATE="cd '$DIR' && '$TANSU_BIN' topic create {topic} --partitions {partitions} --broker tcp://127.0.0.1:$PORT"
# Tansu and the mock cluster hold every fetch for fetch.wait.max.ms even when data is ready.
COMMON=(--count "$ARTICLES" --size "$SIZE" --set kafka.consumer_properties.fetch.wait.max.ms=25 --json "$OUT")

case "$MODE" in
  compare)
    "$E2E" broker --label tansu --brokers "127.0.0.1:$PORT" --bin "$NEWSFLOW" \
      --create-topic "$CREATE" --broker-pid "$TANSU_PID" --partitions "$PARTITIONS" \
      --latency-count "$LATENCY_COUNT" --latency-rate "$LATENCY_RATE" "${COMMON[@]}" >/dev/null
    "$E2E" embedded --label in-process --partitions "$PARTITIONS" \
      --latency-count "$LATENCY_COUNT" --latency-rate "$LATENCY_RATE" "${COMMON[@]}" >/dev/null
    ;;
  --scaling)
    "$E2E" broker --label tansu --brokers "127.0.0.1:$PORT" --bin "$NEWSFLOW" \
      --create-topic "$CREATE" --broker-pid "$TANSU_PID" --partitions 1,2,4 --workers 1,2 \
      --latency-count 0 "${COMMON[@]}" >/dev/null
    "$E2E" broker --label tansu --brokers "127.0.0.1:$PORT" --bin "$NEWSFLOW" \
      --create-topic "$CREATE" --broker-pid "$TANSU_PID" --partitions 4 --workers 0 \
      --max-entries 100000,1000000,10000000 --no-ceiling --latency-count 0 \
      --prefix window "${COMMON[@]}" >/dev/null
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
