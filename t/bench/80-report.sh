#!/usr/bin/env bash
# t/bench/80-report.sh: how fast the HTML report of a 10,000-job run is
# drawn in a browser (headless chromium): the page's own measure, from its
# script's start to the timeline drawn, best of BENCH_REPS.
# Target (issue): under 2 s.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$here/lib.sh"

REPS=${BENCH_REPS:-3}
bench_posint REPS
bench_weft
if ! command -v chromium >/dev/null; then
  echo "report: chromium not installed (Debian package chromium); skipped"
  exit 0
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
awk -f "$here/../helpers/big-run.awk" >big.jsonl
"$WEFT" report big.jsonl -o big.html
best=""
for ((r = 0; r < REPS; r++)); do
  profile=$(mktemp -d "$work/profile.XXXXXX")
  ms=$(chromium --headless --no-sandbox --disable-gpu --disable-background-networking --no-first-run \
    --user-data-dir="$profile" --virtual-time-budget=3000 --dump-dom "file://$work/big.html" 2>/dev/null |
    sed -n 's/.*<body [^>]*data-render-ms="\([0-9]*\)".*/\1/p')
  [[ -n $ms ]] || { echo "report: the page was not drawn" >&2; exit 1; }
  if [[ -z $best || $ms -lt $best ]]; then best=$ms; fi
done
printf 'report of 10,000 jobs (%s bytes): drawn in %s ms (best of %s)\n' "$(wc -c <big.html)" "$best" "$REPS"
bench_target "report: 10,000 jobs drawn, ms" "$best" "<" 2000
((BENCH_MISSED == 0)) || [[ ${BENCH_STRICT:-0} != 1 ]]
