#!/usr/bin/python3
# qkern — SPDX-License-Identifier: Apache-2.0
#
# make_emulation.py: per-layer dumps of the original model and of a float "emulation" on the same
# test images, for the first-diverging-layer part of `qkern doctor` (issue 12, suspect 1).
# Rebuilds the BatchNorm digits model from data/digits/bn/weights.npz + bn.npz (written by
# make_dump.py; run that first), checks that it reproduces bn/test_logits_float.npy, and runs the
# first N_SAMPLES test images (test/input.npy) through it twice:
#   emulation/original/<layer>.npy           the training preprocessing, applied once
#   emulation/double_normalized/<layer>.npy  an emulation pipeline that standardises the already
#                                            standardised input again ((x - mean) / std once more)
# Layers and layout as bn/calib (data/digits/README.md). Deterministic; a second or two.
#     /usr/bin/python3 data/digits/make_emulation.py
import json
import os
import shutil

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
N_SAMPLES = 32


def forward(p, x):
    """The network of make_dump.py's DigitsNet(batchnorm=True) in eval mode, with every tap."""
    taps = {"input": x}

    def bn(t, name):
        return F.batch_norm(t, p[name + ".running_mean"], p[name + ".running_var"], p[name + ".weight"],
                            p[name + ".bias"], training=False, eps=float(p[name + ".eps"]))

    taps["conv1"] = F.conv2d(x, p["conv1.weight"], padding=1)
    taps["relu1"] = F.relu(bn(taps["conv1"], "bn1"))
    taps["conv2"] = F.conv2d(taps["relu1"], p["conv2.weight"], stride=2, padding=1)
    taps["relu2"] = F.relu(bn(taps["conv2"], "bn2"))
    taps["fc"] = F.linear(torch.flatten(taps["relu2"], 1), p["fc.weight"], p["fc.bias"])
    return taps


def main():
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    p = {}
    for f in ("weights.npz", "bn.npz"):
        with np.load(os.path.join(HERE, "bn", f)) as z:
            p.update({k: torch.from_numpy(np.array(z[k])) for k in z.files})
    x = torch.from_numpy(np.load(os.path.join(HERE, "test", "input.npy")))
    with torch.no_grad():
        logits = forward(p, x)["fc"].numpy()
    expected = np.load(os.path.join(HERE, "bn", "test_logits_float.npy"))
    err = float(np.abs(logits - expected).max())
    assert err < 1e-4, "the rebuilt model does not reproduce bn/test_logits_float.npy (max |diff| %g)" % err

    norm = json.load(open(os.path.join(HERE, "meta.json")))["normalization"]
    mean, std = float(norm["mean"]), float(norm["std"])
    x = x[:N_SAMPLES]
    pipelines = {"original": x, "double_normalized": ((x - mean) / std).to(torch.float32)}
    out = os.path.join(HERE, "emulation")
    shutil.rmtree(out, ignore_errors=True)
    for name, inp in pipelines.items():
        os.makedirs(os.path.join(out, name))
        with torch.no_grad():
            taps = forward(p, inp)
        for layer, t in taps.items():
            np.save(os.path.join(out, name, layer + ".npy"), np.ascontiguousarray(t.numpy().astype(np.float32)))
    print("emulation dumps of %d test images written to %s (model reproduces the float logits to %.2g)" %
          (N_SAMPLES, out, err))


if __name__ == "__main__":
    main()
