#!/usr/bin/python3
"""Self-consistency checks of llama3_reference.py on an HF directory.

    /usr/bin/python3 tools/reference/selfcheck.py HF_DIR [--threads 1]

Checks (prints one line each, exits non-zero on failure):
  1. weights are float32 after loading (BF16/F16 converted), outputs are float32;
  2. the torch forward equals an independent float64 numpy forward (loops over heads,
     rope as complex rotation of (x[i], x[i+d/2]) pairs, explicit GQA mapping);
  3. batched forward of sequences of different lengths == one-at-a-time;
  4. extra right padding (with garbage ids) does not change any real position;
  5. KV-cache greedy generation == full-recompute greedy generation, and the cached
     logits equal the recomputed logits.
  (3-5 compare with max|a-b| / max(1, max|b|) <= 1e-5: BLAS results depend on the
  matrix shape in the last bits, so exact equality is not expected);
  6. llama3 rope scaling equals the vectorised torch.where formulation (HF style).
"""

import argparse
import math
import os
import sys

import numpy as np
import torch

sys.dont_write_bytecode = True  # keep __pycache__ out of the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from llama3_reference import Llama3, rope_inv_freq  # noqa: E402


def numpy_forward(model, ids):
    """Independent float64 forward for one sequence. Returns (logits [n,V], hidden [L+1,n,H])."""
    cfg = model.cfg
    g = lambda t: t.numpy().astype(np.float64)
    E = g(model.embed)
    x = E[np.asarray(ids)]
    n = len(ids)
    d = cfg.head_dim
    half = d // 2
    inv = rope_inv_freq(cfg)
    rot = np.exp(1j * np.outer(np.arange(n), inv))  # [n, d/2]

    def rope(v):  # v: [n, d]
        c = (v[:, :half] + 1j * v[:, half:]) * rot
        return np.concatenate([c.real, c.imag], axis=1)

    def norm(v, w):
        return w * v / np.sqrt((v * v).mean(-1, keepdims=True) + cfg.rms_norm_eps)

    hidden = [x.copy()]
    group = cfg.num_attention_heads // cfg.num_key_value_heads
    for L in model.layers:
        h = norm(x, g(L["in_norm"]))
        q = h @ g(L["q"]).T
        k = h @ g(L["k"]).T
        v = h @ g(L["v"]).T
        heads = []
        for hq in range(cfg.num_attention_heads):
            kv = hq // group
            qh = rope(q[:, hq * d:(hq + 1) * d])
            kh = rope(k[:, kv * d:(kv + 1) * d])
            vh = v[:, kv * d:(kv + 1) * d]
            out = np.zeros((n, d))
            for t in range(n):
                s = kh[:t + 1] @ qh[t] / math.sqrt(d)
                p = np.exp(s - s.max())
                p /= p.sum()
                out[t] = p @ vh[:t + 1]
            heads.append(out)
        x = x + np.concatenate(heads, axis=1) @ g(L["o"]).T
        h = norm(x, g(L["post_norm"]))
        a = h @ g(L["gate"]).T
        x = x + ((a / (1 + np.exp(-a))) * (h @ g(L["up"]).T)) @ g(L["down"]).T
        hidden.append(x.copy())
    logits = norm(x, g(model.final_norm)) @ g(model.lm_head).T
    return logits, np.stack(hidden)


def rel(a, b):
    """max |a - b| / max(1, max |b|): float32 results of differently shaped BLAS calls
    differ in the last bits, so differences are measured relative to the magnitude."""
    return float((a - b).abs().max()) / max(1.0, float(b.abs().max()))


def hf_style_llama3_inv_freq(cfg):
    rs = cfg.rope_scaling
    d = cfg.head_dim
    inv = 1.0 / (cfg.rope_theta ** (torch.arange(0, d, 2, dtype=torch.float64) / d))
    factor, low, high = rs["factor"], rs["low_freq_factor"], rs["high_freq_factor"]
    old = rs["original_max_position_embeddings"]
    low_w, high_w = old / low, old / high
    wavelen = 2 * math.pi / inv
    out = torch.where(wavelen > low_w, inv / factor, inv)
    smooth = (old / wavelen - low) / (high - low)
    smoothed = (1 - smooth) * out / factor + smooth * out
    medium = ~(wavelen < high_w) & ~(wavelen > low_w)
    return torch.where(medium, smoothed, out).numpy()


def main(argv):
    ap = argparse.ArgumentParser()
    ap.add_argument("hf_dir")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    model = Llama3.from_dir(args.hf_dir)
    cfg = model.cfg
    V = cfg.vocab_size
    rng = np.random.default_rng(7)
    failures = []
    count = [0]

    def check(name, ok, detail=""):
        count[0] += 1
        print("%-4s %s %s" % ("OK" if ok else "FAIL", name, detail))
        if not ok:
            failures.append(name)

    # 1. dtypes
    dts = {model.embed.dtype, model.lm_head.dtype} | {t.dtype for L in model.layers
                                                        for t in L.values() if t is not None}
    seqs = [list(rng.integers(0, min(V, 3840), size=n)) for n in (1, 4, 17, 30, 9)]
    single = [model.forward(s) for s in seqs]
    check("float32 weights/outputs", dts == {torch.float32}
          and single[0]["logits"].dtype == torch.float32, str(dts))

    # 2. independent numpy float64 forward
    ref_logits, ref_hidden = numpy_forward(model, seqs[3])
    dl = np.abs(single[3]["logits"].numpy() - ref_logits).max()
    dh = np.abs(single[3]["hidden"].numpy() - ref_hidden).max()
    scale = np.abs(ref_logits).max()
    check("torch f32 vs numpy f64", dl < 1e-4 * max(1.0, scale) and dh < 1e-3,
          "max|dlogits|=%.3g (max|logit|=%.3g) max|dhidden|=%.3g" % (dl, scale, dh))

    # 3. batched vs single
    batch = model.forward_batch(seqs)
    worst = 0.0
    for a, b in zip(single, batch):
        for key in ("logits", "hidden", "normed"):
            worst = max(worst, rel(a[key], b[key]))
    check("batched == single", worst <= 1e-5, "max rel diff %.3g" % worst)

    # 4. padding invariance: extra garbage padding columns
    T = max(len(s) for s in seqs) + 7
    ids = torch.from_numpy(rng.integers(0, V, size=(len(seqs), T)))
    for b, s in enumerate(seqs):
        ids[b, :len(s)] = torch.tensor(s)
    res = model.forward_padded(ids, [len(s) for s in seqs])
    worst = 0.0
    for b, s in enumerate(seqs):
        n = len(s)
        worst = max(worst, rel(res["logits"][b, :n], single[b]["logits"]),
                    rel(res["hidden"][:, b, :n], single[b]["hidden"]))
    pad_zero = float(res["logits"][0, len(seqs[0]):].abs().max())
    check("padding invariance", worst <= 1e-5 and pad_zero == 0.0,
          "max rel diff %.3g, padded logits zeroed" % worst)

    # 5. KV cache vs recompute
    prompt = seqs[2]
    g1 = model.generate(prompt, 12, use_cache=True)
    g2 = model.generate(prompt, 12, use_cache=False)
    full = model.forward(prompt + g1)["logits"]
    cache = [None] * cfg.num_hidden_layers
    step_logits = [model.forward_padded(torch.tensor([prompt]), want_hidden=False,
                                        cache=cache)["logits"][0]]
    past = len(prompt)
    for t in g1[:-1]:
        step_logits.append(model.forward_padded(torch.tensor([[t]]), want_hidden=False,
                                                cache=cache, past_len=past)["logits"][0])
        past += 1
    cached = torch.cat(step_logits, dim=0)
    dc = rel(cached, full[:-1])
    check("kv-cache generation == recompute", g1 == g2 and dc <= 1e-5,
          "ids %s, max rel logit diff %.3g" % (g1, dc))

    # 6. rope scaling
    if cfg.rope_scaling and cfg.rope_scaling.get("rope_type", cfg.rope_scaling.get("type")) == "llama3":
        a = rope_inv_freq(cfg)
        b = hf_style_llama3_inv_freq(cfg)
        check("llama3 rope scaling", np.allclose(a, b, rtol=1e-12, atol=0),
              "max rel diff %.3g" % float(np.max(np.abs(a - b) / b)))

    print("%d passed, %d failed" % (count[0] - len(failures), len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
