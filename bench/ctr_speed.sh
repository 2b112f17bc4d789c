#!/usr/bin/env bash
# Training and scoring speed of the CTR models on real MovieLens-1M (random split,
# seed 2024, embedding 32, batch 256, Adam 1e-3), next to the machine's GEMM rate.
#   bash bench/ctr_speed.sh [models...]        (default: fm dnn deepfm dcnv2, the four with FuxiCTR figures)
# Env: THREADS (default 2), EPOCHS (default 1), ML1M (default ../shared/data/ml-1m),
#      PRECISION (fp32 | bf16, default fp32: train.precision)
set -euo pipefail
cd "$(dirname "$0")/.."
CLI=${CLI:-build/clickprompt}
THREADS=${THREADS:-2}
EPOCHS=${EPOCHS:-1}
PRECISION=${PRECISION:-fp32}
ML1M=${ML1M:-../shared/data/ml-1m}
OUT=${OUT:-runs/bench}
models=("$@")
[ ${#models[@]} -eq 0 ] && models=(fm dnn deepfm dcnv2)
if [ ! -f "$ML1M/ratings.dat" ]; then
  echo "bench: MovieLens-1M not found at $ML1M (set ML1M=...)"; exit 1
fi
echo "# $(date -u +%F) $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores, threads=$THREADS, precision=$PRECISION"
"$CLI" --threads "$THREADS" info
runs=()
for m in "${models[@]}"; do
  cfg=configs/models/$m.yaml
  [ -f "$cfg" ] || { echo "no $cfg"; exit 1; }
  "$CLI" --threads "$THREADS" train --data configs/datasets/ml-1m.yaml --set dataset.path="$ML1M" \
    --model-config "$cfg" --config configs/experiments/ml1m_train.yaml --set train.epochs="$EPOCHS" --set train.precision="$PRECISION" \
    --set train.eval_batch_size=4096 --no-progress --out "$OUT/$m" >/dev/null 2>"$OUT-$m.log" || { cat "$OUT-$m.log"; exit 1; }
  runs+=("$OUT/$m")
done
"$CLI" report "${runs[@]}"
