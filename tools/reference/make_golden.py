#!/usr/bin/python3
"""Writes golden reference outputs of a tiny Llama 3 model for the Java tests.

    /usr/bin/python3 tools/reference/make_golden.py HF_DIR [OUT_DIR] [--threads 1]

HF_DIR holds config.json, model.safetensors (or a sharded index) and tokenizer.json.
OUT_DIR defaults to model-llama3/src/test/resources/golden/tiny-llama3/ in the repo.
Writes OUT_DIR/golden.safetensors (F32/I32 tensors, prompt texts and config in
``__metadata__``) and OUT_DIR/README.md (generated: every tensor with its shape).

Everything is computed by llama3_reference.py in float32 on the CPU with one torch thread
(rerunning on the same machine gives the same bytes).  The total size is kept under
2,000,000 bytes: the residual stream and final-norm output are stored at every position,
full logits only at the positions listed in ``<case>.logit_positions`` (every position of
batch_bos.0, first and last of the other cases); every position
has its top-5 logits and log-sum-exp.
"""

import argparse
import hashlib
import json
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True  # keep __pycache__ out of the source tree
sys.path.insert(0, HERE)
import safetensors_io  # noqa: E402
from hf_tokenizer import HFTokenizer, chat_prompt  # noqa: E402
from llama3_reference import Llama3  # noqa: E402
from selfcheck import numpy_forward  # noqa: E402

REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
DEFAULT_OUT = os.path.join(REPO, "model-llama3", "src", "test", "resources", "golden", "tiny-llama3")
SIZE_LIMIT = 2_000_000
TOP_K = 5
GEN_TOKENS = 20
FORMAT = "sae4j-golden-llama3-v1"

SINGLE_TEXT = "The quick brown fox jumps over the lazy dog."
BATCH_TEXTS = [
    "I like red apples.",
    "Tom and his sister went to the park to play with a red ball.",
    "She looked at the sky and wondered why the stars were so bright.",
    "Once upon a time, in a small village near a big forest, there lived an old man "
    "who told stories to the children every evening.",
]
BATCH_BOS_INDICES = [0, 1]  # the batch-with-BOS case uses these sentences
CHAT_USER = "What is the capital of France?"
GEN_PROMPTS = [  # (name, text, add_bos)
    ("gen.0", "Once upon a time", True),
    ("gen.1", "The little dog", False),
    ("gen.2", chat_prompt(CHAT_USER, add_bos=True), False),  # BOS is in the text
]
TOKENIZER_TEXTS = [
    "Hello world",
    "It's 2024: I'll pay $3.50, they've said, DON'T we?",
    "  two  spaces,\ttab\nnewline\r\n\r\nend  ",
    "naïve café — “quoted” 😀 日本",
    "<|start_header_id|>user<|end_header_id|>\n\nHi!<|eot_id|>",
    "1234567 numbers 3.14159",
]


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def model_files_digest(hf_dir):
    names = ["config.json", "tokenizer.json"]
    for n in sorted(os.listdir(hf_dir)):
        if n.endswith(".safetensors") or n == "model.safetensors.index.json":
            names.append(n)
    return {n: sha256(os.path.join(hf_dir, n)) for n in names if os.path.exists(os.path.join(hf_dir, n))}


def top_k(logits, k):
    """logits [n, V] -> (ids [n, k] int32, values [n, k] f32); ties: lower id first."""
    order = np.argsort(-logits, axis=1, kind="stable")[:, :k]
    return order.astype(np.int32), np.take_along_axis(logits, order, axis=1).astype(np.float32)


def logsumexp(logits):
    x = logits.astype(np.float64)
    m = x.max(axis=1, keepdims=True)
    return (m[:, 0] + np.log(np.exp(x - m).sum(axis=1))).astype(np.float32)


class Golden:
    def __init__(self):
        self.tensors = {}
        self.meta = {}
        self.doc = []  # (name, shape, dtype, description)

    def add(self, name, arr, desc):
        arr = np.ascontiguousarray(arr)
        if arr.dtype == np.float64:
            arr = arr.astype(np.float32)
        if arr.dtype == np.int64:
            arr = arr.astype(np.int32)
        assert arr.dtype in (np.float32, np.int32), (name, arr.dtype)
        assert name not in self.tensors, name
        self.tensors[name] = arr
        self.doc.append((name, tuple(arr.shape), "F32" if arr.dtype == np.float32 else "I32", desc))

    def nbytes(self):
        return sum(a.nbytes for a in self.tensors.values())


def sequence_cases(tok):
    """[(case, text, add_bos, batch_group)] in storage order."""
    cases = [("single_bos", SINGLE_TEXT, True, None),
             ("single_nobos", SINGLE_TEXT, False, None)]
    for i, t in enumerate(BATCH_TEXTS):
        cases.append(("batch.%d" % i, t, False, "batch"))
    for j, i in enumerate(BATCH_BOS_INDICES):
        cases.append(("batch_bos.%d" % j, BATCH_TEXTS[i], True, "batch_bos"))
    cases.append(("chat", chat_prompt(CHAT_USER, add_bos=False), True, None))
    return cases


def main(argv):
    ap = argparse.ArgumentParser(description="write golden Llama 3 reference outputs")
    ap.add_argument("hf_dir")
    ap.add_argument("out_dir", nargs="?", default=DEFAULT_OUT)
    ap.add_argument("--threads", type=int, default=1,
                    help="torch threads (1 keeps the bytes reproducible)")
    ap.add_argument("--all-logits-case", default="batch_bos.0",
                    help="case whose full logits are stored at every position ('' for none)")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)

    tok = HFTokenizer(os.path.join(args.hf_dir, "tokenizer.json"))
    model = Llama3.from_dir(args.hf_dir)
    cfg = model.cfg
    g = Golden()

    cases = sequence_cases(tok)
    encoded = {name: tok.encode(text, add_bos=bos) for name, text, bos, _ in cases}

    # Forward passes: batch groups together (right padded), others one at a time.
    results = {}
    groups = {}
    for name, _, _, grp in cases:
        groups.setdefault(grp or name, []).append(name)
    for grp, names in groups.items():
        outs = model.forward_batch([encoded[n] for n in names])
        for n, o in zip(names, outs):
            results[n] = {k: v.numpy() for k, v in o.items()}

    # Positions with full logits: first and last of every case, all of one case.
    logit_pos = {}
    for name, _, _, _ in cases:
        n = len(encoded[name])
        logit_pos[name] = list(range(n)) if name == args.all_logits_case else sorted({0, n - 1})

    def projected_size():
        per_pos = 4 * ((cfg.num_hidden_layers + 1) * cfg.hidden_size + cfg.hidden_size
                       + 2 * TOP_K + 2)
        total = 0
        for name, _, _, _ in cases:
            n = len(encoded[name])
            total += n * per_pos + len(logit_pos[name]) * (4 * cfg.vocab_size + 4)
        return total + 64 * 1024  # generations, tokenizer cases, slack

    if projected_size() > SIZE_LIMIT and args.all_logits_case:
        n = len(encoded[args.all_logits_case])
        logit_pos[args.all_logits_case] = sorted({0, n // 2, n - 1})
        print("note: full logits of %s reduced to positions %s to fit the size limit"
              % (args.all_logits_case, logit_pos[args.all_logits_case]))
    if projected_size() > SIZE_LIMIT:
        raise SystemExit("golden would exceed %d bytes (projected %d): shorten the prompts"
                         % (SIZE_LIMIT, projected_size()))

    L1, H, V = cfg.num_hidden_layers + 1, cfg.hidden_size, cfg.vocab_size
    manifest = []
    for name, text, bos, grp in cases:
        ids = encoded[name]
        n = len(ids)
        r = results[name]
        logits = r["logits"]
        g.add(name + ".ids", np.array(ids, dtype=np.int32), "token ids (BOS included when used)")
        g.add(name + ".hidden", r["hidden"],
              "residual stream [layer, position, hidden]: layer 0 = token embedding, layer l = "
              "output of decoder layer l-1 (before the final norm)")
        g.add(name + ".normed", r["normed"], "final RMSNorm output [position, hidden]")
        pos = logit_pos[name]
        g.add(name + ".logit_positions", np.array(pos, dtype=np.int32),
              "positions (0-based) whose full logits are stored in .logits")
        g.add(name + ".logits", logits[pos], "full logits at .logit_positions [k, vocab]")
        ti, tv = top_k(logits, TOP_K)
        g.add(name + ".top_ids", ti, "top-%d token ids per position, by descending logit "
                                     "(ties: lower id first)" % TOP_K)
        g.add(name + ".top_logits", tv, "logits of .top_ids")
        g.add(name + ".logsumexp", logsumexp(logits), "log(sum(exp(logits))) per position "
                                                      "(computed in float64)")
        g.meta[name + ".text"] = text
        g.meta[name + ".bos"] = "true" if bos else "false"
        manifest.append({"case": name, "bos": bos, "tokens": n,
                         "forward": ("batched with the other %s.* cases (right padded)" % grp)
                         if grp else "alone", "logit_positions": pos})

    # Greedy generations (KV cache; checked against full recompute).
    for name, text, bos in GEN_PROMPTS:
        ids = tok.encode(text, add_bos=bos)
        new = model.generate(ids, GEN_TOKENS, use_cache=True)
        check = model.generate(ids, GEN_TOKENS, use_cache=False)
        if new != check:
            raise SystemExit("%s: kv-cache and recompute greedy disagree: %s vs %s" % (name, new, check))
        full = model.forward(ids + new)["logits"].numpy()
        steps = full[len(ids) - 1:len(ids) - 1 + GEN_TOKENS]
        srt = np.sort(steps, axis=1)
        margins = srt[:, -1] - srt[:, -2]
        g.add(name + ".prompt_ids", np.array(ids, dtype=np.int32), "prompt token ids")
        g.add(name + ".new_ids", np.array(new, dtype=np.int32),
              "%d greedy ids (argmax, lowest id on ties, no early stop on EOS)" % GEN_TOKENS)
        g.add(name + ".margins", margins, "top-1 minus top-2 logit at each generation step "
                                          "(small = fragile near-tie)")
        g.meta[name + ".text"] = text
        g.meta[name + ".bos"] = "true" if bos else "false"
        g.meta[name + ".continuation"] = tok.decode(new)
        manifest.append({"case": name, "bos": bos, "prompt_tokens": len(ids),
                         "new_tokens": GEN_TOKENS, "min_margin": float(margins.min())})

    for i, text in enumerate(TOKENIZER_TEXTS):
        name = "tok.%d" % i
        g.add(name + ".ids", np.array(tok.encode(text), dtype=np.int32),
              "tokenizer-only case: ids of the text (special tokens allowed, no BOS)")
        g.meta[name + ".text"] = text
        manifest.append({"case": name, "tokenizer_only": True})

    summary = {k: getattr(cfg, k) for k in (
        "vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers",
        "num_attention_heads", "num_key_value_heads", "head_dim", "rms_norm_eps", "rope_theta",
        "rope_scaling", "max_position_embeddings")}
    summary["tied_embeddings"] = model.tied
    g.meta["format"] = FORMAT
    g.meta["config"] = json.dumps(summary, sort_keys=True)
    g.meta["source_sha256"] = json.dumps(model_files_digest(args.hf_dir), sort_keys=True)
    g.meta["manifest"] = json.dumps(manifest, sort_keys=True)
    g.meta["compute"] = ("llama3_reference.py: float32 on CPU, torch threads=%d, weights upcast to "
                         "float32; rope tables float64 -> float32" % args.threads)

    # Accuracy of the float32 numbers against an independent float64 computation.
    deviations = []
    for c in ("single_bos", "batch.%d" % (len(BATCH_TEXTS) - 1)):
        lg, hd = numpy_forward(model, encoded[c])
        pos = logit_pos[c]
        for key, ref, got in (("hidden", hd, g.tensors[c + ".hidden"]),
                              ("logits", lg[pos], g.tensors[c + ".logits"])):
            dev = float(np.abs(got - ref).max()) / max(1.0, float(np.abs(ref).max()))
            deviations.append((c, key, dev))
    g.meta["f64_deviation"] = json.dumps({"%s.%s" % (c, k): "%.3g" % v for c, k, v in deviations},
                                         sort_keys=True)

    size = g.nbytes()
    if size > SIZE_LIMIT:
        raise SystemExit("golden tensors are %d bytes > %d" % (size, SIZE_LIMIT))
    os.makedirs(args.out_dir, exist_ok=True)
    path = os.path.join(args.out_dir, "golden.safetensors")
    safetensors_io.save(path, g.tensors, metadata=g.meta)
    with open(os.path.join(args.out_dir, "README.md"), "w", encoding="utf-8") as f:
        f.write(render_readme(g, cfg, manifest, os.path.getsize(path), deviations))
    print("wrote %s (%d bytes, %d tensors)" % (path, os.path.getsize(path), len(g.tensors)))
    for m in manifest:
        print("  " + json.dumps(m, sort_keys=True))


def md_text(text):
    """JSON string literal in a code span; '|' escaped as GFM tables require."""
    return "`" + json.dumps(text, ensure_ascii=False).replace("|", "\\|").replace("`", "\\u0060") + "`"


def render_readme(g, cfg, manifest, file_size, deviations):
    L = cfg.num_hidden_layers
    out = []
    w = out.append
    w("# Golden outputs: tiny Llama 3\n")
    w("Generated by `tools/reference/make_golden.py` (do not edit; rerun the script). "
      "Reference implementation: `tools/reference/llama3_reference.py`, float32 on the CPU.\n")
    w("## File\n")
    w("`golden.safetensors` (%d bytes): standard safetensors: u64 little-endian header length, "
      "JSON header, raw little-endian row-major data. Dtypes are only `F32` and `I32`. "
      "Tensors are stored in name order.\n" % file_size)
    w("`__metadata__` (all strings):\n")
    w("- `format`: `%s`" % FORMAT)
    w("- `config`: JSON summary of the model config the goldens were made with")
    w("- `source_sha256`: JSON {file name: sha256} of the HF directory files used")
    w("- `manifest`: JSON list of the cases (tokens, BOS, how the forward was batched, "
      "logit positions, generation margins)")
    w("- `compute`: how the numbers were computed")
    w("- `f64_deviation`: JSON, relative deviation of some tensors from a float64 recomputation")
    w("- `<case>.text`: the exact text that was tokenized; `<case>.bos`: `true` when "
      "`<|begin_of_text|>` was prepended by the encoder (the chat and gen.2 texts contain the "
      "special tokens literally; special tokens in text are always recognised)")
    w("- `gen.N.continuation`: decoded greedy continuation\n")
    w("## Conventions\n")
    w("- `hidden` has %d layers: index 0 is the token embedding, index l (1..%d) is the residual "
      "stream after decoder layer l-1. The last one is *before* the final RMSNorm "
      "(unlike HF `output_hidden_states`, whose last entry is normed); the normed value is "
      "`normed`." % (L + 1, L))
    w("- Positions are 0-based within each sequence; BOS, when present, is position 0.")
    w("- `batch.*` cases were computed in ONE forward call, right padded to the longest "
      "sentence with an attention mask (no BOS, as activation capture does); `batch_bos.*` "
      "likewise with BOS. A correct implementation gives the same numbers batched or alone "
      "(up to float32 rounding).")
    w("- Logits: full vectors only at `<case>.logit_positions`; at every position the top-%d "
      "(ids and values) and the log-sum-exp are stored." % TOP_K)
    w("- Greedy generation: argmax of the last position's logits (lowest id on ties), "
      "exactly %d steps, no early stop on EOS/EOT. `margins` tells how robust each step is."
      % GEN_TOKENS)
    w("- Accuracy: an independent float64 recomputation (`selfcheck.numpy_forward`) differs from "
      "these float32 numbers by at most: %s (relative = max|diff| / max(1, max|f64 value|) per "
      "tensor)." % ", ".join("`%s` %s %.2g" % (c, k, v) for c, k, v in deviations))
    w("- Suggested tolerance for a float32 implementation with another summation order: "
      "max|diff| <= 1e-4 * max(1, max|ref|) per tensor (hidden, normed, logits, top_logits, "
      "logsumexp); token ids, top-1 ids and greedy ids exact (if a generation differs, look at "
      "`margins` first).\n")
    w("## Cases\n")
    w("| case | tokens | BOS | forward | full-logit positions | text (JSON) |")
    w("|---|---|---|---|---|---|")
    for m in manifest:
        if "tokens" in m:
            w("| `%s` | %d | %s | %s | %s | %s |" % (
                m["case"], m["tokens"], str(m["bos"]).lower(), m["forward"], m["logit_positions"],
                md_text(g.meta[m["case"] + ".text"])))
    w("\n| generation | prompt tokens | BOS added | min margin | prompt (JSON) | continuation (JSON) |")
    w("|---|---|---|---|---|---|")
    for m in manifest:
        if "new_tokens" in m:
            c = m["case"]
            w("| `%s` | %d | %s | %.3f | %s | %s |" % (
                c, m["prompt_tokens"], str(m["bos"]).lower(), m["min_margin"],
                md_text(g.meta[c + ".text"]), md_text(g.meta[c + ".continuation"])))
    w("\nTokenizer-only cases `tok.N.ids` (no BOS): " + ", ".join(
        "`tok.%s` %s" % (m["case"][4:], md_text(g.meta[m["case"] + ".text"]))
        for m in manifest if m.get("tokenizer_only")) + ".\n")
    w("## Tensors\n")
    w("| name | dtype | shape | bytes | meaning |")
    w("|---|---|---|---|---|")
    for name, shape, dt, desc in sorted(g.doc):
        nb = g.tensors[name].nbytes
        w("| `%s` | %s | %s | %d | %s |" % (name, dt, list(shape), nb, desc))
    w("\nTotal tensor bytes: %d.\n" % g.nbytes())
    w("## Reading\n")
    w("Python: `tools/reference/safetensors_io.py` (`load(path)` -> dict of numpy arrays, "
      "`read_metadata(path)`). Java: read 8 bytes little-endian length N, parse the JSON header "
      "of N bytes, each tensor's `data_offsets` are relative to byte 8+N.\n")
    return "\n".join(out)


if __name__ == "__main__":
    main(sys.argv[1:])
