#!/usr/bin/python3
"""Writes the trained model in Hugging Face's Llama 3 layout.

    export_hf.py TRAIN_DIR DATA_DIR OUT_DIR

TRAIN_DIR holds train.py's trained.pt and config.json; DATA_DIR holds tokenizer.json. OUT_DIR
receives config.json, generation_config.json, model.safetensors (BF16, as Meta ships Llama 3,
HF tensor names, sorted), tokenizer.json and tokenizer_config.json (Llama 3 Instruct's chat
template). OUT_DIR must not exist yet or be empty: build.sh points it at a temporary folder
and renames that into place once every file is written and checked.
"""
import json
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "reference"))
import safetensors_io  # noqa: E402  (tools/reference: safetensors from the format description)

# Meta-Llama-3-8B-Instruct's chat template (the 3.1/3.2 templates add tool-calling and a date
# header around the same turn format).
CHAT_TEMPLATE = (
    "{% set loop_messages = messages %}{% for message in loop_messages %}"
    "{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'"
    "+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}"
    "{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}"
    "{% endif %}")

def main():
    if len(sys.argv) != 4:
        raise SystemExit("usage: export_hf.py TRAIN_DIR DATA_DIR OUT_DIR")
    train_dir, data_dir, out = sys.argv[1:]
    for p in (os.path.join(train_dir, "trained.pt"), os.path.join(train_dir, "config.json"),
              os.path.join(data_dir, "tokenizer.json")):
        if not os.path.isfile(p):
            raise SystemExit(f"export_hf.py: {p} is missing; run the earlier build steps")
    if os.path.exists(out) and os.listdir(out):
        raise SystemExit(f"export_hf.py: {out} is not empty; give a new folder")
    os.makedirs(out, exist_ok=True)
    sd = torch.load(os.path.join(train_dir, "trained.pt"))
    with open(os.path.join(train_dir, "config.json")) as f:
        cfg = json.load(f)
    tensors = {k: v.float().numpy() for k, v in sd.items() if k != "lm_head.weight"}
    safetensors_io.save(os.path.join(out, "model.safetensors"), tensors, {"format": "pt"},
                        bf16_names=set(tensors))
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2, sort_keys=True)
        f.write("\n")
    with open(os.path.join(data_dir, "tokenizer.json"), encoding="utf-8") as f:
        tok = json.load(f)
    with open(os.path.join(out, "tokenizer.json"), "w", encoding="utf-8") as f:
        json.dump(tok, f, ensure_ascii=False, indent=2)
    specials = {str(t["id"]): {k: t[k] for k in ("content", "lstrip", "normalized", "rstrip",
                                                   "single_word", "special")}
                for t in tok["added_tokens"]}
    tok_cfg = {
        "added_tokens_decoder": specials,
        "bos_token": "<|begin_of_text|>",
        "chat_template": CHAT_TEMPLATE,
        "clean_up_tokenization_spaces": True,
        "eos_token": "<|eot_id|>",
        "model_input_names": ["input_ids", "attention_mask"],
        "model_max_length": cfg["max_position_embeddings"],
        "tokenizer_class": "PreTrainedTokenizerFast",
    }
    with open(os.path.join(out, "tokenizer_config.json"), "w", encoding="utf-8") as f:
        json.dump(tok_cfg, f, ensure_ascii=False, indent=2)
        f.write("\n")
    gen = {"bos_token_id": cfg["bos_token_id"], "do_sample": True,
           "eos_token_id": cfg["eos_token_id"], "temperature": 0.6, "top_p": 0.9}
    with open(os.path.join(out, "generation_config.json"), "w") as f:
        json.dump(gen, f, indent=2)
        f.write("\n")
    print(f"wrote {out}: {len(tensors)} tensors, "
          f"{sum(t.size for t in tensors.values()):,} parameters")


if __name__ == "__main__":
    main()
