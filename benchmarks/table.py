#!/usr/bin/env python3
# qkern benchmarks — SPDX-License-Identifier: Apache-2.0
# table.py: turns `qkern_bench --benchmark_out=run.json` into the Markdown table of README.md
# (G elements/s, GB/s in 1e9 bytes, roofline ratio). Usage: table.py run.json [name-regex]
import json
import re
import sys

runs = json.load(open(sys.argv[1]))["benchmarks"]
pattern = re.compile(sys.argv[2] if len(sys.argv) > 2 else ".")
print("| benchmark | G elem/s | GB/s | roofline |")
print("|---|---:|---:|---:|")
for b in runs:
    if b.get("run_type") == "aggregate" or not pattern.search(b["name"]):
        continue
    name = b["name"].replace("/real_time", "")
    print(f"| {name} | {b['items_per_second'] / 1e9:.2f} | {b['bytes_per_second'] / 1e9:.1f} | {b['roofline']:.2f} |")
