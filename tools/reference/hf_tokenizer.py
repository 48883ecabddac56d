#!/usr/bin/python3
"""Byte-level BPE tokenizer built from a Hugging Face ``tokenizer.json``.

Supports the schema used by Meta Llama 3 (and GPT-2 style byte-level BPE):

* ``model.type == "BPE"`` with a byte-level vocabulary (GPT-2 bytes-to-unicode map),
  ``model.merges`` given either as ``"a b"`` strings or as ``["a", "b"]`` pairs,
  and ``model.ignore_merges`` (a pre-token that is itself in the vocabulary becomes a
  single token without running the merges).
* ``pre_tokenizer``: ``Split`` (with a ``Regex`` or ``String`` pattern, behaviour
  ``Isolated``), ``ByteLevel`` (``use_regex`` true uses the GPT-2 regex,
  ``add_prefix_space``), or a ``Sequence`` of those.
* ``added_tokens``: special tokens are split out of the text before pre-tokenization
  when ``allow_special`` is true (the default); non-special added tokens always are.
* ``decoder``: ids -> bytes (byte-level) -> UTF-8 text.

No third-party dependency besides the ``regex`` module (needed for ``\\p{L}``/``\\p{N}``).
Not supported (raises): normalizers other than null, BPE dropout, byte_fallback,
continuing_subword_prefix / end_of_word_suffix.

Command line::

    /usr/bin/python3 tools/reference/hf_tokenizer.py TOKENIZER_JSON "some text" [--bos]
    /usr/bin/python3 tools/reference/hf_tokenizer.py TOKENIZER_JSON --decode 9906 1917
"""

import json
import sys

import regex

# GPT-2 regex, used by ByteLevel(use_regex=true).
GPT2_PATTERN = r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""


def bytes_to_unicode():
    """GPT-2's reversible byte -> printable unicode character map (256 entries)."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("\u00a1"), ord("\u00ac") + 1)) \
        + list(range(ord("\u00ae"), ord("\u00ff") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {b: chr(c) for b, c in zip(bs, cs)}


BYTE_ENCODER = bytes_to_unicode()
BYTE_DECODER = {c: b for b, c in BYTE_ENCODER.items()}


class _Split:
    """Split pre-tokenizer, behaviour Isolated (matches and gaps both become pieces)."""

    def __init__(self, pattern, invert=False):
        self.re = regex.compile(pattern)
        self.invert = invert

    def __call__(self, pieces):
        out = []
        for text in pieces:
            pos = 0
            for m in self.re.finditer(text):
                if m.start() == m.end():
                    continue
                if m.start() > pos:
                    out.append(text[pos:m.start()])
                out.append(m.group(0))
                pos = m.end()
            if pos < len(text):
                out.append(text[pos:])
        return out


class _ByteLevel:
    def __init__(self, add_prefix_space=False, use_regex=True):
        self.add_prefix_space = add_prefix_space
        self.split = _Split(GPT2_PATTERN) if use_regex else None

    def __call__(self, pieces):
        if self.add_prefix_space:
            pieces = [p if p.startswith(" ") else " " + p for p in pieces[:1]] + pieces[1:]
        if self.split is not None:
            pieces = self.split(pieces)
        return pieces  # byte mapping is applied later, for every pipeline


def _build_pre_tokenizer(spec):
    if spec is None:
        return []
    t = spec["type"]
    if t == "Sequence":
        steps = []
        for s in spec["pretokenizers"]:
            steps.extend(_build_pre_tokenizer(s))
        return steps
    if t == "Split":
        behavior = spec.get("behavior", "Isolated")
        if behavior != "Isolated":
            raise ValueError("Split behavior %r not supported" % behavior)
        pat = spec["pattern"]
        if "Regex" in pat:
            pattern = pat["Regex"]
        else:
            pattern = regex.escape(pat["String"])
        return [_Split(pattern, spec.get("invert", False))]
    if t == "ByteLevel":
        return [_ByteLevel(spec.get("add_prefix_space", False), spec.get("use_regex", True))]
    raise ValueError("pre_tokenizer type %r not supported" % t)


class HFTokenizer:
    """Encoder/decoder for a byte-level BPE ``tokenizer.json``."""

    def __init__(self, path_or_dict):
        if isinstance(path_or_dict, dict):
            spec = path_or_dict
        else:
            with open(path_or_dict, "r", encoding="utf-8") as f:
                spec = json.load(f)
        model = spec["model"]
        if model.get("type", "BPE") != "BPE":
            raise ValueError("model.type %r not supported" % model.get("type"))
        if model.get("dropout"):
            raise ValueError("BPE dropout not supported")
        if model.get("byte_fallback"):
            raise ValueError("byte_fallback not supported")
        if model.get("continuing_subword_prefix") or model.get("end_of_word_suffix"):
            raise ValueError("subword prefix/suffix not supported")
        if spec.get("normalizer") is not None:
            raise ValueError("normalizer %r not supported" % spec["normalizer"].get("type"))

        self.vocab = dict(model["vocab"])
        self.ignore_merges = bool(model.get("ignore_merges", False))
        self.merge_ranks = {}
        for rank, m in enumerate(model.get("merges", [])):
            if isinstance(m, str):
                a, b = m.split(" ", 1)  # HF splits on the first space
            else:
                a, b = m
            self.merge_ranks.setdefault((a, b), rank)

        self.added = {}  # content -> (id, special, lstrip, rstrip)
        for tok in spec.get("added_tokens", []):
            self.added[tok["content"]] = (tok["id"], bool(tok.get("special", False)),
                                          bool(tok.get("lstrip", False)),
                                          bool(tok.get("rstrip", False)))
        self.id_to_token = {i: s for s, i in self.vocab.items()}
        for content, (i, _, _, _) in self.added.items():
            self.id_to_token[i] = content
        self.special_ids = {i for (i, special, _, _) in self.added.values() if special}

        self._pre = _build_pre_tokenizer(spec.get("pre_tokenizer"))
        # Longest content first, so that a token that is a prefix of another loses.
        self._special_re = self._alternation([c for c, v in self.added.items()])
        self._nonspecial_re = self._alternation([c for c, v in self.added.items() if not v[1]])
        self._cache = {}

        self.bos_token_id = self.added.get("<|begin_of_text|>", (None,))[0]
        self.eos_token_id = self.added.get("<|end_of_text|>", (None,))[0]
        self.eot_token_id = self.added.get("<|eot_id|>", (None,))[0]

    @staticmethod
    def _alternation(contents):
        if not contents:
            return None
        contents = sorted(contents, key=lambda c: (-len(c), c))
        return regex.compile("|".join(regex.escape(c) for c in contents))

    @property
    def vocab_size(self):
        return max(self.id_to_token) + 1

    def token_to_id(self, token):
        if token in self.added:
            return self.added[token][0]
        return self.vocab.get(token)

    def id_to_token_str(self, i):
        return self.id_to_token.get(i)

    # ---------------------------------------------------------------- encode

    def _split_added(self, text, allow_special):
        """Returns a list of (is_added_token_id or None, text)."""
        rx = self._special_re if allow_special else self._nonspecial_re
        if rx is None:
            return [(None, text)]
        out = []
        pos = 0
        for m in rx.finditer(text):
            tid, _, lstrip, rstrip = self.added[m.group(0)]
            start, end = m.start(), m.end()
            if start < pos:
                continue  # swallowed by a previous rstrip
            seg = text[pos:start]
            if lstrip:
                seg = seg.rstrip()
            if seg:
                out.append((None, seg))
            out.append((tid, m.group(0)))
            pos = end
            if rstrip:
                while pos < len(text) and text[pos].isspace():
                    pos += 1
        if pos < len(text):
            out.append((None, text[pos:]))
        return out

    def pre_tokenize(self, text):
        """Pre-tokenizer pieces of ``text`` (no added-token handling), as str."""
        pieces = [text]
        for step in self._pre:
            pieces = step(pieces)
        return [p for p in pieces if p]

    def _bpe(self, word):
        """word: byte-level string (GPT-2 map applied). Returns list of token ids."""
        cached = self._cache.get(word)
        if cached is not None:
            return cached
        if self.ignore_merges and word in self.vocab:
            ids = [self.vocab[word]]
        else:
            symbols = list(word)
            ranks = self.merge_ranks
            while len(symbols) > 1:
                best = None
                best_rank = None
                for i in range(len(symbols) - 1):
                    r = ranks.get((symbols[i], symbols[i + 1]))
                    if r is not None and (best_rank is None or r < best_rank):
                        best_rank = r
                        best = (symbols[i], symbols[i + 1])
                if best is None:
                    break
                a, b = best
                merged = []
                i = 0
                n = len(symbols)
                while i < n:
                    if i < n - 1 and symbols[i] == a and symbols[i + 1] == b:
                        merged.append(a + b)
                        i += 2
                    else:
                        merged.append(symbols[i])
                        i += 1
                symbols = merged
            ids = []
            for s in symbols:
                tid = self.vocab.get(s)
                if tid is None:
                    raise ValueError("symbol %r not in vocabulary (no unk token)" % s)
                ids.append(tid)
        if len(self._cache) < 200000:
            self._cache[word] = ids
        return ids

    def encode(self, text, add_bos=False, allow_special=True):
        """Text -> list of ids. ``add_bos`` prepends <|begin_of_text|>."""
        ids = []
        if add_bos:
            if self.bos_token_id is None:
                raise ValueError("tokenizer has no <|begin_of_text|>")
            ids.append(self.bos_token_id)
        for tid, seg in self._split_added(text, allow_special):
            if tid is not None:
                ids.append(tid)
                continue
            for piece in self.pre_tokenize(seg):
                word = "".join(BYTE_ENCODER[b] for b in piece.encode("utf-8"))
                ids.extend(self._bpe(word))
        return ids

    # ---------------------------------------------------------------- decode

    def decode_bytes(self, ids, skip_special_tokens=False):
        out = bytearray()
        for i in ids:
            i = int(i)
            tok = self.id_to_token.get(i)
            if tok is None:
                raise ValueError("unknown id %d" % i)
            if tok in self.added and tok not in self.vocab:
                if skip_special_tokens and i in self.special_ids:
                    continue
                out += tok.encode("utf-8")
            else:
                out += bytes(BYTE_DECODER[c] for c in tok)
        return bytes(out)

    def decode(self, ids, skip_special_tokens=False):
        return self.decode_bytes(ids, skip_special_tokens).decode("utf-8", errors="replace")


def chat_prompt(user_message, add_bos=True):
    """Llama 3 chat template text for one user turn followed by the assistant header."""
    s = "<|begin_of_text|>" if add_bos else ""
    return (s + "<|start_header_id|>user<|end_header_id|>\n\n" + user_message.strip()
            + "<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n")


def main(argv):
    import argparse
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("tokenizer_json")
    ap.add_argument("text", nargs="*")
    ap.add_argument("--bos", action="store_true", help="prepend <|begin_of_text|>")
    ap.add_argument("--no-special", action="store_true",
                    help="treat special-token text as ordinary text")
    ap.add_argument("--decode", action="store_true", help="arguments are ids to decode")
    args = ap.parse_intermixed_args(argv)
    tok = HFTokenizer(args.tokenizer_json)
    if args.decode:
        print(tok.decode([int(x) for x in args.text]))
    else:
        text = " ".join(args.text)
        print(tok.encode(text, add_bos=args.bos, allow_special=not args.no_special))


if __name__ == "__main__":
    main(sys.argv[1:])
