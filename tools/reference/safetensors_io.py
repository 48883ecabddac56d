#!/usr/bin/python3
"""Minimal safetensors reader/writer (numpy only), written from the format description.

File layout::

    u64 little-endian N | N bytes of UTF-8 JSON header | raw tensor bytes

The header maps each tensor name to ``{"dtype": ..., "shape": [...], "data_offsets": [begin, end]}``
(offsets relative to the start of the byte buffer after the header, little-endian,
row-major/C order) and may hold ``"__metadata__": {str: str}``.

Reading converts F32, F16 and BF16 to float32 when ``to_float32`` is true; integer
dtypes keep their numpy type.  Writing is deterministic: tensors are laid out in
sorted name order, the JSON header is written with sorted keys and no spaces, and it
is padded with spaces to a multiple of 8 bytes (as the reference implementation does).
"""

import json
import os
import struct

import numpy as np

_NP_DTYPES = {
    "F64": np.dtype("<f8"),
    "F32": np.dtype("<f4"),
    "F16": np.dtype("<f2"),
    "BF16": np.dtype("<u2"),  # raw bits, converted below
    "I64": np.dtype("<i8"),
    "I32": np.dtype("<i4"),
    "I16": np.dtype("<i2"),
    "I8": np.dtype("i1"),
    "U8": np.dtype("u1"),
    "BOOL": np.dtype("?"),
}

_DTYPE_NAMES = {
    np.dtype("float64"): "F64",
    np.dtype("float32"): "F32",
    np.dtype("float16"): "F16",
    np.dtype("int64"): "I64",
    np.dtype("int32"): "I32",
    np.dtype("int16"): "I16",
    np.dtype("int8"): "I8",
    np.dtype("uint8"): "U8",
    np.dtype("bool"): "BOOL",
}


def bf16_bits_to_f32(bits):
    """uint16 array of bfloat16 bit patterns -> float32 array (exact)."""
    return (bits.astype(np.uint32) << 16).view(np.float32)


def f32_to_bf16_bits(x):
    """float32 array -> uint16 bfloat16 bits, round-to-nearest-even (NaN kept quiet)."""
    x = np.ascontiguousarray(x, dtype=np.float32)
    u = x.view(np.uint32).astype(np.uint64)
    rounded = (u + 0x7FFF + ((u >> 16) & 1)) >> 16
    out = rounded.astype(np.uint16)
    nan = np.isnan(x)
    if nan.any():
        out[nan] = ((u[nan] >> 16) | 0x40).astype(np.uint16)
    return out


def read_header(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n).decode("utf-8"))
    return header, 8 + n


def read_metadata(path):
    header, _ = read_header(path)
    return dict(header.get("__metadata__") or {})


def load(path, names=None, to_float32=True):
    """Returns ``{name: numpy array}`` (float dtypes -> float32 when ``to_float32``)."""
    header, base = read_header(path)
    out = {}
    with open(path, "rb") as f:
        for name, info in header.items():
            if name == "__metadata__":
                continue
            if names is not None and name not in names:
                continue
            dt = info["dtype"]
            if dt not in _NP_DTYPES:
                raise ValueError("%s: dtype %s not supported" % (name, dt))
            begin, end = info["data_offsets"]
            shape = tuple(info["shape"])
            npdt = _NP_DTYPES[dt]
            count = int(np.prod(shape, dtype=np.int64)) if shape else 1
            if end - begin != count * npdt.itemsize:
                raise ValueError("%s: byte size %d does not match shape %s %s"
                                 % (name, end - begin, shape, dt))
            f.seek(base + begin)
            raw = f.read(end - begin)
            arr = np.frombuffer(raw, dtype=npdt, count=count).copy()
            if dt == "BF16":
                arr = bf16_bits_to_f32(arr)
                if not to_float32:
                    raise ValueError("BF16 can only be read as float32")
            elif dt in ("F16", "F64") and to_float32:
                arr = arr.astype(np.float32)
            out[name] = arr.reshape(shape)
    return out


def save(path, tensors, metadata=None, bf16_names=()):
    """Writes ``tensors`` ({name: numpy array}).  Names in ``bf16_names`` are stored as
    BF16 (rounded from float32).  ``metadata`` values must be strings."""
    entries = []
    offset = 0
    blobs = []
    for name in sorted(tensors):
        arr = np.asarray(tensors[name])
        if name in bf16_names:
            data = f32_to_bf16_bits(arr.astype(np.float32))
            dt = "BF16"
        else:
            if arr.dtype not in _DTYPE_NAMES:
                raise ValueError("%s: numpy dtype %s not supported" % (name, arr.dtype))
            dt = _DTYPE_NAMES[arr.dtype]
            data = np.ascontiguousarray(arr).astype(arr.dtype.newbyteorder("<"), copy=False)
        raw = data.tobytes(order="C")
        entries.append((name, {"dtype": dt, "shape": [int(s) for s in arr.shape],
                               "data_offsets": [offset, offset + len(raw)]}))
        blobs.append(raw)
        offset += len(raw)
    header = {}
    if metadata:
        for k, v in metadata.items():
            if not isinstance(v, str):
                raise ValueError("metadata %r must be a string" % k)
        header["__metadata__"] = dict(metadata)
    for name, info in entries:
        header[name] = info
    hb = json.dumps(header, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    hb += b" " * ((8 - len(hb) % 8) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(hb)))
        f.write(hb)
        for raw in blobs:
            f.write(raw)
    os.replace(tmp, path)
