#!/usr/bin/python3
# qkern — SPDX-License-Identifier: Apache-2.0
#
# generate_parity_golden.py: golden vectors for the tool-parity modes (issue 10 part 2;
# tests/test_parity_*.cpp). Run by hand with Debian's python (python3-torch 1.13, numpy 1.24):
#     /usr/bin/python3 tests/golden/generate_parity_golden.py
# Writes tests/golden/data/parity_*.txt. Floats are hex bit patterns (float32: 8 digits, float64: 16).
#
#   parity_torch_sum.txt        torch.sum of float32 vectors (torch's cascade summation, AVX2 build)
#   parity_binning.txt          the bin np.histogram and torch.histc give each value (edge values,
#                               their float32 neighbours, random values, values just outside)
#   parity_fold.txt             torch.nn.utils.fusion fuse_conv_bn_weights / fuse_linear_bn_weights on
#                               grouped, depthwise, transposed and Linear layers with large running
#                               means (grouped ConvTranspose: torch's arithmetic on the correct
#                               channels, as pytorch/pytorch PR #184076 computes it)
#   parity_presets.txt          torch.ao default observers / fake-quants (the presets' namesakes) on
#                               batch streams: their scale / zero point (per channel where they are)
#   parity_modelopt.txt         ModelOpt HistogramCalibrator (NVIDIA/TensorRT-Model-Optimizer
#                               modelopt/torch/quantization/calib/histogram.py + tensor_quant.py at
#                               0af26b2a6f975222718c6bdd914a047442150803; ModelOpt is not packaged, so
#                               collect() and compute_amax() are transcribed below, running the same
#                               torch / numpy calls), torch and numpy paths, on batch streams: edges,
#                               counts and amax (entropy / mse / percentile); plus torch.linspace,
#                               torch.arange and np.arange (float32) outputs
#   parity_per_channel_f64.txt  torch.quantize_per_channel with float64 scales (int64 zero points):
#                               the codes and the dequantized values
#   parity_torch_histogram.txt  torch.ao HistogramObserver fed multi-batch streams: its histogram,
#                               min/max after every batch, and calculate_qparams for several configs
#   parity_ort_scale_zp.txt     ONNX Runtime quant_utils.compute_scale_zp + get_qmin_qmax_for_qType
#                               (microsoft/onnxruntime main as read 2026-12, the version with
#                               min_real_range; onnxruntime is not packaged, so both are transcribed
#                               below with the same numpy calls) on float32 ranges: scale, zero point
import os
import struct

import numpy as np
import torch
from torch.ao.quantization.observer import HistogramObserver
from torch.nn.utils.fusion import fuse_conv_bn_weights, fuse_linear_bn_weights

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")
torch.set_num_threads(1)


def h32(v):
    return struct.pack(">f", float(v)).hex()


def h64(v):
    return struct.pack(">d", float(v)).hex()


def f32s(a):
    return " ".join(h32(v) for v in np.asarray(a, dtype=np.float32).reshape(-1))


# ---------------------------------------------------------------------------------------------
# torch.sum on float32 (HistogramObserver sums its histogram and its error vector with it)
# ---------------------------------------------------------------------------------------------
def write_torch_sum():
    rng = np.random.default_rng(20261206)
    lines = ["# n  values...  torch.sum (float32 hex)"]
    for n in [1, 7, 8, 9, 31, 32, 33, 100, 255, 256, 257, 511, 1000, 2048, 2049, 5000, 40000]:
        for kind in range(2 if n < 300 else 1):
            if kind == 0:
                a = (rng.standard_normal(n) * 10.0 ** rng.integers(-3, 4, n)).astype(np.float32)
            else:
                a = (rng.integers(0, 1000, n) / 128.0 + rng.random(n) * 1e-3).astype(np.float32)
            s = torch.sum(torch.from_numpy(a)).item()
            if n >= 5000:  # keep the file small: store a seed-free arithmetic vector instead
                a = (np.arange(n, dtype=np.float32) * np.float32(0.1)).astype(np.float32)
                s = torch.sum(torch.from_numpy(a)).item()
                lines.append("A %d %s" % (n, h32(s)))
                break
            lines.append("%d %s %s" % (n, f32s(a), h32(s)))
    with open(os.path.join(OUT, "parity_torch_sum.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")


# ---------------------------------------------------------------------------------------------
# HistogramObserver streams
# ---------------------------------------------------------------------------------------------
def streams():
    rng = np.random.default_rng(101)
    s = {}
    # ranges that grow between batches (signed, crossing the int() truncation of torch 1.13)
    s["growing"] = [rng.standard_normal(300) * (0.3 + 0.5 * k) for k in range(6)]
    # ReLU activations: many exact zeros, one-sided
    s["relu"] = [np.maximum(rng.standard_normal(400) * (1.0 + 0.2 * k), 0) for k in range(5)]
    # small activations inside (-1, 1): int() truncates the histc range to 0, torch falls back to min/max
    s["small"] = [rng.standard_normal(300) * 0.2 + 0.05 * k for k in range(5)]
    # an outlier batch in the middle
    b = [rng.standard_normal(300) * 2.0 for _ in range(5)]
    b[2][17] = 85.0
    s["outlier"] = b
    # constant batches: first constant, then varied, then constant again
    s["constant"] = [np.full(50, 1.5), np.full(40, 1.5), rng.standard_normal(200) * 3, np.full(30, -0.25),
                     rng.uniform(-2, 6, 200)]
    s["const_zero"] = [np.zeros(64), rng.uniform(0.0, 4.0, 256), np.zeros(64)]
    # shrinking range (combined range unchanged: counts added directly) and shifting ranges
    s["shrink_shift"] = [rng.uniform(-10, 10, 300), rng.uniform(-3, 3, 300), rng.uniform(5, 40, 300),
                         rng.uniform(-60, -20, 200)]
    # digit-classifier-like activations: lognormal positive with large batches
    s["lognormal"] = [rng.lognormal(-1.0, 1.0, 600) for _ in range(4)]
    return {k: [np.asarray(v, dtype=np.float32) for v in vs] for k, vs in s.items()}


CONFIGS = [  # name, kwargs
    ("quint8_affine", dict(dtype=torch.quint8, qscheme=torch.per_tensor_affine)),
    ("qint8_symmetric", dict(dtype=torch.qint8, qscheme=torch.per_tensor_symmetric)),
    ("quint8_0_127", dict(dtype=torch.quint8, qscheme=torch.per_tensor_affine, quant_min=0, quant_max=127)),
    ("qint8_affine_reduce", dict(dtype=torch.qint8, qscheme=torch.per_tensor_affine, reduce_range=True)),
]


def write_torch_histogram():
    lines = ["# S name bins upsample_rate nbatches",
             "# B n values...                               (one line per batch)",
             "# M min_val max_val                           (observer state after each batch)",
             "# H histogram...                              (final)",
             "# Q config new_min new_max scale zero_point   (calculate_qparams, search result)"]
    for name, batches in streams().items():
        for bins in ([2048, 256, 47] if name in ("growing", "outlier", "lognormal") else [2048]):
            lines.append("S %s %d 128 %d" % (name, bins, len(batches)))
            states = []
            obs = {c: HistogramObserver(bins=bins, **kw) for c, kw in CONFIGS}
            for b in batches:
                lines.append("B %d %s" % (b.size, f32s(b)))
                for o in obs.values():
                    o(torch.from_numpy(b.copy()))
                o = obs[CONFIGS[0][0]]
                lines.append("M %s %s" % (h32(o.min_val.item()), h32(o.max_val.item())))
            o = obs[CONFIGS[0][0]]
            lines.append("H %s" % f32s(o.histogram.numpy()))
            for c, _ in CONFIGS:
                o = obs[c]
                lo, hi = o._non_linear_param_search()
                scale, zp = o.calculate_qparams()
                lines.append("Q %s %s %s %s %d" % (c, h32(lo.item()), h32(hi.item()), h32(scale.item()),
                                                   int(zp.item())))
    with open(os.path.join(OUT, "parity_torch_histogram.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")


# ---------------------------------------------------------------------------------------------
# Binning rules, per element: each value histogrammed alone
# ---------------------------------------------------------------------------------------------
def np_bin(v, lo, hi, bins, f32_range):
    r = (np.float32(lo), np.float32(hi)) if f32_range else (float(lo), float(hi))
    h, _ = np.histogram(np.array([v], dtype=np.float32), bins=bins, range=r)
    nz = np.nonzero(h)[0]
    return int(nz[0]) if nz.size else -1


def torch_bin(v, lo, hi, bins):
    h = torch.histc(torch.tensor([v], dtype=torch.float32), bins=bins, min=float(lo), max=float(hi))
    nz = torch.nonzero(h).reshape(-1)
    return int(nz[0]) if nz.numel() else -1


def write_binning():
    rng = np.random.default_rng(7)
    cases = [(-1.0, 1.0, 2048), (0.0, 6.2831855, 2048), (-3.3, 0.7, 100), (1e-3, 1.7e-3, 2048),
             (-1000.5, 2000.25, 128), (0.0, 0.1, 2048)]
    lines = ["# C lo hi bins        then one line per value: x numpy_f32_range numpy_f64_range torch_histc",
             "# (bin -1: dropped, outside [lo, hi])"]
    for lo, hi, bins in cases:
        lo32, hi32 = np.float32(lo), np.float32(hi)
        lines.append("C %s %s %d" % (h32(lo32), h32(hi32), bins))
        e32 = np.linspace(lo32, hi32, bins + 1, dtype=np.float32)
        e64 = np.linspace(float(lo32), float(hi32), bins + 1).astype(np.float32)
        pick = rng.choice(bins + 1, size=min(bins + 1, 120), replace=False)
        vals = set()
        for e in (e32, e64):
            for k in pick:
                v = e[k]
                vals.update([v, np.nextafter(v, np.float32(-np.inf)), np.nextafter(v, np.float32(np.inf))])
        # the nominal edges lo + k * (hi - lo) / bins in float64, rounded to float32
        for k in pick[:60]:
            v = np.float32(float(lo32) + k * (float(hi32) - float(lo32)) / bins)
            vals.update([v, np.nextafter(v, np.float32(-np.inf)), np.nextafter(v, np.float32(np.inf))])
        vals.update(rng.uniform(float(lo32), float(hi32), 60).astype(np.float32).tolist())
        vals = sorted(np.float32(v) for v in vals)
        for v in vals:
            lines.append("%s %d %d %d" % (h32(v), np_bin(v, lo32, hi32, bins, True),
                                          np_bin(v, lo32, hi32, bins, False), torch_bin(v, lo32, hi32, bins)))
    with open(os.path.join(OUT, "parity_binning.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")


# ---------------------------------------------------------------------------------------------
# BatchNorm folding with torch's arithmetic
# ---------------------------------------------------------------------------------------------
def t32(t):
    return "-" if t is None else f32s(t.detach().numpy())


def write_fold():
    g = torch.Generator().manual_seed(1206)
    lines = ["# F name layout groups eps(float64 hex) / S shape / W / b / mean / var / gamma / beta / FW / FB",
             "# ('-' = absent)"]

    def bn(c, big):
        mean = torch.randn(c, generator=g) * (3e3 if big else 1.0)
        var = torch.exp(torch.empty(c).uniform_(-9.0, 6.0, generator=g))
        gamma = torch.randn(c, generator=g)
        beta = torch.randn(c, generator=g) * 10
        return mean, var, gamma, beta

    def emit(name, layout, groups, eps, w, b, mean, var, gamma, beta, fw, fb):
        lines.append("F %s %s %d %s" % (name, layout, groups, h64(eps)))
        lines.append("S " + " ".join(str(d) for d in w.shape))
        for key, t in (("W", w), ("b", b), ("mean", mean), ("var", var), ("gamma", gamma), ("beta", beta),
                       ("FW", fw), ("FB", fb)):
            lines.append("%s %s" % (key, t32(t)))

    convs = [("conv2d_g1", 8, 3, 1, (3, 3)), ("conv2d_g2", 8, 6, 2, (3, 3)), ("depthwise", 12, 12, 12, (3, 3)),
             ("depthwise_mult2", 12, 6, 6, (5, 5)), ("conv1d_g4", 16, 8, 4, (3,)), ("conv3d", 4, 2, 1, (2, 2, 2))]
    for name, cout, cin, groups, k in convs:
        for big in (False, True):
            for has_bias, affine in ((True, True), (False, True), (True, False)):
                w = torch.randn((cout, cin // groups) + k, generator=g)
                b = torch.randn(cout, generator=g) if has_bias else None
                mean, var, gamma, beta = bn(cout, big)
                if not affine:
                    gamma, beta = None, None
                eps = 1e-5 if big else 1e-3
                fw, fb = fuse_conv_bn_weights(w, b, mean, var, eps, gamma, beta)
                emit("%s_%s_%s_%s" % (name, "bigmean" if big else "mean", "bias" if has_bias else "nobias",
                                      "affine" if affine else "plain"), "oihw", groups, eps, w, b, mean, var, gamma,
                     beta, fw, fb)
    # ConvTranspose: weight [I, O/groups, k...]
    for name, cin, cout, groups, k in [("convtranspose2d_g1", 6, 8, 1, (3, 3)), ("convtranspose2d_g3", 6, 9, 3, (2, 2)),
                                       ("convtranspose1d_dw", 8, 8, 8, (4,))]:
        for big in (False, True):
            w = torch.randn((cin, cout // groups) + k, generator=g)
            b = torch.randn(cout, generator=g)
            mean, var, gamma, beta = bn(cout, big)
            eps = 1e-5
            if groups == 1:
                fw, fb = fuse_conv_bn_weights(w, b, mean, var, eps, gamma, beta, transpose=True)
            else:  # torch's arithmetic on the right channels (pytorch/pytorch#180995, PR #184076)
                fb = (b - mean) * torch.rsqrt(var + eps) * gamma + beta  # fusion.py's bias line
                scale = (gamma * torch.rsqrt(var + eps)).reshape([groups, 1, cout // groups] + [1] * len(k))
                fw = (w.reshape([groups, cin // groups, cout // groups] + list(k)) * scale).reshape(w.shape)
            emit("%s_%s" % (name, "bigmean" if big else "mean"), "iohw", groups, eps, w, b, mean, var, gamma, beta,
                 fw, fb)
    for big in (False, True):
        for has_bias in (True, False):
            w = torch.randn(10, 7, generator=g)
            b = torch.randn(10, generator=g) if has_bias else None
            mean, var, gamma, beta = bn(10, big)
            eps = 1e-5
            fw, fb = fuse_linear_bn_weights(w, b, mean, var, eps, gamma, beta)
            emit("linear_%s_%s" % ("bigmean" if big else "mean", "bias" if has_bias else "nobias"), "oihw", 1, eps, w,
                 b, mean, var, gamma, beta, fw, fb)
    with open(os.path.join(OUT, "parity_fold.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")


# ---------------------------------------------------------------------------------------------
# Presets: torch's own default observers / fake-quants
# ---------------------------------------------------------------------------------------------
def write_presets():
    import torch.ao.quantization as tq
    rng = np.random.default_rng(55)
    data = {
        "normal": [rng.standard_normal((4, 16)) * (1 + k) for k in range(3)],
        "relu": [np.maximum(rng.standard_normal((4, 16)) * 3, 0) for _ in range(3)],
        "shifted": [rng.uniform(0.5, 7.0, (4, 16)) for _ in range(3)],
        "tiny": [rng.standard_normal((4, 16)) * 1e-6 for _ in range(2)],
    }
    makers = [
        ("pytorch_default_observer", tq.default_observer),
        ("pytorch_default_weight_observer", tq.default_weight_observer),
        ("pytorch_default_per_channel_weight_observer", tq.default_per_channel_weight_observer),
        ("pytorch_default_histogram_observer", tq.default_histogram_observer),
        ("pytorch_default_fake_quant", tq.default_fake_quant),
        ("pytorch_default_weight_fake_quant", tq.default_weight_fake_quant),
        ("pytorch_default_per_channel_weight_fake_quant", tq.default_per_channel_weight_fake_quant),
    ]
    lines = ["# D name nbatches / B values (4x16, row-major) ... / P preset scale... zero_point..."]
    for dname, batches in data.items():
        batches = [np.asarray(b, dtype=np.float32) for b in batches]
        lines.append("D %s %d" % (dname, len(batches)))
        for b in batches:
            lines.append("B " + f32s(b))
        for pname, mk in makers:
            m = mk()
            for b in batches:
                m(torch.from_numpy(b.copy()))
            scale, zp = m.calculate_qparams()
            sc = scale.reshape(-1).tolist()
            zs = zp.reshape(-1).tolist()
            lines.append("P %s %d %s %s" % (pname, len(sc), " ".join(h32(v) for v in sc), " ".join(str(int(z)) for z in zs)))
    with open(os.path.join(OUT, "parity_presets.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")


# ---------------------------------------------------------------------------------------------
# ModelOpt HistogramCalibrator (transcribed; see the header)
# ---------------------------------------------------------------------------------------------
class ModelOptHistogramCalibrator:
    def __init__(self, num_bins=2048, skip_zeros=False, torch_hist=True):
        self._num_bins = num_bins
        self._skip_zeros = skip_zeros
        self._torch_hist = torch_hist
        self._calib_bin_edges = None
        self._calib_hist = None

    def collect(self, x):
        if torch.min(x) < 0.0:
            x = x.abs()
        x = x.float()
        if not self._torch_hist:
            x_np = x.cpu().detach().numpy()
            if self._skip_zeros:
                x_np = x_np[np.where(x_np != 0)]
            if self._calib_bin_edges is None and self._calib_hist is None:
                self._calib_hist, self._calib_bin_edges = np.histogram(x_np, bins=self._num_bins)
            else:
                temp_amax = np.max(x_np)
                if temp_amax > self._calib_bin_edges[-1]:
                    width = self._calib_bin_edges[1] - self._calib_bin_edges[0]
                    new_bin_edges = np.arange(self._calib_bin_edges[-1] + width, temp_amax + width, width)
                    self._calib_bin_edges = np.hstack((self._calib_bin_edges, new_bin_edges))
                hist, self._calib_bin_edges = np.histogram(x_np, bins=self._calib_bin_edges)
                hist[: len(self._calib_hist)] += self._calib_hist
                self._calib_hist = hist
        else:
            with torch.no_grad():
                if self._skip_zeros:
                    x = x[torch.where(x != 0)]
                x_max = x.max()
                if self._calib_bin_edges is None and self._calib_hist is None:
                    self._calib_hist = torch.histc(x, bins=self._num_bins, min=0, max=x_max)
                    self._calib_bin_edges = torch.linspace(0, x_max, self._num_bins + 1)
                else:
                    if x_max > self._calib_bin_edges[-1]:
                        width = self._calib_bin_edges[1] - self._calib_bin_edges[0]
                        self._num_bins = int((x_max / width).ceil().item())
                        self._calib_bin_edges = torch.arange(0, x_max + width, width, device=x.device)
                    hist = torch.histc(x, bins=self._num_bins, min=0, max=self._calib_bin_edges[-1])
                    hist[: self._calib_hist.numel()] += self._calib_hist
                    self._calib_hist = hist

    def arrays(self):
        if isinstance(self._calib_hist, torch.Tensor):
            return self._calib_hist.int().cpu().numpy(), self._calib_bin_edges.cpu().numpy()
        return self._calib_hist, self._calib_bin_edges


def modelopt_tensor_quant_fake(inputs, amax, num_bits=8, unsigned=False, narrow_range=True):
    # tensor_quant.py _tensor_quant + FakeTensorQuantFunction's CPU path (legacy_quant_func)
    max_bound = torch.tensor((2.0 ** (num_bits - 1 + int(unsigned))) - 1.0, device=amax.device)
    min_bound = 0 if unsigned else (-max_bound if narrow_range else -max_bound - 1)
    scale = max_bound / amax
    epsilon = 1.0 / (1 << 24)
    min_amax = amax.min()
    if min_amax <= epsilon:
        zero_amax_mask = amax <= epsilon
        scale[zero_amax_mask] = 0
    outputs = torch.clamp((inputs * scale).round_(), min_bound, max_bound)
    if min_amax <= epsilon:
        scale[zero_amax_mask] = 1.0
    return outputs / scale.to(inputs.dtype)


def modelopt_mse_torch(calib_hist, calib_bin_edges, num_bits, unsigned, stride=1, start_bin=128):
    counts = torch.from_numpy(calib_hist[:]).float()
    edges = torch.from_numpy(calib_bin_edges[:]).float()
    centers = (edges[1:] + edges[:-1]) / 2
    mses = []
    arguments = []
    for i in range(start_bin, len(centers), stride):
        amax = centers[i]
        quant_centers = modelopt_tensor_quant_fake(centers, amax, num_bits, unsigned)
        mse = ((quant_centers - centers) ** 2 * counts).mean()
        mses.append(mse.cpu())
        arguments.append(i)
    argmin = np.argmin(mses)
    return centers[arguments[argmin]].item()


def write_modelopt():
    import sys
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from generate_fit_golden import modelopt_entropy, modelopt_percentile

    lines = ["# L start end steps  values   (torch.linspace float32)",
             "# A start end step   values   (torch.arange, float32 tensors as arguments)",
             "# N start stop step  values   (np.arange on np.float32 scalars)",
             "# S name path(torch|numpy) num_bins skip_zeros nbatches / B values / E edges / C counts",
             "# R method num_bits unsigned stride start_bin percentile(f64) amax(f32)   ('-' = ModelOpt raises)"]
    rng = np.random.default_rng(77)
    for end, steps in [(1.0, 17), (3.7, 16), (0.3, 33), (123.456, 101), (2.5, 2049), (1e-3, 257), (7.0, 15)]:
        e = torch.linspace(0, torch.tensor(end, dtype=torch.float32), steps)
        lines.append("L %s %s %d %s" % (h32(0), h32(np.float32(end)), steps, f32s(e.numpy())))
    for mx, w in [(1.0, 0.01), (5.3, 0.0025), (2.5, 2.5 / 2048), (100.0, 0.7)]:
        mx32, w32 = torch.tensor(mx, dtype=torch.float32), torch.tensor(w, dtype=torch.float32)
        e = torch.arange(0, mx32 + w32, w32)
        lines.append("A %s %s %s %s" % (h32(0), h32((mx32 + w32).item()), h32(w32.item()), f32s(e.numpy())))
    for st, sp, w in [(1.0, 1.5, 0.01), (2.5, 9.1, 0.0123), (0.25, 0.3, 1e-4)]:
        a = np.arange(np.float32(st), np.float32(sp), np.float32(w))  # float64 result (numpy's promotion)
        lines.append("N %s %s %s %s" % (h32(st), h32(sp), h32(w), " ".join(h64(v) for v in a)))

    streams = {
        "growing": [rng.standard_normal(300) * (0.5 + 0.4 * k) for k in range(4)],
        "relu_zeros": [np.maximum(rng.standard_normal(400) * 2, 0) for _ in range(4)],
        "outlier": [rng.standard_normal(300) for _ in range(4)],
        "shrinking": [rng.uniform(-8, 8, 300), rng.uniform(-2, 2, 300), rng.uniform(0, 1, 300)],
        "constant_first": [np.full(64, 0.75), rng.uniform(0, 3, 300), rng.uniform(0, 1, 200)],
    }
    streams["outlier"][2][5] = 12.0
    for name, batches in streams.items():
        batches = [np.asarray(b, dtype=np.float32) for b in batches]
        for path in ("torch", "numpy"):
            for skip in ([False, True] if name == "relu_zeros" else [False]):
                nb = 2048 if name == "shrinking" else 512
                c = ModelOptHistogramCalibrator(num_bins=nb, skip_zeros=skip, torch_hist=(path == "torch"))
                lines.append("S %s %s %d %d %d" % (name, path, nb, int(skip), len(batches)))
                for b in batches:
                    lines.append("B " + f32s(b))
                    c.collect(torch.from_numpy(b.copy()))
                hist, edges = c.arrays()
                if edges.dtype == np.float32:
                    lines.append("E " + f32s(edges))
                else:
                    lines.append("E64 " + " ".join(h64(v) for v in edges))
                lines.append("C " + " ".join(str(int(v)) for v in hist))
                if path == "torch":
                    lines.append("F " + f32s(c._calib_hist.numpy()))
                # (the literal entropy transcription is O(bins^2) Python: larger strides on 2048 bins)
                for nbits, uns, stride, start in ((8, False, 1 if nb == 512 else 8, 128), (8, True, 4, 100),
                                                  (4, False, 8, 16)):
                    try:
                        a = modelopt_entropy(hist.astype(np.int64).copy(), edges, nbits, uns, stride, start)
                        a = h32(torch.tensor(a.item()).item())
                    except (RuntimeError, IndexError, ValueError):
                        a = "-"
                    lines.append("R entropy %d %d %d %d %s %s" % (nbits, int(uns), stride, start, h64(0), a))
                    try:
                        a = h32(modelopt_mse_torch(hist, edges, nbits, uns, stride, start))
                    except (RuntimeError, IndexError, ValueError):
                        a = "-"
                    lines.append("R mse %d %d %d %d %s %s" % (nbits, int(uns), stride, start, h64(0), a))
                for p in (99.99, 99.9, 50.0):
                    a = modelopt_percentile(hist, edges, p)
                    lines.append("R percentile 8 0 1 128 %s %s" % (h64(p), h32(torch.tensor(a.item()).item())))
    with open(os.path.join(OUT, "parity_modelopt.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")


# ---------------------------------------------------------------------------------------------
# Per-channel quantize / dequantize with float64 scales
# ---------------------------------------------------------------------------------------------
def write_per_channel_f64():
    rng = np.random.default_rng(64)
    lines = ["# T dtype C inner / S scales (f64 hex) / Z zero points / X values (f32) / Q codes / D dequantized (f32)"]
    for dtype, qmin, qmax in ((torch.qint8, -128, 127), (torch.quint8, 0, 255)):
        for C, inner in ((3, 37), (5, 16)):
            scales = rng.uniform(0.001, 0.2, C) * 10.0 ** rng.integers(-2, 2, C)
            scales[0] = 0.1  # 3.1 / 0.1 style values: float(0.1) != 0.1
            zps = rng.integers(qmin // 2 + 1, qmax // 2, C) if qmin == 0 else rng.integers(-20, 20, C)
            x = np.empty((C, inner), dtype=np.float32)
            for c in range(C):
                codes = rng.integers(qmin, qmax + 1, inner)
                x[c] = ((codes - zps[c]) * scales[c] + rng.uniform(-0.5, 0.5, inner) * scales[c]).astype(np.float32)
                x[c, :4] = ((np.array([31, -7, 100, 55]) - 0) * scales[c]).astype(np.float32)  # on-grid values
            st = torch.tensor(scales, dtype=torch.float64)
            zt = torch.tensor(zps, dtype=torch.int64)
            q = torch.quantize_per_channel(torch.from_numpy(x), st, zt, 0, dtype)
            lines.append("T %s %d %d" % ("int8" if dtype == torch.qint8 else "uint8", C, inner))
            lines.append("S " + " ".join(h64(v) for v in scales))
            lines.append("Z " + " ".join(str(int(v)) for v in zps))
            lines.append("X " + f32s(x))
            lines.append("Q " + " ".join(str(int(v)) for v in q.int_repr().reshape(-1).tolist()))
            lines.append("D " + f32s(q.dequantize().numpy()))
    with open(os.path.join(OUT, "parity_per_channel_f64.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")


# ---------------------------------------------------------------------------------------------
# ONNX Runtime compute_scale_zp (onnxruntime/python/tools/quantization/quant_utils.py, main 2026-12)
# ---------------------------------------------------------------------------------------------
ORT_RANGE = {"int8": (-128, 127), "uint8": (0, 255), "int16": (-32768, 32767), "uint16": (0, 65535),
             "int4": (-8, 7), "uint4": (0, 15)}
ORT_SYMMETRIC_RANGE = {"int8": (-127, 127), "uint8": (0, 254), "int16": (-32767, 32767), "uint16": (0, 65534)}
ORT_REDUCED_RANGE = {"int8": (-64, 64), "uint8": (0, 127), "int16": (-16384, 16384), "uint16": (0, 32767),
                     "int4": (-4, 3), "uint4": (0, 7)}
ORT_NP = {"int8": np.int8, "uint8": np.uint8, "int16": np.int16, "uint16": np.uint16, "int4": np.int8,
          "uint4": np.uint8}


def ort_qmin_qmax(dtype, reduce_range, symmetric):
    # get_qmin_qmax_for_qType: the reduced table first, then the symmetric one, else the full range;
    # the tables hold numpy arrays of the quantized dtype
    if reduce_range:
        q = ORT_REDUCED_RANGE[dtype]
    elif symmetric and dtype in ORT_SYMMETRIC_RANGE:
        q = ORT_SYMMETRIC_RANGE[dtype]
    else:
        q = ORT_RANGE[dtype]
    return np.array(q[0], dtype=ORT_NP[dtype]), np.array(q[1], dtype=ORT_NP[dtype])


def ort_compute_scale_zp(rmin, rmax, qmin, qmax, symmetric):
    # compute_scale_zp(rmin, rmax, qmin, qmax, symmetric, min_real_range=None), rmin / rmax float32
    # arrays as compute_data_quant_params and the calibrators pass them
    rmin = np.minimum(rmin, np.array(0, dtype=rmin.dtype))
    rmax = np.maximum(rmax, np.array(0, dtype=rmax.dtype))
    if symmetric:
        absmax = np.maximum(np.abs(rmin), np.abs(rmax))
        rmin = -absmax
        rmax = +absmax
    dr = np.array(rmax - rmin, dtype=np.float64)
    dq = np.array(qmax, dtype=np.float64) - np.array(qmin, dtype=np.float64)
    scale = np.array(dr / dq)
    if scale < np.finfo(rmax.dtype).tiny:
        return np.array(1.0, dtype=rmax.dtype), np.array(0, dtype=qmin.dtype)
    if symmetric:
        zero_point = np.array(np.round((qmin + qmax) / np.array(2.0, dtype=np.float64)), dtype=qmin.dtype)
    else:
        zero_point = np.array(np.round(qmin - rmin / scale), dtype=qmin.dtype)
    return scale.astype(rmax.dtype), zero_point


def write_ort_scale_zp():
    rng = np.random.default_rng(101)
    ranges = [(-1.0, 1.0), (0.0, 0.0), (0.0, 6.0), (-6.0, 0.0), (-0.1, 0.1), (-1e-39, 1e-39), (-1e-30, 2e-30),
              (0.0, 1e-36), (-3.4e38, 0.0), (0.0, 3.4e38), (-1e38, 1e38), (-2.5, 7.25), (0.5, 0.75), (-0.75, -0.5)]
    for _ in range(60):  # random ranges whose float32 difference is rounded (float64 would differ)
        e = rng.integers(-8, 8)
        lo = -float(rng.random()) * 10.0 ** e * (rng.random() < 0.8)
        hi = float(rng.random()) * 10.0 ** rng.integers(-8, 8)
        ranges.append((lo, hi))
    lines = ["# dtype symmetric reduce_range  min max (float32 hex)  scale (float32 hex) zero_point"]
    for lo, hi in ranges:
        lo32, hi32 = np.array(lo, dtype=np.float32), np.array(hi, dtype=np.float32)
        for dtype in ORT_RANGE:
            for symmetric in (0, 1):
                for reduce_range in (0, 1):
                    qmin, qmax = ort_qmin_qmax(dtype, reduce_range, symmetric)
                    with np.errstate(over="ignore"):
                        scale, zp = ort_compute_scale_zp(lo32, hi32, qmin, qmax, bool(symmetric))
                    if not np.isfinite(scale):
                        continue  # ORT's scale overflows to inf there (a documented qkern deviation)
                    lines.append("%s %d %d %s %s %s %d" % (dtype, symmetric, reduce_range, h32(lo32), h32(hi32),
                                                           h32(scale), int(zp)))
    with open(os.path.join(OUT, "parity_ort_scale_zp.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    write_ort_scale_zp()
    write_per_channel_f64()
    write_modelopt()
    write_presets()
    write_fold()
    write_binning()
    write_torch_sum()
    write_torch_histogram()
