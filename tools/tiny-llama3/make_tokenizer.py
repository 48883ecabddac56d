#!/usr/bin/python3
"""Trains the byte-level BPE tokenizer on the training documents and tokenizes the corpus.

    make_tokenizer.py DATA_DIR [--vocab 4096] [--specials 256]

Reads DATA_DIR/train.jsonl, heldout.jsonl, chat.jsonl (from corpus.py). Writes to DATA_DIR:
    tokenizer.json         Hugging Face schema of Meta's Llama 3 tokenizer
    merges.json            the merges as learnt (for the check in verify.py)
    train.bin, heldout.bin uint16 token ids; each document is <|begin_of_text|> text
                           <|end_of_text|>
    chat.bin, chat_mask.bin  chat examples in the Llama 3 chat template, with a 0/1 mask of
                           the assistant tokens that carry the loss
"""
import argparse
import json
import os
import time

import numpy as np

import bpe


def read_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def chat_ids(tok, user, assistant):
    """BOS, user turn, assistant header (no loss), then the reply and <|eot_id|> (loss)."""
    sp = tok.special
    prompt = ([tok.bos_id, sp["<|start_header_id|>"]] + tok.encode_ordinary("user")
              + [sp["<|end_header_id|>"]] + tok.encode_ordinary("\n\n" + user.strip())
              + [sp["<|eot_id|>"], sp["<|start_header_id|>"]] + tok.encode_ordinary("assistant")
              + [sp["<|end_header_id|>"]] + tok.encode_ordinary("\n\n"))
    reply = tok.encode_ordinary(assistant.strip()) + [sp["<|eot_id|>"]]
    return prompt, reply


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("data_dir")
    ap.add_argument("--vocab", type=int, default=4096)
    ap.add_argument("--specials", type=int, default=256)
    args = ap.parse_args()
    d = args.data_dir
    train = read_jsonl(os.path.join(d, "train.jsonl"))
    heldout = read_jsonl(os.path.join(d, "heldout.jsonl"))
    chat = read_jsonl(os.path.join(d, "chat.jsonl"))

    t0 = time.time()
    counts = bpe.word_counts(doc["text"] for doc in train)
    n_merges = args.vocab - args.specials - 256
    merges = bpe.train_bpe(counts, n_merges,
                           progress=lambda n: print(f"  {n} merges, {time.time() - t0:.0f} s",
                                                    flush=True))
    tok = bpe.BpeTokenizer(merges, bpe.llama3_special_tokens(args.specials))
    if tok.vocab_size != args.vocab:
        raise SystemExit(f"vocabulary came out at {tok.vocab_size}, expected {args.vocab}: "
                         "some merges produced a token twice")
    print(f"tokenizer: {len(merges)} merges, vocab {tok.vocab_size}, {time.time() - t0:.0f} s")
    with open(os.path.join(d, "tokenizer.json"), "w", encoding="utf-8") as f:
        json.dump(tok.to_tokenizer_json(), f, ensure_ascii=False, indent=2)
    with open(os.path.join(d, "merges.json"), "w", encoding="utf-8") as f:
        json.dump([list(m) for m in merges], f, ensure_ascii=False)

    eot = tok.special["<|end_of_text|>"]
    stats = {}
    for name, docs in (("train", train), ("heldout", heldout)):
        ids = []
        chars = 0
        for doc in docs:
            ids.append(tok.bos_id)
            ids.extend(tok.encode_ordinary(doc["text"]))
            ids.append(eot)
            chars += len(doc["text"])
        np.asarray(ids, dtype=np.uint16).tofile(os.path.join(d, f"{name}.bin"))
        stats[name] = {"tokens": len(ids), "characters": chars,
                       "characters_per_token": round(chars / len(ids), 3)}
    ids, mask = [], []
    for c in chat:
        p, r = chat_ids(tok, c["user"], c["assistant"])
        ids.extend(p + r)
        mask.extend([0] * len(p) + [1] * len(r))
    np.asarray(ids, dtype=np.uint16).tofile(os.path.join(d, "chat.bin"))
    np.asarray(mask, dtype=np.uint8).tofile(os.path.join(d, "chat_mask.bin"))
    stats["chat"] = {"tokens": len(ids), "loss_tokens": int(sum(mask))}
    with open(os.path.join(d, "token_stats.json"), "w") as f:
        json.dump(stats, f, indent=2)
    print(json.dumps(stats, indent=2))


if __name__ == "__main__":
    main()
