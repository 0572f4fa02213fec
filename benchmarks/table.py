#!/usr/bin/env python3
# qkern benchmarks — SPDX-License-Identifier: Apache-2.0
# table.py: turns `qkern_bench --benchmark_out=run.json` into the Markdown table of README.md
# (G elements/s, GB/s in 1e9 bytes, roofline ratio). Usage: table.py run.json [name-regex]
# With --benchmark_repetitions, the rows are the medians of the repetitions.
import json
import re
import sys

runs = json.load(open(sys.argv[1]))["benchmarks"]
pattern = re.compile(sys.argv[2] if len(sys.argv) > 2 else ".")
medians = any(b.get("aggregate_name") == "median" for b in runs)
print("| benchmark | G elem/s | GB/s | roofline |")
print("|---|---:|---:|---:|")
for b in runs:
    if medians != (b.get("aggregate_name") == "median") or not pattern.search(b["name"]):
        continue
    if not medians and b.get("run_type") == "aggregate":
        continue
    name = b["name"].replace("/real_time", "").replace("_median", "")
    print(f"| {name} | {b['items_per_second'] / 1e9:.2f} | {b['bytes_per_second'] / 1e9:.1f} | {b['roofline']:.2f} |")
