#!/usr/bin/env bash
# Data-parallel training on this machine: 1 process x 2 threads against
# 2 processes x 1 thread (clickprompt launch, Gloo over loopback), the same
# global batch, for ML-1M DCNv2 (CTR, sparse embeddings) and ClickPrompt PA-MLM
# (DCNv2 backbone, K = 5, a random 2 x 128 RoBERTa-vocabulary PLM). Prints
# training samples/s, this rank's gradient bytes per step (dense all-reduce,
# sparse row all-gather) and the time in gradient collectives.
#   bash bench/distributed.sh        (env: ROWS=200000 CTR rows, PA_ROWS=4096, OUT=runs/bench-dist,
#                                     ML1M=../shared/data/ml-1m, BATCH=256 global CTR batch, PA_BATCH=64)
set -euo pipefail
cd "$(dirname "$0")/.."
CLI=${CLI:-build/clickprompt}
ROWS=${ROWS:-200000}
PA_ROWS=${PA_ROWS:-4096}
BATCH=${BATCH:-256}
PA_BATCH=${PA_BATCH:-64}
OUT=${OUT:-runs/bench-dist}
ML1M=${ML1M:-../shared/data/ml-1m}
VOCAB=${VOCAB:-../shared/fixtures/plm-vocab/roberta-base}
[ -f "$ML1M/ratings.dat" ] || { echo "bench: MovieLens-1M not found at $ML1M (set ML1M=...)"; exit 1; }
mkdir -p "$OUT"
echo "# $(date -u +%F) $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores"
port=$((29600 + RANDOM % 1000))

# $1 run folder; prints samples/s | dense KB/step | sparse KB/step | seconds in gradient collectives
row() {
  python3 - "$1" <<'PY'
import json, sys
r = json.load(open(sys.argv[1] + "/result.json"))
d = r.get("distributed") or {}
sps = r["train_samples_per_sec"]
secs = d.get("gradient_collective_seconds", 0.0)
print(f"{sps:,.0f} | {d.get('dense_gradient_bytes_per_step', 0)/1e3:,.1f} | "
      f"{d.get('sparse_gradient_bytes_per_step', 0)/1e3:,.1f} | {secs:.2f}")
PY
}

printf "| job | processes x threads | global batch | train samples/s | dense KB/step | sparse KB/step | s in gradient collectives |\n|---|---|---|---|---|---|---|\n"
ctr=(train --data configs/datasets/ml-1m.yaml --set dataset.path="$ML1M" --model-config configs/models/dcnv2.yaml
     --config configs/experiments/ml1m_train.yaml --set train.epochs=1 --set train.epoch_rows="$ROWS"
     --set train.eval_batch_size=4096 --no-progress --cache-dir "$OUT/cache")
rm -rf "$OUT/dcnv2-1x2" "$OUT/dcnv2-2x1"
"$CLI" --threads 2 "${ctr[@]}" --set train.batch_size="$BATCH" --out "$OUT/dcnv2-1x2" >"$OUT/dcnv2-1x2.log" 2>&1 ||
  { cat "$OUT/dcnv2-1x2.log"; exit 1; }
echo "| ML-1M DCNv2 | 1 x 2 | $BATCH | $(row "$OUT/dcnv2-1x2") |"
"$CLI" launch --nproc-per-node 2 --master-port $port -- --threads 1 "${ctr[@]}" --set train.batch_size=$((BATCH / 2)) \
  --out "$OUT/dcnv2-2x1" >"$OUT/dcnv2-2x1.log" 2>&1 || { cat "$OUT/dcnv2-2x1.log"; exit 1; }
echo "| ML-1M DCNv2 | 2 x 1 | $BATCH | $(row "$OUT/dcnv2-2x1") |"

if [ -f "$VOCAB/vocab.json" ]; then
  plm="$OUT/plm-2x128"
  [ -f "$plm/config.json" ] || "$CLI" init-plm --tokenizer "$VOCAB" --out "$plm" --layers 2 --hidden 128 --heads 2 \
    --ffn 512 --untied >/dev/null
  pa=(train --mode pa-mlm --data configs/datasets/ml-1m.yaml --set dataset.path="$ML1M"
      --model-config configs/models/dcnv2.yaml --set "plm=$plm" --set clickprompt.num_prompts=5
      --set pretrain.max_train_rows="$PA_ROWS" --set pretrain.valid_rows=256 --no-progress --cache-dir "$OUT/cache")
  rm -rf "$OUT/pamlm-1x2" "$OUT/pamlm-2x1"
  "$CLI" --threads 2 "${pa[@]}" --set pretrain.batch_size="$PA_BATCH" --out "$OUT/pamlm-1x2" >"$OUT/pamlm-1x2.log" 2>&1 ||
    { cat "$OUT/pamlm-1x2.log"; exit 1; }
  echo "| ClickPrompt PA-MLM (2x128 PLM, K=5) | 1 x 2 | $PA_BATCH | $(row "$OUT/pamlm-1x2") |"
  "$CLI" launch --nproc-per-node 2 --master-port $((port + 1)) -- --threads 1 "${pa[@]}" \
    --set pretrain.batch_size=$((PA_BATCH / 2)) --out "$OUT/pamlm-2x1" >"$OUT/pamlm-2x1.log" 2>&1 ||
    { cat "$OUT/pamlm-2x1.log"; exit 1; }
  echo "| ClickPrompt PA-MLM (2x128 PLM, K=5) | 2 x 1 | $PA_BATCH | $(row "$OUT/pamlm-2x1") |"
else
  echo "skip PA-MLM: no RoBERTa vocabulary at $VOCAB"
fi
