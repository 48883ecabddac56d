#!/usr/bin/python3
"""A small GGUF (v2/v3, little-endian) reader: metadata, tensor infos, tensor data.

    from gguf_reader import GGUFFile
    g = GGUFFile("model.gguf")
    g.metadata["llama.block_count"]        # python value (numeric arrays -> numpy arrays)
    g.metadata_types["llama.block_count"]  # GGUF value type id (4 = UINT32, ...)
    g.tensors["blk.0.attn_q.weight"]       # TensorInfo(name, ne, ggml_type, offset, nbytes)
    g.tensor("blk.0.attn_q.weight")        # float32 numpy array, numpy shape = reversed(ne)
    g.q8_0_blocks("blk.0.attn_q.weight")   # (scales f16 [n_blocks], qs int8 [n_blocks, 32])

Run as a script to print a file's metadata and tensor table:  gguf_reader.py FILE.gguf
Only F32, F16, BF16 and Q8_0 tensor data can be decoded; other types are listed.
"""
import collections
import mmap
import struct
import sys

import numpy as np

GGUF_MAGIC = b"GGUF"

VALUE_TYPE_NAMES = ["UINT8", "INT8", "UINT16", "INT16", "UINT32", "INT32", "FLOAT32", "BOOL", "STRING",
                    "ARRAY", "UINT64", "INT64", "FLOAT64"]
T_STRING, T_ARRAY, T_BOOL = 8, 9, 7
_SCALAR = {0: ("<B", 1), 1: ("<b", 1), 2: ("<H", 2), 3: ("<h", 2), 4: ("<I", 4), 5: ("<i", 4), 6: ("<f", 4),
           7: ("<?", 1), 10: ("<Q", 8), 11: ("<q", 8), 12: ("<d", 8)}
_NP = {0: "<u1", 1: "<i1", 2: "<u2", 3: "<i2", 4: "<u4", 5: "<i4", 6: "<f4", 7: "u1", 10: "<u8", 11: "<i8",
       12: "<f8"}

GGML_F32, GGML_F16, GGML_Q8_0, GGML_BF16 = 0, 1, 8, 30
GGML_TYPE_NAMES = {0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 6: "Q5_0", 7: "Q5_1", 8: "Q8_0", 9: "Q8_1",
                   10: "Q2_K", 11: "Q3_K", 12: "Q4_K", 13: "Q5_K", 14: "Q6_K", 15: "Q8_K", 24: "I8", 25: "I16",
                   26: "I32", 27: "I64", 28: "F64", 30: "BF16"}
# (block size in values, bytes per block) for the types whose size we know
GGML_BLOCK = {0: (1, 4), 1: (1, 2), 2: (32, 18), 3: (32, 20), 6: (32, 22), 7: (32, 24), 8: (32, 34),
              9: (32, 36), 10: (256, 84), 11: (256, 110), 12: (256, 144), 13: (256, 176), 14: (256, 210),
              15: (256, 292), 24: (1, 1), 25: (1, 2), 26: (1, 4), 27: (1, 8), 28: (1, 8), 30: (1, 2)}
Q8_0_DTYPE = np.dtype([("d", "<f2"), ("qs", "i1", (32,))])

TensorInfo = collections.namedtuple("TensorInfo", "name ne ggml_type offset nbytes")


class GGUFError(Exception):
    pass


class GGUFFile:
    def __init__(self, path):
        self.path = path
        with open(path, "rb") as f:
            try:
                self._buf = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
            except ValueError:   # empty file
                raise GGUFError(f"{path}: empty file") from None
        self._pos = 0
        self.metadata = collections.OrderedDict()
        self.metadata_types = {}
        self.tensors = collections.OrderedDict()
        self._parse()

    # -- primitive reads
    def _take(self, n):
        if n < 0 or self._pos + n > len(self._buf):
            raise GGUFError(f"{self.path}: truncated (need {n} bytes at offset {self._pos}, "
                            f"file has {len(self._buf)})")
        b = self._buf[self._pos:self._pos + n]
        self._pos += n
        return b

    def _u(self, fmt, n):
        return struct.unpack(fmt, self._take(n))[0]

    def _str(self):
        n = self._u("<Q", 8)
        raw = self._take(n)
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as e:
            raise GGUFError(f"{self.path}: invalid UTF-8 string at offset {self._pos - n}: {e}") from None

    def _value(self, vtype):
        if vtype in _SCALAR:
            fmt, n = _SCALAR[vtype]
            return self._u(fmt, n)
        if vtype == T_STRING:
            return self._str()
        if vtype == T_ARRAY:
            etype = self._u("<I", 4)
            count = self._u("<Q", 8)
            if etype in _NP:
                size = np.dtype(_NP[etype]).itemsize
                arr = np.frombuffer(self._take(count * size), dtype=_NP[etype]).copy()
                return arr.astype(bool) if etype == T_BOOL else arr
            if etype in (T_STRING, T_ARRAY):
                return [self._value(etype) for _ in range(count)]
            raise GGUFError(f"{self.path}: unknown array element type {etype}")
        raise GGUFError(f"{self.path}: unknown metadata value type {vtype} at offset {self._pos - 4}")

    # -- structure
    def _parse(self):
        magic = self._take(4)
        if magic != GGUF_MAGIC:
            raise GGUFError(f"{self.path}: bad magic {bytes(magic)!r} (not a GGUF file)")
        self.version = self._u("<I", 4)
        if self.version not in (2, 3):
            raise GGUFError(f"{self.path}: unsupported GGUF version {self.version} (or big-endian file)")
        n_tensors = self._u("<Q", 8)
        n_kv = self._u("<Q", 8)
        for _ in range(n_kv):
            key = self._str()
            vtype = self._u("<I", 4)
            if key in self.metadata:
                raise GGUFError(f"{self.path}: duplicate metadata key {key!r}")
            self.metadata[key] = self._value(vtype)
            self.metadata_types[key] = vtype
        align = self.metadata.get("general.alignment", 32)
        if not isinstance(align, int) or align <= 0 or align % 8:
            raise GGUFError(f"{self.path}: bad general.alignment {align!r}")
        self.alignment = align
        infos = []
        for _ in range(n_tensors):
            name = self._str()
            n_dims = self._u("<I", 4)
            if not 1 <= n_dims <= 4:
                raise GGUFError(f"{self.path}: tensor {name!r} has {n_dims} dimensions")
            ne = tuple(struct.unpack(f"<{n_dims}Q", self._take(8 * n_dims)))
            ggml_type = self._u("<I", 4)
            offset = self._u("<Q", 8)
            if name in self.tensors or name in (i[0] for i in infos):
                raise GGUFError(f"{self.path}: duplicate tensor name {name!r}")
            infos.append((name, ne, ggml_type, offset))
        self.data_offset = self._pos + (-self._pos) % align
        spans = []
        for name, ne, ggml_type, offset in infos:
            if ggml_type not in GGML_BLOCK:
                raise GGUFError(f"{self.path}: tensor {name!r} has unknown ggml type {ggml_type}")
            bs, bb = GGML_BLOCK[ggml_type]
            if ne[0] % bs:
                raise GGUFError(f"{self.path}: tensor {name!r}: ne[0]={ne[0]} not a multiple of the "
                                f"{GGML_TYPE_NAMES[ggml_type]} block size {bs}")
            nbytes = int(np.prod(ne, dtype=np.int64)) // bs * bb
            if offset % align:
                raise GGUFError(f"{self.path}: tensor {name!r}: offset {offset} not aligned to {align}")
            end = self.data_offset + offset + nbytes
            if end > len(self._buf):
                raise GGUFError(f"{self.path}: tensor {name!r}: data [{self.data_offset + offset}, {end}) "
                                f"runs past the end of the file ({len(self._buf)} bytes)")
            spans.append((offset, offset + nbytes, name))
            self.tensors[name] = TensorInfo(name, ne, ggml_type, offset, nbytes)
        spans.sort()
        for (b0, e0, n0), (b1, e1, n1) in zip(spans, spans[1:]):
            if b1 < e0:
                raise GGUFError(f"{self.path}: tensors {n0!r} and {n1!r} overlap")

    # -- data
    def raw(self, name):
        ti = self.tensors[name]
        b = self.data_offset + ti.offset
        return np.frombuffer(self._buf, dtype=np.uint8, count=ti.nbytes, offset=b)

    def q8_0_blocks(self, name):
        ti = self.tensors[name]
        if ti.ggml_type != GGML_Q8_0:
            raise GGUFError(f"{self.path}: tensor {name!r} is {GGML_TYPE_NAMES.get(ti.ggml_type)}, not Q8_0")
        blocks = self.raw(name).view(Q8_0_DTYPE)
        return blocks["d"].copy(), blocks["qs"].copy()

    def tensor(self, name):
        """Tensor values as float32 with numpy shape reversed(ne) (row-major, rows of length ne[0])."""
        ti = self.tensors[name]
        shape = tuple(reversed(ti.ne))
        r = self.raw(name)
        if ti.ggml_type == GGML_F32:
            a = r.view("<f4").astype(np.float32)
        elif ti.ggml_type == GGML_F16:
            a = r.view("<f2").astype(np.float32)
        elif ti.ggml_type == GGML_BF16:
            a = (r.view("<u2").astype(np.uint32) << 16).view(np.float32)
        elif ti.ggml_type == GGML_Q8_0:
            d, qs = self.q8_0_blocks(name)
            a = (d.astype(np.float32)[:, None] * qs.astype(np.float32)).reshape(-1)
        else:
            raise GGUFError(f"{self.path}: tensor {name!r}: decoding {GGML_TYPE_NAMES.get(ti.ggml_type)} "
                            "is not supported")
        return a.reshape(shape)

    def close(self):
        try:
            self._buf.close()
        except BufferError:   # numpy views of the mapping are still alive; it closes when they go
            pass


def _describe(v, vtype):
    if isinstance(v, (list, np.ndarray)):
        head = list(v[:5]) if isinstance(v, list) else v[:5].tolist()
        return f"[{len(v)} items] {head}{' ...' if len(v) > 5 else ''}"
    if isinstance(v, str) and len(v) > 80:
        return repr(v[:77] + "...")
    return repr(v)


def main(argv):
    if len(argv) != 1:
        print("usage: gguf_reader.py FILE.gguf", file=sys.stderr)
        return 2
    try:
        g = GGUFFile(argv[0])
    except (GGUFError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    print(f"GGUF v{g.version}, {len(g.metadata)} metadata keys, {len(g.tensors)} tensors, "
          f"data at {g.data_offset}, alignment {g.alignment}")
    for k, v in g.metadata.items():
        print(f"  {k:45s} {VALUE_TYPE_NAMES[g.metadata_types[k]]:8s} {_describe(v, g.metadata_types[k])}")
    for ti in g.tensors.values():
        print(f"  {ti.name:32s} {GGML_TYPE_NAMES.get(ti.ggml_type, ti.ggml_type):5s} ne={list(ti.ne)} "
              f"offset={ti.offset} bytes={ti.nbytes}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
