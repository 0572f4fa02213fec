#!/usr/bin/python3
# qkern — SPDX-License-Identifier: Apache-2.0
#
# generate_io_golden.py: golden tensor files for the io readers (tests/test_io_golden.cpp), written
# by NumPy itself (.npy via numpy.lib.format.write_array for versions 1.0 / 2.0 / 3.0, .npz via
# np.savez and np.savez_compressed) and, since the safetensors Python package is not in Debian, by
# this script from the format specification (huggingface/safetensors README and
# safetensors/src/tensor.rs at v0.4: 8-byte little-endian header size, JSON header with dtype /
# shape / data_offsets and __metadata__, header padded with spaces to a multiple of 8, buffer
# row-major little-endian, tensors sorted by descending alignment then name).
#
# Every file's expected contents go to data/io/expected.txt, one line per tensor:
#   tensor <file> <key> <dtype> <fortran 0|1> <byte_swapped 0|1> <rank> <dims...> <count> <f32 hex...>
# where the float32 values are NumPy's own conversion (arr.astype(np.float32), C order) as 8-digit
# IEEE-754 bit patterns (bf16: the bits << 16, computed with integer arithmetic).
#
# Run by hand from the repository root: /usr/bin/python3 tests/golden/generate_io_golden.py
# (numpy 1.24). Seeds are fixed: two runs write identical files.
import json
import os
import struct
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "data", "io")
SHAPE = (2, 3, 4)
rng = np.random.default_rng(20261206)

DTYPES = [("f2", "f16"), ("f4", "f32"), ("f8", "f64"), ("i1", "i8"), ("i2", "i16"), ("i4", "i32"), ("i8", "i64"),
          ("u1", "u8"), ("u2", "u16"), ("u4", "u32"), ("u8", "u64"), ("b1", "bool")]


def values(code, n):
    """n values of numpy type code, with the type's special values first."""
    dt = np.dtype("<" + code) if code != "b1" else np.dtype("?")
    if code.startswith("f"):
        info = np.finfo(dt)
        special = [0.0, -0.0, np.inf, -np.inf, np.nan, float(info.tiny), -float(info.tiny), float(info.max),
                   float(info.smallest_subnormal), 1.0 / 3.0, -2.5, 65504.0 if code == "f2" else 1e30]
        v = np.concatenate([np.array(special, dtype=np.float64), rng.normal(0, 100, n)])[:n].astype(dt)
        if code == "f2":  # a NaN with a payload and a negative NaN (bit patterns)
            bits = v.view(np.uint16)
            bits[-1], bits[-2] = 0x7c01, 0xfe00
        return v
    if code == "b1":
        return rng.integers(0, 2, n).astype(np.bool_)
    info = np.iinfo(dt)
    special = [info.min, info.max, 0, 1, info.max - 1, (info.max // 3)]
    if dt.itemsize >= 4:
        special += [(1 << 24) + 1, (1 << 24) + 3, (1 << 25) + 2]  # rounding cases, ties to even
    rand = rng.integers(info.min, info.max, n, dtype=dt, endpoint=True)
    return np.concatenate([np.array(special, dtype=dt), rand])[:n]


def hex32(a):
    # From the float32 bits themselves (a detour through Python floats would quiet signalling NaNs).
    return " ".join("%08x" % b for b in np.ascontiguousarray(a, dtype=np.float32).reshape(-1).view(np.uint32).tolist())


def expected_f32(arr):
    with np.errstate(all="ignore"):
        return np.ascontiguousarray(arr.astype(np.float32))


lines = []


def record(file, key, dtype_name, arr, fortran, swapped, f32=None):
    f32 = expected_f32(arr) if f32 is None else f32
    shape = list(arr.shape)
    lines.append(" ".join(["tensor", file, key, dtype_name, str(int(fortran)), str(int(swapped)), str(len(shape))] +
                          [str(d) for d in shape] + [str(f32.size)] + ([hex32(f32)] if f32.size else [])))


def write_npy(name, arr, version):
    with open(os.path.join(OUT, name), "wb") as f:
        np.lib.format.write_array(f, arr, version=version)


def main():
    os.makedirs(OUT, exist_ok=True)
    for old in os.listdir(OUT):
        os.remove(os.path.join(OUT, old))
    n = int(np.prod(SHAPE))
    npz_arrays = {}
    for code, name in DTYPES:
        base = values(code, n).reshape(SHAPE)
        orders = ["<", ">"] if code[1] != "1" else ["|"]
        for order in orders:
            for fortran in (False, True):
                arr = base.astype(base.dtype.newbyteorder(order) if order != "|" else base.dtype)
                arr = np.asfortranarray(arr) if fortran else np.ascontiguousarray(arr)
                tag = "%s_%s_%s" % (name, {"<": "le", ">": "be", "|": "na"}[order], "F" if fortran else "C")
                fname = tag + ".npy"
                write_npy(fname, arr, (1, 0))
                swapped = order == ">" and sys.byteorder == "little"
                record(fname, tag, name, arr, fortran, swapped)
                if code in ("f4", "f2", "i8") and not fortran:
                    npz_arrays[tag] = arr
    # Versions 2.0 and 3.0, rank 0 and empty arrays, a 1-D array.
    arr = values("f4", n).reshape(SHAPE)
    for version in ((2, 0), (3, 0)):
        fname = "f32_v%d.npy" % version[0]
        write_npy(fname, arr, version)
        record(fname, "f32_v%d" % version[0], "f32", arr, False, False)
    scalar = np.array(3.25, dtype="<f8")
    write_npy("scalar.npy", scalar, (1, 0))
    record("scalar.npy", "scalar", "f64", scalar, False, False)
    empty = np.zeros((0, 4), dtype="<i2")
    write_npy("empty.npy", empty, (1, 0))
    record("empty.npy", "empty", "i16", empty, False, False)
    vec = values("u2", 37)
    write_npy("vec.npy", vec, (1, 0))
    record("vec.npy", "vec", "u16", vec, False, False)
    # .npz: stored and compressed, with C/F order and both byte orders inside.
    npz_arrays["fortran_f64"] = np.asfortranarray(values("f8", n).reshape(SHAPE))
    npz_arrays["flag"] = values("b1", 10)
    for fname, save in (("stored.npz", np.savez), ("compressed.npz", np.savez_compressed)):
        save(os.path.join(OUT, fname), **npz_arrays)
        for key, a in npz_arrays.items():
            swapped = a.dtype.byteorder == ">" and sys.byteorder == "little"
            dname = {"f": {2: "f16", 4: "f32", 8: "f64"}, "i": {8: "i64"}, "b": {1: "bool"}}[a.dtype.kind][a.dtype.itemsize]
            record(fname, key, dname, a, a.flags.f_contiguous and not a.flags.c_contiguous, swapped)
    write_safetensors()
    with open(os.path.join(OUT, "expected.txt"), "w") as f:
        f.write("# io golden tensors: generate_io_golden.py, numpy %s\n" % np.__version__)
        f.write("\n".join(lines) + "\n")
    total = sum(os.path.getsize(os.path.join(OUT, x)) for x in os.listdir(OUT))
    print("wrote %d files, %d tensors, %d bytes to %s" % (len(os.listdir(OUT)), len(lines), total, OUT))


ST_DTYPES = [("F16", "<f2", "f16"), ("BF16", None, "bf16"), ("F32", "<f4", "f32"), ("F64", "<f8", "f64"),
             ("I8", "<i1", "i8"), ("I16", "<i2", "i16"), ("I32", "<i4", "i32"), ("I64", "<i8", "i64"),
             ("U8", "<u1", "u8"), ("U16", "<u2", "u16"), ("U32", "<u4", "u32"), ("U64", "<u8", "u64"),
             ("BOOL", "?", "bool")]


def write_safetensors():
    tensors = {}  # name -> (st dtype, shape, bytes, qkern dtype, f32 expected)
    shapes = [(3, 5), (7,), (2, 2, 3), (), (0, 3)]
    for i, (st, npcode, qname) in enumerate(ST_DTYPES):
        shape = shapes[i % len(shapes)]
        count = int(np.prod(shape)) if shape else 1
        if st == "BF16":
            f = values("f4", max(count, 1))[:count]
            bits = (f.view(np.uint32) >> 16).astype("<u2")
            bits[:4] = [0x7f80, 0xff81, 0x0001, 0x8000][:min(4, count)]  # Inf, NaN with payload, denormal, -0
            data = bits.tobytes()
            f32 = (bits.astype(np.uint32) << 16).view(np.float32).reshape(shape)
            arr = bits.reshape(shape)
        else:
            code = npcode[1:] if npcode != "?" else "b1"
            arr = values(code, count).astype(np.dtype(npcode)).reshape(shape)
            data = arr.tobytes()
            f32 = expected_f32(arr)
        tensors["layer%d.%s" % (i, st.lower())] = (st, shape, data, qname, f32, arr)
    align = {"BOOL": 1, "U8": 1, "I8": 1, "F16": 2, "BF16": 2, "I16": 2, "U16": 2, "F32": 4, "I32": 4, "U32": 4,
             "F64": 8, "I64": 8, "U64": 8}
    order = sorted(tensors, key=lambda k: (-align[tensors[k][0]], k))
    header = {"__metadata__": {"format": "pt", "source": "generate_io_golden.py"}}
    offset = 0
    for k in order:
        st, shape, data, _, _, _ = tensors[k]
        header[k] = {"dtype": st, "shape": list(shape), "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(os.path.join(OUT, "model.safetensors"), "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for k in order:
            f.write(tensors[k][2])
    for k in order:
        st, shape, data, qname, f32, arr = tensors[k]
        record("model.safetensors", k, qname, np.zeros(shape), False, False, f32=np.ascontiguousarray(f32))


if __name__ == "__main__":
    main()
