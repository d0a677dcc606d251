# shellcheck shell=bash
# t/bench/lib.sh: timing helpers shared by the benchmarks in t/bench/.
# Sourced, not run. Each benchmark script sets BENCH_RESULTS to a file in its
# temp dir, calls bench_time once per run, then bench_table.
#
#   bench_require_time        exit 1 with a hint if /usr/bin/time is missing
#   bench_time LABEL CMD...   run CMD (stdout and stderr to /dev/null) under
#                             /usr/bin/time; append "LABEL<TAB>wall<TAB>rss"
#                             (seconds, KiB) to $BENCH_RESULTS; fail if CMD fails
#   bench_best LABEL          print LABEL's best (lowest) wall time
#   bench_table [JOBS]        per label, in first-run order: best wall time,
#                             jobs/s (when JOBS is given), ratio to the first
#                             label's best wall time, peak RSS of that best run
#
# Peak RSS is GNU time's %M: the largest single process of the command's tree
# (not a sum), so it is mostly the tool itself.

bench_require_time() {
  if [[ ! -x /usr/bin/time ]]; then
    echo "bench: /usr/bin/time not found; install the Debian package 'time' (apt-get install time)" >&2
    exit 1
  fi
}

bench_time() {
  local label=$1 rc=0 wall rss
  shift
  /usr/bin/time -f '%e %M' -o "$BENCH_RESULTS.time" "$@" >/dev/null 2>&1 || rc=$?
  if ((rc != 0)); then
    echo "bench: '$label' failed (exit $rc): $*" >&2
    return 1
  fi
  read -r wall rss <"$BENCH_RESULTS.time"
  printf '%s\t%s\t%s\n' "$label" "$wall" "$rss" >>"$BENCH_RESULTS"
}

bench_best() {
  awk -F'\t' -v label="$1" '
    $1 == label && (best == "" || $2 + 0 < best + 0) { best = $2 }
    END { print best }' "$BENCH_RESULTS"
}

bench_table() {
  awk -F'\t' -v jobs="${1:-}" '
    !($1 in best) { order[n++] = $1; best[$1] = $2; rss[$1] = $3 }
    $2 + 0 < best[$1] + 0 { best[$1] = $2; rss[$1] = $3 }
    END {
      base = best[order[0]] + 0
      printf "%-12s %8s", "tool", "wall s"
      if (jobs != "") printf " %9s", "jobs/s"
      printf " %7s %8s\n", "ratio", "RSS MiB"
      for (i = 0; i < n; i++) {
        l = order[i]; w = best[l] + 0
        printf "%-12s %8.2f", l, w
        if (jobs != "") printf " %9s", (w > 0 ? sprintf("%.0f", jobs / w) : "-")
        printf " %7s %8.1f\n", (base > 0 ? sprintf("%.2f", w / base) : "-"), rss[l] / 1024
      }
      printf "(ratio: wall time / %s wall time; above 1 means %s is faster)\n", order[0], order[0]
    }' "$BENCH_RESULTS"
}
