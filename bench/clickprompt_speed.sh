#!/usr/bin/env bash
# ClickPrompt throughput on MovieLens-1M rows, in the shapes of the official
# implementation's figures (issue 5; bench/RESULTS.md): DCNv2 backbone, K = 5
# layer-wise prompts, a randomly initialised RoBERTa-vocabulary PLM (50,265
# tokens, untied LM head) of 2 layers x 128 and 4 layers x 256; PA-MLM and
# fine-tuning with the PLM at batch 32 and 64, float32 and bf16 autocast.
#   bash bench/clickprompt_speed.sh          (env: THREADS=2, ROWS=4096, OUT=runs/bench-cp,
#                                              SHAPES="2x128 4x256", PRECISIONS="fp32 bf16")
# Rows: 100k real ML-1M rows (the test split exported), split 90/5/5 so the
# fine-tuning's validation pass stays short; samples/s count training steps only.
set -euo pipefail
cd "$(dirname "$0")/.."
CLI=${CLI:-build/clickprompt}
THREADS=${THREADS:-2}
ROWS=${ROWS:-4096}
OUT=${OUT:-runs/bench-cp}
SHAPES=${SHAPES:-2x128 4x256}
PRECISIONS=${PRECISIONS:-fp32 bf16}
VOCAB=${VOCAB:-../shared/fixtures/plm-vocab/roberta-base}
[ -f "$VOCAB/vocab.json" ] || { echo "skip: no RoBERTa vocabulary at $VOCAB"; exit 0; }
mkdir -p "$OUT"
if [ ! -f "$OUT/ml1m-rows.csv" ]; then
  "$CLI" data export --data configs/datasets/ml-1m.yaml --split test --out "$OUT/ml1m-rows.csv" >/dev/null
fi
cat > "$OUT/ml1m-rows.yaml" <<YAML
name: ml-1m-rows
format: csv
path: $OUT/ml1m-rows.csv
fields:
  - {name: user_id, display: User ID}
  - {name: gender, display: Gender}
  - {name: age, display: Age}
  - {name: occupation, display: Job}
  - {name: zipcode, display: Zipcode}
  - {name: movie_id, display: Movie ID}
  - {name: title, display: Title}
  - {name: genre, display: Film genre}
label: {column: label, threshold: 0.5}
user_field: user_id
item_field: movie_id
split: {kind: random, ratios: [0.9, 0.05, 0.05], seed: 2024}
YAML
printf "| PLM | precision | batch | PA-MLM samples/s | fine-tune w/ PLM samples/s |\n|---|---|---|---|---|\n"
for shape in $SHAPES; do
  layers=${shape%x*} hidden=${shape#*x}
  # heads = hidden / 64, FFN = 4 x hidden (RoBERTa's proportions)
  set -- "$layers" "$hidden" $((hidden / 64)) $((hidden * 4))
  plm="$OUT/plm-$1x$2"
  [ -f "$plm/config.json" ] || "$CLI" init-plm --tokenizer "$VOCAB" --out "$plm" --layers "$1" --hidden "$2" \
    --heads "$3" --ffn "$4" --untied >/dev/null
  for prec in $PRECISIONS; do
    for bs in 32 64; do
      run="$OUT/$1x$2-$prec-b$bs"
      rm -rf "$run-pa" "$run-ft"
      common=(--threads "$THREADS" train --data "$OUT/ml1m-rows.yaml" --model-config configs/models/dcnv2.yaml
              --set "plm=$plm" --set clickprompt.num_prompts=5 --no-progress --cache-dir "$OUT/cache")
      "$CLI" "${common[@]}" --mode pa-mlm --out "$run-pa" --set pretrain.max_train_rows="$ROWS" \
        --set pretrain.batch_size="$bs" --set pretrain.precision="$prec" --set pretrain.valid_rows=256 > "$run-pa.log" 2>&1
      "$CLI" "${common[@]}" --mode with-plm --out "$run-ft" --set train.epoch_rows="$ROWS" --set train.epochs=1 \
        --set train.batch_size="$bs" --set train.precision="$prec" --set train.plm_lr=5e-5 > "$run-ft.log" 2>&1
      pa=$(grep -o '"train_samples_per_sec": [0-9.]*' "$run-pa/result.json" | awk '{printf "%.0f", $2}')
      ft=$(grep -o '"train_samples_per_sec": [0-9.]*' "$run-ft/result.json" | awk '{printf "%.0f", $2}')
      echo "| $1 layers x $2 | $prec | $bs | $pa | $ft |"
    done
  done
done
