#!/usr/bin/env bash
# t/bench/30-hash.sh: SHA-256 of many files with weft's built-in hash step
# (on its worker pool) against sha256sum and xargs -P2 sha256sum.
#
# The data: BENCH_HASH_MB MiB (default 1024) of /dev/urandom in 256 files, in
# a temp dir. Every file is read once before timing, so every tool reads from
# a warm page cache. The tools:
#   weft -j2 h        [h] foreach = f/* ; step = hash {}   (a job per file)
#   sha256sum f/*
#   xargs -P2 -n32 sha256sum   (the file names on stdin)
#   openssl dgst -sha256 -r f/*   for reference only: one process of
#                     OpenSSL's SHA-256 (weft's step uses nettle's), no target
# BENCH_REPS (default 3) interleaved runs each; best wall time counts.
# Targets: weft >= 1.8x sha256sum and >= 1.0x xargs -P2 (on 2 cores).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$here/lib.sh"

MB=${BENCH_HASH_MB:-1024}
REPS=${BENCH_REPS:-3}
FILES=256
bench_posint MB REPS
bench_require_time
bench_weft
have_openssl=true
command -v openssl >/dev/null || have_openssl=false

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
export BENCH_RESULTS=$work/results

bench_make_files f "$MB" "$FILES"
printf '%s\n' f/* >list.txt
printf '[h]\nforeach = f/*\nstep = hash {}\n' >weft.ini

# --- check weft's sums against sha256sum's, once -------------------------------
if ! "$WEFT" -j2 h >weft.out 2>weft.err; then
  echo "bench: weft -j2 h failed:" >&2
  head -n 5 weft.err >&2
  exit 1
fi
sha256sum f/* | sort >ref.sorted
if ! sort weft.out | cmp -s - ref.sorted; then
  echo "bench: weft's hash step and sha256sum disagree (sorted outputs):" >&2
  sort weft.out | diff - ref.sorted | head -n 5 >&2
  exit 1
fi

echo "hash: SHA-256 of $MB MiB in $FILES files, 2 jobs at once, best of $REPS runs, $(nproc) CPUs"
echo "(files read once before timing: every tool reads a warm page cache; weft's sums checked against sha256sum's)"
$have_openssl || echo "openssl: not installed, reference row skipped"
echo

for ((r = 1; r <= REPS; r++)); do
  bench_time "weft -j2 (hash step)" "$WEFT" -j2 h
  bench_time "sha256sum" sha256sum f/*
  bench_time "xargs -P2 -n32 sha256sum" xargs -P2 -n32 sha256sum <list.txt
  if $have_openssl; then
    bench_time "(openssl dgst, 1 proc)" openssl dgst -sha256 -r f/*
  fi
done

bench_table "$MB" "MiB/s"
echo
bench_target "hash: weft vs sha256sum" "$(bench_speedup "weft -j2 (hash step)" "sha256sum")x" ">=" 1.8x
bench_target "hash: weft vs xargs -P2 sha256sum" "$(bench_speedup "weft -j2 (hash step)" "xargs -P2 -n32 sha256sum")x" ">=" 1.0x
if $have_openssl; then
  bench_summary "hash: weft vs one openssl dgst process (same library, reference): $(bench_speedup "weft -j2 (hash step)" "(openssl dgst, 1 proc)")x"
fi
((BENCH_MISSED == 0)) || [[ ${BENCH_STRICT:-0} != 1 ]]
