"""Format oracle for exported SFT lines: each line's messages (and tools),
rendered with Qwen2.5's real chat template (tests/tokenizer/
qwen25_chat_template.jinja, Jinja2 as transformers' apply_chat_template runs
it) must equal tkd's own rendering (`tkd tokenize --chat --render`), which is
what `tkd train` trains on. The line is handed to both as written: arguments
are JSON objects already, so nothing is converted on the way.
  check_format.py FILE.jsonl ...   (exit 77 without python3-jinja2)
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


def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[loopcontrols])
env.filters["tojson"] = tojson
with open(os.path.join(src, "tests", "tokenizer", "qwen25_chat_template.jinja"), encoding="utf-8") as f:
    template = env.from_string(f.read())

n = bad = calls = tools = 0
for path in sys.argv[1:]:
    for line in open(path, encoding="utf-8"):
        x = json.loads(line)
        want = template.render(messages=x["messages"], tools=x.get("tools"), add_generation_prompt=False)
        p = subprocess.run([tkd, "tokenize", "--chat", "--render"], input=line.encode(), capture_output=True)
        got = p.stdout.decode()
        n += 1
        calls += sum(len(m.get("tool_calls") or []) for m in x["messages"])
        tools += bool(x.get("tools"))
        if p.returncode or got != want:
            bad += 1
            if bad <= 3:
                print(f"FAIL {path}: {x['id']} sample {x['sample']}\n  want {json.dumps(want)[:600]}\n"
                      f"  got  {json.dumps(got)[:600]}\n  {p.stderr.decode()}")
print(f"{'ok  ' if not bad else 'FAIL'} format oracle: {n} lines ({tools} with tools, {calls} tool calls), "
      f"{bad} differ from Qwen2.5's chat template")
sys.exit(1 if bad or not n else 0)
