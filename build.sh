#!/usr/bin/env bash
# The README's set-up commands. Each installs the Debian packages it needs that are missing
# (apt-get through .ci/install-deps, idempotent), then runs a CMake workflow preset.
#   ./build.sh main    build the qkern tool and run it on the embedded real dump (data/digits)
#   ./build.sh test    build and pass the tests
#   ./build.sh bench   build the benchmarks (run ./build/bench/benchmarks/qkern_bench yourself)
set -euo pipefail
cd "$(dirname "$0")"

core=(cmake g++ make pkg-config libxsimd-dev)
tool=(libcli11-dev nlohmann-json3-dev zlib1g-dev)
case "${1:-}" in
  main) .ci/install-deps "${core[@]}" "${tool[@]}"; exec cmake --workflow --preset main ;;
  test) .ci/install-deps "${core[@]}" "${tool[@]}" googletest libgtest-dev; exec cmake --workflow --preset test ;;
  bench) .ci/install-deps "${core[@]}" "${tool[@]}" libbenchmark-dev; exec cmake --workflow --preset bench ;;
  *) echo "usage: ./build.sh main|test|bench" >&2; exit 1 ;;
esac
