#!/usr/bin/python3
"""Trains the tiny Llama 3 on the tokenized corpus, then on chat-formatted examples.

    train.py DATA_DIR OUT_DIR [--steps 900] [--chat-steps 150] [--threads 2] [--seed 1234]

DATA_DIR is make_tokenizer.py's output. Writes to OUT_DIR:
    trained.pt        float32 state dict with Hugging Face names (lm_head tied, not stored)
    config.json       the model config (LlamaForCausalLM keys)
    train_log.jsonl   one record per step: step, phase, loss, lr, tokens, seconds
    eval_log.jsonl    held-out loss and perplexity every --eval-every steps and at the end
    state.pt          a resumable checkpoint, rewritten every --checkpoint-every steps; a
                      rerun with the same arguments continues from it
    pretrain.pt       the state at the end of pretraining: a rerun that changes only the
                      chat phase (--chat-steps, --chat-lr, chat.bin) starts from it
Phase 1 samples windows of --seq tokens at seeded random offsets in train.bin (documents are
<|begin_of_text|> text <|end_of_text|>, so most windows start mid-text without BOS, the way
capture feeds sentences). Phase 2 ("chat") draws half of each batch from chat.bin, with the
loss only on assistant tokens, and half from train.bin so the model keeps its English.
"""
import argparse
import json
import math
import os
import time

import numpy as np
import torch
import torch.nn.functional as F

import model as M


def load_tokens(path, dtype=np.uint16):
    if not os.path.isfile(path):
        raise SystemExit(f"train.py: {path} is missing; run make_tokenizer.py first")
    return torch.from_numpy(np.fromfile(path, dtype=dtype).astype(np.int64))


def windows(tokens, gen, batch, seq, mask=None):
    starts = torch.randint(0, len(tokens) - seq - 1, (batch,), generator=gen)
    x = torch.stack([tokens[s:s + seq + 1] for s in starts.tolist()])
    if mask is None:
        return x, None
    return x, torch.stack([mask[s + 1:s + seq + 1] for s in starts.tolist()])


def loss_of(net, x, m=None):
    logits = net(x[:, :-1])
    per = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), x[:, 1:].reshape(-1),
                          reduction="none")
    if m is None:
        return per.mean()
    m = m.reshape(-1).float()
    return (per * m).sum() / m.sum().clamp(min=1)


@torch.no_grad()
def heldout_loss(net, heldout, seq, n_windows=48):
    """Mean loss over fixed, evenly spaced windows of the held-out slice."""
    net.eval()
    stride = (len(heldout) - seq - 1) // n_windows
    total = 0.0
    for i in range(0, n_windows, 16):
        starts = [j * stride for j in range(i, min(i + 16, n_windows))]
        x = torch.stack([heldout[s:s + seq + 1] for s in starts])
        total += loss_of(net, x).item() * len(starts)
    net.train()
    return total / n_windows


def hyper(args):
    """The arguments that decide the result (not where the files are)."""
    return {k: v for k, v in args.items() if k not in ("data_dir", "out_dir")}


def pretrain_hyper(args):
    """The arguments that decide the pretraining phase: a changed chat phase reuses it."""
    return {k: v for k, v in hyper(args).items() if k not in ("chat_steps", "chat_lr")}


def lr_at(step, args):
    if step < args.steps:
        if step < args.warmup:
            return args.lr * (step + 1) / args.warmup
        p = (step - args.warmup) / max(1, args.steps - args.warmup)
        return args.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * p)))
    p = (step - args.steps) / max(1, args.chat_steps)
    return args.chat_lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * p)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("data_dir")
    ap.add_argument("out_dir")
    ap.add_argument("--steps", type=int, default=900)
    ap.add_argument("--chat-steps", type=int, default=150)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--seq", type=int, default=256)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--chat-lr", type=float, default=5e-4)
    ap.add_argument("--warmup", type=int, default=50)
    ap.add_argument("--weight-decay", type=float, default=0.1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--eval-every", type=int, default=100)
    ap.add_argument("--checkpoint-every", type=int, default=50)
    ap.add_argument("--hidden", type=int, default=256)
    ap.add_argument("--intermediate", type=int, default=512)
    ap.add_argument("--layers", type=int, default=6)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    os.makedirs(args.out_dir, exist_ok=True)
    summary_path = os.path.join(args.out_dir, "train_summary.json")
    if os.path.isfile(summary_path) and os.path.isfile(os.path.join(args.out_dir, "trained.pt")):
        with open(summary_path) as f:
            if hyper(json.load(f).get("args", {})) == hyper(vars(args)):
                print(f"{args.out_dir} already holds a model trained with these arguments; "
                      "delete trained.pt to train again")
                return

    train = load_tokens(os.path.join(args.data_dir, "train.bin"))
    heldout = load_tokens(os.path.join(args.data_dir, "heldout.bin"))
    chat = load_tokens(os.path.join(args.data_dir, "chat.bin"))
    chat_mask = load_tokens(os.path.join(args.data_dir, "chat_mask.bin"), np.uint8)

    cfg = M.default_config()
    cfg.update(hidden_size=args.hidden, intermediate_size=args.intermediate,
               num_hidden_layers=args.layers)
    torch.manual_seed(args.seed)
    net = M.LlamaForCausalLM(cfg)
    decay = [p for n, p in net.named_parameters() if p.dim() == 2]
    no_decay = [p for n, p in net.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": args.weight_decay},
                             {"params": no_decay, "weight_decay": 0.0}],
                            lr=args.lr, betas=(0.9, 0.95), eps=1e-8)
    gen = torch.Generator().manual_seed(args.seed)
    start, elapsed = 0, 0.0
    state_path = os.path.join(args.out_dir, "state.pt")
    log_mode = "w"
    if os.path.isfile(state_path):
        st = torch.load(state_path)
        if hyper(st["args"]) != hyper(vars(args)):
            raise SystemExit(f"train.py: {state_path} was written with other arguments "
                             f"({st['args']}); delete it or rerun with those arguments")
        net.load_state_dict(st["model"])
        opt.load_state_dict(st["optimizer"])
        gen.set_state(st["generator"])
        start, elapsed = st["step"], st["seconds"]
        log_mode = "a"
        print(f"resuming at step {start}")
    pretrain_path = os.path.join(args.out_dir, "pretrain.pt")
    if start == 0 and os.path.isfile(pretrain_path):
        st = torch.load(pretrain_path)
        if pretrain_hyper(st["args"]) == pretrain_hyper(vars(args)):
            net.load_state_dict(st["model"])
            opt.load_state_dict(st["optimizer"])
            gen.set_state(st["generator"])
            start, elapsed = st["step"], st["seconds"]
            for name in ("train_log.jsonl", "eval_log.jsonl"):
                with open(os.path.join(args.out_dir, name)) as f:
                    kept = [line for line in f if json.loads(line)["step"] <= start]
                with open(os.path.join(args.out_dir, name), "w") as f:
                    f.writelines(kept)
            log_mode = "a"
            print(f"pretraining already done ({pretrain_path}); running the chat phase")
    train_log = open(os.path.join(args.out_dir, "train_log.jsonl"), log_mode)
    eval_log = open(os.path.join(args.out_dir, "eval_log.jsonl"), log_mode)
    total = args.steps + args.chat_steps
    print(f"parameters: {net.parameter_count():,}; steps {args.steps} + chat {args.chat_steps}; "
          f"{args.batch}x{args.seq} tokens per step", flush=True)
    run_start = time.time()
    for step in range(start, total):
        t0 = time.time()
        lr = lr_at(step, args)
        for g in opt.param_groups:
            g["lr"] = lr
        phase = "pretrain" if step < args.steps else "chat"
        if phase == "pretrain":
            x, _ = windows(train, gen, args.batch, args.seq)
            loss = loss_of(net, x)
        else:
            half = args.batch // 2
            xc, mc = windows(chat, gen, half, args.seq, chat_mask)
            xt, _ = windows(train, gen, args.batch - half, args.seq)
            loss = 0.5 * loss_of(net, xc, mc) + 0.5 * loss_of(net, xt)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
        opt.step()
        dt = time.time() - t0
        elapsed += dt
        if not math.isfinite(loss.item()):
            raise SystemExit(f"train.py: loss became {loss.item()} at step {step}")
        train_log.write(json.dumps({"step": step + 1, "phase": phase, "loss": round(loss.item(), 5),
                                    "lr": lr, "tokens": (step + 1) * args.batch * args.seq,
                                    "seconds": round(elapsed, 2)}) + "\n")
        train_log.flush()
        done = step + 1
        if done % 10 == 0:
            eta = (time.time() - run_start) / (done - start) * (total - done)
            print(f"step {done}/{total} {phase} loss {loss.item():.4f} lr {lr:.2e} "
                  f"{args.batch * args.seq / dt:.0f} tok/s  eta {eta / 60:.1f} min", flush=True)
        if done % args.eval_every == 0 or done == total or done == args.steps:
            hl = heldout_loss(net, heldout, args.seq)
            eval_log.write(json.dumps({"step": done, "heldout_loss": round(hl, 5),
                                       "heldout_ppl": round(math.exp(hl), 3)}) + "\n")
            eval_log.flush()
            print(f"  held-out loss {hl:.4f} ppl {math.exp(hl):.2f}", flush=True)
        if done == args.steps:
            tmp = pretrain_path + ".tmp"
            torch.save({"args": vars(args), "model": net.state_dict(),
                        "optimizer": opt.state_dict(), "generator": gen.get_state(),
                        "step": done, "seconds": elapsed}, tmp)
            os.replace(tmp, pretrain_path)
        if done % args.checkpoint_every == 0 and done < total:
            tmp = state_path + ".tmp"
            torch.save({"args": vars(args), "model": net.state_dict(),
                        "optimizer": opt.state_dict(), "generator": gen.get_state(),
                        "step": done, "seconds": elapsed}, tmp)
            os.replace(tmp, state_path)
    sd = {k: v.detach().clone() for k, v in net.state_dict().items()}
    torch.save(sd, os.path.join(args.out_dir, "trained.pt.tmp"))
    os.replace(os.path.join(args.out_dir, "trained.pt.tmp"), os.path.join(args.out_dir, "trained.pt"))
    with open(os.path.join(args.out_dir, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2, sort_keys=True)
    with open(summary_path, "w") as f:
        json.dump({"parameters": net.parameter_count(), "steps": total,
                   "tokens": total * args.batch * args.seq, "seconds": round(elapsed, 1),
                   "tokens_per_second": round(total * args.batch * args.seq / elapsed, 1),
                   "threads": args.threads, "torch": torch.__version__,
                   "final_train_loss": loss.item(), "args": vars(args)}, f, indent=2)
    if os.path.isfile(state_path):
        os.remove(state_path)
    print(f"done: {total} steps in {elapsed / 60:.1f} min")


if __name__ == "__main__":
    main()
