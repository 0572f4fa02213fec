#!/usr/bin/env python3
# qkern benchmarks — SPDX-License-Identifier: Apache-2.0
"""Times the exact percentile of numpy and PyTorch on the data BM_percentile_exact uses (N(0, 1)
float32, 1 Mi and 64 Mi elements; p = 50, 99, 99.99), so the two can be compared in one sitting:

    /usr/bin/python3 benchmarks/compare_percentile.py
    ./build/bench/benchmarks/qkern_bench --benchmark_filter=percentile_exact

np.partition is what np.percentile runs (introselect); torch.kthvalue is PyTorch's exact k-th
value (torch.quantile refuses more than 16 M elements). Prints G elements/s, median of 5 runs.
The data differ from the benchmark's (another generator), which does not matter to selection
speed on continuous data.
"""
import math
import time

import numpy as np

try:
    import torch
except ImportError:  # numpy alone is enough
    torch = None


def median_seconds(fn, runs=5):
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return sorted(times)[len(times) // 2]


def main():
    rng = np.random.default_rng(2)
    for n in (1 << 20, 64 << 20):
        x = rng.standard_normal(n, dtype=np.float32)
        t = torch.from_numpy(x) if torch is not None else None
        for p in (50.0, 99.0, 99.99):
            k = int(math.floor(p / 100.0 * (n - 1)))  # the lower rank numpy's 'linear' interpolates from
            s = median_seconds(lambda: np.partition(x, (k, min(k + 1, n - 1))))
            line = f"N={n:>9} p={p:<6} np.partition {n / s / 1e9:6.3f} G/s"
            if t is not None:
                s = median_seconds(lambda: torch.kthvalue(t, k + 1))
                line += f"   torch.kthvalue {n / s / 1e9:6.3f} G/s"
            print(line, flush=True)


if __name__ == "__main__":
    main()
