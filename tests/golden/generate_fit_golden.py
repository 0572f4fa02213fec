#!/usr/bin/python3
# qkern — SPDX-License-Identifier: Apache-2.0
#
# generate_fit_golden.py: golden vectors for percentiles and scale fitting (tests/test_select.cpp,
# tests/test_fit.cpp). Run by hand with Debian's python (numpy 1.24, torch 1.13):
#     /usr/bin/python3 tests/golden/generate_fit_golden.py
# Writes tests/golden/data/fit_*.txt. Floats are written as hex bit patterns (float32: 8 digits,
# float64: 16 digits) so C++ reads exactly what Python computed.
#
#   fit_numpy_percentile.txt   np.percentile(a, p) (method 'linear') on float32 arrays
#   fit_modelopt.txt           a numpy transcription of ModelOpt HistogramCalibrator.compute_amax
#                              ('entropy', 'mse', 'percentile') on histograms of |x| whose counts are
#                              written too, so the C++ test reads the identical histogram
#   fit_pytorch_histogram.txt  torch.ao HistogramObserver on data: its histogram, min/max, the
#                              result of _non_linear_param_search and calculate_qparams
import os
import struct
from collections import Counter

import numpy as np
import torch
from torch.ao.quantization.observer import HistogramObserver

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")


def h32(v):
    return struct.pack(">f", float(v)).hex()


def h64(v):
    return struct.pack(">d", float(v)).hex()


# ---------------------------------------------------------------------------------------------
# numpy percentiles
# ---------------------------------------------------------------------------------------------
def write_numpy_percentiles():
    rng = np.random.default_rng(20261126)
    arrays = {
        "normal_1000": rng.standard_normal(1000).astype(np.float32),
        "duplicates_257": rng.integers(-3, 7, 257).astype(np.float32),
        "n1": np.array([2.5], dtype=np.float32),
        "n2": np.array([3.0, -1.25], dtype=np.float32),
        "constant_17": np.full(17, 0.75, dtype=np.float32),
        "lognormal_10007": rng.lognormal(0.0, 2.0, 10007).astype(np.float32),
        "uniform_4096": rng.uniform(-1e4, 1e4, 4096).astype(np.float32),
        "mixed_scale_333": (rng.standard_normal(333) * 10.0 ** rng.integers(-6, 6, 333)).astype(np.float32),
    }
    ps = [0.0, 0.01, 1.0, 12.5, 50.0, 99.0, 99.9, 99.99, 100.0]
    with open(os.path.join(OUT, "fit_numpy_percentile.txt"), "w") as f:
        f.write("# np.percentile(a, p), method='linear', numpy %s. A <name> <n> / n x f32 / P <p f64> <result f64>\n"
                % np.__version__)
        for name, a in arrays.items():
            f.write("A %s %d\n" % (name, a.size))
            for v in a:
                f.write(h32(v) + "\n")
            for p in ps:
                r = np.percentile(a, p)
                f.write("P %s %s\n" % (h64(p), h64(r)))


# ---------------------------------------------------------------------------------------------
# ModelOpt HistogramCalibrator.compute_amax, transcribed to numpy (modelopt/torch/quantization/
# calib/histogram.py, reference-semantics B2.3). Edges are HistogramView's: lo + i*(hi-lo)/bins in
# float64, last edge = hi (ModelOpt's own torch.linspace edges are float32). 'mse' is evaluated in
# float64 (ModelOpt runs it in float32 on the GPU).
# ---------------------------------------------------------------------------------------------
def view_edges(lo, hi, bins):
    w = (hi - lo) / bins
    e = np.array([lo + w * i for i in range(bins + 1)], dtype=np.float64)
    e[-1] = hi
    return e


def scipy_entropy(pk, qk):
    # scipy.stats.entropy(pk, qk): normalise both, sum rel_entr (x log(x/y); 0 if x == 0; inf if y == 0 < x).
    pk = pk / np.sum(pk)
    qk = qk / np.sum(qk)
    total = 0.0
    terms = np.zeros(len(pk))
    for k in range(len(pk)):
        x, y = pk[k], qk[k]
        if x > 0 and y > 0:
            terms[k] = x * np.log(x / y)
        elif x == 0 and y >= 0:
            terms[k] = 0.0
        else:
            terms[k] = np.inf
    total = np.sum(terms)
    return total


def modelopt_entropy(calib_hist, edges, num_bits=8, unsigned=False, stride=1, start_bin=128):
    bins = calib_hist.copy()
    bins[0] = bins[1]
    total_data = np.sum(bins)
    divergences = []
    arguments = []
    nbins = 1 << (num_bits - 1 + int(unsigned))
    starting = start_bin
    stop = len(bins)
    new_density_counts = np.zeros(nbins, dtype=np.float64)
    for i in range(starting, stop + 1, stride):
        new_density_counts.fill(0)
        space = np.linspace(0, i, num=nbins + 1)
        digitized_space = np.digitize(range(i), space) - 1
        digitized_space[bins[:i] == 0] = -1
        for idx, digitized in enumerate(digitized_space):
            if digitized != -1:
                new_density_counts[digitized] += bins[idx]
        counter = Counter(digitized_space)
        for key, val in counter.items():
            if key != -1:
                new_density_counts[key] = new_density_counts[key] / val
        new_density = np.zeros(i, dtype=np.float64)
        for idx, digitized in enumerate(digitized_space):
            if digitized != -1:
                new_density[idx] = new_density_counts[digitized]
        total_counts_new = np.sum(new_density) + np.sum(bins[i:])
        reference_density = np.array(bins[: len(digitized_space)])
        reference_density[-1] += np.sum(bins[i:])
        total_counts_old = np.sum(reference_density)
        if round(total_counts_new) != total_data or round(total_counts_old) != total_data:
            raise RuntimeError("count mismatch")
        with np.errstate(divide="ignore", invalid="ignore"):
            ent = scipy_entropy(reference_density.astype(np.float64), new_density)
        divergences.append(ent)
        arguments.append(i)
    divergences = np.array(divergences)
    last_argmin = len(divergences) - 1 - np.argmin(divergences[::-1])
    return edges[last_argmin * stride + starting]


def fake_quant_f64(x, amax, num_bits=8, unsigned=False):
    # ModelOpt _tensor_quant: narrow range, scale = max_bound / amax, round half to even.
    max_bound = 2.0 ** (num_bits - 1 + int(unsigned)) - 1.0
    min_bound = 0.0 if unsigned else -max_bound
    scale = max_bound / amax
    return np.clip(np.round(x * scale), min_bound, max_bound) / scale


def modelopt_mse(calib_hist, edges, num_bits=8, unsigned=False, stride=1, start_bin=128):
    counts = calib_hist.astype(np.float64)
    centers = (edges[1:] + edges[:-1]) / 2
    mses = []
    arguments = []
    for i in range(start_bin, len(centers), stride):
        amax = centers[i]
        quant_centers = fake_quant_f64(centers, amax, num_bits, unsigned)
        mse = np.sum((quant_centers - centers) ** 2 * counts)  # ModelOpt takes the mean: same argmin
        mses.append(mse)
        arguments.append(i)
    argmin = np.argmin(mses)
    return centers[arguments[argmin]]


def modelopt_percentile(calib_hist, edges, percentile):
    total = calib_hist.sum()
    cdf = np.cumsum(calib_hist / total)
    idx = np.searchsorted(cdf, percentile / 100)
    return edges[idx]


def write_modelopt():
    rng = np.random.default_rng(7)
    cases = []
    # |N(0, 1)|, 2048 bins over [0, max]
    cases.append(("abs_normal", np.abs(rng.standard_normal(200000)), 2048))
    # ReLU output: a spike at 0 plus an exponential tail and a few outliers
    relu = np.maximum(rng.standard_normal(150000) * 1.5 + 0.3, 0.0)
    relu[:20] = rng.uniform(20, 40, 20)
    cases.append(("relu_outliers", relu, 2048))
    # |Laplace|, heavy tail
    cases.append(("abs_laplace", np.abs(rng.laplace(0.0, 0.5, 100000)), 2048))
    # Sparse: few samples, many empty bins
    cases.append(("sparse_500", np.abs(rng.standard_normal(500)) * 3.0, 2048))
    # Fewer bins (ModelOpt's histogram may hold any count >= start_bin)
    cases.append(("abs_normal_300bins", np.abs(rng.standard_normal(50000)), 300))
    with open(os.path.join(OUT, "fit_modelopt.txt"), "w") as f:
        f.write("# numpy transcription of ModelOpt HistogramCalibrator.compute_amax on |x| histograms.\n")
        f.write("# H <name> <bins> <lo f64> <hi f64> / bins x count / R <method> <num_bits> <unsigned> <stride> "
                "<start_bin> <percentile f64> <amax f64>\n")
        for name, x, nb in cases:
            x = x.astype(np.float32)
            hi = float(np.max(x))
            counts, _ = np.histogram(x.astype(np.float64), bins=nb, range=(0.0, hi))
            counts = counts.astype(np.int64)
            edges = view_edges(0.0, hi, nb)
            f.write("H %s %d %s %s\n" % (name, nb, h64(0.0), h64(hi)))
            for c in counts:
                f.write("%d\n" % c)
            for stride in (1, 4):
                for start in (128,):
                    amax = modelopt_entropy(counts, edges, 8, False, stride, start)
                    f.write("R entropy 8 0 %d %d %s %s\n" % (stride, start, h64(0), h64(amax)))
                    amax = modelopt_mse(counts, edges, 8, False, stride, start)
                    f.write("R mse 8 0 %d %d %s %s\n" % (stride, start, h64(0), h64(amax)))
            amax = modelopt_entropy(counts, edges, 8, True, 1, 128)
            f.write("R entropy 8 1 1 128 %s %s\n" % (h64(0), h64(amax)))
            amax = modelopt_mse(counts, edges, 4, False, 1, 16)
            f.write("R mse 4 0 1 16 %s %s\n" % (h64(0), h64(amax)))
            for p in (99.0, 99.9, 99.99, 99.999, 100.0):
                amax = modelopt_percentile(counts, edges, p)
                f.write("R percentile 8 0 1 128 %s %s\n" % (h64(p), h64(amax)))


# ---------------------------------------------------------------------------------------------
# PyTorch HistogramObserver (one batch: histogram = histc over [min, max]). torch 1.13's first
# forward histograms over [int(min), int(max)], so the data's extremes are integers here to keep
# the histogram range equal to [min_val, max_val].
# ---------------------------------------------------------------------------------------------
def write_pytorch():
    rng = np.random.default_rng(11)
    datasets = []
    x = rng.standard_normal(6000).astype(np.float32)
    x[:2] = [-5.0, 5.0]
    datasets.append(("normal_tails", x, torch.per_tensor_affine))
    x = np.maximum(rng.standard_normal(6000) * 2.0 + 1.0, 0.0).astype(np.float32)
    x[0] = 24.0
    datasets.append(("relu_outlier", x, torch.per_tensor_affine))
    x = rng.laplace(0.0, 1.0, 6000).astype(np.float32)
    x = np.clip(x, -11.0, 9.0)
    x[:2] = [-11.0, 9.0]
    datasets.append(("laplace_symmetric", x, torch.per_tensor_symmetric))
    with open(os.path.join(OUT, "fit_pytorch_histogram.txt"), "w") as f:
        f.write("# torch %s HistogramObserver(bins=2048, quint8): D <name> <n> <symmetric> / n x f32 data /"
                " M <min f32> <max f32> / 2048 x count / S <new_min f32> <new_max f32> <scale f32> <zp>\n"
                % torch.__version__)
        for name, x, qscheme in datasets:
            obs = HistogramObserver(bins=2048, dtype=torch.quint8, qscheme=qscheme)
            obs(torch.from_numpy(x))
            new_min, new_max = obs._non_linear_param_search()
            scale, zp = obs.calculate_qparams()
            f.write("D %s %d %d\n" % (name, x.size, 1 if qscheme == torch.per_tensor_symmetric else 0))
            for v in x:
                f.write(h32(v) + "\n")
            f.write("M %s %s\n" % (h32(obs.min_val.item()), h32(obs.max_val.item())))
            for c in obs.histogram.numpy():
                f.write("%d\n" % int(c))
            f.write("S %s %s %s %d\n" % (h32(new_min.item()), h32(new_max.item()), h32(scale.item()), int(zp.item())))


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    write_numpy_percentiles()
    write_modelopt()
    write_pytorch()
