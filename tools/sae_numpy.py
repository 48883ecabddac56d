#!/usr/bin/env python3
"""Load an sae4j SAE with numpy alone (no safetensors package, no torch) and run it.

    python3 tools/sae_numpy.py runs/demo/sae/sae [runs/synth/ground_truth.safetensors]

Prints the tensors, checks the decoder rows of a TopK SAE are unit norm, reconstructs random inputs, and, given
a synthetic ground truth, the fraction of its features recovered (compare with `sae4j eval`). Needs Debian's
python3-numpy; it is a check for people, not part of the build or the tests.
"""
import json
import struct
import sys
from pathlib import Path

import numpy as np

DTYPES = {"F32": np.float32, "F64": np.float64, "I32": np.int32, "I64": np.int64, "F16": np.float16}


def load_safetensors(path):
    data = Path(path).read_bytes()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    meta = header.pop("__metadata__", {})
    base = 8 + n
    tensors = {}
    for name, info in header.items():
        begin, end = info["data_offsets"]
        tensors[name] = np.frombuffer(data[base + begin:base + end], dtype=DTYPES[info["dtype"]]).reshape(info["shape"])
    return tensors, meta


def shift(cfg):
    return np.asarray(cfg.get("input_shift", 0.0), dtype=np.float32)


def encode(t, cfg, x):
    s = cfg.get("input_scale", 1.0)
    pre = ((x - shift(cfg)) * s - t["b_dec"]) @ t["W_enc"] + t["b_enc"]
    if cfg["architecture"] == "topk":
        k = cfg["settings"]["k"]
        keep = np.argpartition(-pre, k - 1, axis=1)[:, :k]
        z = np.zeros_like(pre)
        np.put_along_axis(z, keep, np.take_along_axis(pre, keep, axis=1), axis=1)
        return np.maximum(z, 0)
    if cfg["architecture"] == "relu":
        return np.maximum(pre, 0)
    raise SystemExit(f"this script knows topk and relu, not {cfg['architecture']}")


def decode(t, cfg, z):
    return (z @ t["W_dec"] + t["b_dec"]) / cfg.get("input_scale", 1.0) + shift(cfg)


def main():
    sae_dir = Path(sys.argv[1])
    cfg = json.loads((sae_dir / "cfg.json").read_text())
    t, meta = load_safetensors(sae_dir / "sae.safetensors")
    print(f"{sae_dir}: {cfg['architecture']} d_in={cfg['d_in']} d_sae={cfg['d_sae']} settings={cfg['settings']}")
    for name, v in t.items():
        print(f"  {name:6s} {v.dtype} {list(v.shape)}")
    assert t["W_enc"].shape == (cfg["d_in"], cfg["d_sae"]) and t["W_dec"].shape == (cfg["d_sae"], cfg["d_in"])
    norms = np.linalg.norm(t["W_dec"], axis=1)
    print(f"  decoder row norms: min {norms.min():.6f} max {norms.max():.6f}")
    x = np.random.default_rng(0).normal(size=(8, cfg["d_in"])).astype(np.float32) + t["b_dec"]
    z = encode(t, cfg, x)
    x_hat = decode(t, cfg, z)
    print(f"  random inputs: L0 {np.mean((z > 0).sum(axis=1)):.2f}, reconstruction shape {x_hat.shape}")
    if len(sys.argv) > 2:
        truth, _ = load_safetensors(sys.argv[2])
        d = truth["dictionary"]
        dec = t["W_dec"] / np.maximum(np.linalg.norm(t["W_dec"], axis=1, keepdims=True), 1e-30)
        best = (d @ dec.T).max(axis=1)
        print(f"  ground truth: {np.mean(best > 0.9):.4f} of {len(d)} features recovered (max cosine > 0.9)")


if __name__ == "__main__":
    main()
