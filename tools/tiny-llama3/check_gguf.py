#!/usr/bin/python3
"""Check GGUF files written by gguf_export.py against the Hugging Face directory they came from.

    check_gguf.py HF_DIR FILE.gguf... [--state-dict trained.pt] [--forward] [--failures-only]

For every GGUF file:
  * header: GGUF v3, general.alignment 32, every tensor's data inside the file and aligned;
  * metadata: every llama.* / general.* / tokenizer.* key gguf_export.py writes, with llama.cpp's
    value types, equal to config.json / tokenizer.json / tokenizer_config.json;
  * tensors: exactly the expected set (llama.cpp names, no output.weight when tied), ggml shapes
    (ne = reversed torch shape), types (1-D F32; 2-D F16 or Q8_0 per general.file_type), values:
      F32    bit-exact,
      F16    equal to the fp16 rounding of the source,
      Q8_0   per 32-block scale d equal to fp16(amax/127) and |x - q*d| <= d/2 + 127*|d - amax/127|,
    attn_q / attn_k after undoing the export permutation (independent code from the exporter's);
  * rope_freqs.weight against HF's llama3 inverse-frequency formula (float64), and a numerical
    RoPE test: ggml-style adjacent-pair RoPE with rope_freqs on the GGUF attn_q/attn_k gives the
    same attention scores as HF's rotate-half RoPE on the un-permuted weights;
  * tokenizer: tokens, token types (1 normal, 3 control for special added tokens, 4 other added,
    5 [PAD] holes), merges, bos/eos ids, add_bos_token and chat template equal to the HF files.
With --state-dict (a torch state dict saved by training, HF names, float32): the safetensors must
equal it rounded to the safetensors dtype, and the table also shows the GGUF error against it.
With --forward: a 16-token float64 forward pass of the GGUF (ggml conventions) against the safetensors
(HF conventions); F16 files must agree to 1e-3 of the largest logit, Q8_0 files are reported only.

Prints a table (tensor, type, ne, max |err| vs HF, allowed, [max |err| vs state dict], status).
Exit status: 0 all good, 1 any mismatch (each one listed at the end), 2 a missing/unreadable input.
"""
import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import argparse
import json
import math
import struct
import sys

import numpy as np

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gguf_reader import GGUFFile, GGUFError, GGML_F32, GGML_F16, GGML_Q8_0, GGML_TYPE_NAMES  # noqa: E402

T_UINT32, T_INT32, T_FLOAT32, T_BOOL, T_STRING, T_ARRAY = 4, 5, 6, 7, 8, 9


class InputProblem(Exception):
    pass


def _torch():
    import torch
    torch.set_num_threads(1)
    return torch


def read_json(path, required=True):
    if not os.path.isfile(path):
        if required:
            raise InputProblem(f"{path}: file not found")
        return None
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise InputProblem(f"{path}: cannot parse: {e}") from None


def read_safetensors(hf_dir):
    """{name: (dtype, float32 array)} decoded with torch (independent of the exporter's numpy path)."""
    torch = _torch()
    files = []
    single = os.path.join(hf_dir, "model.safetensors")
    if os.path.isfile(single):
        files = [single]
    else:
        idx = read_json(os.path.join(hf_dir, "model.safetensors.index.json"), required=False)
        if idx is None:
            raise InputProblem(f"{single}: file not found (nor model.safetensors.index.json)")
        files = [os.path.join(hf_dir, s) for s in sorted(set(idx.get("weight_map", {}).values()))]
    out = {}
    tdt = {"BF16": torch.bfloat16, "F16": torch.float16, "F32": torch.float32}
    for path in files:
        try:
            with open(path, "rb") as f:
                data = f.read()
        except OSError as e:
            raise InputProblem(f"{path}: {e.strerror}") from None
        if len(data) < 8:
            raise InputProblem(f"{path}: truncated")
        (n,) = struct.unpack("<Q", data[:8])
        try:
            header = json.loads(data[8:8 + n])
        except (ValueError, UnicodeDecodeError) as e:
            raise InputProblem(f"{path}: bad safetensors header: {e}") from None
        for name, info in header.items():
            if name == "__metadata__":
                continue
            b, e = info["data_offsets"]
            raw = bytearray(data[8 + n + b:8 + n + e])
            if info["dtype"] not in tdt:
                raise InputProblem(f"{path}: {name}: dtype {info['dtype']} not supported")
            t = torch.frombuffer(raw, dtype=tdt[info["dtype"]]) if raw else torch.zeros(0, dtype=tdt[info["dtype"]])
            out[name] = (info["dtype"], t.float().reshape(info["shape"]).numpy())
    return out


def read_state_dict(path):
    torch = _torch()
    if not os.path.isfile(path):
        raise InputProblem(f"{path}: file not found")
    try:
        try:
            sd = torch.load(path, map_location="cpu", weights_only=True)
        except TypeError:
            sd = torch.load(path, map_location="cpu")
    except Exception as e:  # noqa: BLE001 - torch raises many kinds
        raise InputProblem(f"{path}: cannot load as a torch state dict: {type(e).__name__}: {e}") from None
    if isinstance(sd, dict) and not any(torch.is_tensor(v) for v in sd.values()):
        for k in ("state_dict", "model", "model_state_dict"):
            if isinstance(sd.get(k), dict):
                sd = sd[k]
                break
    if not isinstance(sd, dict) or not sd:
        raise InputProblem(f"{path}: not a state dict (a dict of tensors)")
    out = {}
    for k, v in sd.items():
        if not torch.is_tensor(v):
            continue
        for pre in ("_orig_mod.", "module."):
            if k.startswith(pre):
                k = k[len(pre):]
        out[k] = v.detach().float().numpy()
    return out


# ---------------------------------------------------------------- expectations from the HF files

def hf_expectations(hf_dir):
    cfg = read_json(os.path.join(hf_dir, "config.json"))
    tj = read_json(os.path.join(hf_dir, "tokenizer.json"))
    tc = read_json(os.path.join(hf_dir, "tokenizer_config.json"))
    try:
        E, F, L = cfg["hidden_size"], cfg["intermediate_size"], cfg["num_hidden_layers"]
        NH, V = cfg["num_attention_heads"], cfg["vocab_size"]
    except KeyError as e:
        raise InputProblem(f"{hf_dir}/config.json: missing {e}") from None
    NKV = cfg.get("num_key_value_heads") or NH
    HD = cfg.get("head_dim") or E // NH
    hp = dict(E=E, F=F, L=L, NH=NH, NKV=NKV, HD=HD, V=V, tied=bool(cfg.get("tie_word_embeddings", False)),
              theta=float(cfg.get("rope_theta", 10000.0)), rs=cfg.get("rope_scaling"),
              eps=float(cfg["rms_norm_eps"]), ctx=cfg["max_position_embeddings"])
    if hp["rs"] and str(hp["rs"].get("rope_type", hp["rs"].get("type"))).lower() == "default":
        hp["rs"] = None

    # tensor map: gguf name -> (hf name, torch shape, permute heads or None)
    tmap = {"token_embd.weight": ("model.embed_tokens.weight", (V, E), None),
            "output_norm.weight": ("model.norm.weight", (E,), None)}
    if not hp["tied"]:
        tmap["output.weight"] = ("lm_head.weight", (V, E), None)
    for i in range(L):
        h, b = f"model.layers.{i}.", f"blk.{i}."
        tmap[b + "attn_norm.weight"] = (h + "input_layernorm.weight", (E,), None)
        tmap[b + "ffn_norm.weight"] = (h + "post_attention_layernorm.weight", (E,), None)
        tmap[b + "attn_q.weight"] = (h + "self_attn.q_proj.weight", (NH * HD, E), NH)
        tmap[b + "attn_k.weight"] = (h + "self_attn.k_proj.weight", (NKV * HD, E), NKV)
        tmap[b + "attn_v.weight"] = (h + "self_attn.v_proj.weight", (NKV * HD, E), None)
        tmap[b + "attn_output.weight"] = (h + "self_attn.o_proj.weight", (E, NH * HD), None)
        tmap[b + "ffn_gate.weight"] = (h + "mlp.gate_proj.weight", (F, E), None)
        tmap[b + "ffn_up.weight"] = (h + "mlp.up_proj.weight", (F, E), None)
        tmap[b + "ffn_down.weight"] = (h + "mlp.down_proj.weight", (E, F), None)
    if hp["rs"]:
        tmap["rope_freqs.weight"] = (None, (HD // 2,), None)

    # tokenizer
    model = tj.get("model", {})
    id2tok, special = {}, {}
    for t, i in model.get("vocab", {}).items():
        id2tok[i] = t
    for at in tj.get("added_tokens", []):
        id2tok[at["id"]] = at["content"]
        special[at["id"]] = bool(at.get("special")) or (at["content"].startswith("<|") and at["content"].endswith("|>"))
    tokens = [id2tok.get(i, f"[PAD{i}]") for i in range(V)]
    types = [5 if i not in id2tok else (3 if special[i] else 4) if i in special else 1 for i in range(V)]
    merges = []
    for m in model.get("merges", []):
        merges.append(m if isinstance(m, str) else " ".join(p.replace(" ", "\u0120") for p in m))
    content2id = {}
    for at in tj.get("added_tokens", []):
        content2id.setdefault(at["content"], at["id"])

    def tok_id(entry):
        c = entry.get("content") if isinstance(entry, dict) else entry
        return content2id.get(c)
    bos = tok_id(tc.get("bos_token"))
    eos = tok_id(tc.get("eos_token"))
    gen = read_json(os.path.join(hf_dir, "generation_config.json"), required=False) or {}

    def fallback(key):   # config.json (int only, as llama.cpp), then generation_config.json (first of a list)
        v = cfg.get(key)
        if isinstance(v, int):
            return v
        v = gen.get(key)
        v = v[0] if isinstance(v, list) and v else v
        return v if isinstance(v, int) else None
    if bos is None:
        bos = fallback("bos_token_id")
    if eos is None:
        eos = fallback("eos_token_id")
    voc = dict(tokens=tokens, types=types, merges=merges, bos=bos, eos=eos, chat_template=tc.get("chat_template"),
               add_bos=tc.get("add_bos_token"))
    return hp, tmap, voc


def hf_llama3_inv_freq(hp):
    """HF transformers' _compute_llama3_parameters, in float64."""
    d, base = hp["HD"], hp["theta"]
    inv = 1.0 / base ** (np.arange(0, d, 2, dtype=np.float64) / d)
    rs = hp["rs"]
    if not rs:
        return inv, inv
    factor, lo, hi = rs["factor"], rs["low_freq_factor"], rs["high_freq_factor"]
    old = rs["original_max_position_embeddings"]
    lo_wl, hi_wl = old / lo, old / hi
    wl = 2 * math.pi / inv
    out = np.where(wl > lo_wl, inv / factor, inv)
    smooth = (old / wl - lo) / (hi - lo)
    smoothed = (1 - smooth) * out / factor + smooth * out
    medium = ~(wl < hi_wl) & ~(wl > lo_wl)
    return inv, np.where(medium, smoothed, out)


def unpermute_rows(a, n_head):
    """Inverse of the export permutation on the leading (row) axis: GGUF row h*hd + 2i + j
    (j = 0, 1) goes back to HF row h*hd + j*hd/2 + i."""
    rows = a.shape[0]
    hd = rows // n_head
    idx = np.empty(rows, dtype=np.int64)
    for h in range(n_head):
        for i in range(hd // 2):
            for j in (0, 1):
                idx[h * hd + j * (hd // 2) + i] = h * hd + 2 * i + j
    return a[idx]


# ---------------------------------------------------------------- one GGUF file

class Report:
    def __init__(self, label):
        self.label = label
        self.errors = []
        self.rows = []

    def err(self, what):
        self.errors.append(f"{self.label}: {what}")


def expect_kv(g, rep, key, vtype, value, elem=None):
    if key not in g.metadata:
        rep.err(f"metadata key {key} missing")
        return
    t = g.metadata_types[key]
    if t != vtype:
        rep.err(f"metadata {key}: value type {t}, expected {vtype}")
        return
    v = g.metadata[key]
    if vtype == T_ARRAY:
        got = list(v) if isinstance(v, list) else v.tolist()
        if got != list(value):
            n = min(len(got), len(value))
            first = next((i for i in range(n) if got[i] != value[i]), n)
            gi = got[first] if first < len(got) else "<end>"
            vi = value[first] if first < len(value) else "<end>"
            rep.err(f"metadata {key}: {len(got)} items, expected {len(value)}; first difference at index {first}: "
                    f"{gi!r} != {vi!r}")
    elif vtype == T_FLOAT32:
        if np.float32(v) != np.float32(value):
            rep.err(f"metadata {key} = {v!r}, expected {np.float32(value)!r}")
    elif v != value:
        rep.err(f"metadata {key} = {v!r}, expected {value!r}")


def check_metadata(g, rep, hp, voc):
    if g.version != 3:
        rep.err(f"GGUF version {g.version}, expected 3")
    expect_kv(g, rep, "general.architecture", T_STRING, "llama")
    expect_kv(g, rep, "general.alignment", T_UINT32, 32)
    if "general.name" not in g.metadata:
        rep.err("metadata key general.name missing")
    ft = g.metadata.get("general.file_type")
    if ft not in (1, 7) or g.metadata_types.get("general.file_type") != T_UINT32:
        rep.err(f"general.file_type {ft!r}: expected UINT32 1 (MOSTLY_F16) or 7 (MOSTLY_Q8_0)")
    if ft == 7:
        expect_kv(g, rep, "general.quantization_version", T_UINT32, 2)
    for key, val in (("llama.vocab_size", hp["V"]), ("llama.context_length", hp["ctx"]),
                     ("llama.embedding_length", hp["E"]), ("llama.block_count", hp["L"]),
                     ("llama.feed_forward_length", hp["F"]), ("llama.rope.dimension_count", hp["HD"]),
                     ("llama.attention.head_count", hp["NH"]), ("llama.attention.head_count_kv", hp["NKV"]),
                     ("llama.attention.key_length", hp["HD"]), ("llama.attention.value_length", hp["HD"])):
        expect_kv(g, rep, key, T_UINT32, val)
    expect_kv(g, rep, "llama.rope.freq_base", T_FLOAT32, hp["theta"])
    expect_kv(g, rep, "llama.attention.layer_norm_rms_epsilon", T_FLOAT32, hp["eps"])
    expect_kv(g, rep, "tokenizer.ggml.model", T_STRING, "gpt2")
    expect_kv(g, rep, "tokenizer.ggml.pre", T_STRING, "llama-bpe")
    expect_kv(g, rep, "tokenizer.ggml.tokens", T_ARRAY, voc["tokens"])
    expect_kv(g, rep, "tokenizer.ggml.token_type", T_ARRAY, voc["types"])
    if g.metadata.get("tokenizer.ggml.token_type") is not None and \
            getattr(g.metadata["tokenizer.ggml.token_type"], "dtype", None) != np.dtype("<i4"):
        rep.err("tokenizer.ggml.token_type is not an INT32 array")
    expect_kv(g, rep, "tokenizer.ggml.merges", T_ARRAY, voc["merges"])
    if voc["bos"] is None or voc["eos"] is None:
        rep.err("cannot derive bos/eos ids from tokenizer_config.json/config.json to compare with")
    else:
        expect_kv(g, rep, "tokenizer.ggml.bos_token_id", T_UINT32, voc["bos"])
        expect_kv(g, rep, "tokenizer.ggml.eos_token_id", T_UINT32, voc["eos"])
    if g.metadata_types.get("tokenizer.ggml.add_bos_token") != T_BOOL:
        rep.err("tokenizer.ggml.add_bos_token missing or not BOOL")
    elif isinstance(voc["add_bos"], bool) and g.metadata["tokenizer.ggml.add_bos_token"] != voc["add_bos"]:
        rep.err("tokenizer.ggml.add_bos_token differs from tokenizer_config.json add_bos_token")
    if isinstance(voc["chat_template"], str):
        expect_kv(g, rep, "tokenizer.chat_template", T_STRING, voc["chat_template"])
    return ft


def q8_0_check(x, d16, qs):
    """x: source float32 [..., n] in GGUF row order; d16/qs: block scales and quants.
    Returns (max |err|, max allowed, problems[str])."""
    blocks = x.reshape(-1, 32).astype(np.float64)
    d16 = d16.astype(np.float64)
    amax = np.abs(blocks).max(axis=1)
    d_exact = amax / 127.0
    d_ref = (np.float32(amax.astype(np.float32)) / np.float32(127)).astype(np.float16).astype(np.float64)
    # stored scale must be the fp16 rounding of amax/127 (allow one fp16 ulp for the float32 division)
    ulp = np.spacing(np.abs(d_ref).astype(np.float16)).astype(np.float64)
    probs = []
    bad_d = np.abs(d16 - d_ref) > ulp
    if bad_d.any():
        k = int(np.argmax(bad_d))
        probs.append(f"{int(bad_d.sum())} block scale(s) differ from fp16(amax/127), first block {k}: "
                     f"{d16[k]!r} vs {d_ref[k]!r}")
    deq = d16[:, None] * qs.reshape(-1, 32).astype(np.float64)
    err = np.abs(deq - blocks)
    bound = d_exact / 2 + 127 * np.abs(d16 - d_exact) + 1e-6 * d_exact
    over = err > bound[:, None]
    if over.any():
        k = int(np.argmax(over.any(axis=1)))
        probs.append(f"{int(over.sum())} value(s) outside the Q8_0 bound, first in block {k}: "
                     f"|err| {err[k].max():.3g} > {bound[k]:.3g}")
    return float(err.max()) if err.size else 0.0, float(bound.max()) if bound.size else 0.0, probs


def rope_semantics(g, rep, hp):
    """ggml NORM RoPE (adjacent pairs, freq_i = theta^(-2i/d) / rope_freqs[i]) on the GGUF weights must give the
    same q.k attention scores as HF rotate-half RoPE (llama3 inv_freq) on the HF-layout weights."""
    NH, NKV, HD, E = hp["NH"], hp["NKV"], hp["HD"], hp["E"]
    wq = g.tensor("blk.0.attn_q.weight").astype(np.float64)
    wk = g.tensor("blk.0.attn_k.weight").astype(np.float64)
    ff = g.tensor("rope_freqs.weight").astype(np.float64) if "rope_freqs.weight" in g.tensors else np.ones(HD // 2)
    _, inv_hf = hf_llama3_inv_freq(hp)
    base_freq = hp["theta"] ** (-np.arange(0, HD, 2, dtype=np.float64) / HD)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, E))
    wq_hf, wk_hf = unpermute_rows(wq, NH), unpermute_rows(wk, NKV)

    def rope_ggml(v, p):   # v [heads, HD]
        th = p * base_freq / ff
        c, s = np.cos(th), np.sin(th)
        x0, x1 = v[:, 0::2], v[:, 1::2]
        out = np.empty_like(v)
        out[:, 0::2] = x0 * c - x1 * s
        out[:, 1::2] = x0 * s + x1 * c
        return out

    def rope_hf(v, p):
        th = p * inv_hf
        c, s = np.concatenate([np.cos(th)] * 2), np.concatenate([np.sin(th)] * 2)
        rot = np.concatenate([-v[:, HD // 2:], v[:, :HD // 2]], axis=1)
        return v * c + rot * s

    worst = 0.0
    grp = NH // NKV
    for pq, pk in ((0, 0), (5, 3), (hp["ctx"] - 1, 17), (9000, 8100)):
        q_g = rope_ggml((wq @ x[0]).reshape(NH, HD), pq)
        k_g = rope_ggml((wk @ x[1]).reshape(NKV, HD), pk)
        q_h = rope_hf((wq_hf @ x[0]).reshape(NH, HD), pq)
        k_h = rope_hf((wk_hf @ x[1]).reshape(NKV, HD), pk)
        for h in range(NH):
            sg, sh = q_g[h] @ k_g[h // grp], q_h[h] @ k_h[h // grp]
            scale = np.linalg.norm(q_h[h]) * np.linalg.norm(k_h[h // grp]) + 1e-30
            worst = max(worst, abs(sg - sh) / scale)
    if worst > 1e-3:
        rep.err(f"RoPE test: adjacent-pair RoPE with rope_freqs on GGUF attn_q/attn_k differs from HF rotate-half "
                f"RoPE on the un-permuted weights (relative score error {worst:.3g})")
    return worst


def check_file(path, hp, tmap, voc, src, sd):
    rep = Report(path)
    try:
        g = GGUFFile(path)
    except (GGUFError, OSError) as e:
        rep.err(f"cannot read: {e}")
        return rep
    ft = check_metadata(g, rep, hp, voc)
    want2d = {1: GGML_F16, 7: GGML_Q8_0}.get(ft)
    names = set(g.tensors)
    for n in sorted(set(tmap) - names):
        rep.err(f"tensor {n} missing")
    for n in sorted(names - set(tmap)):
        rep.err(f"unexpected tensor {n}")
    _, inv_hf = hf_llama3_inv_freq(hp)
    base = 1.0 / hp["theta"] ** (np.arange(0, hp["HD"], 2, dtype=np.float64) / hp["HD"])
    for gname in [n for n in g.tensors if n in tmap]:   # file order
        hname, shape, perm = tmap[gname]
        ti = g.tensors[gname]
        tname = GGML_TYPE_NAMES.get(ti.ggml_type, str(ti.ggml_type))
        row = {"name": gname, "type": tname, "ne": list(ti.ne), "err": float("nan"), "allowed": "", "sd": None,
               "ok": True}
        rep.rows.append(row)
        nerr = len(rep.errors)
        exp_ne = tuple(reversed(shape))
        if ti.ne != exp_ne:
            rep.err(f"tensor {gname}: ne {list(ti.ne)}, expected {list(exp_ne)}")
            row["ok"] = False
            continue
        if len(shape) == 1:
            exp_type = GGML_F32
        elif want2d == GGML_Q8_0 and shape[-1] % 32:
            exp_type = GGML_F16   # llama.cpp's fallback for rows that Q8_0 cannot block
        else:
            exp_type = want2d
        if ti.ggml_type != exp_type:
            rep.err(f"tensor {gname}: type {tname}, expected {GGML_TYPE_NAMES.get(exp_type, exp_type)}")
            row["ok"] = False
            continue
        got = g.tensor(gname)
        if hname is None:   # rope_freqs
            expect = base / inv_hf
            rel = np.abs(got.astype(np.float64) - expect) / expect
            row["err"] = float(np.abs(got - expect).max())
            row["allowed"] = "rel 1e-6"
            if rel.max() > 1e-6:
                k = int(np.argmax(rel))
                rep.err(f"rope_freqs.weight[{k}] = {got[k]!r}, HF llama3 scaling implies {expect[k]!r}")
        else:
            if hname not in src:
                rep.err(f"tensor {gname}: source {hname} not in the safetensors")
                row["ok"] = False
                continue
            x = src[hname][1]
            if perm is not None:
                got = unpermute_rows(got, perm)
            if ti.ggml_type == GGML_F32:
                row["err"] = float(np.abs(got - x).max())
                row["allowed"] = "exact"
                if not np.array_equal(got, x):
                    rep.err(f"tensor {gname}: F32 values differ from {hname} (max |err| {row['err']:.3g})")
            elif ti.ggml_type == GGML_F16:
                ref = x.astype(np.float16).astype(np.float32)
                row["err"] = float(np.abs(got - x).max())
                row["allowed"] = "fp16 rnd"
                if not np.array_equal(got, ref) and perm is not None and \
                        np.array_equal(g.tensor(gname), ref):
                    rep.err(f"tensor {gname}: matches the source WITHOUT undoing the q/k permutation: "
                            "the exporter did not permute it (HF rotate-half layout left in the file)")
                elif not np.array_equal(got, ref):
                    bad = np.argwhere(got != ref)[0]
                    rep.err(f"tensor {gname}: F16 value at {tuple(bad.tolist())} is {got[tuple(bad)]!r}, "
                            f"fp16({hname}) = {ref[tuple(bad)]!r} ({int((got != ref).sum())} differ)")
            else:
                d16, qs = g.q8_0_blocks(gname)
                cols = shape[-1]
                d16 = d16.reshape(shape[0], cols // 32)
                qs = qs.reshape(shape[0], cols // 32, 32)
                if perm is not None:
                    d16, qs = unpermute_rows(d16, perm), unpermute_rows(qs, perm)
                e, b, probs = q8_0_check(x, d16.reshape(-1), qs.reshape(-1, 32))
                row["err"], row["allowed"] = e, f"{b:.3g}"
                for p in probs:
                    rep.err(f"tensor {gname}: {p}")
                if probs and perm is not None:
                    d_raw, q_raw = g.q8_0_blocks(gname)
                    if not q8_0_check(x, d_raw, q_raw)[2]:
                        rep.err(f"tensor {gname}: matches the source WITHOUT undoing the q/k permutation: "
                                "the exporter did not permute it (HF rotate-half layout left in the file)")
            if sd is not None and hname in sd:
                row["sd"] = float(np.abs(got - sd[hname]).max())
        if len(rep.errors) > nerr:
            row["ok"] = False
    if {"blk.0.attn_q.weight", "blk.0.attn_k.weight"} <= names and not any(
            not r["ok"] for r in rep.rows if r["name"] in ("blk.0.attn_q.weight", "blk.0.attn_k.weight",
                                                            "rope_freqs.weight")):
        rep.rope_err = rope_semantics(g, rep, hp)
    g.close()
    return rep


def forward_logits(get, hp, ids, rope):
    """Plain float64 Llama forward over token ids at positions 0..T-1; get(hf_or_gguf_name) -> weights.
    rope(v [T, heads, HD], positions) applies the position encoding of the weights' layout."""
    E, NH, NKV, HD, eps = hp["E"], hp["NH"], hp["NKV"], hp["HD"], hp["eps"]
    T = len(ids)

    def rms(x, w):
        return x / np.sqrt((x * x).mean(axis=-1, keepdims=True) + eps) * w
    pos = np.arange(T)
    h = get("embed")[ids]
    mask = np.triu(np.full((T, T), -np.inf), 1)
    for i in range(hp["L"]):
        x = rms(h, get("attn_norm", i))
        q = rope((x @ get("q", i).T).reshape(T, NH, HD), pos)
        k = rope((x @ get("k", i).T).reshape(T, NKV, HD), pos)
        v = (x @ get("v", i).T).reshape(T, NKV, HD)
        out = np.empty((T, NH, HD))
        for hd in range(NH):
            kv = hd // (NH // NKV)          # query head h uses KV head h // (n_head / n_head_kv)
            sc = q[:, hd] @ k[:, kv].T / math.sqrt(HD) + mask
            sc = np.exp(sc - sc.max(axis=1, keepdims=True))
            out[:, hd] = (sc / sc.sum(axis=1, keepdims=True)) @ v[:, kv]
        h = h + out.reshape(T, NH * HD) @ get("o", i).T
        x = rms(h, get("ffn_norm", i))
        g = x @ get("gate", i).T
        h = h + ((g / (1 + np.exp(-g))) * (x @ get("up", i).T)) @ get("down", i).T
    return rms(h, get("norm")) @ get("lm_head").T


def forward_compare(path, hp, src, n_tokens=16):
    """Logits of the GGUF weights run with ggml conventions (adjacent-pair RoPE, rope_freqs) against the HF
    safetensors run with HF conventions (rotate-half RoPE, llama3 inv_freq)."""
    g = GGUFFile(path)
    HD = hp["HD"]
    _, inv_hf = hf_llama3_inv_freq(hp)
    ff = g.tensor("rope_freqs.weight").astype(np.float64) if "rope_freqs.weight" in g.tensors else np.ones(HD // 2)
    base = hp["theta"] ** (-np.arange(0, HD, 2, dtype=np.float64) / HD)
    hf_names = {"attn_norm": "input_layernorm", "ffn_norm": "post_attention_layernorm", "q": "self_attn.q_proj",
                "k": "self_attn.k_proj", "v": "self_attn.v_proj", "o": "self_attn.o_proj", "gate": "mlp.gate_proj",
                "up": "mlp.up_proj", "down": "mlp.down_proj"}
    gg_names = {"attn_norm": "attn_norm", "ffn_norm": "ffn_norm", "q": "attn_q", "k": "attn_k", "v": "attn_v",
                "o": "attn_output", "gate": "ffn_gate", "up": "ffn_up", "down": "ffn_down"}

    def get_hf(what, i=None):
        if what == "embed" or (what == "lm_head" and hp["tied"]):
            return src["model.embed_tokens.weight"][1].astype(np.float64)
        if what == "lm_head":
            return src["lm_head.weight"][1].astype(np.float64)
        if what == "norm":
            return src["model.norm.weight"][1].astype(np.float64)
        return src[f"model.layers.{i}.{hf_names[what]}.weight"][1].astype(np.float64)

    def get_gg(what, i=None):
        if what == "embed" or (what == "lm_head" and hp["tied"]):
            return g.tensor("token_embd.weight").astype(np.float64)
        if what == "lm_head":
            return g.tensor("output.weight").astype(np.float64)
        if what == "norm":
            return g.tensor("output_norm.weight").astype(np.float64)
        return g.tensor(f"blk.{i}.{gg_names[what]}.weight").astype(np.float64)

    def rope_hf(v, pos):
        th = pos[:, None] * inv_hf[None, :]
        c = np.concatenate([np.cos(th)] * 2, axis=1)[:, None, :]
        s = np.concatenate([np.sin(th)] * 2, axis=1)[:, None, :]
        return v * c + np.concatenate([-v[..., HD // 2:], v[..., :HD // 2]], axis=-1) * s

    def rope_gg(v, pos):
        th = (pos[:, None] * (base / ff)[None, :])[:, None, :]
        c, s = np.cos(th), np.sin(th)
        out = np.empty_like(v)
        out[..., 0::2] = v[..., 0::2] * c - v[..., 1::2] * s
        out[..., 1::2] = v[..., 0::2] * s + v[..., 1::2] * c
        return out

    rng = np.random.default_rng(1)
    bos = g.metadata.get("tokenizer.ggml.bos_token_id", 0)
    ids = np.concatenate([[bos], rng.integers(0, hp["V"], n_tokens - 1)]).astype(np.int64)
    lh = forward_logits(get_hf, hp, ids, rope_hf)
    lg = forward_logits(get_gg, hp, ids, rope_gg)
    g.close()
    return ids, lh, lg


def g_file_type(path):
    g = GGUFFile(path)
    ft = g.metadata.get("general.file_type")
    g.close()
    return ft


def check_state_dict(sd, src, hp, tmap, label):
    errors, worst = [], {}
    for gname, (hname, shape, _p) in tmap.items():
        if hname is None:
            continue
        if hname not in sd:
            errors.append(f"{label}: tensor {hname} missing")
            continue
        v = sd[hname]
        if tuple(v.shape) != tuple(shape):
            errors.append(f"{label}: {hname} has shape {list(v.shape)}, expected {list(shape)}")
            continue
        if hname not in src:
            continue
        dt, x = src[hname]
        rel = {"F32": 0.0, "BF16": 2.0 ** -8, "F16": 2.0 ** -11}[dt]
        diff = np.abs(x.astype(np.float64) - v)
        ok = diff <= rel * np.abs(v) + (1e-38 if dt == "BF16" else 2.0 ** -25 if dt == "F16" else 0.0)
        worst[hname] = float(diff.max())
        if not ok.all():
            errors.append(f"{label}: {hname}: safetensors ({dt}) is not {label} rounded to {dt} "
                          f"(max |diff| {diff.max():.3g}, {int((~ok).sum())} values)")
    if hp["tied"] and "lm_head.weight" in sd and "model.embed_tokens.weight" in sd:
        if not np.array_equal(sd["lm_head.weight"], sd["model.embed_tokens.weight"]):
            errors.append(f"{label}: tie_word_embeddings is true but lm_head.weight != model.embed_tokens.weight")
    return errors, worst


def main(argv=None):
    ap = argparse.ArgumentParser(description="Check GGUF files against their Hugging Face source directory.")
    ap.add_argument("hf_dir", metavar="HF_DIR")
    ap.add_argument("gguf", metavar="FILE.gguf", nargs="+")
    ap.add_argument("--state-dict", help="torch state dict (HF names, float32) that the HF directory was saved from")
    ap.add_argument("--failures-only", action="store_true", help="print only failing rows of the table")
    ap.add_argument("--forward", action="store_true",
                    help="also run a 16-token float64 forward pass: GGUF weights with ggml conventions vs the "
                         "safetensors with HF conventions (F16 files must agree to 1e-3 of the logit range)")
    args = ap.parse_args(argv)
    try:
        if not os.path.isdir(args.hf_dir):
            raise InputProblem(f"{args.hf_dir}: not a directory")
        hp, tmap, voc = hf_expectations(args.hf_dir)
        src = read_safetensors(args.hf_dir)
        sd = read_state_dict(args.state_dict) if args.state_dict else None
        for p in args.gguf:
            if not os.path.isfile(p):
                raise InputProblem(f"{p}: file not found")
    except InputProblem as e:
        print(f"error: {e}", file=sys.stderr)
        return 2

    all_errors = []
    if sd is not None:
        errs, _ = check_state_dict(sd, src, hp, tmap, args.state_dict)
        all_errors += errs
        print(f"state dict {args.state_dict}: {len(sd)} tensors, "
              f"{'matches' if not errs else 'DOES NOT match'} the safetensors after rounding")
    for path in args.gguf:
        rep = check_file(path, hp, tmap, voc, src, sd)
        print(f"\n{path}")
        hdr = f"  {'tensor':28s} {'type':5s} {'ne':13s} {'max|err| vs HF':>14s} {'allowed':>9s}"
        if sd is not None:
            hdr += f" {'vs state dict':>13s}"
        print(hdr + "  status")
        for r in rep.rows:
            if args.failures_only and r["ok"]:
                continue
            line = f"  {r['name']:28s} {r['type']:5s} {'x'.join(map(str, r['ne'])):13s} {r['err']:14.4g} {r['allowed']:>9s}"
            if sd is not None:
                line += f" {r['sd']:13.4g}" if r["sd"] is not None else f" {'-':>13s}"
            print(line + ("  ok" if r["ok"] else "  FAIL"))
        if hasattr(rep, "rope_err"):
            print(f"  RoPE test (GGUF adjacent-pair + rope_freqs vs HF rotate-half): max relative score error "
                  f"{rep.rope_err:.2e}")
        if args.forward and not rep.errors:
            ids, lh, lg = forward_compare(path, hp, src)
            diff = float(np.abs(lh - lg).max())
            scale = float(np.abs(lh).max())
            same_top = int((lh.argmax(axis=1) == lg.argmax(axis=1)).sum())
            print(f"  forward, ids {ids.tolist()}:")
            print(f"    max |logit diff| {diff:.3g} (max |logit| {scale:.3g}); argmax agrees at {same_top}/{len(ids)} "
                  f"positions; last-position top-5 (GGUF) {np.argsort(-lg[-1])[:5].tolist()} "
                  f"logits {np.round(np.sort(lg[-1])[::-1][:5], 5).tolist()}")
            if g_file_type(path) == 1 and diff > 1e-3 * scale:
                rep.err(f"forward pass: F16 GGUF logits differ from the HF model by {diff:.3g} "
                        f"(> 1e-3 x max |logit| {scale:.3g})")
        print(f"  {'OK' if not rep.errors else f'{len(rep.errors)} problem(s)'}: "
              f"{len(rep.rows)} tensors, {len(voc['tokens'])} tokens, {len(voc['merges'])} merges checked")
        all_errors += rep.errors
    if all_errors:
        print(f"\nFAILED: {len(all_errors)} mismatch(es)", file=sys.stderr)
        for e in all_errors[:200]:
            print(f"  {e}", file=sys.stderr)
        if len(all_errors) > 200:
            print(f"  ... and {len(all_errors) - 200} more", file=sys.stderr)
        return 1
    print("\nall checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
