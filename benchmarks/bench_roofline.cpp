// qkern benchmarks — SPDX-License-Identifier: Apache-2.0
//
// bench_roofline.cpp: the memory-roofline patterns of bench_util.hpp as benchmarks of their own,
// with ordinary and with streaming (non-temporal) stores, at the kernel sizes. Their `roofline`
// counter is relative to the better store kind, so the better one reads about 1.0.
#include "bench_util.hpp"

namespace qkern_bench {
namespace {

void register_roofline() {
  for (Pattern p : all_patterns()) {
    const PatternInfo info = pattern_info(p);
    for (StoreKind k : {StoreKind::ordinary, StoreKind::streaming}) {
      if (info.write_bytes == 0 && k == StoreKind::streaming) continue;
      const std::string name =
          std::string("roofline/") + info.name + (k == StoreKind::streaming ? "/streaming" : "/ordinary");
      register_sizes(name, [p, k](benchmark::State& st) {
        const auto n = static_cast<std::size_t>(st.range(0));
        run_pattern(p, k, n);
        for (auto _ : st) run_pattern(p, k, n);
        st.SetLabel(detail::cpu_has_avx2() ? "avx2 loops, outputs preallocated" : "sse2 loops, outputs preallocated");
        report(st, p, n);
      });
    }
  }
}

QKERN_BENCH_REGISTER(register_roofline);

}  // namespace
}  // namespace qkern_bench
