#!/usr/bin/python3
# qkern — SPDX-License-Identifier: Apache-2.0
#
# make_dump.py: the embedded real dump (data/digits/). Trains two tiny CNNs on scikit-learn's bundled
# handwritten digits (load_digits, 8x8 images, 0..16 grey levels), one with BatchNorm and one without,
# and dumps what a calibration engineer works from: per-layer calibration activations, BatchNorm
# parameters, weights, test logits of the float and of a fake-quantized int8 model, and labels, plus
# deliberately broken calibration sets (issue 12). The layout is documented in data/digits/README.md.
#
# Run with Debian's python (python3-torch 1.13, python3-sklearn, python3-numpy), from anywhere:
#     /usr/bin/python3 data/digits/make_dump.py
# Deterministic: fixed seeds, one thread, deterministic algorithms; rerunning rewrites identical files
# for the same torch/numpy versions (meta.json records them). Runs in a few seconds on 2 cores.
#
# Files are written with numpy (np.save / np.savez, uncompressed) and, for safetensors, by
# write_safetensors() below, from the format description (huggingface/safetensors README.md and
# safetensors/src/tensor.rs): 8-byte little-endian header length N, N bytes of JSON padded with
# spaces to a multiple of 8, then the byte buffer; tensors sorted by (descending alignment, name),
# contiguous data_offsets relative to the buffer start.
import json
import os
import shutil
import struct
import sys

import numpy as np
import sklearn
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_digits
from torch.ao.quantization.observer import MinMaxObserver, PerChannelMinMaxObserver

HERE = os.path.dirname(os.path.abspath(__file__))
SEED = 20261206
N_TEST = 500
N_CALIB = 128
N_REF = 64
N_BROKEN = 32
EPOCHS = 40
BATCH = 64
LR = 3e-3

# Layers dumped, in network order: name -> what it is. The same names are used for both models.
LAYERS = ["input", "conv1", "relu1", "conv2", "relu2", "fc"]


# ---------------------------------------------------------------------------------------------
# models
# ---------------------------------------------------------------------------------------------
class DigitsNet(nn.Module):
    """input (N,1,8,8) -> conv1 3x3 pad 1 (8ch, 8x8) -> [bn1] -> relu1 -> conv2 3x3 stride 2 pad 1
    (16ch, 4x4) -> [bn2] -> relu2 -> flatten (256) -> fc (10 logits)."""

    def __init__(self, batchnorm):
        super().__init__()
        self.batchnorm = batchnorm
        self.conv1 = nn.Conv2d(1, 8, 3, padding=1, bias=not batchnorm)
        self.conv2 = nn.Conv2d(8, 16, 3, stride=2, padding=1, bias=not batchnorm)
        if batchnorm:
            self.bn1 = nn.BatchNorm2d(8)
            self.bn2 = nn.BatchNorm2d(16)
        self.fc = nn.Linear(256, 10)

    def forward(self, x, taps=None):
        def tap(name, t):
            if taps is not None:
                taps[name] = t.detach().clone()
            return t

        x = tap("input", x)
        x = tap("conv1", self.conv1(x))
        if self.batchnorm:
            x = self.bn1(x)
        x = tap("relu1", F.relu(x))
        x = tap("conv2", self.conv2(x))
        if self.batchnorm:
            x = self.bn2(x)
        x = tap("relu2", F.relu(x))
        return tap("fc", self.fc(torch.flatten(x, 1)))


def train(model, x, y, seed):
    torch.manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    n = x.shape[0]
    g = torch.Generator().manual_seed(seed)
    for _ in range(EPOCHS):
        model.train()
        perm = torch.randperm(n, generator=g)
        for i in range(0, n, BATCH):
            idx = perm[i:i + BATCH]
            opt.zero_grad()
            loss = F.cross_entropy(model(x[idx]), y[idx])
            loss.backward()
            opt.step()
    model.eval()
    return model


def folded(model):
    """(weight, bias) per conv with BatchNorm folded in (eval-mode BN: w * gamma / sqrt(var + eps),
    (b - mean) * gamma / sqrt(var + eps) + beta), plus fc; what a deployment tool quantizes."""
    out = {}
    for conv, bn in (("conv1", "bn1"), ("conv2", "bn2")):
        c = getattr(model, conv)
        w = c.weight.detach().double()
        b = c.bias.detach().double() if c.bias is not None else torch.zeros(w.shape[0], dtype=torch.float64)
        if model.batchnorm:
            m = getattr(model, bn)
            k = m.weight.detach().double() / torch.sqrt(m.running_var.double() + m.eps)
            w = w * k.view(-1, 1, 1, 1)
            b = (b - m.running_mean.double()) * k + m.bias.detach().double()
        out[conv] = (w.float(), b.float())
    out["fc"] = (model.fc.weight.detach().clone(), model.fc.bias.detach().clone())
    return out


class FakeQuantNet:
    """Int8 emulation as eager-mode torch.ao post-training quantization (fbgemm qconfig) computes it,
    written as fake quantization: BatchNorm folded into the convs; weights per-output-channel symmetric
    qint8 (PerChannelMinMaxObserver, per_channel_symmetric, axis 0); activations per-tensor affine
    quint8 (MinMaxObserver, per_tensor_affine, reduce_range=False) observed on the calibration set at
    the input, after each fused conv-(bn)-relu and at the logits; biases stay float (fbgemm keeps
    them float and quantizes them inside the kernel). Rounding: half to even (torch fake_quantize)."""

    ACT_POINTS = ["input", "relu1", "relu2", "fc"]

    def __init__(self, model, calib_x):
        self.params = folded(model)
        self.wq = {}
        self.wqparams = {}
        for name, (w, b) in self.params.items():
            obs = PerChannelMinMaxObserver(ch_axis=0, dtype=torch.qint8, qscheme=torch.per_channel_symmetric)
            obs(w)
            s, zp = obs.calculate_qparams()
            self.wqparams[name] = (s, zp)
            self.wq[name] = (torch.fake_quantize_per_channel_affine(w, s.float(), zp.int(), 0, -128, 127), b)
        self.aobs = {p: MinMaxObserver(dtype=torch.quint8, qscheme=torch.per_tensor_affine) for p in self.ACT_POINTS}
        self.aq = None
        self._run(calib_x, observe=True)
        self.aq = {p: tuple(o.calculate_qparams()) for p, o in self.aobs.items()}

    def _act(self, point, t, observe):
        if observe:
            self.aobs[point](t)
            return t
        s, zp = self.aq[point]
        return torch.fake_quantize_per_tensor_affine(t, float(s), int(zp), 0, 255)

    def _run(self, x, observe=False):
        with torch.no_grad():
            x = self._act("input", x, observe)
            w, b = self.wq["conv1"]
            x = self._act("relu1", F.relu(F.conv2d(x, w, b, padding=1)), observe)
            w, b = self.wq["conv2"]
            x = self._act("relu2", F.relu(F.conv2d(x, w, b, stride=2, padding=1)), observe)
            w, b = self.wq["fc"]
            return self._act("fc", F.linear(torch.flatten(x, 1), w, b), observe)

    def __call__(self, x):
        return self._run(x)

    def qparams_json(self):
        act = {p: {"scale": float(s), "zero_point": int(zp), "dtype": "uint8", "qmin": 0, "qmax": 255,
                   "scheme": "affine", "observer": "MinMaxObserver", "min": float(self.aobs[p].min_val),
                   "max": float(self.aobs[p].max_val)} for p, (s, zp) in self.aq.items()}
        wts = {n: {"scale": [float(v) for v in s], "zero_point": [int(v) for v in zp], "axis": 0, "dtype": "int8",
                   "qmin": -128, "qmax": 127, "scheme": "symmetric", "observer": "PerChannelMinMaxObserver"}
               for n, (s, zp) in self.wqparams.items()}
        return {"activations": act, "weights_folded": wts}


# ---------------------------------------------------------------------------------------------
# writers
# ---------------------------------------------------------------------------------------------
def write_safetensors(path, tensors, metadata=None):
    """tensors: dict name -> float32/int64/... numpy array (C order, little endian)."""
    dt = {np.dtype("<f4"): ("F32", 4), np.dtype("<f8"): ("F64", 8), np.dtype("<i8"): ("I64", 8),
          np.dtype("u1"): ("U8", 1), np.dtype("<f2"): ("F16", 2)}
    items = sorted(tensors.items(), key=lambda kv: (-dt[kv[1].dtype][1], kv[0]))
    header, blobs, off = {}, [], 0
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    for name, a in items:
        raw = np.ascontiguousarray(a).tobytes()
        header[name] = {"dtype": dt[a.dtype][0], "shape": list(a.shape), "data_offsets": [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    h = json.dumps(header, separators=(",", ":")).encode("utf-8")
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def save_layers_npy(directory, acts):
    os.makedirs(directory, exist_ok=True)
    for name in LAYERS:
        np.save(os.path.join(directory, name + ".npy"), acts[name])


def dump_acts(model, x):
    taps = {}
    with torch.no_grad():
        model(x, taps)
    return {k: v.numpy().astype(np.float32) for k, v in taps.items()}


def bn_divergence(acts, model):
    """Per BatchNorm layer, over channels: max |mean - running_mean| / sqrt(running_var) and
    max |ln(var / running_var)| of the pre-BN activations (a quick view of issue 12 check (a))."""
    out = {}
    for conv, bn in (("conv1", "bn1"), ("conv2", "bn2")):
        a = acts[conv].astype(np.float64)
        m = getattr(model, bn)
        rm = m.running_mean.numpy().astype(np.float64)
        rv = m.running_var.numpy().astype(np.float64)
        mean = a.mean(axis=(0, 2, 3))
        var = a.var(axis=(0, 2, 3))
        out[bn] = {"max_mean_shift_in_std": round(float(np.max(np.abs(mean - rm) / np.sqrt(rv))), 4),
                   "max_abs_log_var_ratio": round(float(np.max(np.abs(np.log(var / rv)))), 4)}
    return out


def accuracy(logits, labels):
    return float((np.argmax(logits, axis=1) == labels).mean())


# ---------------------------------------------------------------------------------------------
# main
# ---------------------------------------------------------------------------------------------
def main():
    torch.manual_seed(SEED)
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)

    digits = load_digits()
    raw = digits.images.astype(np.uint8)  # (1797, 8, 8), grey levels 0..16
    labels = digits.target.astype(np.int64)
    rng = np.random.default_rng(SEED)
    perm = rng.permutation(raw.shape[0])
    test_idx = np.sort(perm[:N_TEST])
    calib_idx = np.sort(perm[N_TEST:N_TEST + N_CALIB])
    train_idx = np.sort(perm[N_TEST + N_CALIB:])
    ref_idx = train_idx[:N_REF]  # a slice of the training data: the "reference set" of issue 12

    # Preprocessing: x / 16 -> [0, 1], then standardised with the training set's mean and std.
    scaled_train = raw[train_idx].astype(np.float32) / 16.0
    mean = float(scaled_train.mean())
    std = float(scaled_train.std())

    def normalize(r):
        return ((r.astype(np.float32) / 16.0 - mean) / std).astype(np.float32)[:, None, :, :]

    x_train = torch.from_numpy(normalize(raw[train_idx]))
    y_train = torch.from_numpy(labels[train_idx])
    x_calib = torch.from_numpy(normalize(raw[calib_idx]))
    x_test = torch.from_numpy(normalize(raw[test_idx]))
    y_test = labels[test_idx]
    x_ref = torch.from_numpy(normalize(raw[ref_idx]))

    # Fresh output (keep the script and README).
    for d in ("bn", "nobn", "broken", "test"):
        shutil.rmtree(os.path.join(HERE, d), ignore_errors=True)
    for f in ("images.npz", "meta.json"):
        if os.path.exists(os.path.join(HERE, f)):
            os.remove(os.path.join(HERE, f))

    os.makedirs(os.path.join(HERE, "test"))
    np.save(os.path.join(HERE, "test", "input.npy"), x_test.numpy())
    np.save(os.path.join(HERE, "test", "labels.npy"), y_test)
    np.savez(os.path.join(HERE, "images.npz"), calib=raw[calib_idx], test=raw[test_idx], ref=raw[ref_idx],
             calib_labels=labels[calib_idx], test_labels=y_test, ref_labels=labels[ref_idx])

    meta = {
        "generator": "data/digits/make_dump.py",
        "versions": {"torch": torch.__version__, "numpy": np.__version__, "sklearn": sklearn.__version__,
                     "python": sys.version.split()[0]},
        "seed": SEED,
        "split": {"test": N_TEST, "calib": N_CALIB, "train": int(train_idx.size), "ref": N_REF,
                  "broken": N_BROKEN},
        "normalization": {"mean": mean, "std": std,
                          "formula": "x = (pixel / 16 - mean) / std, pixel in 0..16"},
        "batch_axis": 0,
        "layers": {},
        "models": {},
    }

    models = {}
    for tag, bn in (("bn", True), ("nobn", False)):
        torch.manual_seed(SEED + (0 if bn else 1))
        model = train(DigitsNet(bn), x_train, y_train, SEED + (0 if bn else 1))
        models[tag] = model
        out = os.path.join(HERE, tag)
        acts = dump_acts(model, x_calib)
        if not meta["layers"]:
            meta["layers"] = {k: list(v.shape[1:]) for k, v in acts.items()}
        save_layers_npy(os.path.join(out, "calib"), acts)
        if bn:  # the reference set (issue 12 (b)) is kept for the BatchNorm model only
            save_layers_npy(os.path.join(out, "ref"), dump_acts(model, x_ref))

        # weights (as trained) and BN-folded weights; BN parameters
        w = {k: v.detach().numpy().astype(np.float32) for k, v in model.state_dict().items()
             if not k.startswith("bn")}
        np.savez(os.path.join(out, "weights.npz"), **w)
        fw = {}
        for name, (fwt, fb) in folded(model).items():
            fw[name + ".weight"] = fwt.numpy()
            fw[name + ".bias"] = fb.numpy()
        np.savez(os.path.join(out, "weights_folded.npz"), **fw)
        if bn:
            bnp = {}
            for b in ("bn1", "bn2"):
                m = getattr(model, b)
                bnp[b + ".running_mean"] = m.running_mean.numpy().astype(np.float32)
                bnp[b + ".running_var"] = m.running_var.numpy().astype(np.float32)
                bnp[b + ".weight"] = m.weight.detach().numpy().astype(np.float32)
                bnp[b + ".bias"] = m.bias.detach().numpy().astype(np.float32)
                bnp[b + ".eps"] = np.array(m.eps, dtype=np.float32)
                bnp[b + ".num_batches_tracked"] = np.array(int(m.num_batches_tracked), dtype=np.int64)
            np.savez(os.path.join(out, "bn.npz"), **bnp)

            # The same calibration activations in mixed containers, batches split over files:
            # input.npy holds all samples; every other layer is split along axis 0 into
            # part-0.npz (samples 0..63) and part-1.safetensors (samples 64..127).
            mixed = os.path.join(out, "calib_mixed")
            os.makedirs(mixed)
            np.save(os.path.join(mixed, "input.npy"), acts["input"])
            half = N_CALIB // 2
            np.savez(os.path.join(mixed, "part-0.npz"), **{k: acts[k][:half] for k in LAYERS if k != "input"})
            write_safetensors(os.path.join(mixed, "part-1.safetensors"),
                              {k: acts[k][half:] for k in LAYERS if k != "input"},
                              {"producer": "data/digits/make_dump.py", "batch_axis": "0",
                               "samples": "%d..%d" % (half, N_CALIB - 1)})

        with torch.no_grad():
            logits_f = model(x_test).numpy()
        fq = FakeQuantNet(model, x_calib)
        logits_q = fq(x_test).numpy()
        np.save(os.path.join(out, "test_logits_float.npy"), logits_f.astype(np.float32))
        np.save(os.path.join(out, "test_logits_int8.npy"), logits_q.astype(np.float32))
        with open(os.path.join(out, "qparams.json"), "w") as f:
            json.dump(fq.qparams_json(), f, indent=1, sort_keys=True)
            f.write("\n")
        meta["models"][tag] = {"batchnorm": bn, "test_accuracy_float": accuracy(logits_f, y_test),
                               "test_accuracy_int8": accuracy(logits_q, y_test)}
        if bn:
            meta["models"][tag]["bn_divergence_calib"] = bn_divergence(acts, model)

    # Broken calibration sets (issue 12), all through the BatchNorm model. Content variants are
    # normalised correctly; preprocessing variants are what a pipeline that preprocesses wrongly
    # feeds (both to calibration and to its own test run).
    model = models["bn"]
    brng = np.random.default_rng(SEED + 7)
    good = raw[calib_idx[:N_BROKEN]]
    variants = {
        # one calibration image repeated N_BROKEN times
        "repeated": (normalize(np.repeat(good[:1], N_BROKEN, axis=0)), normalize),
        # independent uniform noise over the pixel range [0, 16]
        "uniform_noise": (((brng.uniform(0.0, 16.0, size=(N_BROKEN, 8, 8)).astype(np.float32) / 16.0 - mean) /
                           std).astype(np.float32)[:, None], normalize),
        # every image a single grey level, levels drawn uniformly from 0..16
        "single_colour": (normalize(np.repeat(np.repeat(brng.integers(0, 17, size=(N_BROKEN, 1, 1)), 8, 1), 8, 2)),
                          normalize),
        # pixels fed as stored, 0..16, no scaling or standardisation
        "unnormalized": (raw_float(good), raw_float),
        # the normalisation applied twice
        "double_normalized": (double_norm(good, normalize, mean, std), lambda r: double_norm(r, normalize, mean, std)),
    }
    meta["broken"] = {}
    for name, (xb, pre) in variants.items():
        out = os.path.join(HERE, "broken", name)
        xb = torch.from_numpy(np.ascontiguousarray(xb, dtype=np.float32))
        bacts = dump_acts(model, xb)
        save_layers_npy(os.path.join(out, "calib"), bacts)
        x_t = torch.from_numpy(pre(raw[test_idx]))
        with torch.no_grad():
            logits_f = model(x_t).numpy()
        fq = FakeQuantNet(model, xb)
        logits_q = fq(x_t).numpy()
        np.save(os.path.join(out, "test_logits_float.npy"), logits_f.astype(np.float32))
        np.save(os.path.join(out, "test_logits_int8.npy"), logits_q.astype(np.float32))
        with open(os.path.join(out, "qparams.json"), "w") as f:
            json.dump(fq.qparams_json(), f, indent=1, sort_keys=True)
            f.write("\n")
        meta["broken"][name] = {"test_accuracy_float": accuracy(logits_f, y_test),
                                "test_accuracy_int8": accuracy(logits_q, y_test),
                                "bn_divergence_calib": bn_divergence(bacts, model)}

    with open(os.path.join(HERE, "meta.json"), "w") as f:
        json.dump(meta, f, indent=1, sort_keys=True)
        f.write("\n")
    print(json.dumps({"models": meta["models"], "broken": meta["broken"]}, indent=1))


def raw_float(r):
    return r.astype(np.float32)[:, None, :, :]


def double_norm(r, normalize, mean, std):
    return ((normalize(r) - mean) / std).astype(np.float32)


if __name__ == "__main__":
    main()
