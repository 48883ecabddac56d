#!/usr/bin/python3
"""PyTorch CPU forward throughput of the Llama 3 reference model (baseline for Java).

    /usr/bin/python3 tools/reference/bench_forward.py HF_DIR [--threads N] [--batch 64]
        [--max-len 192] [--text-file FILE] [--full-length] [--no-lm-head]
        [--warmup 2] [--reps 5] [--json OUT.json] [--dump-ids IDS.json]

Builds one batch of ``--batch`` sequences of at most ``--max-len`` tokens (lines of
``--text-file``, cycled if there are too few, or deterministic generated English-like
sentences; tokenized with HF_DIR/tokenizer.json without BOS, as activation capture does,
then truncated), right pads it, and times ``forward_padded`` (float32, attention mask,
logits for every position unless ``--no-lm-head``).  Prints the median over ``--reps``
timed repetitions (after ``--warmup`` untimed ones) of real tokens/s (padding not counted)
and padded positions/s.  ``--dump-ids`` writes the exact token ids so another
implementation can run the identical batch.
"""

import argparse
import hashlib
import json
import os
import platform
import random
import statistics
import sys
import time

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True  # keep __pycache__ out of the source tree
sys.path.insert(0, HERE)
from hf_tokenizer import HFTokenizer  # noqa: E402
from llama3_reference import Llama3  # noqa: E402

WORDS = ("the a an one little big old small happy sad red blue green bright dark quiet "
         "cat dog bird fox girl boy mother father friend teacher tree house garden park "
         "river sky sun moon star ball book box cake apple flower road town school day "
         "night morning evening time story game song "
         "ran jumped looked saw found played walked sang laughed cried wanted liked made "
         "gave took went came said thought knew loved helped opened climbed "
         "and but so then because when while after before with in on under over near "
         "to from into of at for very really quickly slowly always never again too").split()


def generated_sentences(n, seed=12345):
    """Deterministic pseudo-English sentences with widely varying lengths."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        n_words = rng.randint(4, 160)
        words = [rng.choice(WORDS) for _ in range(n_words)]
        text = []
        for j, w in enumerate(words):
            if j == 0 or text[-1].endswith("."):
                w = w.capitalize()
            if rng.random() < 0.08 and j < n_words - 1:
                w += rng.choice([",", ".", "!", "?"]) if rng.random() < 0.5 else "."
            text.append(w)
        out.append(" ".join(text) + ".")
    return out


def build_batch(tok, args, vocab_size):
    if args.text_file:
        with open(args.text_file, "r", encoding="utf-8") as f:
            lines = [l.rstrip("\n") for l in f if l.strip()]
        if not lines:
            raise SystemExit("no text in " + args.text_file)
        texts = [lines[i % len(lines)] for i in range(args.batch)]
    else:
        texts = generated_sentences(args.batch, args.seed)
    if tok is not None:
        seqs = [tok.encode(t, add_bos=args.bos) for t in texts]
    else:  # no tokenizer: deterministic random ids below the special range
        rng = random.Random(args.seed)
        seqs = [[rng.randrange(0, vocab_size) for _ in range(len(t.split()) + 1)] for t in texts]
    if args.full_length:
        for i, s in enumerate(seqs):  # extend short rows by repeating them
            while len(s) < args.max_len:
                s = s + s
            seqs[i] = s
    return [s[:args.max_len] for s in seqs]


def cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("hf_dir")
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0 = torch default)")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--max-len", type=int, default=192)
    ap.add_argument("--text-file", help="one sentence per line (default: generated)")
    ap.add_argument("--full-length", action="store_true",
                    help="make every row exactly --max-len tokens (no padding)")
    ap.add_argument("--bos", action="store_true", help="prepend <|begin_of_text|>")
    ap.add_argument("--no-lm-head", action="store_true",
                    help="skip final logits (residual stream only, as capture needs)")
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--seed", type=int, default=12345)
    ap.add_argument("--json", help="write the result as JSON to this file")
    ap.add_argument("--dump-ids", help="write the batch token ids as JSON to this file")
    args = ap.parse_args(argv)

    if args.threads > 0:
        torch.set_num_threads(args.threads)
    model = Llama3.from_dir(args.hf_dir)
    tok_path = os.path.join(args.hf_dir, "tokenizer.json")
    tok = HFTokenizer(tok_path) if os.path.exists(tok_path) else None
    seqs = build_batch(tok, args, model.cfg.vocab_size)
    lengths = [len(s) for s in seqs]
    T = max(lengths)
    ids = torch.zeros(len(seqs), T, dtype=torch.int64)
    for b, s in enumerate(seqs):
        ids[b, :len(s)] = torch.tensor(s, dtype=torch.int64)
    real_tokens = sum(lengths)
    ids_sha = hashlib.sha256(json.dumps(seqs).encode()).hexdigest()
    if args.dump_ids:
        with open(args.dump_ids, "w") as f:
            json.dump({"sequences": seqs, "sha256": ids_sha}, f)

    def run():
        t0 = time.perf_counter()
        model.forward_padded(ids, lengths, want_logits=not args.no_lm_head, want_hidden=False)
        return time.perf_counter() - t0

    for _ in range(args.warmup):
        run()
    times = [run() for _ in range(args.reps)]
    med = statistics.median(times)
    result = {
        "tool": "tools/reference/bench_forward.py",
        "torch_version": torch.__version__,
        "threads": torch.get_num_threads(),
        "cpu": cpu_name(),
        "cpu_count": os.cpu_count(),
        "model": os.path.abspath(args.hf_dir),
        "config": {k: getattr(model.cfg, k) for k in (
            "vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers",
            "num_attention_heads", "num_key_value_heads", "head_dim")},
        "batch": len(seqs),
        "max_len": args.max_len,
        "padded_len": T,
        "min_len": min(lengths),
        "mean_len": real_tokens / len(seqs),
        "real_tokens": real_tokens,
        "padded_positions": len(seqs) * T,
        "lm_head": not args.no_lm_head,
        "bos": args.bos,
        "source": args.text_file or "generated(seed=%d)" % args.seed,
        "ids_sha256": ids_sha,
        "warmup": args.warmup,
        "times_s": times,
        "median_s": med,
        "tokens_per_s": real_tokens / med,
        "padded_positions_per_s": len(seqs) * T / med,
    }
    print("torch %s, %d threads, %s" % (torch.__version__, torch.get_num_threads(), result["cpu"]))
    print("batch %d, lengths %d..%d (mean %.1f, padded to %d), %d real tokens, lm_head=%s"
          % (len(seqs), min(lengths), T, result["mean_len"], T, real_tokens, result["lm_head"]))
    print("times: " + " ".join("%.3f" % t for t in times) + " s")
    print("median %.3f s: %.1f tokens/s (%.1f padded positions/s)"
          % (med, result["tokens_per_s"], result["padded_positions_per_s"]))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2, sort_keys=True)
            f.write("\n")


if __name__ == "__main__":
    main(sys.argv[1:])
