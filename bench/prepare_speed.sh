#!/usr/bin/env bash
# Prepare speed: rows/s and peak memory of `data prepare` (read, split, fit,
# encode, write the sealed cache) on ML-1M's ratings and on a generated
# 10-million-row CSV, each prepared REPEAT times with --rebuild-cache.
# Usage: bench/prepare_speed.sh [ROWS=10000000] [REPEAT=3]
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS=${1:-10000000}
REPEAT=${2:-3}
BIN=${CLICKPROMPT_BIN:-build/clickprompt}
WORK=${CLICKPROMPT_BENCH_DIR:-/tmp/clickprompt-prepare-bench}
mkdir -p "$WORK"
[ -x "$BIN" ] || ./run build

echo "# $(date -u +%F) $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores; prepare is single-threaded"

CSV="$WORK/generated-$ROWS.csv"
if [ ! -s "$CSV" ]; then
  # 7 categorical columns (200k users, 50k items, small attributes) + a 0/1 click, seeded.
  awk -v n="$ROWS" 'BEGIN {
    srand(7); print "user_id,item_id,gender,age,occupation,genre,city,click";
    split("Action Comedy Drama Horror Sci-Fi Romance Thriller", g, " ");
    for (i = 0; i < n; i++) {
      u = int(rand() * 200000); it = int(rand() * 50000);
      printf "%d,%d,%s,%d,%d,%s,city%d,%d\n", u, it, (u % 2 ? "M" : "F"), u % 7, u % 21, g[it % 7 + 1], u % 3000, (rand() < 0.3)
    } }' > "$CSV"
fi
cat > "$WORK/generated.yaml" <<EOF
name: generated
format: csv
path: $CSV
fields: [{name: user_id}, {name: item_id}, {name: gender}, {name: age}, {name: occupation}, {name: genre}, {name: city}]
label: {column: click}
split: {kind: random, seed: 2024}
EOF

run() {  # spec label
  for i in $(seq "$REPEAT"); do
    "$BIN" data prepare --data "$1" --cache-dir "$WORK/cache" --rebuild-cache | head -1 | sed "s/^/$2 run $i: /"
  done
}
if [ -f ../shared/data/ml-1m/ratings.dat ]; then
  run configs/datasets/ml-1m.yaml "ml-1m (1,000,209 ratings, 8 fields)"
else
  echo "ml-1m: ../shared/data/ml-1m absent, skipped"
fi
run "$WORK/generated.yaml" "generated CSV ($ROWS rows, 7 fields)"
