#!/bin/sh
# qkern tool benchmark — SPDX-License-Identifier: Apache-2.0
#
# doctor_10gb.sh: `qkern collect` against `qkern doctor`'s collection on the same generated dump
# in the page cache (issue 12: the doctor's collection is bounded by collect's throughput).
#
#   tools/qkern/bench/doctor_10gb.sh [GB] [QKERN] [THREADS] [REPEATS]
#     GB       size of the generated calib/ (default 10; 0.2 runs in seconds)
#     QKERN    the qkern binary (default build/bin/qkern)
#     THREADS  -j of both commands (default 2)
#     REPEATS  alternating runs of each command, after one warm-up of each (default 1)
#   QKERN_BENCH_DIR  where the dump is written (default $TMPDIR or /tmp; 10 GB needs ~10.5 GB free
#                    there and, to stay in the page cache, as much free RAM); it is deleted at the end,
#                    also on failure or interrupt.
#
# The dump (make_doctor_dump.py): safetensors files of 128 samples x 6 layers (input images, two
# conv + BN + ReLU blocks, fc), BN statistics, a reference set, test logits and labels. Both
# commands run under /usr/bin/time -v (peak RSS); collect's time is its wall time, the doctor's is
# its collection (`--timing`: the header pass, the pass through collect's file loop and observers,
# and the merge), reported with its total wall time. The ratio is collect's time / the doctor's
# collection time (throughput of the doctor's collection over collect's), from the same run, with
# the files in the page cache. The doctor's --state is compared byte for byte with collect's output.
set -eu
GB=${1:-10}
QKERN=${2:-build/bin/qkern}
THREADS=${3:-2}
REPEATS=${4:-1}
HERE=$(cd "$(dirname "$0")" && pwd)
BASE=${QKERN_BENCH_DIR:-${TMPDIR:-/tmp}}
DIR="$BASE/qkern-doctor-bench-$$"
trap 'rm -rf "$DIR"' EXIT INT TERM
[ -x "$QKERN" ] || { echo "doctor_10gb.sh: no qkern binary at $QKERN (build the tool, or give its path)" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "doctor_10gb.sh: /usr/bin/time is needed (Debian: time)" >&2; exit 1; }

t0=$(date +%s)
/usr/bin/python3 "$HERE/make_doctor_dump.py" "$DIR" --gb "$GB"
echo "generated in $(( $(date +%s) - t0 )) s"
BYTES=$(du -sb "$DIR/calib" | cut -f1)
FILES=$(ls "$DIR/calib" | wc -l)
cat "$DIR"/calib/* > /dev/null  # into the page cache

field() { sed -n "s/^[[:space:]]*$2: //p" "$1"; }
seconds() {  # "h:mm:ss" or "m:ss.ss" -> seconds
  echo "$1" | awk -F: '{ s = 0; for (i = 1; i <= NF; ++i) s = s * 60 + $i; print s }'
}
run_collect() {
  /usr/bin/time -v "$QKERN" collect "$DIR/calib" -o "$DIR/collect.qkstate" -q -j "$THREADS" 2> "$DIR/collect.time"
  C_WALL=$(seconds "$(field "$DIR/collect.time" 'Elapsed (wall clock) time (h:mm:ss or m:ss)')")
  C_RSS=$(field "$DIR/collect.time" 'Maximum resident set size (kbytes)')
}
run_doctor() {
  /usr/bin/time -v "$QKERN" doctor "$DIR" --timing -j "$THREADS" --state "$DIR/doctor.qkstate" \
    --report "$DIR/report.html" > "$DIR/doctor.out" 2> "$DIR/doctor.time"
  D_COLL=$(sed -n 's/^qkern doctor: collection \([0-9.]*\) s.*/\1/p' "$DIR/doctor.time")
  D_WALL=$(seconds "$(field "$DIR/doctor.time" 'Elapsed (wall clock) time (h:mm:ss or m:ss)')")
  D_RSS=$(field "$DIR/doctor.time" 'Maximum resident set size (kbytes)')
}

echo "dump: $FILES files, $(echo "$BYTES" | awk '{ printf "%.2f GB", $1 / 1e9 }') in calib/, -j $THREADS, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
run_collect  # warm-up
run_doctor
cmp -s "$DIR/collect.qkstate" "$DIR/doctor.qkstate" || { echo "doctor_10gb.sh: doctor --state differs from collect's state" >&2; exit 3; }
r=1
while [ "$r" -le "$REPEATS" ]; do
  run_collect
  run_doctor
  awk -v b="$BYTES" -v c="$C_WALL" -v d="$D_COLL" -v dw="$D_WALL" -v cr="$C_RSS" -v dr="$D_RSS" -v r="$r" 'BEGIN {
    printf "run %d:\n", r
    printf "  qkern collect:            %8.2f s  %8.1f MB/s  peak RSS %7.1f MB\n", c, b / 1e6 / c, cr / 1024
    printf "  qkern doctor collection:  %8.2f s  %8.1f MB/s  (doctor total %.2f s, peak RSS %.1f MB)\n", d, b / 1e6 / d, dw, dr / 1024
    printf "  ratio doctor-collection / collect throughput: %.3f (target >= 0.8)\n", c / d
  }'
  r=$((r + 1))
done
sed -n '1,8p' "$DIR/doctor.out"
grep 'note:' "$DIR/doctor.out" || true
