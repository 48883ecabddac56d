#!/usr/bin/python3
"""Reference PyTorch forward pass of Meta Llama 3 / 3.1, written from the architecture.

Loads a Hugging Face model directory (``config.json`` + ``model.safetensors`` or sharded
``model.safetensors.index.json``; F32/F16/BF16 weights, all converted to float32) and
computes everything in float32 on the CPU:

* token embedding lookup;
* per decoder layer: ``h = x + o_proj(attn(rope(q), rope(k), v))`` on ``rmsnorm(x)``,
  then ``out = h + down(silu(gate(rmsnorm(h))) * up(rmsnorm(h)))``;
* final RMSNorm and ``lm_head`` (the embedding matrix when ``lm_head.weight`` is absent).

Numerical conventions (what another implementation has to reproduce):

* RMSNorm: ``y = w * (x * (1 / sqrt(mean(x^2) + eps)))`` in float32, mean over hidden.
* RoPE, Hugging Face "rotate-half" layout: for head dim ``d`` and ``i < d/2`` the pair
  ``(x[i], x[i + d/2])`` is rotated by angle ``pos * inv_freq[i]``:
  ``x'[i] = x[i] cos - x[i+d/2] sin``, ``x'[i+d/2] = x[i+d/2] cos + x[i] sin``.
  ``inv_freq[i] = theta^(-2i/d)`` adjusted by the llama3 ``rope_scaling`` rule; the
  frequencies, angles, cos and sin are computed in float64 and the cos/sin tables are
  then rounded to float32 (positions are 0-based, per sequence).
* Attention: scores ``q.k / sqrt(head_dim)`` in float32, causal mask plus key-padding
  mask (masked scores -> -inf), softmax in float32.  Query head ``h`` uses KV head
  ``h // (num_attention_heads / num_key_value_heads)``.
* SiLU: ``x * sigmoid(x)``.

Run as a script for a quick demo::

    /usr/bin/python3 tools/reference/llama3_reference.py HF_DIR "Once upon a time" --new 20
"""

import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.dont_write_bytecode = True  # keep __pycache__ out of the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_io  # noqa: E402


# --------------------------------------------------------------------------- config

class LlamaConfig:
    def __init__(self, d):
        self.raw = dict(d)
        self.vocab_size = int(d["vocab_size"])
        self.hidden_size = int(d["hidden_size"])
        self.intermediate_size = int(d["intermediate_size"])
        self.num_hidden_layers = int(d["num_hidden_layers"])
        self.num_attention_heads = int(d["num_attention_heads"])
        self.num_key_value_heads = int(d.get("num_key_value_heads") or self.num_attention_heads)
        hd = d.get("head_dim")
        self.head_dim = int(hd) if hd else self.hidden_size // self.num_attention_heads
        self.rms_norm_eps = float(d.get("rms_norm_eps", 1e-5))
        self.rope_theta = float(d.get("rope_theta", 10000.0))
        self.rope_scaling = d.get("rope_scaling")
        self.max_position_embeddings = int(d.get("max_position_embeddings", 8192))
        self.tie_word_embeddings = bool(d.get("tie_word_embeddings", False))
        self.bos_token_id = d.get("bos_token_id")
        eos = d.get("eos_token_id")
        self.eos_token_ids = [] if eos is None else ([eos] if isinstance(eos, int) else list(eos))
        act = d.get("hidden_act", "silu")
        if act != "silu":
            raise ValueError("hidden_act %r not supported" % act)
        if self.num_attention_heads % self.num_key_value_heads != 0:
            raise ValueError("num_attention_heads must be a multiple of num_key_value_heads")

    @staticmethod
    def from_dir(path):
        with open(os.path.join(path, "config.json"), "r", encoding="utf-8") as f:
            return LlamaConfig(json.load(f))


def rope_inv_freq(cfg):
    """float64 numpy array of head_dim/2 inverse frequencies (llama3 scaling applied)."""
    d = cfg.head_dim
    inv = 1.0 / (cfg.rope_theta ** (np.arange(0, d, 2, dtype=np.float64) / d))
    rs = cfg.rope_scaling
    if not rs:
        return inv
    rtype = rs.get("rope_type", rs.get("type"))
    if rtype in (None, "default"):
        return inv
    if rtype == "linear":
        return inv / float(rs["factor"])
    if rtype != "llama3":
        raise ValueError("rope_scaling type %r not supported" % rtype)
    factor = float(rs["factor"])
    low = float(rs["low_freq_factor"])
    high = float(rs["high_freq_factor"])
    old_ctx = float(rs["original_max_position_embeddings"])
    low_freq_wavelen = old_ctx / low
    high_freq_wavelen = old_ctx / high
    out = np.empty_like(inv)
    for i, f in enumerate(inv):
        wavelen = 2.0 * math.pi / f
        if wavelen < high_freq_wavelen:          # high frequency: unchanged
            out[i] = f
        elif wavelen > low_freq_wavelen:         # low frequency: divided by factor
            out[i] = f / factor
        else:                                    # in between: smooth interpolation
            smooth = (old_ctx / wavelen - low) / (high - low)
            out[i] = (1.0 - smooth) * f / factor + smooth * f
    return out


def rope_tables(cfg, n_positions):
    """(cos, sin) float32 tensors of shape [n_positions, head_dim] (halves duplicated)."""
    inv = rope_inv_freq(cfg)
    pos = np.arange(n_positions, dtype=np.float64)
    ang = np.outer(pos, inv)
    ang = np.concatenate([ang, ang], axis=1)
    return (torch.from_numpy(np.cos(ang).astype(np.float32)),
            torch.from_numpy(np.sin(ang).astype(np.float32)))


# --------------------------------------------------------------------------- weights

def load_state_dict(path):
    """{name: float32 numpy array} from model.safetensors or a sharded index."""
    single = os.path.join(path, "model.safetensors")
    index = os.path.join(path, "model.safetensors.index.json")
    if os.path.exists(single):
        return safetensors_io.load(single)
    if os.path.exists(index):
        with open(index, "r", encoding="utf-8") as f:
            weight_map = json.load(f)["weight_map"]
        out = {}
        for shard in sorted(set(weight_map.values())):
            names = {n for n, s in weight_map.items() if s == shard}
            out.update(safetensors_io.load(os.path.join(path, shard), names=names))
        missing = set(weight_map) - set(out)
        if missing:
            raise ValueError("tensors missing from shards: %s" % sorted(missing)[:5])
        return out
    raise FileNotFoundError("no model.safetensors or model.safetensors.index.json in " + path)


def _rmsnorm(x, w, eps):
    var = x.pow(2).mean(dim=-1, keepdim=True)
    return w * (x * torch.rsqrt(var + eps))


def _rotate(x, cos, sin):
    # x: [B, heads, T, d]; cos/sin: [T, d]
    half = x.shape[-1] // 2
    x1 = x[..., :half]
    x2 = x[..., half:]
    rot = torch.cat((-x2, x1), dim=-1)
    return x * cos + rot * sin


class Llama3:
    """Float32 CPU reference model."""

    def __init__(self, cfg, state):
        self.cfg = cfg
        t = lambda name: torch.from_numpy(np.ascontiguousarray(state[name], dtype=np.float32))
        opt = lambda name: t(name) if name in state else None
        self.embed = t("model.embed_tokens.weight")
        if self.embed.shape != (cfg.vocab_size, cfg.hidden_size):
            raise ValueError("embed_tokens shape %s" % (tuple(self.embed.shape),))
        self.lm_head = opt("lm_head.weight")
        self.tied = self.lm_head is None
        if self.tied:
            self.lm_head = self.embed
        self.final_norm = t("model.norm.weight")
        self.layers = []
        for i in range(cfg.num_hidden_layers):
            p = "model.layers.%d." % i
            layer = {
                "in_norm": t(p + "input_layernorm.weight"),
                "post_norm": t(p + "post_attention_layernorm.weight"),
                "q": t(p + "self_attn.q_proj.weight"), "k": t(p + "self_attn.k_proj.weight"),
                "v": t(p + "self_attn.v_proj.weight"), "o": t(p + "self_attn.o_proj.weight"),
                "q_b": opt(p + "self_attn.q_proj.bias"), "k_b": opt(p + "self_attn.k_proj.bias"),
                "v_b": opt(p + "self_attn.v_proj.bias"), "o_b": opt(p + "self_attn.o_proj.bias"),
                "gate": t(p + "mlp.gate_proj.weight"), "up": t(p + "mlp.up_proj.weight"),
                "down": t(p + "mlp.down_proj.weight"),
                "gate_b": opt(p + "mlp.gate_proj.bias"), "up_b": opt(p + "mlp.up_proj.bias"),
                "down_b": opt(p + "mlp.down_proj.bias"),
            }
            hq = cfg.num_attention_heads * cfg.head_dim
            hkv = cfg.num_key_value_heads * cfg.head_dim
            if layer["q"].shape != (hq, cfg.hidden_size) or layer["k"].shape != (hkv, cfg.hidden_size):
                raise ValueError("layer %d attention shapes do not match config" % i)
            self.layers.append(layer)
        self._cos, self._sin = rope_tables(cfg, max(cfg.max_position_embeddings, 1))

    @staticmethod
    def from_dir(path):
        cfg = LlamaConfig.from_dir(path)
        return Llama3(cfg, load_state_dict(path))

    def _rope(self, n):
        if n > self._cos.shape[0]:
            self._cos, self._sin = rope_tables(self.cfg, n)
        return self._cos, self._sin

    # ------------------------------------------------------------------ core

    def _layer(self, i, x, cos, sin, key_mask, cache, past_len):
        """x: [B, T, H]; cos/sin: [T, d] for positions past_len..past_len+T-1;
        key_mask: [B, S] bool (True = real key) over all S = past_len + T keys."""
        cfg = self.cfg
        L = self.layers[i]
        B, T, _ = x.shape
        nh, nkv, d = cfg.num_attention_heads, cfg.num_key_value_heads, cfg.head_dim
        h = _rmsnorm(x, L["in_norm"], cfg.rms_norm_eps)
        q = F.linear(h, L["q"], L["q_b"]).view(B, T, nh, d).transpose(1, 2)
        k = F.linear(h, L["k"], L["k_b"]).view(B, T, nkv, d).transpose(1, 2)
        v = F.linear(h, L["v"], L["v_b"]).view(B, T, nkv, d).transpose(1, 2)
        q = _rotate(q, cos, sin)
        k = _rotate(k, cos, sin)
        if cache is not None:
            if past_len > 0:
                k = torch.cat([cache[i][0], k], dim=2)
                v = torch.cat([cache[i][1], v], dim=2)
            cache[i] = (k, v)
        S = k.shape[2]
        rep = nh // nkv
        if rep > 1:
            k = k.repeat_interleave(rep, dim=1)
            v = v.repeat_interleave(rep, dim=1)
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(d)  # [B, nh, T, S]
        qpos = torch.arange(past_len, past_len + T).view(T, 1)
        kpos = torch.arange(S).view(1, S)
        allowed = (kpos <= qpos).view(1, 1, T, S) & key_mask.view(B, 1, 1, S)
        scores = scores.masked_fill(~allowed, float("-inf"))
        probs = torch.softmax(scores, dim=-1)
        attn = torch.matmul(probs, v).transpose(1, 2).reshape(B, T, nh * d)
        x = x + F.linear(attn, L["o"], L["o_b"])
        h = _rmsnorm(x, L["post_norm"], cfg.rms_norm_eps)
        mlp = F.silu(F.linear(h, L["gate"], L["gate_b"])) * F.linear(h, L["up"], L["up_b"])
        return x + F.linear(mlp, L["down"], L["down_b"])

    @torch.no_grad()
    def forward_padded(self, ids, lengths=None, want_logits=True, want_hidden=True,
                       cache=None, past_len=0):
        """ids: int64 tensor [B, T] (right padded); lengths: real length per row.

        Returns dict with ``logits`` [B, T, V], ``hidden`` [L+1, B, T, H] (after embedding
        and after each decoder layer, before the final norm) and ``normed`` [B, T, H]
        (final-norm output).  Rows/positions at or past a row's length are set to zero.
        """
        ids = torch.as_tensor(ids, dtype=torch.int64)
        B, T = ids.shape
        if lengths is None:
            lengths = [T] * B
        lengths = torch.as_tensor(lengths, dtype=torch.int64)
        valid = torch.arange(T).view(1, T) < lengths.view(B, 1)  # [B, T]
        if past_len > 0:
            key_mask = torch.cat([torch.ones(B, past_len, dtype=torch.bool), valid], dim=1)
        else:
            key_mask = valid
        cos, sin = self._rope(past_len + T)
        cos, sin = cos[past_len:past_len + T], sin[past_len:past_len + T]
        real = ids[valid]
        if real.numel() and (int(real.min()) < 0 or int(real.max()) >= self.cfg.vocab_size):
            raise ValueError("token id out of range [0, %d)" % self.cfg.vocab_size)
        x = F.embedding(ids.clamp(0, self.cfg.vocab_size - 1), self.embed)  # pads: any id
        vmask = valid.unsqueeze(-1).to(torch.float32)
        hidden = [x * vmask] if want_hidden else None
        for i in range(self.cfg.num_hidden_layers):
            x = self._layer(i, x, cos, sin, key_mask, cache, past_len)
            if want_hidden:
                hidden.append(x * vmask)
        out = {}
        if want_hidden:
            out["hidden"] = torch.stack(hidden, dim=0)
        normed = _rmsnorm(x, self.final_norm, self.cfg.rms_norm_eps)
        out["normed"] = normed * vmask
        if want_logits:
            out["logits"] = F.linear(normed, self.lm_head) * vmask
        return out

    def forward_batch(self, sequences, want_logits=True, want_hidden=True):
        """sequences: list of lists of ids (any lengths).  Returns a list of dicts per
        sequence with ``logits`` [n, V], ``hidden`` [L+1, n, H], ``normed`` [n, H]."""
        lengths = [len(s) for s in sequences]
        if min(lengths) < 1:
            raise ValueError("empty sequence")
        T = max(lengths)
        ids = torch.zeros(len(sequences), T, dtype=torch.int64)
        for b, s in enumerate(sequences):
            ids[b, :len(s)] = torch.as_tensor(s, dtype=torch.int64)
        res = self.forward_padded(ids, lengths, want_logits, want_hidden)
        out = []
        for b, n in enumerate(lengths):
            r = {"normed": res["normed"][b, :n]}
            if want_logits:
                r["logits"] = res["logits"][b, :n]
            if want_hidden:
                r["hidden"] = res["hidden"][:, b, :n]
            out.append(r)
        return out

    def forward(self, ids):
        """Single sequence: returns dict of [n, V] logits, [L+1, n, H] hidden, [n, H] normed."""
        return self.forward_batch([list(ids)])[0]

    @torch.no_grad()
    def generate(self, ids, max_new_tokens, use_cache=True, stop_ids=()):
        """Greedy decoding (argmax, lowest id wins ties).  Returns the new ids only.
        Stops early only if a generated id is in ``stop_ids``."""
        ids = [int(i) for i in ids]
        new = []
        if not use_cache:
            for _ in range(max_new_tokens):
                logits = self.forward_padded(torch.tensor([ids + new]), want_hidden=False)["logits"]
                nxt = int(torch.argmax(logits[0, -1]))
                new.append(nxt)
                if nxt in stop_ids:
                    break
            return new
        cache = [None] * self.cfg.num_hidden_layers
        logits = self.forward_padded(torch.tensor([ids]), want_hidden=False, cache=cache)["logits"]
        past = len(ids)
        for step in range(max_new_tokens):
            nxt = int(torch.argmax(logits[0, -1]))
            new.append(nxt)
            if nxt in stop_ids or step == max_new_tokens - 1:
                break
            logits = self.forward_padded(torch.tensor([[nxt]]), want_hidden=False,
                                         cache=cache, past_len=past)["logits"]
            past += 1
        return new


def main(argv):
    import argparse
    from hf_tokenizer import HFTokenizer
    ap = argparse.ArgumentParser(description="Llama 3 reference forward / greedy generation")
    ap.add_argument("hf_dir")
    ap.add_argument("prompt")
    ap.add_argument("--new", type=int, default=20, help="tokens to generate")
    ap.add_argument("--no-bos", action="store_true")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    model = Llama3.from_dir(args.hf_dir)
    tok = HFTokenizer(os.path.join(args.hf_dir, "tokenizer.json"))
    ids = tok.encode(args.prompt, add_bos=not args.no_bos)
    new = model.generate(ids, args.new)
    print("prompt ids:", ids)
    print("new ids:   ", new)
    print("text:", repr(tok.decode(ids + new)))


if __name__ == "__main__":
    main(sys.argv[1:])
