#!/usr/bin/python3
"""Export a Hugging Face Llama 3 checkpoint directory to a GGUF v3 file.

    gguf_export.py HF_DIR OUT.gguf --type {F16,Q8_0} [--name NAME]

HF_DIR must hold config.json, model.safetensors (or model.safetensors.index.json
with its shards), tokenizer.json and tokenizer_config.json; generation_config.json
is read when present.  Needs only numpy (torch, when importable, is used for the
rope_freqs arithmetic so that it matches llama.cpp's converter bit for bit).

The file follows ggml's GGUF v3 specification (docs/gguf.md) and uses the key
and tensor names of llama.cpp's convert_hf_to_gguf.py for the "llama"
architecture, so llama.cpp can load it and so can our own Java loader:

* 2-D weights are F16 (--type F16) or Q8_0 (--type Q8_0); 1-D tensors (the
  RMSNorm weights and rope_freqs) are always F32.  A Q8_0 weight whose row length
  is not a multiple of 32 falls back to F16, as llama.cpp's converter does.
* ggml lists dimensions innermost first: a HF weight of torch shape
  [out_features, in_features] is stored with ne = [in_features, out_features],
  i.e. the same row-major bytes, rows of length in_features.
* Q/K PERMUTATION.  HF Llama checkpoints apply RoPE in the "rotate half" layout:
  inside each head of head_dim rows, row i is paired with row i + head_dim/2.
  ggml's llama graph uses the original Meta layout, where RoPE rotates adjacent
  pairs (2i, 2i+1).  Like llama.cpp's converter we reorder the rows of
  attn_q (per query head) and attn_k (per KV head) so that
      gguf_row[h*head_dim + 2*i]     = hf_row[h*head_dim + i]
      gguf_row[h*head_dim + 2*i + 1] = hf_row[h*head_dim + i + head_dim/2]
  for i in [0, head_dim/2).  attn_v, attn_output and everything else keep HF's
  row order.  A reader that wants HF's layout back applies the inverse.
* rope_freqs.weight holds head_dim/2 F32 *divisors* of the RoPE frequencies
  computed from config.json's llama3 rope_scaling: the frequency of pair i is
  rope_theta ** (-2i/head_dim) / rope_freqs[i] (1 for high frequencies, `factor`
  for low ones, a smooth blend in between).  Not written when rope_scaling is
  absent.

Exit status: 0 on success, 2 for a bad/missing input file, 1 for anything else.
"""
import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import argparse
import json
import math
import re
import struct
import sys
import tempfile

import numpy as np

GGUF_MAGIC = b"GGUF"
GGUF_VERSION = 3
ALIGNMENT = 32

# GGUF metadata value types (docs/gguf.md, gguf_metadata_value_type)
T_UINT8, T_INT8, T_UINT16, T_INT16, T_UINT32, T_INT32, T_FLOAT32, T_BOOL, T_STRING, T_ARRAY, T_UINT64, T_INT64, \
    T_FLOAT64 = range(13)
_SCALAR_FMT = {T_UINT8: "<B", T_INT8: "<b", T_UINT16: "<H", T_INT16: "<h", T_UINT32: "<I", T_INT32: "<i",
               T_FLOAT32: "<f", T_BOOL: "<?", T_UINT64: "<Q", T_INT64: "<q", T_FLOAT64: "<d"}
_ARRAY_NP = {T_UINT8: "<u1", T_INT8: "<i1", T_UINT16: "<u2", T_INT16: "<i2", T_UINT32: "<u4", T_INT32: "<i4",
             T_FLOAT32: "<f4", T_UINT64: "<u8", T_INT64: "<i8", T_FLOAT64: "<f8"}

# ggml tensor types
GGML_F32, GGML_F16, GGML_Q8_0 = 0, 1, 8
QK8_0 = 32                      # values per Q8_0 block
Q8_0_BLOCK_BYTES = 2 + QK8_0    # f16 scale + 32 int8
Q8_0_DTYPE = np.dtype([("d", "<f2"), ("qs", "i1", (QK8_0,))])
assert Q8_0_DTYPE.itemsize == Q8_0_BLOCK_BYTES

# general.file_type (llama_ftype)
FILE_TYPES = {"F16": 1, "Q8_0": 7}
GGML_QUANT_VERSION = 2

# tokenizer.ggml.token_type values (llama_token_type)
TOKEN_NORMAL, TOKEN_UNKNOWN, TOKEN_CONTROL, TOKEN_USER_DEFINED, TOKEN_UNUSED, TOKEN_BYTE = 1, 2, 3, 4, 5, 6


class InputError(Exception):
    """A missing or invalid input file; the message names the file."""

    def __init__(self, path, what):
        super().__init__(f"{path}: {what}")
        self.path = path


# --------------------------------------------------------------------------- inputs

def load_json(path, required=True):
    if not os.path.exists(path):
        if required:
            raise InputError(path, "file not found")
        return None
    if not os.path.isfile(path):
        raise InputError(path, "not a regular file")
    try:
        with open(path, "r", encoding="utf-8") as f:
            data = json.load(f)
    except UnicodeDecodeError as e:
        raise InputError(path, f"not UTF-8 text ({e})") from None
    except json.JSONDecodeError as e:
        raise InputError(path, f"invalid JSON at line {e.lineno} column {e.colno}: {e.msg}") from None
    except OSError as e:
        raise InputError(path, f"cannot read: {e.strerror}") from None
    if not isinstance(data, dict):
        raise InputError(path, f"expected a JSON object at top level, found {type(data).__name__}")
    return data


_ST_DTYPES = {"BF16": 2, "F16": 2, "F32": 4}


class SafeTensors:
    """Minimal reader for the safetensors format: an 8-byte little-endian header
    length N, N bytes of JSON {name: {dtype, shape, data_offsets: [begin, end]}},
    then the raw little-endian tensor bytes (offsets relative to the end of the
    header).  Handles a single model.safetensors or an index.json with shards."""

    def __init__(self, hf_dir):
        single = os.path.join(hf_dir, "model.safetensors")
        index = os.path.join(hf_dir, "model.safetensors.index.json")
        self.entries = {}   # name -> (path, dtype, shape, abs_begin, abs_end)
        if os.path.isfile(single):
            self._read_file(single)
        elif os.path.isfile(index):
            idx = load_json(index)
            wm = idx.get("weight_map")
            if not isinstance(wm, dict) or not wm:
                raise InputError(index, "missing or empty 'weight_map' object")
            for shard in sorted(set(wm.values())):
                if not isinstance(shard, str) or os.sep in shard or shard.startswith("."):
                    raise InputError(index, f"bad shard file name {shard!r}")
                self._read_file(os.path.join(hf_dir, shard))
            missing = sorted(set(wm) - set(self.entries))
            if missing:
                raise InputError(index, f"tensors listed in weight_map but absent from the shards: {missing[:5]}")
        else:
            raise InputError(single, "file not found (nor model.safetensors.index.json)")

    def _read_file(self, path):
        if not os.path.isfile(path):
            raise InputError(path, "file not found")
        size = os.path.getsize(path)
        with open(path, "rb") as f:
            head = f.read(8)
            if len(head) < 8:
                raise InputError(path, f"truncated: {size} bytes, not even the 8-byte header length")
            (n,) = struct.unpack("<Q", head)
            if n < 2 or 8 + n > size:
                raise InputError(path, f"header length {n} does not fit in a file of {size} bytes "
                                       "(not a safetensors file, or truncated)")
            raw = f.read(n)
        try:
            header = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise InputError(path, f"header is not valid JSON: {e}") from None
        if not isinstance(header, dict):
            raise InputError(path, "header is not a JSON object")
        base = 8 + n
        for name, info in header.items():
            if name == "__metadata__":
                continue
            try:
                dtype, shape, (b, e) = info["dtype"], info["shape"], info["data_offsets"]
            except (KeyError, TypeError, ValueError):
                raise InputError(path, f"tensor {name!r}: malformed header entry {info!r}") from None
            if dtype not in _ST_DTYPES:
                raise InputError(path, f"tensor {name!r}: unsupported dtype {dtype} (need BF16, F16 or F32)")
            if not (isinstance(shape, list) and all(isinstance(d, int) and d >= 0 for d in shape)):
                raise InputError(path, f"tensor {name!r}: bad shape {shape!r}")
            want = int(np.prod(shape, dtype=np.int64)) * _ST_DTYPES[dtype]
            if not (isinstance(b, int) and isinstance(e, int) and 0 <= b <= e and e - b == want):
                raise InputError(path, f"tensor {name!r}: data_offsets {[b, e]} do not match "
                                       f"{dtype} shape {shape} ({want} bytes)")
            if base + e > size:
                raise InputError(path, f"tensor {name!r}: data ends at byte {base + e} but the file has "
                                       f"only {size} bytes (truncated?)")
            if name in self.entries:
                raise InputError(path, f"tensor {name!r} appears in more than one file")
            self.entries[name] = (path, dtype, tuple(shape), base + b, base + e)

    def names(self):
        return list(self.entries)

    def shape(self, name):
        return self.entries[name][2]

    def dtype(self, name):
        return self.entries[name][1]

    def get_f32(self, name):
        """The tensor as a float32 numpy array (BF16 and F16 widen exactly)."""
        path, dtype, shape, b, e = self.entries[name]
        with open(path, "rb") as f:
            f.seek(b)
            raw = f.read(e - b)
        if len(raw) != e - b:
            raise InputError(path, f"tensor {name!r}: short read")
        if dtype == "F32":
            a = np.frombuffer(raw, dtype="<f4").astype(np.float32)
        elif dtype == "F16":
            a = np.frombuffer(raw, dtype="<f2").astype(np.float32)
        else:  # BF16: the upper 16 bits of an IEEE float32
            a = (np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16).view(np.float32)
        return a.reshape(shape)


def load_hparams(hf_dir):
    path = os.path.join(hf_dir, "config.json")
    cfg = load_json(path)

    def need(key, typ=int, positive=True):
        v = cfg.get(key)
        if v is None:
            raise InputError(path, f"missing required key {key!r}")
        if typ is int and (isinstance(v, bool) or not isinstance(v, int)):
            raise InputError(path, f"{key!r} must be an integer, found {v!r}")
        if typ is float and (isinstance(v, bool) or not isinstance(v, (int, float))):
            raise InputError(path, f"{key!r} must be a number, found {v!r}")
        if positive and not v > 0:
            raise InputError(path, f"{key!r} must be positive, found {v!r}")
        return v

    archs = cfg.get("architectures") or []
    if "LlamaForCausalLM" not in archs and cfg.get("model_type") != "llama":
        raise InputError(path, f"not a Llama model (architectures={archs}, model_type={cfg.get('model_type')!r})")
    hp = {
        "n_embd": need("hidden_size"),
        "n_ff": need("intermediate_size"),
        "n_layer": need("num_hidden_layers"),
        "n_head": need("num_attention_heads"),
        "n_vocab": need("vocab_size"),
        "n_ctx": need("max_position_embeddings"),
        "eps": float(need("rms_norm_eps", float)),
    }
    hp["n_head_kv"] = cfg.get("num_key_value_heads") or hp["n_head"]
    hp["head_dim"] = cfg.get("head_dim") or hp["n_embd"] // hp["n_head"]
    hp["rope_theta"] = float(cfg.get("rope_theta", 10000.0))
    hp["tied"] = bool(cfg.get("tie_word_embeddings", False))
    for k in ("n_head_kv", "head_dim"):
        if isinstance(hp[k], bool) or not isinstance(hp[k], int) or hp[k] <= 0:
            raise InputError(path, f"bad {k}: {hp[k]!r}")
    if hp["n_head"] % hp["n_head_kv"]:
        raise InputError(path, f"num_attention_heads {hp['n_head']} is not a multiple of "
                               f"num_key_value_heads {hp['n_head_kv']}")
    if hp["head_dim"] % 2:
        raise InputError(path, f"head_dim {hp['head_dim']} must be even for RoPE")
    if cfg.get("hidden_act", "silu") != "silu":
        raise InputError(path, f"hidden_act {cfg.get('hidden_act')!r} is not supported (Llama uses silu)")
    for k in ("attention_bias", "mlp_bias"):
        if cfg.get(k):
            raise InputError(path, f"{k}=true is not supported (Llama 3 has no biases)")
    rs = cfg.get("rope_scaling")
    if rs is not None:
        if not isinstance(rs, dict):
            raise InputError(path, f"rope_scaling must be an object or null, found {rs!r}")
        rtype = str(rs.get("rope_type", rs.get("type", ""))).lower()
        if rtype == "default":
            rs = None
        elif rtype != "llama3":
            raise InputError(path, f"rope_scaling type {rtype!r} is not supported (only 'llama3')")
        else:
            for k in ("factor", "low_freq_factor", "high_freq_factor", "original_max_position_embeddings"):
                v = rs.get(k)
                if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float)) or v <= 0):
                    raise InputError(path, f"rope_scaling.{k} must be a positive number, found {v!r}")
    hp["rope_scaling"] = rs
    hp["config"] = cfg
    hp["config_path"] = path
    return hp


# --------------------------------------------------------------------------- tokenizer

def _looks_special(text):
    # llama.cpp's does_token_look_special, the part relevant to Llama 3
    return text.startswith("<|") and text.endswith("|>")


def _token_content(entry):
    if isinstance(entry, str):
        return entry
    if isinstance(entry, dict) and isinstance(entry.get("content"), str):
        return entry["content"]
    return None


def load_vocab(hf_dir, n_vocab):
    """Tokens, token types, merges and special ids, following llama.cpp's
    _set_vocab_gpt2 / get_vocab_base / gguf.SpecialVocab."""
    tj_path = os.path.join(hf_dir, "tokenizer.json")
    tc_path = os.path.join(hf_dir, "tokenizer_config.json")
    tj = load_json(tj_path)
    tc = load_json(tc_path)
    model = tj.get("model")
    if not isinstance(model, dict):
        raise InputError(tj_path, "missing 'model' object")
    if model.get("type", "BPE") != "BPE":
        raise InputError(tj_path, f"model.type is {model.get('type')!r}, need 'BPE' (byte-level BPE)")
    if model.get("byte_fallback"):
        raise InputError(tj_path, "model.byte_fallback is true: a SentencePiece-style tokenizer, not Llama 3's byte-level BPE")
    dec = tj.get("decoder")
    if isinstance(dec, dict) and dec.get("type") not in (None, "ByteLevel"):
        print(f"warning: {tj_path}: decoder type {dec.get('type')!r} is not ByteLevel", file=sys.stderr)
    vocab = model.get("vocab")
    if not isinstance(vocab, dict) or not vocab:
        raise InputError(tj_path, "model.vocab missing or empty")

    id_to_tok = {}
    for tok, i in vocab.items():
        if isinstance(i, bool) or not isinstance(i, int) or i < 0:
            raise InputError(tj_path, f"model.vocab[{tok!r}] has invalid id {i!r}")
        if i in id_to_tok:
            raise InputError(tj_path, f"model.vocab: id {i} used by both {id_to_tok[i]!r} and {tok!r}")
        id_to_tok[i] = tok
    added = tj.get("added_tokens") or []
    if not isinstance(added, list):
        raise InputError(tj_path, "added_tokens must be a list")
    added_special = {}   # id -> special flag
    for at in added:
        if not isinstance(at, dict) or not isinstance(at.get("id"), int) or not isinstance(at.get("content"), str):
            raise InputError(tj_path, f"malformed added_tokens entry {at!r}")
        i, content = at["id"], at["content"]
        if i in id_to_tok and id_to_tok[i] != content:
            raise InputError(tj_path, f"added token id {i} {content!r} clashes with vocab token {id_to_tok[i]!r}")
        id_to_tok[i] = content
        added_special[i] = bool(at.get("special", False))
    top = max(id_to_tok)
    if top >= n_vocab:
        raise InputError(tj_path, f"token id {top} ({id_to_tok[top]!r}) is outside config.json vocab_size {n_vocab}")
    if len(set(id_to_tok.values())) != len(id_to_tok):
        raise InputError(tj_path, "the same token text appears under two ids")

    tokens, types = [], []
    n_pad = 0
    for i in range(n_vocab):
        if i not in id_to_tok:
            tokens.append(f"[PAD{i}]")
            types.append(TOKEN_UNUSED)
            n_pad += 1
            continue
        t = id_to_tok[i]
        tokens.append(t)
        if i in added_special:
            types.append(TOKEN_CONTROL if added_special[i] or _looks_special(t) else TOKEN_USER_DEFINED)
        else:
            types.append(TOKEN_NORMAL)

    merges_in = model.get("merges")
    if not isinstance(merges_in, list) or not merges_in:
        raise InputError(tj_path, "model.merges missing or empty")
    merges = []
    for k, m in enumerate(merges_in):
        if isinstance(m, str):
            if len(m.split(" ")) != 2:
                raise InputError(tj_path, f"model.merges[{k}] {m!r} is not 'left right'")
            merges.append(m)
        elif isinstance(m, list) and len(m) == 2 and all(isinstance(p, str) for p in m):
            # transformers >= 4.45 format; llama.cpp writes a literal space as U+0120
            merges.append(" ".join("".join(chr(ord(c) + 256) if c == " " else c for c in p) for p in m))
        else:
            raise InputError(tj_path, f"model.merges[{k}] has unknown format {m!r}")

    # special tokens, as gguf.SpecialVocab: tokenizer_config.json {bos,eos,pad}_token looked up in
    # added_tokens; then config.json {bos,eos,pad}_token_id when an int; (ours) generation_config.json.
    content_to_added = {}
    for at in added:
        content_to_added.setdefault(at["content"], at["id"])
    special = {}
    source = {}
    for typ in ("bos", "eos", "pad"):
        c = _token_content(tc.get(f"{typ}_token"))
        if c is not None and c in content_to_added:
            special[typ] = content_to_added[c]
            source[typ] = f"tokenizer_config.json {typ}_token {c!r}"
    cfg = load_json(os.path.join(hf_dir, "config.json"))
    gen_path = os.path.join(hf_dir, "generation_config.json")
    gen = load_json(gen_path, required=False) or {}
    for src_name, src in (("config.json", cfg), ("generation_config.json", gen)):
        for typ in ("bos", "eos", "pad"):
            v = src.get(f"{typ}_token_id")
            if typ in special or v is None:
                continue
            if src_name == "generation_config.json" and isinstance(v, list) and v:
                v = v[0]
            if isinstance(v, int) and not isinstance(v, bool) and 0 <= v < n_vocab:
                special[typ] = v
                source[typ] = f"{src_name} {typ}_token_id"
    for typ in ("bos", "eos"):
        if typ not in special:
            raise InputError(tc_path, f"cannot determine the {typ} token: no {typ}_token matching an added token, "
                                      f"and no integer {typ}_token_id in config.json or generation_config.json")

    # add_bos_token: TemplateProcessing in tokenizer.json's post_processor, overridden by tokenizer_config.json;
    # llama.cpp's default for the llama-bpe pre-tokenizer is true.
    add_bos, add_eos = None, None
    pp = tj.get("post_processor")
    if isinstance(pp, dict):
        for proc in pp.get("processors", [pp]):
            if isinstance(proc, dict) and proc.get("type") == "TemplateProcessing":
                single = proc.get("single") or []
                if len(single) > 1:
                    first = (single[0].get("SpecialToken") or {}).get("id")
                    last = (single[-1].get("SpecialToken") or {}).get("id")
                    bos_text, eos_text = id_to_tok.get(special["bos"]), id_to_tok.get(special["eos"])
                    if first:
                        add_bos = first == bos_text
                    if last:
                        add_eos = last == eos_text
    if isinstance(tc.get("add_bos_token"), bool):
        add_bos = tc["add_bos_token"]
    if isinstance(tc.get("add_eos_token"), bool):
        add_eos = tc["add_eos_token"]
    if add_bos is None:
        add_bos = True

    chat_template = tc.get("chat_template")
    if chat_template is None:
        jinja = os.path.join(hf_dir, "chat_template.jinja")
        if os.path.isfile(jinja):
            with open(jinja, encoding="utf-8") as f:
                chat_template = f.read()
    if chat_template is not None and not isinstance(chat_template, (str, list)):
        raise InputError(tc_path, f"chat_template must be a string or a list, found {type(chat_template).__name__}")

    gen_eos = gen.get("eos_token_id")
    gen_eos = [gen_eos] if isinstance(gen_eos, int) else (gen_eos or [])
    return {"tokens": tokens, "types": types, "merges": merges, "special": special, "special_source": source,
            "add_bos": add_bos, "add_eos": add_eos, "chat_template": chat_template, "n_pad": n_pad,
            "n_added": len(added_special), "generation_eos": gen_eos}


# --------------------------------------------------------------------------- tensors

def llama3_rope_factors(hp):
    """rope_freqs.weight, the same arithmetic as llama.cpp's LlamaModel.generate_extra_tensors
    (float32 frequencies, per-element float32 maths).  One deliberate difference:
    original_max_position_embeddings is read from rope_scaling (where HF reads it) rather than from
    the top level of config.json; the two agree for every Meta Llama 3 config (8192)."""
    rs, base, dim = hp["rope_scaling"], hp["rope_theta"], hp["head_dim"]
    factor = rs.get("factor", 8.0)
    low_freq_factor = rs.get("low_freq_factor", 1.0)
    high_freq_factor = rs.get("high_freq_factor", 4.0)
    old_context_len = rs.get("original_max_position_embeddings", hp["config"].get("original_max_position_embeddings", 8192))
    low_freq_wavelen = old_context_len / low_freq_factor
    high_freq_wavelen = old_context_len / high_freq_factor
    if low_freq_wavelen == high_freq_wavelen:
        raise InputError(hp["config_path"], "rope_scaling: low_freq_factor == high_freq_factor")
    try:
        import torch
        freqs = 1.0 / (base ** (torch.arange(0, dim, 2, dtype=torch.float32) / dim))
        to_f = lambda v: v  # noqa: E731
    except ImportError:  # numpy float32 fallback; may differ from torch in the last ulp
        freqs = np.float32(1.0) / (np.float32(base) ** (np.arange(0, dim, 2, dtype=np.float32) / np.float32(dim)))
        to_f = np.float32
    factors = []
    for freq in freqs:
        wavelen = 2 * math.pi / to_f(freq)
        if wavelen < high_freq_wavelen:
            factors.append(1.0)
        elif wavelen > low_freq_wavelen:
            factors.append(float(factor))
        else:
            smooth = (old_context_len / wavelen - low_freq_factor) / (high_freq_factor - low_freq_factor)
            factors.append(float(1 / ((1 - smooth) / factor + smooth)))
    return np.array(factors, dtype=np.float32)


def permute_qk(w, n_head):
    """HF rotate-half row order -> ggml adjacent-pair order, per head (see module docstring)."""
    rows, cols = w.shape
    hd = rows // n_head
    return w.reshape(n_head, 2, hd // 2, cols).swapaxes(1, 2).reshape(rows, cols)


def _round_half_away(x):
    """C roundf() on float32: exact, ties away from zero."""
    a = np.abs(x)
    f = np.floor(a)
    r = f + ((a - f) >= np.float32(0.5)).astype(np.float32)
    return np.copysign(r, x)


def quantize_q8_0(w):
    """ggml's quantize_row_q8_0_ref: per block of 32 values d = amax/127, q = roundf(x/d)
    (computed as x * (1/d) in float32), stored as f16 d followed by 32 int8."""
    blocks = np.ascontiguousarray(w, dtype=np.float32).reshape(-1, QK8_0)
    amax = np.abs(blocks).max(axis=1, keepdims=True)
    d = amax / np.float32(127)
    with np.errstate(divide="ignore"):
        inv = np.where(d == 0, np.float32(0), np.float32(1) / np.where(d == 0, np.float32(1), d)).astype(np.float32)
    q = np.clip(_round_half_away(blocks * inv), -127, 127)
    out = np.empty(blocks.shape[0], dtype=Q8_0_DTYPE)
    out["d"] = d[:, 0].astype(np.float16)
    out["qs"] = q.astype(np.int8)
    return out.tobytes()


def ggml_nbytes(ggml_type, ne):
    n = int(np.prod(ne, dtype=np.int64))
    if ggml_type == GGML_F32:
        return 4 * n
    if ggml_type == GGML_F16:
        return 2 * n
    if ggml_type == GGML_Q8_0:
        return n // QK8_0 * Q8_0_BLOCK_BYTES
    raise ValueError(ggml_type)


def plan_tensors(st, hp, out_type, st_label):
    """[(gguf_name, hf_name or None, ne, ggml_type, transform)] in output order; validates shapes."""
    E, F, HD, NH, NKV, V = hp["n_embd"], hp["n_ff"], hp["head_dim"], hp["n_head"], hp["n_head_kv"], hp["n_vocab"]
    want = {"model.embed_tokens.weight": ("token_embd.weight", (V, E), None),
            "model.norm.weight": ("output_norm.weight", (E,), None)}
    if not hp["tied"]:
        want["lm_head.weight"] = ("output.weight", (V, E), None)
    for i in range(hp["n_layer"]):
        p, b = f"model.layers.{i}.", f"blk.{i}."
        want.update({
            p + "input_layernorm.weight": (b + "attn_norm.weight", (E,), None),
            p + "self_attn.q_proj.weight": (b + "attn_q.weight", (NH * HD, E), NH),
            p + "self_attn.k_proj.weight": (b + "attn_k.weight", (NKV * HD, E), NKV),
            p + "self_attn.v_proj.weight": (b + "attn_v.weight", (NKV * HD, E), None),
            p + "self_attn.o_proj.weight": (b + "attn_output.weight", (E, NH * HD), None),
            p + "post_attention_layernorm.weight": (b + "ffn_norm.weight", (E,), None),
            p + "mlp.gate_proj.weight": (b + "ffn_gate.weight", (F, E), None),
            p + "mlp.up_proj.weight": (b + "ffn_up.weight", (F, E), None),
            p + "mlp.down_proj.weight": (b + "ffn_down.weight", (E, F), None),
        })
    have = set(st.names())
    missing = [n for n in want if n not in have]
    if missing:
        raise InputError(st_label, f"missing tensors: {missing[:6]}{' ...' if len(missing) > 6 else ''}")
    ignorable = {"lm_head.weight"} if hp["tied"] else set()
    extra = sorted(n for n in have - set(want) - ignorable if not n.endswith("rotary_emb.inv_freq"))
    if extra:
        raise InputError(st_label, f"unexpected tensors (not part of a LlamaForCausalLM with this config.json): {extra[:6]}")
    if hp["tied"] and "lm_head.weight" in have:
        print("note: lm_head.weight present but tie_word_embeddings is true: not written (output = token_embd)",
              file=sys.stderr)
    plan = []
    if hp["rope_scaling"] is not None:
        plan.append(("rope_freqs.weight", None, (HD // 2,), GGML_F32, None))
    for hf_name, (g_name, shape, perm) in want.items():
        if st.shape(hf_name) != shape:
            raise InputError(st_label, f"tensor {hf_name}: shape {list(st.shape(hf_name))}, config.json implies {list(shape)}")
        ne = tuple(reversed(shape))
        if len(shape) == 1:
            t = GGML_F32
        elif out_type == "F16":
            t = GGML_F16
        elif ne[0] % QK8_0 == 0:
            t = GGML_Q8_0
        else:
            print(f"warning: {g_name}: row length {ne[0]} is not a multiple of {QK8_0}; written as F16 "
                  "(llama.cpp's converter does the same)", file=sys.stderr)
            t = GGML_F16
        plan.append((g_name, hf_name, ne, t, perm))

    def order(entry):   # rope_freqs, token_embd, blk.0 ... blk.N, output_norm, output
        g = entry[0]
        m = re.match(r"blk\.(\d+)\.", g)
        if m:
            return (2, int(m.group(1)), 0)
        return ({"rope_freqs.weight": 0, "token_embd.weight": 1, "output_norm.weight": 3, "output.weight": 4}[g], 0, 0)
    plan.sort(key=order)
    return plan


# --------------------------------------------------------------------------- GGUF writing

def _pack_str(s):
    b = s.encode("utf-8")
    return struct.pack("<Q", len(b)) + b


def _pack_value(vtype, value, elem_type=None):
    if vtype == T_STRING:
        return _pack_str(value)
    if vtype == T_ARRAY:
        head = struct.pack("<IQ", elem_type, len(value))
        if elem_type == T_STRING:
            return head + b"".join(_pack_str(v) for v in value)
        if elem_type == T_BOOL:
            return head + bytes(1 if v else 0 for v in value)
        if elem_type == T_ARRAY:
            raise ValueError("nested arrays are not written by this exporter")
        return head + np.asarray(value, dtype=_ARRAY_NP[elem_type]).tobytes()
    return struct.pack(_SCALAR_FMT[vtype], value)


def _pad(n):
    return (-n) % ALIGNMENT


def build_metadata(hp, voc, out_type, name):
    kv = []
    add = lambda k, t, v, e=None: kv.append((k, t, v, e))  # noqa: E731
    add("general.architecture", T_STRING, "llama")
    add("general.type", T_STRING, "model")
    add("general.name", T_STRING, name)
    add("general.alignment", T_UINT32, ALIGNMENT)
    add("general.file_type", T_UINT32, FILE_TYPES[out_type])
    add("general.quantization_version", T_UINT32, GGML_QUANT_VERSION)
    add("llama.vocab_size", T_UINT32, hp["n_vocab"])
    add("llama.context_length", T_UINT32, hp["n_ctx"])
    add("llama.embedding_length", T_UINT32, hp["n_embd"])
    add("llama.block_count", T_UINT32, hp["n_layer"])
    add("llama.feed_forward_length", T_UINT32, hp["n_ff"])
    add("llama.rope.dimension_count", T_UINT32, hp["head_dim"])
    add("llama.rope.freq_base", T_FLOAT32, hp["rope_theta"])
    add("llama.attention.head_count", T_UINT32, hp["n_head"])
    add("llama.attention.head_count_kv", T_UINT32, hp["n_head_kv"])
    add("llama.attention.key_length", T_UINT32, hp["head_dim"])
    add("llama.attention.value_length", T_UINT32, hp["head_dim"])
    add("llama.attention.layer_norm_rms_epsilon", T_FLOAT32, hp["eps"])
    add("tokenizer.ggml.model", T_STRING, "gpt2")
    add("tokenizer.ggml.pre", T_STRING, "llama-bpe")
    add("tokenizer.ggml.tokens", T_ARRAY, voc["tokens"], T_STRING)
    add("tokenizer.ggml.token_type", T_ARRAY, voc["types"], T_INT32)
    add("tokenizer.ggml.merges", T_ARRAY, voc["merges"], T_STRING)
    add("tokenizer.ggml.bos_token_id", T_UINT32, voc["special"]["bos"])
    add("tokenizer.ggml.eos_token_id", T_UINT32, voc["special"]["eos"])
    if "pad" in voc["special"]:
        add("tokenizer.ggml.padding_token_id", T_UINT32, voc["special"]["pad"])
    add("tokenizer.ggml.add_bos_token", T_BOOL, bool(voc["add_bos"]))
    if voc["add_eos"] is not None:
        add("tokenizer.ggml.add_eos_token", T_BOOL, bool(voc["add_eos"]))
    ct = voc["chat_template"]
    if isinstance(ct, str):
        add("tokenizer.chat_template", T_STRING, ct)
    elif isinstance(ct, list):   # named templates, as llama.cpp writes them
        names = []
        for item in ct:
            if not isinstance(item, dict) or not isinstance(item.get("name"), str) \
                    or not isinstance(item.get("template"), str):
                raise InputError("tokenizer_config.json", f"malformed chat_template entry {item!r}")
            if item["name"] == "default":
                add("tokenizer.chat_template", T_STRING, item["template"])
            else:
                names.append(item["name"])
                add(f"tokenizer.chat_template.{item['name']}", T_STRING, item["template"])
        if names:
            add("tokenizer.chat_templates", T_ARRAY, names, T_STRING)
    return kv


def tensor_bytes(st, hp, entry):
    g_name, hf_name, ne, t, perm = entry
    if hf_name is None:
        a = llama3_rope_factors(hp)
    else:
        a = st.get_f32(hf_name)
        if not np.isfinite(a).all():
            raise InputError(st.entries[hf_name][0], f"tensor {hf_name} contains NaN or infinite values")
        if perm is not None:
            a = permute_qk(a, perm)
    if t == GGML_F32:
        b = np.ascontiguousarray(a, dtype="<f4").tobytes()
    elif t == GGML_F16:
        big = float(np.abs(a).max()) if a.size else 0.0
        if big > 65504.0:
            raise InputError(st.entries[hf_name][0], f"tensor {hf_name}: |value| {big:g} overflows F16")
        b = np.ascontiguousarray(a, dtype="<f2").tobytes()
    else:
        big = float(np.abs(a).max()) if a.size else 0.0
        if big / 127 > 65504.0:
            raise InputError(st.entries[hf_name][0], f"tensor {hf_name}: |value| {big:g} overflows the Q8_0 F16 scale")
        b = quantize_q8_0(a)
    assert len(b) == ggml_nbytes(t, ne), (g_name, len(b), ggml_nbytes(t, ne))
    return b


def write_gguf(path, kv, plan, st, hp):
    header = bytearray()
    header += GGUF_MAGIC + struct.pack("<IQQ", GGUF_VERSION, len(plan), len(kv))
    for key, vtype, value, elem in kv:
        header += _pack_str(key) + struct.pack("<I", vtype) + _pack_value(vtype, value, elem)
    offset = 0
    for g_name, _hf, ne, t, _p in plan:
        header += _pack_str(g_name) + struct.pack("<I", len(ne)) + struct.pack(f"<{len(ne)}Q", *ne)
        header += struct.pack("<IQ", t, offset)
        nb = ggml_nbytes(t, ne)
        offset += nb + _pad(nb)
    header += b"\0" * _pad(len(header))

    out_dir = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(out_dir):
        raise InputError(out_dir, "output directory does not exist")
    fd, tmp = tempfile.mkstemp(dir=out_dir, prefix="." + os.path.basename(path) + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(header)
            for entry in plan:
                b = tensor_bytes(st, hp, entry)
                f.write(b)
                f.write(b"\0" * _pad(len(b)))
            f.flush()
            os.fsync(f.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    try:   # make the rename durable
        dfd = os.open(out_dir, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    except OSError:
        pass
    return len(header) + offset


def default_name(out_path):
    """general.name from the output file: tiny-llama3-Q8_0.gguf -> tiny-llama3."""
    stem = os.path.basename(out_path)
    if stem.lower().endswith(".gguf"):
        stem = stem[:-5]
    return re.sub(r"[-_.](f16|q8_0)$", "", stem, flags=re.IGNORECASE) or stem


def main(argv=None):
    ap = argparse.ArgumentParser(description="Export a Hugging Face Llama 3 directory to GGUF v3 (llama.cpp names).")
    ap.add_argument("hf_dir", metavar="HF_DIR")
    ap.add_argument("out", metavar="OUT.gguf")
    ap.add_argument("--type", dest="out_type", choices=sorted(FILE_TYPES), required=True,
                    help="F16: 2-D weights F16; Q8_0: 2-D weights Q8_0. 1-D tensors are always F32.")
    ap.add_argument("--name", help="general.name (default: the output file name without .gguf and a -F16/-Q8_0 suffix)")
    args = ap.parse_args(argv)
    try:
        if not os.path.isdir(args.hf_dir):
            raise InputError(args.hf_dir, "not a directory")
        hp = load_hparams(args.hf_dir)
        voc = load_vocab(args.hf_dir, hp["n_vocab"])
        st = SafeTensors(args.hf_dir)
        st_label = os.path.join(args.hf_dir, "model.safetensors")
        plan = plan_tensors(st, hp, args.out_type, st_label)
        name = args.name or default_name(args.out)
        kv = build_metadata(hp, voc, args.out_type, name)
        size = write_gguf(args.out, kv, plan, st, hp)
    except InputError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    sp = voc["special"]
    print(f"wrote {args.out}: GGUF v{GGUF_VERSION}, {args.out_type}, {len(plan)} tensors, {len(kv)} metadata keys, "
          f"{size} bytes")
    print(f"  vocab {len(voc['tokens'])} ({voc['n_added']} added, {voc['n_pad']} [PAD]), {len(voc['merges'])} merges; "
          f"bos {sp['bos']} ({voc['special_source']['bos']}), eos {sp['eos']} ({voc['special_source']['eos']}), "
          f"add_bos {voc['add_bos']}")
    if voc["generation_eos"] and set(voc["generation_eos"]) != {sp["eos"]}:
        print(f"  note: generation_config.json stops on ids {voc['generation_eos']}; GGUF holds one eos id "
              f"({sp['eos']}) — llama.cpp also stops on <|eot_id|>/<|eom_id|>/<|end_of_text|> by text")
    return 0


if __name__ == "__main__":
    sys.exit(main())
