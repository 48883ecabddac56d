#!/usr/bin/python3
"""Checks an exported model folder against what training produced.

    verify.py HF_DIR DATA_DIR TRAINED_PT

1. model.safetensors holds every tensor of the trained state dict (HF names), with the shapes
   config.json implies, equal to the trained float32 weights rounded to BF16 (exactly), and
   nothing else.
2. tokenizer.json, read by the independent encoder tools/reference/hf_tokenizer.py, encodes
   the held-out text to the same ids as the training tokenizer (bpe.py with merges.json) and
   as heldout.bin; decoding gives the text back; special tokens map to Meta's layout.
3. tokenizer_config.json and generation_config.json name the same special tokens.
4. The training model (model.py) and the independent reference forward
   (tools/reference/llama3_reference.py) give the same logits on the exported weights.
Exits 1 with a list of what differs.
"""
import json
import os
import sys

import numpy as np
import torch

import bpe

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "reference"))
import safetensors_io  # noqa: E402
import hf_tokenizer  # noqa: E402  (tools/reference, the independent reader of tokenizer.json)
import llama3_reference  # noqa: E402  (tools/reference, the independent forward)
import model as M  # noqa: E402

problems = []


def check(ok, msg):
    if not ok:
        problems.append(msg)
    return ok


def expected_shapes(cfg):
    d, f, v = cfg["hidden_size"], cfg["intermediate_size"], cfg["vocab_size"]
    hd = cfg.get("head_dim", d // cfg["num_attention_heads"])
    q, kv = cfg["num_attention_heads"] * hd, cfg["num_key_value_heads"] * hd
    shapes = {"model.embed_tokens.weight": [v, d], "model.norm.weight": [d]}
    for i in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{i}."
        shapes.update({p + "input_layernorm.weight": [d], p + "post_attention_layernorm.weight": [d],
                       p + "self_attn.q_proj.weight": [q, d], p + "self_attn.k_proj.weight": [kv, d],
                       p + "self_attn.v_proj.weight": [kv, d], p + "self_attn.o_proj.weight": [d, q],
                       p + "mlp.gate_proj.weight": [f, d], p + "mlp.up_proj.weight": [f, d],
                       p + "mlp.down_proj.weight": [d, f]})
    return shapes


def check_weights(hf_dir, trained_pt):
    with open(os.path.join(hf_dir, "config.json")) as f:
        cfg = json.load(f)
    path = os.path.join(hf_dir, "model.safetensors")
    tensors = {k: torch.from_numpy(v) for k, v in safetensors_io.load(path).items()}
    meta = safetensors_io.read_metadata(path)
    sd = torch.load(trained_pt)
    shapes = expected_shapes(cfg)
    check(set(tensors) == set(shapes),
          f"model.safetensors names differ from config.json's: missing "
          f"{sorted(set(shapes) - set(tensors))}, extra {sorted(set(tensors) - set(shapes))}")
    check(set(sd) == set(shapes), f"trained state dict names differ: {sorted(set(sd) ^ set(shapes))}")
    worst = 0.0
    for name in sorted(set(tensors) & set(sd)):
        t, ref = tensors[name], sd[name].to(torch.bfloat16).float()
        if not check(list(t.shape) == shapes.get(name), f"{name}: shape {list(t.shape)}, "
                     f"config.json implies {shapes.get(name)}"):
            continue
        diff = (t - ref).abs().max().item()
        worst = max(worst, (t - sd[name]).abs().max().item())
        check(diff == 0.0, f"{name}: differs from the trained weights rounded to BF16 by {diff}")
    check(cfg["tie_word_embeddings"] and "lm_head.weight" not in tensors,
          "embeddings must be tied with no lm_head.weight stored")
    print(f"weights: {len(tensors)} tensors equal to the trained ones rounded to BF16 "
          f"(largest rounding {worst:.2e}), format {meta.get('format')}")
    return cfg


def check_tokenizer(hf_dir, data_dir, cfg):
    with open(os.path.join(data_dir, "merges.json"), encoding="utf-8") as f:
        merges = [tuple(m) for m in json.load(f)]
    n_special = cfg["vocab_size"] - 256 - len(merges)
    train_tok = bpe.BpeTokenizer(merges, bpe.llama3_special_tokens(n_special))
    hf = hf_tokenizer.HFTokenizer(os.path.join(hf_dir, "tokenizer.json"))
    check(hf.vocab_size == cfg["vocab_size"] == train_tok.vocab_size,
          f"vocab sizes: tokenizer.json {hf.vocab_size}, config {cfg['vocab_size']}, "
          f"training {train_tok.vocab_size}")
    with open(os.path.join(data_dir, "heldout.jsonl"), encoding="utf-8") as f:
        docs = [json.loads(line)["text"] for line in f]
    stored = np.fromfile(os.path.join(data_dir, "heldout.bin"), dtype=np.uint16).tolist()
    eot = train_tok.special["<|end_of_text|>"]
    ids_hf, ids_train, n_tokens = [], [], 0
    for text in docs:
        a = hf.encode(text, add_bos=False, allow_special=False)
        b = train_tok.encode(text, allow_special=False)
        n_tokens += len(a)
        if not check(a == b, f"held-out document {text[:40]!r}...: tokenizer.json gives "
                     f"{len(a)} ids, the training tokenizer {len(b)}; first difference at "
                     f"{next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))}"):
            break
        check(hf.decode(a) == text, f"decoding does not give back {text[:40]!r}...")
        ids_hf += [train_tok.bos_id] + a + [eot]
    if not problems:
        check(ids_hf == stored, "tokenizer.json's ids differ from heldout.bin (the tokens the "
              "model was evaluated on)")
    specials = {"<|begin_of_text|>": 0, "<|end_of_text|>": 1, "<|start_header_id|>": 6,
                "<|end_header_id|>": 7, "<|eom_id|>": 8, "<|eot_id|>": 9}
    base = cfg["vocab_size"] - n_special
    for tok, off in specials.items():
        check(hf.token_to_id(tok) == base + off,
              f"{tok} is id {hf.token_to_id(tok)}, Meta's layout puts it at {base + off}")
    for text in ["Hello world", "The quick brown fox jumps over the lazy dog.", "naïve café ☃ 日本",
                 "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>", "  spaces\n\n\nand 12345"]:
        a, b = hf.encode(text), train_tok.encode(text)
        check(a == b, f"{text!r}: tokenizer.json {a} != training {b}")
        check(hf.decode(a) == text, f"{text!r} does not decode back")
    print(f"tokenizer: held-out text ({len(docs)} documents, {n_tokens:,} tokens) encodes to the "
          "same ids through tokenizer.json and the training tokenizer; decoding is lossless")
    with open(os.path.join(hf_dir, "tokenizer_config.json"), encoding="utf-8") as f:
        tcfg = json.load(f)
    with open(os.path.join(hf_dir, "generation_config.json")) as f:
        gcfg = json.load(f)
    check(hf.token_to_id(tcfg["bos_token"]) == cfg["bos_token_id"] == gcfg["bos_token_id"],
          "BOS differs between tokenizer_config.json, config.json and generation_config.json")
    check(hf.token_to_id(tcfg["eos_token"]) in gcfg["eos_token_id"],
          "tokenizer_config.json's eos_token is not among generation_config.json's eos ids")
    check("<|start_header_id|>" in tcfg["chat_template"], "the chat template is not Llama 3's")


@torch.no_grad()
def check_forward(hf_dir, data_dir, cfg):
    """Both implementations of the architecture agree on held-out text."""
    tensors = {k: torch.from_numpy(v) for k, v in
               safetensors_io.load(os.path.join(hf_dir, "model.safetensors")).items()}
    net = M.LlamaForCausalLM(cfg)
    net.load_state_dict(tensors)
    net.eval()
    ref = llama3_reference.Llama3.from_dir(hf_dir)
    ids = np.fromfile(os.path.join(data_dir, "heldout.bin"), dtype=np.uint16)[1000:1128].tolist()
    a = net(torch.tensor([ids]))[0]
    b = ref.forward(ids)["logits"]
    err = ((a - b).abs().max() / b.abs().max().clamp(min=1)).item()
    check(err <= 1e-4, f"the training model and the reference forward differ by {err:.2e} "
          "(relative to the largest logit) on held-out text")
    print(f"forward: training model and reference agree on 128 held-out tokens "
          f"(largest difference {err:.1e} of the largest logit)")


def main():
    if len(sys.argv) != 4:
        raise SystemExit("usage: verify.py HF_DIR DATA_DIR TRAINED_PT")
    hf_dir, data_dir, trained = sys.argv[1:]
    cfg = check_weights(hf_dir, trained)
    check_tokenizer(hf_dir, data_dir, cfg)
    check_forward(hf_dir, data_dir, cfg)
    if problems:
        print("verify.py: the export does not match the trained model:", file=sys.stderr)
        for p in problems:
            print("  - " + p, file=sys.stderr)
        sys.exit(1)
    print("verify.py: all checks passed")


if __name__ == "__main__":
    main()
