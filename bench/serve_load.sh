#!/usr/bin/env bash
# Load test of `clickprompt serve` on loopback with wrk (bench/RESULTS.md, "Serving"):
# the ML-1M DCNv2 bundle (w/o PLM) and a ClickPrompt with-PLM bundle (in-project 2 x 128 PLM),
#   - 1 connection, 1 row per request: p50 / p99 / p99.9 latency
#   - 16 and 64 connections, 1 row per request, with and without dynamic batching
#   - 256 rows per request, next to the offline scoring rate of the same bundle (bench_serve.cpp)
#   - SOAK seconds at 64 connections: errors and the server's resident memory at start and end
#   bash bench/serve_load.sh
# Env: THREADS (server intra-op threads, default 2), DURATION (s per run, default 10), SOAK (s, default 60),
#      EPOCHS (DCNv2 training epochs, default 1: speed does not depend on them), OUT (default runs/serve-bench),
#      MODELS (default "dcnv2 cp"), ML1M (default ../shared/data/ml-1m), PORT (default 18080)
set -euo pipefail
cd "$(dirname "$0")/.."
CLI=${CLI:-build/clickprompt}
BENCH=${BENCH:-build/clickprompt_bench}
THREADS=${THREADS:-2}
DURATION=${DURATION:-10}
SOAK=${SOAK:-60}
EPOCHS=${EPOCHS:-1}
OUT=${OUT:-runs/serve-bench}
MODELS=${MODELS:-dcnv2 cp}
ML1M=${ML1M:-../shared/data/ml-1m}
PORT=${PORT:-18080}
URL=http://127.0.0.1:$PORT
[ -f "$ML1M/ratings.dat" ] || { echo "serve_load: MovieLens-1M not found at $ML1M (set ML1M=...)"; exit 1; }
command -v wrk >/dev/null || { echo "serve_load: wrk missing (apt-get install wrk)"; exit 1; }
mkdir -p "$OUT"
RESULTS=$OUT/results.jsonl
: >"$RESULTS"
echo "# $(date -u '+%F %H:%M') UTC, $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores, server threads=$THREADS, wrk on the same machine"

# --- bundles (made once; delete $OUT to remake) ---
spec=configs/datasets/ml-1m.yaml
[ -f "$OUT/test.csv" ] || "$CLI" data export --data $spec --split test --out "$OUT/test.csv" >/dev/null
if [ ! -f "$OUT/dcnv2/manifest.json" ]; then
  echo "training DCNv2 on ML-1M ($EPOCHS epoch(s)) ..."
  "$CLI" --threads 2 train --config configs/experiments/ml1m_dcnv2.yaml --set train.epochs="$EPOCHS" --no-progress \
    --out "$OUT/dcnv2-run" >/dev/null 2>"$OUT/dcnv2-train.log"
  "$CLI" export --run "$OUT/dcnv2-run" --out "$OUT/dcnv2"
fi
if [[ " $MODELS " == *" cp "* ]] && [ ! -f "$OUT/cp/manifest.json" ]; then
  echo "pretraining the 2 x 128 PLM and fine-tuning ClickPrompt with it (short: speed does not depend on it) ..."
  [ -f "$OUT/plm/config.json" ] || "$CLI" --threads 2 pretrain-plm --data $spec --out "$OUT/plm" --hidden 128 --layers 2 \
    --heads 2 --ffn 512 --vocab-size 4000 --epochs 1 --max-train-rows 20000 >/dev/null 2>"$OUT/plm.log"
  cat >"$OUT/cp.yaml" <<YAML
dataset: $spec
model: {model: dcnv2, embedding_dim: 32, num_cross_layers: 6, dnn_hidden_units: [256, 256, 256, 256, 256, 256]}
plm: $OUT/plm
clickprompt: {num_prompts: 5, fusion: layerwise}
train: {batch_size: 256, epochs: 1, epoch_rows: 20000, plm_lr: 0.00005, eval_batch_size: 256}
YAML
  "$CLI" --threads 2 train --config "$OUT/cp.yaml" --mode with-plm --no-progress --out "$OUT/cp-run" >/dev/null 2>"$OUT/cp-train.log"
  "$CLI" export --run "$OUT/cp-run" --out "$OUT/cp"
fi

server_pid=
start_server() {  # args: extra serve options
  "$CLI" --threads "$THREADS" serve --port "$PORT" $(for m in $MODELS; do echo --model "$m=$OUT/$m"; done) "$@" \
    >"$OUT/server.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 100); do curl -sf "$URL/v2/health/ready" >/dev/null && return; sleep 0.1; done
  echo "server did not start:"; cat "$OUT/server.log"; exit 1
}
stop_server() { kill -TERM "$server_pid"; wait "$server_pid" || { echo "server exit $?"; exit 1; }; }
rss_kb() { awk '/VmRSS/ {print $2}' /proc/"$server_pid"/status; }
load() {  # model rows connections duration label
  local body=$OUT/body-$1-$2.json
  BODY=$body ROWS=$2 wrk -t "$(( $3 < 2 ? 1 : 2 ))" -c "$3" -d "$4s" --timeout 10s -s bench/serve/infer.lua \
    "$URL/v2/models/$1/infer" | tail -1 |
    jq -c --arg m "$1" --argjson rows "$2" --argjson c "$3" --arg l "$5" '{model: $m, rows_per_request: $rows, connections: $c, setting: $l} + .' |
    tee -a "$RESULTS"
}

start_server
for m in $MODELS; do
  curl -sf "$URL/v2/models/$m" >"$OUT/meta-$m.json"
  for rows in 1 256; do python3 bench/serve/make_request.py "$OUT/meta-$m.json" "$OUT/test.csv" $rows >"$OUT/body-$m-$rows.json"; done
  load "$m" 1 1 "$DURATION" batching
  load "$m" 1 16 "$DURATION" batching
  load "$m" 1 64 "$DURATION" batching
  load "$m" 256 2 "$DURATION" batching
done
stop_server
start_server --max-batch-size 1
for m in $MODELS; do
  load "$m" 1 16 "$DURATION" no-batching
  load "$m" 1 64 "$DURATION" no-batching
done
stop_server

# Offline scoring of the same bundles, same threads, from raw values (batch 256).
for m in $MODELS; do
  CP_THREADS=$THREADS CLICKPROMPT_BUNDLE=$OUT/$m CLICKPROMPT_ROWS=$OUT/test.csv "$BENCH" \
    --benchmark_filter='BundleScore/256$' --benchmark_format=json 2>/dev/null |
    jq -c --arg m "$m" '{model: $m, setting: "offline", rows_per_request: 256, rows_per_s: .benchmarks[0]["rows/s"]}' |
    tee -a "$RESULTS"
done

if [ "$SOAK" -gt 0 ]; then
  start_server
  m=${MODELS%% *}
  before=$(rss_kb)
  load "$m" 1 64 "$SOAK" soak >/dev/null
  after=$(rss_kb)
  tail -1 "$RESULTS" | jq -c --argjson b "$before" --argjson a "$after" '. + {rss_start_kb: $b, rss_end_kb: $a}' |
    tee -a "$RESULTS"
  stop_server
fi
echo "results: $RESULTS"
