#!/usr/bin/python3
# qkern — SPDX-License-Identifier: Apache-2.0
# generate_golden.py: writes the golden vectors in tests/golden/data/ from PyTorch (quantize,
# dequantize, fake-quantize, observer qparams) and from a numpy transcription of ONNX
# QuantizeLinear / DequantizeLinear. Run by hand with Debian's python3-torch and python3-numpy:
#
#     /usr/bin/python3 tests/golden/generate_golden.py
#
# The output is deterministic (fixed seeds). Format (see README.md): one case per block,
#     case <name>
#     <key> <token> <token> ...
#     end
# floats as 8-hex-digit IEEE-754 float32 bit patterns, integers in decimal.
import os
import warnings

import numpy as np
import torch
from torch.ao.quantization import observer as obs

warnings.filterwarnings("ignore")  # reduce_range deprecation and "must run observer" notices
torch.manual_seed(0)

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "data")
F32 = np.float32
FLT_MIN = float(np.finfo(np.float32).tiny)
FLT_MAX = float(np.finfo(np.float32).max)


def f32(v):
    return F32(v)


def hexf(v):
    return format(int(np.asarray(v, dtype=np.float32).view(np.uint32)), "08x")


def hexs(a):
    return " ".join(hexf(v) for v in np.asarray(a, dtype=np.float32).ravel())


def ints(a):
    return " ".join(str(int(v)) for v in np.asarray(a).ravel())


class Writer:
    def __init__(self, filename, what):
        self.path = os.path.join(DATA, filename)
        self.lines = [
            "# qkern golden vectors: " + what,
            "# generator: tests/golden/generate_golden.py (run: /usr/bin/python3 tests/golden/generate_golden.py)",
            "# torch %s, numpy %s; floats are float32 bit patterns in hex, ints decimal" % (torch.__version__, np.__version__),
        ]
        self.names = set()
        self.count = 0

    def case(self, name, fields):
        assert name not in self.names, name
        self.names.add(name)
        self.lines.append("case " + name)
        for k, v in fields:
            self.lines.append(k + " " + v if v != "" else k)
        self.lines.append("end")
        self.count += 1

    def close(self):
        with open(self.path, "w") as f:
            f.write("\n".join(self.lines) + "\n")
        print("%-40s %4d cases %7d bytes" % (os.path.relpath(self.path, HERE), self.count, os.path.getsize(self.path)))


# ---------------------------------------------------------------------------------------------
# Data: for one (scale, zero_point, qmin, qmax), values that exercise every part of quantize.
# ---------------------------------------------------------------------------------------------

SPECIALS = [0.0, -0.0, 1e-45, -1e-45, 1e-40, -1e-40, FLT_MIN, -FLT_MIN, 1e10, -1e10]
# Beyond int64 after scaling: PyTorch 1.13's float->int64 conversion is undefined there (x86 gives
# INT64_MIN, so +1e30 quantizes to qmin). Only the ONNX goldens, defined by saturation, hold them.
ONNX_EXTREMES = [float("inf"), float("-inf"), FLT_MAX, -FLT_MAX, 1e30, -1e30, 3e38, -3e38]


def tie_values(rng, s, zp, qmin, qmax, count):
    """Values at (k + 0.5) * s, both as a float32 product and as exact ties of x * (1/s)."""
    s = f32(s)
    inv = f32(1.0) / s
    lo, hi = max(qmin - zp - 2, -3000), min(qmax - zp + 2, 3000)
    out = []
    for k in rng.integers(lo, hi + 1, size=count):
        t = f32(k) + f32(0.5)
        a = t * s  # float32 product: a tie under x / s when exact
        b = f32(float(t) / float(inv))  # nearest float to a tie under x * inv
        out += [a, b, np.nextafter(a, f32(np.inf)), np.nextafter(b, f32(-np.inf))]
    return out


def saturation_values(s, zp, qmin, qmax):
    s = float(f32(s))
    out = []
    for k in (qmin - zp, qmax - zp):
        for d in (-1.0, -0.5, 0.0, 0.5, 1.0, 2.0):
            out.append(f32((k + d) * s))
    return out


def values_for(rng, n, s, zp, qmin, qmax, extremes=False, code_limit=None):
    """n float32 values: specials, saturation edges, ties and random values over the range."""
    v = list(SPECIALS) + saturation_values(s, zp, qmin, qmax)
    if extremes:
        v += ONNX_EXTREMES
    v += tie_values(rng, s, zp, qmin, qmax, 8)
    span = min(float(qmax - qmin), 6000.0) * float(s)
    while len(v) < n:
        v.append(f32(rng.standard_normal() * span / 3.0))
    a = np.array(v[:n], dtype=np.float32)
    rng.shuffle(a)
    if code_limit is not None:  # keep |x * (1/s)| below the limit (see SPECIALS / qint32 notes)
        inv = f32(1.0) / f32(s)
        a = np.where(np.abs(a.astype(np.float64) * float(inv)) < code_limit, a, f32(0.0)).astype(np.float32)
    return a


# PyTorch's quantize_val converts the rounded code through int64: keep |code| < 2^62.
PT_CODE_LIMIT = 2.0**62

# ---------------------------------------------------------------------------------------------
# PyTorch quantize_per_tensor / dequantize
# ---------------------------------------------------------------------------------------------

TORCH_QTYPES = {"quint8": (torch.quint8, 0, 255), "qint8": (torch.qint8, -128, 127), "qint32": (torch.qint32, -(2**31), 2**31 - 1)}
SCALES = [0.1, 0.0173, 0.25, 1.0, 3.7, 0.003, 2.0**-10, 117.3]


def gen_pytorch_quantize():
    w = Writer("pytorch_quantize_per_tensor.txt", "torch.quantize_per_tensor + dequantize")
    rng = np.random.default_rng(1)
    configs = [
        ("quint8", [0, 3, 128, 255]),
        ("qint8", [0, -3, 100, -128]),
        ("qint32", [0, 7]),
    ]
    for qt, zps in configs:
        dt, qmin, qmax = TORCH_QTYPES[qt]
        for i, s in enumerate(SCALES):
            zp = zps[i % len(zps)]
            limit = PT_CODE_LIMIT
            if qt == "qint32" and zp != 0:
                # PyTorch adds the zero point to the rounded code in float32, which rounds codes
                # beyond 2^24 (qkern adds exactly); such codes are only recorded with zp == 0.
                limit = 2.0**24
            x = values_for(rng, 64, s, zp, qmin, qmax, code_limit=limit)
            if qt == "qint32" and zp == 0:  # codes beyond 2^24 and near the int32 bounds
                big = np.array([2.0**24 + 3, 2.0**25 + 5, 3e8, 2.1e9, 2.2e9, -2.1e9, -2.2e9, -(2.0**31)], dtype=np.float64)
                x[: len(big)] = (big * float(f32(s))).astype(np.float32)
            q = torch.quantize_per_tensor(torch.from_numpy(x), float(f32(s)), zp, dt)
            w.case(
                "%s/s%d/zp%d" % (qt, i, zp),
                [
                    ("dtype", qt),
                    ("scale", hexf(s)),
                    ("zero_point", str(zp)),
                    ("x", hexs(x)),
                    ("q", ints(q.int_repr().numpy())),
                    ("dq", hexs(q.dequantize().numpy())),
                ],
            )
    w.close()


# ---------------------------------------------------------------------------------------------
# PyTorch quantize_per_channel / dequantize on a 4-D tensor, axes 0, 1, 3
# ---------------------------------------------------------------------------------------------

SHAPE = (3, 4, 2, 3)


def per_channel_values(rng, shape, axis, scales, zps, qmin, qmax, extremes=False, code_limit=None):
    n = int(np.prod(shape))
    x = np.empty(shape, dtype=np.float32)
    xm = np.moveaxis(x, axis, 0)  # view: channel first
    per = n // shape[axis]
    for c in range(shape[axis]):
        xm[c] = values_for(rng, per, scales[c], zps[c], qmin, qmax, extremes, code_limit).reshape(xm[c].shape)
    return x


def gen_pytorch_quantize_per_channel():
    w = Writer("pytorch_quantize_per_channel.txt", "torch.quantize_per_channel + dequantize, 4-D tensor")
    rng = np.random.default_rng(2)
    scale_pool = [0.1, 0.0173, 0.25, 1.0, 3.7, 0.003, 2.0**-10]
    for qt in ("quint8", "qint8", "qint32"):
        dt, qmin, qmax = TORCH_QTYPES[qt]
        for axis in (0, 1, 3):
            c = SHAPE[axis]
            scales = [scale_pool[(axis + j) % len(scale_pool)] for j in range(c)]
            if qt == "quint8":
                zps = [[0, 3, 128, 255, 17][j % 5] for j in range(c)]
            elif qt == "qint8":
                zps = [[0, -3, 100, -128, 127][j % 5] for j in range(c)]
            else:
                zps = [0] * c
            x = per_channel_values(rng, SHAPE, axis, scales, zps, qmin, qmax, code_limit=PT_CODE_LIMIT)
            q = torch.quantize_per_channel(
                torch.from_numpy(x), torch.tensor(np.array(scales, dtype=np.float32)), torch.tensor(zps), axis, dt
            )
            w.case(
                "%s/axis%d" % (qt, axis),
                [
                    ("dtype", qt),
                    ("shape", ints(SHAPE)),
                    ("axis", str(axis)),
                    ("scales", hexs(scales)),
                    ("zero_points", ints(zps)),
                    ("x", hexs(x)),
                    ("q", ints(q.int_repr().numpy())),
                    ("dq", hexs(q.dequantize().numpy())),
                ],
            )
    w.close()


# ---------------------------------------------------------------------------------------------
# PyTorch fake_quantize_per_tensor_affine / fake_quantize_per_channel_affine
# ---------------------------------------------------------------------------------------------

FAKE_RANGES = [(0, 255), (-128, 127), (-127, 127), (0, 127), (-64, 63), (-8, 7), (0, 15), (-32768, 32767), (0, 65535)]


def zps_in(rng, qmin, qmax, count):
    base = [0 if qmin <= 0 <= qmax else qmin, qmin, qmax, (qmin + qmax) // 2]
    while len(base) < count:
        base.append(int(rng.integers(qmin, qmax + 1)))
    return base[:count]


def gen_pytorch_fake_quantize():
    w = Writer("pytorch_fake_quantize.txt", "torch.fake_quantize_per_tensor_affine / fake_quantize_per_channel_affine")
    rng = np.random.default_rng(3)
    for qmin, qmax in FAKE_RANGES:
        zps = zps_in(rng, qmin, qmax, 3)
        for j, s in enumerate([0.1, 0.0173, 3.7]):
            zp = zps[j]
            x = values_for(rng, 48, s, zp, qmin, qmax, code_limit=PT_CODE_LIMIT)
            y = torch.fake_quantize_per_tensor_affine(torch.from_numpy(x), float(f32(s)), zp, qmin, qmax)
            w.case(
                "per_tensor/q%d_%d/s%d/zp%d" % (qmin, qmax, j, zp),
                [
                    ("qmin", str(qmin)),
                    ("qmax", str(qmax)),
                    ("scale", hexf(s)),
                    ("zero_point", str(zp)),
                    ("x", hexs(x)),
                    ("y", hexs(y.numpy())),
                ],
            )
    scale_pool = [0.1, 0.0173, 0.25, 1.0, 3.7, 0.003, 2.0**-10]
    for qmin, qmax in [(0, 255), (-128, 127), (-127, 127), (-8, 7), (0, 15), (-32768, 32767)]:
        for axis in (0, 1, 3):
            c = SHAPE[axis]
            scales = [scale_pool[(axis + 2 * j) % len(scale_pool)] for j in range(c)]
            zps = zps_in(rng, qmin, qmax, c)
            x = per_channel_values(rng, SHAPE, axis, scales, zps, qmin, qmax, code_limit=PT_CODE_LIMIT)
            y = torch.fake_quantize_per_channel_affine(
                torch.from_numpy(x),
                torch.tensor(np.array(scales, dtype=np.float32)),
                torch.tensor(zps, dtype=torch.int32),
                axis,
                qmin,
                qmax,
            )
            w.case(
                "per_channel/q%d_%d/axis%d" % (qmin, qmax, axis),
                [
                    ("qmin", str(qmin)),
                    ("qmax", str(qmax)),
                    ("shape", ints(SHAPE)),
                    ("axis", str(axis)),
                    ("scales", hexs(scales)),
                    ("zero_points", ints(zps)),
                    ("x", hexs(x)),
                    ("y", hexs(y.numpy())),
                ],
            )
    w.close()


# ---------------------------------------------------------------------------------------------
# Observer qparams
# ---------------------------------------------------------------------------------------------


def dataset(rng, kind, shape):
    n = int(np.prod(shape))
    if kind == "normal":
        a = rng.standard_normal(n) * 2.0 + 0.3
    elif kind == "zero":
        a = np.zeros(n)
    elif kind == "constant":
        a = np.full(n, 2.5)
    elif kind == "constant_neg":
        a = np.full(n, -0.0173)
    elif kind == "tiny":
        a = rng.standard_normal(n) * 1e-30
    elif kind == "huge":
        a = rng.standard_normal(n) * 1e30
    elif kind == "positive":
        a = np.abs(rng.standard_normal(n)) * 5.0 + 0.5
    elif kind == "negative":
        a = -np.abs(rng.standard_normal(n)) * 0.07 - 0.01
    elif kind == "ties":  # exact multiples / ties of 0.1 and 1e10 extremes
        a = (rng.integers(-300, 300, n) + 0.5) * 0.1
        a[0], a[1] = 1e10, -3e9
    elif kind == "signed_zero":
        a = np.zeros(n)
        a[::2] = -0.0
        a[3] = 0.75
    else:
        raise ValueError(kind)
    return a.astype(np.float32).reshape(shape)


def per_channel_dataset(rng, shape, ch_axis):
    """Each channel its own kind, so degenerate channels sit next to ordinary ones."""
    kinds = ["normal", "zero", "tiny", "huge", "positive", "negative", "constant", "ties"]
    x = np.empty(shape, dtype=np.float32)
    xm = np.moveaxis(x, ch_axis, 0)
    for c in range(shape[ch_axis]):
        xm[c] = dataset(rng, kinds[(c + ch_axis) % len(kinds)], xm[c].shape)
    return x


TORCH_OBS_DTYPES = {"quint8": torch.quint8, "qint8": torch.qint8}
SCHEMES = {
    "per_tensor_affine": torch.per_tensor_affine,
    "per_tensor_symmetric": torch.per_tensor_symmetric,
    "per_channel_affine": torch.per_channel_affine,
    "per_channel_symmetric": torch.per_channel_symmetric,
}
CUSTOM_RANGES = {"quint8": [None, (0, 127), (0, 15), (0, 255)], "qint8": [None, (-127, 127), (-8, 7), (-64, 63)]}


def observer_case(w, name, ctor, kwargs, batch_names, datasets):
    batches = [datasets[b] for b in batch_names]
    shape = batches[0].shape
    try:
        o = ctor(**kwargs)
    except (NotImplementedError, AssertionError, ValueError):
        return False  # a combination PyTorch refuses (e.g. reduce_range + symmetric + quint8)
    for b in batches:
        o(torch.from_numpy(b.copy()))
    scale, zp = o.calculate_qparams()
    fields = [
        ("observer", ctor.__name__),
        ("dtype", [k for k, v in TORCH_OBS_DTYPES.items() if v == kwargs["dtype"]][0]),
        ("qscheme", [k for k, v in SCHEMES.items() if v == kwargs["qscheme"]][0]),
        ("reduce_range", str(int(kwargs.get("reduce_range", False)))),
    ]
    if "quant_min" in kwargs:
        fields.append(("custom_range", "%d %d" % (kwargs["quant_min"], kwargs["quant_max"])))
    if "ch_axis" in kwargs:
        fields.append(("ch_axis", str(kwargs["ch_axis"])))
    if "averaging_constant" in kwargs:
        fields.append(("averaging_constant", hexf(kwargs["averaging_constant"])))
    fields.append(("observer_qmin_qmax", "%d %d" % (o.quant_min, o.quant_max)))
    fields.append(("shape", ints(shape)))
    fields.append(("batches", " ".join(batch_names)))  # names of "data/<name>" cases, in order
    fields += [
        ("min_val", hexs(o.min_val.numpy())),
        ("max_val", hexs(o.max_val.numpy())),
        ("scale", hexs(scale.numpy())),
        ("zero_point", ints(zp.numpy())),
    ]
    w.case(name, fields)
    return True


def gen_observers():
    w = Writer("pytorch_observers.txt", "torch.ao.quantization observers: min_val/max_val and calculate_qparams()")
    rng = np.random.default_rng(4)
    kinds = ["normal", "zero", "constant", "constant_neg", "tiny", "huge", "positive", "negative", "ties", "signed_zero"]
    tshape = (24,)
    datasets = {k: dataset(rng, k, tshape) for k in kinds}
    for f in (1.0, 3.0, 0.5, 2.0):  # moving-average batches
        datasets["ma%g" % f] = dataset(rng, "normal", tshape) * F32(f)
    for ch_axis, shape in ((0, (8, 3, 4)), (1, (3, 8, 4))):
        a, b = per_channel_dataset(rng, shape, ch_axis), per_channel_dataset(rng, shape, ch_axis)
        datasets["channels%d_a" % ch_axis] = a
        datasets["channels%d_b" % ch_axis] = b
        datasets["channels%d_b3" % ch_axis] = b * F32(3.0)
        datasets["channels%d_a025" % ch_axis] = a * F32(0.25)
    # The data first, once, as "data/<name>" cases; observer cases name the batches they saw.
    for name, d in datasets.items():
        w.case("data/" + name, [("shape", ints(d.shape)), ("values", hexs(d))])

    def tagged(dname, sname, rr, cr):
        return "%s/%s/rr%d/%s" % (dname, sname, rr, "default" if cr is None else "q%d_%d" % cr)

    def kwargs(dt, sname, rr, cr, **extra):
        kw = dict(dtype=dt, qscheme=SCHEMES[sname], reduce_range=rr, **extra)
        if cr is not None:
            kw.update(quant_min=cr[0], quant_max=cr[1])
        return kw

    # Per tensor: MinMaxObserver, every kind of data, every scheme / dtype / range option.
    for dname, dt in TORCH_OBS_DTYPES.items():
        for sname in ("per_tensor_affine", "per_tensor_symmetric"):
            for rr in (False, True):
                for cr in CUSTOM_RANGES[dname]:
                    kw = kwargs(dt, sname, rr, cr)
                    tag = tagged(dname, sname, rr, cr)
                    # the default and first custom range see every kind; the other ranges a subset
                    for k in kinds if cr in CUSTOM_RANGES[dname][:2] else ["normal", "zero", "tiny", "positive", "negative"]:
                        observer_case(w, "minmax/%s/%s" % (tag, k), obs.MinMaxObserver, kw, [k], datasets)
                    observer_case(w, "minmax/%s/batches" % tag, obs.MinMaxObserver, kw, ["normal", "positive", "ties"], datasets)
                    # Moving average (c = 0.01): its qparams from its recorded min/max.
                    if cr is None or cr == CUSTOM_RANGES[dname][1]:
                        observer_case(
                            w,
                            "moving_average/%s" % tag,
                            obs.MovingAverageMinMaxObserver,
                            kwargs(dt, sname, rr, cr, averaging_constant=0.01),
                            ["ma1", "ma3", "ma0.5", "ma2"],
                            datasets,
                        )
    # Per channel, ch_axis 0 and 1: each channel holds a different kind of data.
    for ch_axis in (0, 1):
        for dname, dt in TORCH_OBS_DTYPES.items():
            for sname in ("per_channel_affine", "per_channel_symmetric"):
                for rr in (False, True):
                    for cr in CUSTOM_RANGES[dname]:
                        tag = tagged(dname, sname, rr, cr) + "/axis%d" % ch_axis
                        observer_case(
                            w,
                            "per_channel_minmax/%s" % tag,
                            obs.PerChannelMinMaxObserver,
                            kwargs(dt, sname, rr, cr, ch_axis=ch_axis),
                            ["channels%d_a" % ch_axis, "channels%d_b" % ch_axis],
                            datasets,
                        )
                        if cr is None or cr == CUSTOM_RANGES[dname][1]:
                            observer_case(
                                w,
                                "moving_average_per_channel/%s" % tag,
                                obs.MovingAveragePerChannelMinMaxObserver,
                                kwargs(dt, sname, rr, cr, ch_axis=ch_axis, averaging_constant=0.01),
                                ["channels%d_a" % ch_axis, "channels%d_b3" % ch_axis, "channels%d_a025" % ch_axis],
                                datasets,
                            )
    w.close()


# ---------------------------------------------------------------------------------------------
# ONNX QuantizeLinear / DequantizeLinear, transcribed in numpy from the operator definition:
#   y = saturate(round_half_to_even(x / y_scale) + y_zero_point)   (x, y_scale float32)
#   x = (y - y_zero_point) * x_scale                                 (float32)
# ---------------------------------------------------------------------------------------------

ONNX_TYPES = {
    "uint8": (0, 255),
    "int8": (-128, 127),
    "uint16": (0, 65535),
    "int16": (-32768, 32767),
    "uint4": (0, 15),
    "int4": (-8, 7),
}


def onnx_quantize_linear(x, scale, zp, qmin, qmax):
    x = np.asarray(x, dtype=np.float32)
    with np.errstate(over="ignore", invalid="ignore"):
        v = x / F32(scale)  # float32 division
        r = np.round(v)  # numpy: round half to even, in float32
    # saturate is defined on the exact value round(x/s) + zp: do it in float64 (exact here), then clip.
    q = np.clip(r.astype(np.float64) + float(zp), qmin, qmax)
    return q.astype(np.int64)


def onnx_dequantize_linear(q, scale, zp):
    return (np.asarray(q).astype(np.float32) - F32(zp)) * F32(scale)


def gen_onnx():
    w = Writer("onnx_quantize_linear.txt", "ONNX QuantizeLinear / DequantizeLinear (numpy transcription of the definition)")
    rng = np.random.default_rng(5)
    for tname, (qmin, qmax) in ONNX_TYPES.items():
        zps = zps_in(rng, qmin, qmax, 4)
        for i, s in enumerate([0.1, 0.0173, 0.25, 3.7, 0.003, 2.0**-10]):
            zp = zps[i % len(zps)]
            x = values_for(rng, 56, s, zp, qmin, qmax, extremes=True)
            q = onnx_quantize_linear(x, s, zp, qmin, qmax)
            # cross-check the transcription against torch's own division + round on these values
            tq = torch.clamp(torch.round(torch.from_numpy(x) / float(f32(s))).double() + zp, qmin, qmax).long().numpy()
            assert np.array_equal(tq, q), (tname, i)
            w.case(
                "%s/s%d/zp%d" % (tname, i, zp),
                [
                    ("dtype", tname),
                    ("scale", hexf(s)),
                    ("zero_point", str(zp)),
                    ("x", hexs(x)),
                    ("q", ints(q)),
                    ("dq", hexs(onnx_dequantize_linear(q, s, zp))),
                ],
            )
    w.close()


def main():
    os.makedirs(DATA, exist_ok=True)
    gen_pytorch_quantize()
    gen_pytorch_quantize_per_channel()
    gen_pytorch_fake_quantize()
    gen_observers()
    gen_onnx()
    total = sum(os.path.getsize(os.path.join(DATA, f)) for f in os.listdir(DATA))
    print("total %d bytes" % total)


if __name__ == "__main__":
    main()
