#!/usr/bin/env bash
# Trains every registered CTR model on real MovieLens-1M (random split seed 2024,
# embedding 32, batch 256, Adam 1e-3, early stopping on validation AUC, patience 2)
# for the given seeds and writes a Markdown table per seed.
#   bash bench/zoo_ml1m.sh [seeds...]      (default: 2024)
# Env: THREADS (default 2), MODELS (default: all registered), OUT (default runs/zoo)
set -euo pipefail
cd "$(dirname "$0")/.."
CLI=${CLI:-build/clickprompt}
THREADS=${THREADS:-2}
OUT=${OUT:-runs/zoo}
seeds=("$@")
[ ${#seeds[@]} -eq 0 ] && seeds=(2024)
models=${MODELS:-$("$CLI" models | tr '\n' ' ')}
for seed in "${seeds[@]}"; do
  runs=()
  for m in $models; do
    dir="$OUT/$m-s$seed"
    cfg=configs/models/$m.yaml
    if [ -f "$dir/result.json" ]; then runs+=("$dir"); continue; fi   # resumable grid
    echo "== $m seed $seed" >&2
    "$CLI" --threads "$THREADS" train --config configs/experiments/ml1m_train.yaml --model-config "$cfg" \
      --seed "$seed" --no-progress --resume --out "$dir" > "$dir.log" 2>&1 || { tail -5 "$dir.log"; exit 1; }
    runs+=("$dir")
  done
  "$CLI" report "${runs[@]}"
done
