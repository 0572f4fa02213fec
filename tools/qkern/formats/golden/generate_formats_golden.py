#!/usr/bin/python3
# qkern — SPDX-License-Identifier: Apache-2.0
#
# generate_formats_golden.py: golden files for tools/qkern/formats (tests/test_formats.cpp).
# Run by hand with Debian's python (numpy 1.24, python3-onnx 1.12), from anywhere:
#     /usr/bin/python3 tools/qkern/formats/golden/generate_formats_golden.py
#
# Input: a calibration of the embedded real dump (data/digits/bn/calib/*.npy and
# data/digits/bn/weights_folded.npz), fitted here with numpy and written as qkern JSON
# (input.qkern.json). Expected outputs, each produced by a transcription of the consuming tool's own
# writer (none of these tools is packaged in Debian), citing the source read:
#
#   expected.trt.cache          TensorRT INT8 calibration cache as IInt8Calibrator::writeCalibrationCache
#                               receives it from TensorRT 8.6 (header TRT-8601-EntropyCalibration2,
#                               "name: %08x" of the float32 scale bits, scale = amax / 127). Checked
#                               against the readers: ONNX Runtime TensorRT EP ReadDynamicRange
#                               (strtoul(hex, 16) -> float * 127) and NVIDIA ModelOpt
#                               modelopt/onnx/quantization/calib_utils.py import_scales_from_calib_cache
#                               (split(": "), struct.unpack("!f", bytes.fromhex(hex))).
#   expected.calibration.json   onnxruntime/python/tools/quantization/quant_utils.py
#                               write_calibration_table(calibrator.compute_data()) at ONNX Runtime main
#                               (2026-05, after PR #28221 moved MyEncoder (PR #22166) to calibrate.py
#                               as CalibrationCacheEncoder): TensorData / TensorsData.to_dict and the
#                               encoder are transcribed below; MinMaxCalibrater ranges are float32
#                               arrays of shape (1,).
#   expected.calibration.cache  the same function's plain-text file.
#   expected.aimet.encodings    AIMET 2.x aimet_torch/v2/quantization/encodings/base.py
#                               AffineEncoding._to_legacy_format (encoding version 0.6.1) written as
#                               aimet_common/utils.py save_json_yaml: json.dump(sort_keys=True, indent=4).
#   expected.aimet_1.0.0.encodings  the same in encoding version 1.0.0: aimet_torch onnx_utils
#                               _get_activation_encodings / _get_param_encodings on the legacy dicts.
#   expected_read_<fmt>.qkern.json   what read_<fmt> must return for the expected.* file (the
#                               format's semantics applied by hand: TRT scale -> range +-127 scale, ...).
#   float_repr.txt              doubles (hex bits) and Python's repr of them (the number spelling
#                               json.dumps uses, which the JSON writers reproduce).
#   qdq_from_ort_table.onnx     a QDQ model (python3-onnx) quantizing each activation of the ORT table
#                               with ONNX Runtime's compute_scale_zp (quant_utils.py, uint8 affine),
#                               checked by onnx.checker; qdq_expected.txt lists its scale / zero point
#                               per tensor and the Q/DQ outputs on 5 probe values (ONNX semantics).
import json
import os
import struct

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", "..", "..", ".."))
DUMP = os.path.join(REPO, "data", "digits", "bn")


# ---------------------------------------------------------------------------------------------
# The input calibration (real activations of the digits CNN)
# ---------------------------------------------------------------------------------------------
def layer(name, data, dtype, qmin, qmax, scheme, method, convention, kind="", axis=-1, clip=None):
    """Fit a layer from real data with plain numpy (float64)."""
    a = data.astype(np.float64)
    if axis == -1:
        lo_obs, hi_obs = [float(a.min())], [float(a.max())]
    else:
        red = tuple(i for i in range(a.ndim) if i != axis)
        lo_obs, hi_obs = list(map(float, a.min(axis=red))), list(map(float, a.max(axis=red)))
    lo, hi = list(lo_obs), list(hi_obs)
    if clip is not None:  # percentile clip of |x|
        amax = float(np.percentile(np.abs(a), clip))
        lo, hi = [max(l, -amax) for l in lo], [min(h, amax) for h in hi]
    scales, zps, rmin, rmax = [], [], [], []
    for l_, h_ in zip(lo, hi):
        l_, h_ = min(l_, 0.0), max(h_, 0.0)
        if scheme == "symmetric":
            amax = max(-l_, h_)
            s = amax / float(qmax) if amax > 0 else 1.0
            zp = 0
            rmin.append(-amax)
            rmax.append(amax)
        else:
            s = (h_ - l_) / float(qmax - qmin)
            zp = int(min(max(round(qmin - l_ / s), qmin), qmax))
            rmin.append(l_)
            rmax.append(h_)
        scales.append(s)
        zps.append(zp)
    return {
        "name": name, "kind": kind, "dtype": dtype, "qmin": qmin, "qmax": qmax, "scheme": scheme,
        "method": method, "convention": convention, "axis": axis, "scales": scales, "zero_points": zps,
        "range_min": rmin, "range_max": rmax, "observed_min": lo_obs, "observed_max": hi_obs,
        "counts": {"finite": int(a.size), "nan": 0, "pos_inf": 0, "neg_inf": 0},
        "summary": {"mean": float(a.mean()), "p99.99": float(np.percentile(a, 99.99))},
    }


def input_set():
    calib = {n: np.load(os.path.join(DUMP, "calib", n + ".npy")) for n in ("input", "relu1", "conv2", "relu2", "fc")}
    w = np.load(os.path.join(DUMP, "weights_folded.npz"))
    layers = [
        layer("input", calib["input"], "uint8", 0, 255, "affine", "minmax", "onnxruntime"),
        layer("relu1", calib["relu1"], "int8", -127, 127, "symmetric", "minmax", "tensorrt"),
        layer("relu2", calib["relu2"], "int8", -128, 127, "symmetric", "percentile", "pytorch", clip=99.9),
        layer("onnx::Conv_329", calib["conv2"], "int8", -127, 127, "symmetric", "entropy", "tensorrt"),
        layer('Schicht/\u00e4"q"', calib["relu2"], "uint8", 0, 255, "affine", "mse", "qkern"),
        layer("fc", calib["fc"], "int16", -32768, 32767, "symmetric", "minmax", "qkern"),
        layer("conv1.weight", w["conv1.weight"], "int8", -127, 127, "symmetric", "minmax", "pytorch",
              kind="weight", axis=0),
        layer("conv2.weight", w["conv2.weight"], "int4", -8, 7, "symmetric", "minmax", "qkern",
              kind="weight", axis=0),
    ]
    return {"format": "qkern-calibration", "version": 1,
            "meta": {"source": "data/digits/bn/calib", "generator": "generate_formats_golden.py"},
            "layers": layers}


# ---------------------------------------------------------------------------------------------
# TensorRT calibration cache
# ---------------------------------------------------------------------------------------------
def trt_cache(s, header="TRT-8601-EntropyCalibration2"):
    lines = [header]
    for l in s["layers"]:
        if l["kind"] == "weight":
            continue
        amax = max(abs(l["range_min"][0]), abs(l["range_max"][0]))
        scale = np.float32(np.float32(amax) / np.float32(127.0))
        lines.append(l["name"] + ": " + struct.pack(">f", scale).hex())
    return "\n".join(lines) + "\n"


def trt_read(text):
    lines = text.split("\n")
    out = []
    for line in lines[1:]:
        if not line:
            continue
        name, hexv = line.rsplit(":", 1)
        scale = float(struct.unpack("!f", bytes.fromhex(hexv.strip()))[0])
        out.append({"name": name, "kind": "", "dtype": "int8", "qmin": -127, "qmax": 127, "scheme": "symmetric",
                    "method": "entropy", "convention": "tensorrt", "axis": -1, "scales": [scale],
                    "zero_points": [0], "range_min": [-127.0 * scale], "range_max": [127.0 * scale],
                    "observed_min": [], "observed_max": [],
                    "counts": {"finite": 0, "nan": 0, "pos_inf": 0, "neg_inf": 0}, "summary": {}})
    return {"format": "qkern-calibration", "version": 1, "meta": {"trt_header": lines[0]}, "layers": out}


# ---------------------------------------------------------------------------------------------
# ONNX Runtime: transcription of calibrate.py TensorData / TensorsData / CalibrationMethod /
# CalibrationCacheEncoder and quant_utils.write_calibration_table (see the header)
# ---------------------------------------------------------------------------------------------
class CalibrationMethod:  # enum.Enum: str(CalibrationMethod.MinMax) == "CalibrationMethod.MinMax"
    def __init__(self, name):
        self.name = name

    def __str__(self):
        return "CalibrationMethod." + self.name


class TensorData:
    def __init__(self, **kwargs):
        self._attrs = list(kwargs.keys())
        for k, v in kwargs.items():
            assert v.dtype in (np.float16, np.float32)
            setattr(self, k, v)

    def to_dict(self):
        data = {k: getattr(self, k) for k in self._attrs}
        data["CLS"] = self.__class__.__name__
        return data


class TensorsData:
    def __init__(self, calibration_method, data):
        self.calibration_method = calibration_method
        self.data = {k: TensorData(lowest=v[0], highest=v[1]) for k, v in data.items()}

    def keys(self):
        return self.data.keys()

    def __getitem__(self, k):
        return self.data[k]

    def to_dict(self):
        return {"CLS": self.__class__.__name__, "data": self.data, "calibration_method": self.calibration_method}


class CalibrationCacheEncoder(json.JSONEncoder):
    def default(self, obj):
        if isinstance(obj, (TensorData, TensorsData)):
            return obj.to_dict()
        if isinstance(obj, np.ndarray):
            return {"data": obj.tolist(), "dtype": str(obj.dtype), "CLS": "numpy.array"}
        if isinstance(obj, CalibrationMethod):
            return {"CLS": obj.__class__.__name__, "value": str(obj)}
        return json.JSONEncoder.default(self, obj)


def ort_tensors_data(s):
    acts = [l for l in s["layers"] if l["kind"] != "weight"]
    methods = {l["method"] for l in acts}
    m = {"entropy": "Entropy", "percentile": "Percentile", "distribution": "Distribution"}.get(
        methods.pop(), "MinMax") if len(methods) == 1 else "MinMax"
    data = {l["name"]: (np.array(l["range_min"], dtype=np.float32), np.array(l["range_max"], dtype=np.float32))
            for l in acts}
    return TensorsData(CalibrationMethod(m), data)


def ort_json(td):
    return json.dumps(td, cls=CalibrationCacheEncoder)


def ort_cache(td):
    zero = np.array(0)
    out = ""
    for key in sorted(td.keys()):
        d_values = td[key].to_dict()
        floats = [float(d_values.get("highest", zero).item()), float(d_values.get("lowest", zero).item())]
        out += key + " " + str(max(floats)) + "\n"
    return out


def ort_read_layer(name, lo, hi, method):
    sym = all(a == -b for a, b in zip(lo, hi))
    return {"name": name, "kind": "", "dtype": "int8" if sym else "uint8", "qmin": -128 if sym else 0,
            "qmax": 127 if sym else 255, "scheme": "symmetric" if sym else "affine", "method": method,
            "convention": "onnxruntime", "axis": 1 if len(lo) > 1 else -1, "scales": [], "zero_points": [],
            "range_min": lo, "range_max": hi, "observed_min": [], "observed_max": [],
            "counts": {"finite": 0, "nan": 0, "pos_inf": 0, "neg_inf": 0}, "summary": {}}


def ort_json_read(text):
    j = json.loads(text)
    method = {"CalibrationMethod.MinMax": "minmax", "CalibrationMethod.Entropy": "entropy",
              "CalibrationMethod.Percentile": "percentile"}[j["calibration_method"]["value"]]
    layers = [ort_read_layer(k, v["lowest"]["data"], v["highest"]["data"], method) for k, v in j["data"].items()]
    return {"format": "qkern-calibration", "version": 1, "meta": {"ort_calibration_method": method}, "layers": layers}


def ort_cache_read(text):
    layers = []
    for line in text.splitlines():
        name, v = line.rsplit(" ", 1)
        v = abs(float(v))
        layers.append(ort_read_layer(name, [-v], [v], "unknown"))
    return {"format": "qkern-calibration", "version": 1, "meta": {}, "layers": layers}


# ---------------------------------------------------------------------------------------------
# AIMET 0.6.1 (transcription of AffineEncoding._to_legacy_format, float32 arithmetic as torch)
# ---------------------------------------------------------------------------------------------
FULL = {"int4": (-8, 7, 4), "uint4": (0, 15, 4), "int8": (-128, 127, 8), "uint8": (0, 255, 8),
        "int16": (-32768, 32767, 16), "uint16": (0, 65535, 16), "int32": (-2**31, 2**31 - 1, 32)}


def aimet_entries(l):
    qmin_full, _, bw = FULL[l["dtype"]]
    out = []
    for s, zp in zip(l["scales"], l["zero_points"]):
        offset = qmin_full - zp  # legacy: offset shifted by qmin (unsigned grid 0 .. 2^bw - 1)
        scale = np.float32(s)
        mn = np.float32(scale * np.float32(offset))
        mx = np.float32(scale * np.float32(offset + 2**bw - 1))
        out.append({"min": float(mn), "max": float(mx), "scale": float(scale), "offset": int(offset),
                    "bitwidth": bw, "dtype": "int", "is_symmetric": str(l["scheme"] == "symmetric")})
    return out


def aimet(s):
    act = {l["name"]: aimet_entries(l) for l in s["layers"] if l["kind"] != "weight"}
    par = {l["name"]: aimet_entries(l) for l in s["layers"] if l["kind"] == "weight"}
    return json.dumps({"version": "0.6.1", "activation_encodings": act, "param_encodings": par},
                      sort_keys=True, indent=4)


def aimet_v1(s):
    """Version 1.0.0: aimet_torch onnx_utils _get_activation_encodings / _get_param_encodings applied
    to the legacy dicts, dumped like export: json.dump(sort_keys=True, indent=4)."""
    def entry(l):
        encs = aimet_entries(l)
        return {"name": l["name"], "dtype": "INT",
                "enc_type": "PER_CHANNEL" if len(encs) > 1 else "PER_TENSOR", "bw": encs[0]["bitwidth"],
                "is_sym": encs[0]["is_symmetric"] == "True", "scale": [e["scale"] for e in encs],
                "offset": [e["offset"] for e in encs]}
    return json.dumps({"version": "1.0.0",
                       "activation_encodings": [entry(l) for l in s["layers"] if l["kind"] != "weight"],
                       "param_encodings": [entry(l) for l in s["layers"] if l["kind"] == "weight"],
                       "excluded_layers": []}, sort_keys=True, indent=4)


def aimet_v1_read(text):
    j = json.loads(text)
    layers = []
    for section, kind in (("activation_encodings", "activation"), ("param_encodings", "weight")):
        for e in j[section]:
            bw, sym = e["bw"], e["is_sym"]
            signed = (sym and all(o == -2**(bw - 1) for o in e["offset"])) or bw == 32
            dt = {4: "int4", 8: "int8", 16: "int16", 32: "int32"}[bw] if signed else \
                {4: "uint4", 8: "uint8", 16: "uint16"}[bw]
            qmin, qmax, _ = FULL[dt]
            zps = [qmin - o for o in e["offset"]]
            layers.append({"name": e["name"], "kind": kind, "dtype": dt, "qmin": qmin, "qmax": qmax,
                           "scheme": "symmetric" if sym else "affine", "method": "unknown",
                           "convention": "unknown", "axis": 0 if e["enc_type"] == "PER_CHANNEL" else -1,
                           "scales": e["scale"], "zero_points": zps,
                           "range_min": [(qmin - z) * sc for z, sc in zip(zps, e["scale"])],
                           "range_max": [(qmax - z) * sc for z, sc in zip(zps, e["scale"])],
                           "observed_min": [], "observed_max": [],
                           "counts": {"finite": 0, "nan": 0, "pos_inf": 0, "neg_inf": 0}, "summary": {}})
    return {"format": "qkern-calibration", "version": 1, "meta": {"aimet_version": j["version"]}, "layers": layers}


def aimet_read(text):
    j = json.loads(text)
    layers = []
    for section, kind in (("activation_encodings", "activation"), ("param_encodings", "weight")):
        for name in j[section]:  # json.loads keeps file order (sorted by the writer)
            encs = j[section][name]
            bw = encs[0]["bitwidth"]
            sym = encs[0]["is_symmetric"] == "True"
            signed = sym and all(e["offset"] == -2**(bw - 1) for e in encs)
            dt = {4: "int4", 8: "int8", 16: "int16", 32: "int32"}[bw] if signed or bw == 32 else \
                {4: "uint4", 8: "uint8", 16: "uint16"}[bw]
            qmin, qmax, _ = FULL[dt]
            layers.append({"name": name, "kind": kind, "dtype": dt, "qmin": qmin, "qmax": qmax,
                           "scheme": "symmetric" if sym else "affine", "method": "unknown",
                           "convention": "unknown", "axis": 0 if len(encs) > 1 else -1,
                           "scales": [e["scale"] for e in encs], "zero_points": [qmin - e["offset"] for e in encs],
                           "range_min": [e["min"] for e in encs], "range_max": [e["max"] for e in encs],
                           "observed_min": [], "observed_max": [],
                           "counts": {"finite": 0, "nan": 0, "pos_inf": 0, "neg_inf": 0}, "summary": {}})
    return {"format": "qkern-calibration", "version": 1, "meta": {"aimet_version": j["version"]}, "layers": layers}


# ---------------------------------------------------------------------------------------------
# QDQ model from the ORT table (python3-onnx), quant_utils.compute_scale_zp for uint8 affine
# ---------------------------------------------------------------------------------------------
def compute_scale_zp_uint8(rmin, rmax):
    """onnxruntime quant_utils.compute_scale_zp(rmin, rmax, qmin=uint8 0, qmax=uint8 255,
    symmetric=False, min_real_range=None) as on ONNX Runtime main (2026): the range difference in
    float32, the scale divided in float64 and cast to float32 at the end, the zero point computed
    with the float64 scale (numpy.round: half to even)."""
    rmin = np.minimum(np.float32(rmin), np.array(0, dtype=np.float32))
    rmax = np.maximum(np.float32(rmax), np.array(0, dtype=np.float32))
    qmin, qmax = np.array(0, dtype=np.uint8), np.array(255, dtype=np.uint8)
    dr = np.array(rmax - rmin, dtype=np.float64)
    dq = np.array(qmax, dtype=np.float64) - np.array(qmin, dtype=np.float64)
    scale = np.array(dr / dq)
    if scale < np.finfo(rmax.dtype).tiny:
        return np.float32(1.0), np.uint8(0)
    zp = np.array(np.round(qmin - rmin / scale), dtype=qmin.dtype)
    return np.float32(scale.astype(rmax.dtype)), np.uint8(zp)


def qdq_model(td, path):
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rows, nodes, inits, inputs, outputs = [], [], [], [], []
    for name in td.keys():
        t = td[name]
        if t.lowest.size != 1:
            continue
        scale, zp = compute_scale_zp_uint8(t.lowest[0], t.highest[0])
        safe = "t%d" % len(rows)
        inits += [numpy_helper.from_array(np.array(scale, dtype=np.float32), safe + "_scale"),
                  numpy_helper.from_array(np.array(zp, dtype=np.uint8), safe + "_zp")]
        nodes += [helper.make_node("QuantizeLinear", [safe, safe + "_scale", safe + "_zp"], [safe + "_q"]),
                  helper.make_node("DequantizeLinear", [safe + "_q", safe + "_scale", safe + "_zp"], [safe + "_dq"])]
        inputs.append(helper.make_tensor_value_info(safe, TensorProto.FLOAT, [5]))
        outputs.append(helper.make_tensor_value_info(safe + "_dq", TensorProto.FLOAT, [5]))
        rows.append((name, safe, scale, zp, float(t.lowest[0]), float(t.highest[0])))
    graph = helper.make_graph(nodes, "qdq_from_ort_table", inputs, outputs, inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="qkern-golden")
    onnx.checker.check_model(model)
    onnx.save(model, path)
    # python3-onnx 1.12 has no onnx.reference: the QuantizeLinear / DequantizeLinear semantics of
    # onnx/defs/quantization/defs.cc (opset 13) are applied with numpy: y = saturate(round_half_even(x
    # / y_scale) + y_zero_point), x = (y - x_zero_point) * x_scale, float32.
    res, feeds = [], {}
    for name, safe, scale, zp, lo, hi in rows:
        x = np.array([lo, hi, 0.5 * (lo + hi), hi * 1.5, lo - 1.0], dtype=np.float32)
        feeds[safe] = x
        q = np.clip(np.rint(x / scale) + np.float32(zp), 0, 255).astype(np.uint8)
        res.append(((q.astype(np.int32) - int(zp)).astype(np.float32) * scale).astype(np.float32))
    lines = ["# tensor scale_hex zero_point probe_in_hex... -> dequantized_hex... (QDQ opset 13)"]
    for (name, safe, scale, zp, lo, hi), out in zip(rows, res):
        ins = " ".join(struct.pack(">f", v).hex() for v in feeds[safe])
        outs = " ".join(struct.pack(">f", v).hex() for v in out)
        lines.append("%s %s %d %s -> %s" % (json.dumps(name), struct.pack(">f", scale).hex(), int(zp), ins, outs))
    return "\n".join(lines) + "\n"


def float_repr():
    """float_repr.txt: doubles and their Python repr (format_double must spell them the same)."""
    rng = np.random.default_rng(20261206)
    vals = [0.0, -0.0, 1.0, -1.0, 0.1, 0.5, 1e-4, 1e-5, 9.999e-5, 1.5e-5, 1e15, 1e16, 1e17, 1.5e16,
            123456789012345678.0, 1234567890123456.0, 2.0**53, 2.0**-1074, 2.0**-1022,
            np.finfo(np.float64).max, 1.0 / 3.0, 2.0 / 3.0, 100000.0, 1e22, 1e-7, 0.001, 12.5]
    vals += [float(np.float32(v)) for v in rng.standard_normal(300) * 10.0 ** rng.integers(-12, 12, 300)]
    vals += list(rng.standard_normal(300) * 10.0 ** rng.integers(-30, 30, 300))
    bits = rng.integers(0, 2**63, 600, dtype=np.int64).astype(np.uint64) | \
        (rng.integers(0, 2, 600).astype(np.uint64) << np.uint64(63))
    vals += [v for v in bits.view(np.float64).tolist() if np.isfinite(v)]
    vals += [float(v) for v in rng.integers(-10**6, 10**6, 100)]
    return "".join("%s %s\n" % (struct.pack(">d", v).hex(), repr(float(v))) for v in vals)


def write(name, text, mode="w"):
    with open(os.path.join(HERE, name), mode, newline="") as f:
        f.write(text)


def main():
    s = input_set()
    write("input.qkern.json", json.dumps(s, indent=1) + "\n")
    trt = trt_cache(s)
    write("expected.trt.cache", trt)
    write("expected_read_trt.qkern.json", json.dumps(trt_read(trt), indent=1) + "\n")
    td = ort_tensors_data(s)
    oj = ort_json(td)
    write("expected.calibration.json", oj)
    write("expected_read_ort_table.qkern.json", json.dumps(ort_json_read(oj), indent=1) + "\n")
    oc = ort_cache(td)
    write("expected.calibration.cache", oc)
    write("expected_read_ort_cache.qkern.json", json.dumps(ort_cache_read(oc), indent=1) + "\n")
    ai = aimet(s)
    write("expected.aimet.encodings", ai)
    write("expected_read_aimet.qkern.json", json.dumps(aimet_read(ai), indent=1) + "\n")
    a1 = aimet_v1(s)
    write("expected.aimet_1.0.0.encodings", a1)
    write("expected_read_aimet_1.0.0.qkern.json", json.dumps(aimet_v1_read(a1), indent=1) + "\n")
    write("float_repr.txt", float_repr())
    write("qdq_expected.txt", qdq_model(td, os.path.join(HERE, "qdq_from_ort_table.onnx")))
    print("wrote golden files to", HERE)


if __name__ == "__main__":
    main()
