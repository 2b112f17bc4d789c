#!/usr/bin/env bash
# libFuzzer runs of every target in fuzz/targets.txt: bench/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]
# Builds with clang (ASan + UBSan + libFuzzer) into build-fuzz/, starts each target
# from its seed corpus fuzz/corpus/<target>/ (new inputs go to runs/fuzz/<target>/,
# not into the repo) and writes findings to runs/fuzz/crashes/<target>/. A finding
# becomes a regression test by copying it into fuzz/corpus/<target>/ (the test
# suite replays that folder) once it is fixed.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
SECS=${1:-600}
shift || true
TARGETS=("$@")
[ ${#TARGETS[@]} -eq 0 ] && mapfile -t TARGETS < fuzz/targets.txt
BUILD=${CLICKPROMPT_FUZZ_BUILD:-$ROOT/build-fuzz}

need=()
for p in clang libclang-rt-14-dev; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo=sudo
  $sudo apt-get update -q && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${need[@]}"
fi

export CCACHE_BASEDIR="$ROOT"
cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ \
  -DCLICKPROMPT_FUZZ=ON -DCLICKPROMPT_TESTS=OFF -DCLICKPROMPT_BENCH=OFF >/dev/null
cmake --build "$BUILD" -j "${JOBS:-$(nproc)}" --target $(printf 'fuzz_%s ' "${TARGETS[@]}")

status=0
for t in "${TARGETS[@]}"; do
  work="$ROOT/runs/fuzz/$t" crashes="$ROOT/runs/fuzz/crashes/$t"
  mkdir -p "$work" "$crashes"
  echo "== fuzz $t for ${SECS}s ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(date -u +%F))"
  if ! ASAN_OPTIONS=detect_leaks=0 "$BUILD/fuzz_$t" -max_total_time="$SECS" -timeout=10 -rss_limit_mb=4096 \
      -artifact_prefix="$crashes/" -print_final_stats=1 "$work" "$ROOT/fuzz/corpus/$t" 2>&1 | tail -15; then
    status=1
  fi
  n=$(find "$crashes" -type f | wc -l)
  echo "$t: $n finding(s) in $crashes"
  [ "$n" -gt 0 ] && status=1
done
exit $status
