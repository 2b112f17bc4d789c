#!/usr/bin/env bash
# Regenerates the bad-input table of docs/reliability.md: runs the BadInputs tests
# (every case checks exit code, message, no signal, no hang, no temp file, no raw
# library message) with CLICKPROMPT_RELIABILITY_OUT set, and puts their rows
# between the table markers of docs/reliability.md.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${CLICKPROMPT_BUILD_DIR:-build}
rows=$(mktemp)
trap 'rm -f "$rows"' EXIT
CLICKPROMPT_RELIABILITY_OUT="$rows" "$BUILD/clickprompt_tests" --gtest_filter='BadInputs.*' --gtest_brief=1
n=$(wc -l < "$rows")
python3 - "$rows" "$n" <<'PY'
import sys, datetime, platform, re
rows = open(sys.argv[1], encoding='utf-8', errors='replace').read()
cpu = next((l.split(':', 1)[1].strip() for l in open('/proc/cpuinfo') if l.startswith('model name')), '?')
head = (f"<!-- table: bench/reliability.sh, {datetime.date.today()}, {cpu}; {sys.argv[2]} cases -->\n"
        "| family | case | exit | message (D = the case's folder, W = the shared fixture) | seconds |\n|---|---|---|---|---|\n")
doc = open('docs/reliability.md', encoding='utf-8').read()
doc = re.sub(r'<!-- table: .*?<!-- end table -->', lambda m: head + rows + '<!-- end table -->', doc, flags=re.S)
open('docs/reliability.md', 'w', encoding='utf-8').write(doc)
PY
echo "reliability.sh: $n cases -> docs/reliability.md"
