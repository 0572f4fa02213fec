#!/usr/bin/env bash
# Runs every libFuzzer binary fuzz_<name> found under BUILD_DIR for SECONDS seconds each, starting
# from its seed corpus, and fails if any of them finds a crash, a sanitizer report or a leak.
#
#   fuzz/run_all.sh SECONDS BUILD_DIR
#
# Seed corpus of fuzz_<name>: fuzz/corpus/<name>/ if it exists, else corpus/<name>/ next to the
# source file fuzz_<name>.cpp (for targets defined elsewhere in the repository), else none. The
# seeds are only read: new inputs go to a scratch directory, and a crashing input is kept in
# $QKERN_FUZZ_ARTIFACTS (default: BUILD_DIR/fuzz-artifacts) and named in the output.
set -uo pipefail
if [ $# -ne 2 ]; then
  echo "usage: $0 SECONDS BUILD_DIR" >&2
  exit 2
fi
seconds=$1
build=$2
repo=$(cd "$(dirname "$0")/.." && pwd)
artifacts=${QKERN_FUZZ_ARTIFACTS:-$build/fuzz-artifacts}
mkdir -p "$artifacts"
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

mapfile -t bins < <(find "$build" -type f -perm -u+x -name 'fuzz_*' ! -name '*.*' | sort)
if [ ${#bins[@]} -eq 0 ]; then
  echo "run_all.sh: no fuzz_* executables under $build (configure with -DQKERN_BUILD_FUZZERS=ON and build)" >&2
  exit 2
fi

failed=()
for bin in "${bins[@]}"; do
  target=$(basename "$bin")
  name=${target#fuzz_}
  seeds=""
  if [ -d "$repo/fuzz/corpus/$name" ]; then
    seeds="$repo/fuzz/corpus/$name"
  else
    src=$(find "$repo" -path "$repo/.git" -prune -o -path "$build" -prune -o -name "$target.cpp" -print -quit)
    if [ -n "$src" ] && [ -d "$(dirname "$src")/corpus/$name" ]; then seeds="$(dirname "$src")/corpus/$name"; fi
  fi
  work="$scratch/$name"
  mkdir -p "$work"
  echo "== $target: ${seconds}s, seeds: ${seeds:-none}"
  # -timeout: one input taking longer is a finding (a hang); -rss_limit_mb: so is unbounded memory.
  if ! "$bin" -max_total_time="$seconds" -timeout=25 -rss_limit_mb=2048 -print_final_stats=1 \
      -artifact_prefix="$artifacts/$target-" "$work" ${seeds:+"$seeds"} > "$scratch/$name.log" 2>&1; then
    echo "FAILED: $target (log tail below; crashing input under $artifacts/$target-*)"
    tail -n 40 "$scratch/$name.log"
    failed+=("$target")
  else
    grep -E "stat::number_of_executed_units|cov:" "$scratch/$name.log" | tail -n 2
  fi
done

if [ ${#failed[@]} -ne 0 ]; then
  echo "run_all.sh: ${#failed[@]} of ${#bins[@]} fuzz targets failed: ${failed[*]}"
  exit 1
fi
echo "run_all.sh: all ${#bins[@]} fuzz targets ran ${seconds}s without a finding"
