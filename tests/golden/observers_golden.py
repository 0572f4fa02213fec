#!/usr/bin/python3
# qkern tests — SPDX-License-Identifier: Apache-2.0
#
# observers_golden.py: PyTorch's MovingAverageMinMaxObserver and MovingAveragePerChannelMinMaxObserver
# running min/max after each batch (averaging_constant 0.01 and 0.25), written with the inputs to
# tests/golden/data/moving_average_observers.txt. Run by hand: /usr/bin/python3 tests/golden/observers_golden.py
import os
import numpy as np
import torch
from torch.ao.quantization.observer import MovingAverageMinMaxObserver, MovingAveragePerChannelMinMaxObserver

rng = np.random.default_rng(7)
out = os.path.join(os.path.dirname(__file__), "data", "moving_average_observers.txt")
lines = []
shape = (2, 3, 5)  # N, C, HW: per-channel axis 1
for c in (0.01, 0.25):
    t = MovingAverageMinMaxObserver(averaging_constant=c)
    p = MovingAveragePerChannelMinMaxObserver(averaging_constant=c, ch_axis=1)
    lines.append(f"constant {c!r}")
    for b in range(6):
        x = (rng.standard_normal(shape) * (1 + b) + 0.3 * b).astype(np.float32)
        t(torch.from_numpy(x))
        p(torch.from_numpy(x))
        lines.append("batch " + " ".join("%.9g" % v for v in x.ravel()))
        lines.append("tensor %.9g %.9g" % (t.min_val.item(), t.max_val.item()))
        lines.append("channels " + " ".join("%.9g %.9g" % (a, z) for a, z in zip(p.min_val.tolist(), p.max_val.tolist())))
with open(out, "w") as f:
    f.write("\n".join(lines) + "\n")
print("wrote", out)
