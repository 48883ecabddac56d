#!/usr/bin/python3
"""Byte-level BPE with Llama 3's pre-tokenizer and special tokens.

`train_bpe` learns merges from a word-frequency table; `BpeTokenizer` encodes and decodes
exactly as a Hugging Face `tokenizer.json` in Meta's Llama 3 schema does (pre-tokenization
regex, GPT-2 byte-to-unicode alphabet, merges applied by rank, `ignore_merges`: a pre-token
that is itself in the vocabulary is one token). `to_tokenizer_json` writes that schema.

This is the *training* tokenizer. tools/reference/hf_tokenizer.py is an independent encoder
that reads only tokenizer.json; verify.py checks that both give the same ids.
"""
import collections
import heapq

import regex

# Meta Llama 3's pre-tokenization pattern (tokenizer.json, pre_tokenizer.pretokenizers[0]).
LLAMA3_PATTERN = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}"
                  r"| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")
PRE_TOKENIZER = regex.compile(LLAMA3_PATTERN)


def llama3_special_tokens(count=256):
    """Llama 3.1/3.2 special tokens in Meta's order, `count` of them (the first id is BOS)."""
    named = {0: "<|begin_of_text|>", 1: "<|end_of_text|>", 4: "<|finetune_right_pad_id|>",
             6: "<|start_header_id|>", 7: "<|end_header_id|>", 8: "<|eom_id|>", 9: "<|eot_id|>",
             10: "<|python_tag|>"}
    out, reserved = [], 0
    for i in range(count):
        if i in named:
            out.append(named[i])
        else:
            out.append(f"<|reserved_special_token_{reserved}|>")
            reserved += 1
    return out


def bytes_to_unicode():
    """GPT-2's reversible map from the 256 byte values to printable unicode characters."""
    printable = (list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1))
                 + list(range(ord("®"), ord("ÿ") + 1)))
    chars = printable[:]
    extra = 0
    for b in range(256):
        if b not in printable:
            printable.append(b)
            chars.append(256 + extra)
            extra += 1
    return {b: chr(c) for b, c in zip(printable, chars)}


BYTE_TO_CHAR = bytes_to_unicode()
CHAR_TO_BYTE = {c: b for b, c in BYTE_TO_CHAR.items()}


def to_symbols(piece):
    """A pre-token as its byte-level characters (one per UTF-8 byte)."""
    return "".join(BYTE_TO_CHAR[b] for b in piece.encode("utf-8"))


def word_counts(texts):
    counts = collections.Counter()
    for text in texts:
        counts.update(PRE_TOKENIZER.findall(text))
    return counts


def train_bpe(counts, n_merges, progress=None):
    """Learn `n_merges` merges, most frequent pair first (ties broken by the pair itself so
    the result does not depend on dict order). Returns the list of (left, right) pairs."""
    words = []      # list of symbol lists
    freqs = []
    for piece, c in counts.items():
        words.append(list(to_symbols(piece)))
        freqs.append(c)
    pair_counts = collections.Counter()
    where = collections.defaultdict(set)
    for wi, (w, f) in enumerate(zip(words, freqs)):
        for a, b in zip(w, w[1:]):
            pair_counts[(a, b)] += f
            where[(a, b)].add(wi)
    # Max-heap on (count, pair) with lazy invalidation; ties: lexicographically smallest pair.
    heap = [(-c, p) for p, c in pair_counts.items()]
    heapq.heapify(heap)
    merges = []
    while len(merges) < n_merges and heap:
        negc, pair = heapq.heappop(heap)
        if pair_counts.get(pair, 0) != -negc or negc == 0:
            continue
        merges.append(pair)
        a, b = pair
        merged = a + b
        changed = collections.Counter()
        for wi in list(where[pair]):
            w, f = words[wi], freqs[wi]
            i, out = 0, []
            hit = False
            while i < len(w):
                if i + 1 < len(w) and w[i] == a and w[i + 1] == b:
                    out.append(merged)
                    i += 2
                    hit = True
                else:
                    out.append(w[i])
                    i += 1
            if not hit:
                continue
            for x, y in zip(w, w[1:]):
                changed[(x, y)] -= f
            for x, y in zip(out, out[1:]):
                changed[(x, y)] += f
                where[(x, y)].add(wi)
            words[wi] = out
        del pair_counts[pair]
        where.pop(pair, None)
        for p, d in changed.items():
            if d == 0 or p == pair:
                continue
            pair_counts[p] += d
            if pair_counts[p] > 0:
                heapq.heappush(heap, (-pair_counts[p], p))
            else:
                del pair_counts[p]
        if progress and len(merges) % 500 == 0:
            progress(len(merges))
    return merges


class BpeTokenizer:
    def __init__(self, merges, special_tokens):
        self.merges = list(merges)
        self.vocab = {}
        for b in range(256):
            self.vocab[BYTE_TO_CHAR[b]] = len(self.vocab)
        # Byte tokens in id order of their unicode character, as GPT-2/Llama 3 list them.
        self.vocab = {ch: i for i, ch in enumerate(sorted(self.vocab, key=lambda ch: ord(ch)))}
        for a, b in self.merges:
            if a + b not in self.vocab:
                self.vocab[a + b] = len(self.vocab)
        self.ranks = {pair: r for r, pair in enumerate(self.merges)}
        self.n_base = len(self.vocab)
        self.special = {tok: self.n_base + i for i, tok in enumerate(special_tokens)}
        self.id_to_token = {i: t for t, i in self.vocab.items()}
        self.id_to_token.update({i: t for t, i in self.special.items()})
        self.cache = {}
        self.special_re = regex.compile("|".join(regex.escape(t) for t in special_tokens))

    @property
    def vocab_size(self):
        return self.n_base + len(self.special)

    @property
    def bos_id(self):
        return self.special["<|begin_of_text|>"]

    def _bpe(self, symbols):
        if symbols in self.vocab:          # ignore_merges: a known pre-token is one token
            return [self.vocab[symbols]]
        word = list(symbols)
        while len(word) > 1:
            best, best_rank = None, None
            for i in range(len(word) - 1):
                r = self.ranks.get((word[i], word[i + 1]))
                if r is not None and (best_rank is None or r < best_rank):
                    best, best_rank = i, r
            if best is None:
                break
            a, b = word[best], word[best + 1]
            out, i = [], 0
            while i < len(word):
                if i + 1 < len(word) and word[i] == a and word[i + 1] == b:
                    out.append(a + b)
                    i += 2
                else:
                    out.append(word[i])
                    i += 1
            word = out
        return [self.vocab[s] for s in word]

    def encode_ordinary(self, text):
        ids = []
        for piece in PRE_TOKENIZER.findall(text):
            got = self.cache.get(piece)
            if got is None:
                got = self._bpe(to_symbols(piece))
                if len(self.cache) < 500_000:
                    self.cache[piece] = got
            ids.extend(got)
        return ids

    def encode(self, text, bos=False, allow_special=True):
        ids = [self.bos_id] if bos else []
        if not allow_special:
            return ids + self.encode_ordinary(text)
        pos = 0
        for m in self.special_re.finditer(text):
            ids.extend(self.encode_ordinary(text[pos:m.start()]))
            ids.append(self.special[m.group()])
            pos = m.end()
        ids.extend(self.encode_ordinary(text[pos:]))
        return ids

    def decode(self, ids):
        out = bytearray()
        for i in ids:
            tok = self.id_to_token[int(i)]
            if tok in self.special:
                out.extend(tok.encode("utf-8"))
            else:
                out.extend(CHAR_TO_BYTE[c] for c in tok)
        return out.decode("utf-8", errors="replace")

    def to_tokenizer_json(self):
        """The Hugging Face tokenizer.json of Meta's Llama 3, with this vocabulary."""
        bos = "<|begin_of_text|>"
        return {
            "version": "1.0",
            "truncation": None,
            "padding": None,
            "added_tokens": [
                {"id": i, "content": t, "single_word": False, "lstrip": False, "rstrip": False,
                 "normalized": False, "special": True}
                for t, i in self.special.items()],
            "normalizer": None,
            "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
                {"type": "Split", "pattern": {"Regex": LLAMA3_PATTERN}, "behavior": "Isolated",
                 "invert": False},
                {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True,
                 "use_regex": False}]},
            "post_processor": {"type": "Sequence", "processors": [
                {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": False,
                 "use_regex": True},
                {"type": "TemplateProcessing",
                 "single": [{"SpecialToken": {"id": bos, "type_id": 0}},
                            {"Sequence": {"id": "A", "type_id": 0}}],
                 "pair": [{"SpecialToken": {"id": bos, "type_id": 0}},
                          {"Sequence": {"id": "A", "type_id": 0}},
                          {"SpecialToken": {"id": bos, "type_id": 1}},
                          {"Sequence": {"id": "B", "type_id": 1}}],
                 "special_tokens": {bos: {"id": bos, "ids": [self.bos_id], "tokens": [bos]}}}]},
            "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True,
                        "use_regex": True},
            "model": {"type": "BPE", "dropout": None, "unk_token": None,
                      "continuing_subword_prefix": None, "end_of_word_suffix": None,
                      "fuse_unk": False, "byte_fallback": False, "ignore_merges": True,
                      "vocab": self.vocab,
                      "merges": [f"{a} {b}" for a, b in self.merges]},
        }
