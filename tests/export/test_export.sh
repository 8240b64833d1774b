#!/usr/bin/env bash
# export: tkd export end to end on stores made by solve (against the scripted
# test server) and back-translation (a fixture store written with the store
# API, following the bt phase's record contract: tests/export/make_bt.py):
#  - every example's origin (pid, sample) is a record of its store; the
#    manifest's counts add up; a problem is never split; each filter stage
#    fires on the records planted for it (check_export.py);
#  - a benchmark problem (with changed whitespace and case) is dropped and listed;
#  - a re-run gives byte-identical files;
#  - format oracle: each line rendered by Qwen2.5's Jinja template equals tkd's rendering;
#  - tkd train runs one step on each variant.
xdir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$xdir/../solve/lib.sh"
FIX=$TKD_BUILD_DIR/bin/store_from_jsonl
[ -x "$FIX" ] || fail "store_from_jsonl not built"

fixture 40
# full written solutions, so the gold variant has something to teach
/usr/bin/python3 - "$work/problems.jsonl" <<'PY'
import json, sys
ps = [json.loads(l) for l in open(sys.argv[1])]
with open(sys.argv[1], "w") as f:
    for p in ps:
        a, b = [int(x) for x in p["problem"][len("What is "):-1].split(" + ")]
        p["solution"] = f"Adding the numbers, ${a} + {b} = \\boxed{{{a + b}}}$."
        f.write(json.dumps(p) + "\n")
PY
# the benchmark: problem t/00000 written differently (spacing, case)
/usr/bin/python3 -c '
import json, sys
p = json.loads(open(sys.argv[1]).readline())
print(json.dumps({"id": "b1", "problem": "  WHAT   is " + p["problem"][8:].replace(" + ", "+"), "solution": "1"}))
print(json.dumps({"id": "b2", "problem": "Find the number of primes below one hundred that end in 3.", "solution": "7"}))' \
  "$work/problems.jsonl" > "$work/bench.jsonl"
start_server
"$TKD" model init <(echo '{"hidden_size": 32, "num_hidden_layers": 1, "num_attention_heads": 2, "num_key_value_heads": 1,
  "intermediate_size": 64, "vocab_size": 384, "max_position_embeddings": 4096, "rope_theta": 10000.0,
  "rms_norm_eps": 1e-6, "tie_word_embeddings": true, "eos_token_id": 1, "bos_token_id": 2}') "$work/base" --seed 4 >/dev/null
SAMPLES=3 job "$work/job.json" "$work/out" '"eval": {"benchmarks": [{"name": "planted", "path": "'"$work"'/bench.jsonl", "format": "bench"}]},
 "export": {"tokenizer": "'"$work"'/base", "max_tokens": 100000, "valid_fraction": 0.2},
 "train": {"model_dir": "'"$work"'/base", "seq_len": 2048, "steps": 1, "log_every": 1, "checkpoint_every": 0}'
"$TKD" data import "$work/job.json" >/dev/null
"$TKD" solve "$work/job.json" -q 2>"$work/solve.log" || { cat "$work/solve.log"; fail "solve"; }
"$TKD" store merge "$work/out/shards/solve" "$work/out/solve.h5" >/dev/null
"$TKD" store export "$work/out/solve.h5" --what traces --jsonl "$work/traces.jsonl" >/dev/null
"$TKD" store export "$work/out/problems.h5" --what problems --jsonl "$work/problems_store.jsonl" >/dev/null
/usr/bin/python3 "$xdir/make_bt.py" < "$work/traces.jsonl" > "$work/bt.jsonl"
"$FIX" backtranslate "$work/out/backtranslate.h5" < "$work/bt.jsonl" 2>/dev/null || fail "bt fixture"
ok "stores: $(wc -l < "$work/traces.jsonl") solve traces, $(wc -l < "$work/bt.jsonl") back-translation records"

"$TKD" export "$work/job.json" > "$work/export.out" 2>"$work/export.log" || { cat "$work/export.log"; fail "export"; }
cat "$work/export.out"
/usr/bin/python3 "$xdir/check_export.py" "$work/out/sft" "$work/traces.jsonl" "$work/bt.jsonl" \
  "$work/problems_store.jsonl" t/00000 || fail "export contents"
# each stage fires where the fixture planted it (make_bt.py's cycle; 3 identical scripted samples per problem)
/usr/bin/python3 - "$work/out/sft" <<'PY' || fail "filter stages"
import json, sys
d = {v: json.load(open(f"{sys.argv[1]}/{v}/manifest.json"))["counts"]["dropped"] for v in ("nl", "tir", "gold")}
want = {"nl": ["status", "unknown_problem", "decontaminated", "malformed", "answer", "dedup_near"],
        "tir": ["status", "decontaminated", "dedup_exact"], "gold": ["decontaminated"]}
bad = [(v, s) for v, ss in want.items() for s in ss if not d[v][s]]
print("ok   every planted filter fired" if not bad else f"FAIL stages that dropped nothing: {bad}")
sys.exit(1 if bad else 0)
PY

# the length filter counts tokens with the student's tokenizer, chat template and tools included
"$TKD" export "$work/job.json" -q --set export.out_dir="$work/short" --set export.max_tokens=400 >/dev/null \
  || fail "export with max_tokens"
/usr/bin/python3 - "$work/short" "$TKD" "$work/base" <<'PY' || fail "length filter"
import json, subprocess, sys
d, tkd, tok = sys.argv[1:4]
dropped = kept = worst = 0
for v in ("nl", "tir", "gold"):
    dropped += json.load(open(f"{d}/{v}/manifest.json"))["counts"]["dropped"]["length"]
    for part in ("train", "valid"):
        for line in open(f"{d}/{v}/{part}.jsonl"):
            n = len(json.loads(subprocess.run([tkd, "tokenize", tok, "--chat"], input=line.encode(),
                                              capture_output=True, check=True).stdout)["ids"])
            worst, kept = max(worst, n), kept + 1
ok = dropped > 0 and kept > 0 and worst <= 400
print(f"{'ok  ' if ok else 'FAIL'} length filter: {dropped} dropped over 400 tokens, {kept} kept (longest {worst})")
sys.exit(0 if ok else 1)
PY

# export.decontaminate: extra files, besides eval.benchmarks[]
"$TKD" export "$work/job.json" -q --set export.out_dir="$work/extra" --set 'eval.benchmarks=[]' \
  --set export.decontaminate='["'"$work"'/bench.jsonl"]' --set 'export.variants=["gold"]' >/dev/null || fail "export.decontaminate"
grep -q '"id": "t/00000"' "$work/extra/gold/manifest.json" && ! grep -q '"t/00000"' "$work"/extra/gold/*.jsonl \
  && ok "export.decontaminate files are decontaminated against" || fail "export.decontaminate"

# tir from calls the teacher wrote as <tool_call> text (tool_call_format hermes) becomes native calls;
# arguments with an integer beyond 64 bits (which tkd train's JSON reader refuses) drop the trace as malformed
/usr/bin/python3 - "$work/problems_store.jsonl" > "$work/hermes.jsonl" <<'PY'
import json, sys
p = [json.loads(l) for l in open(sys.argv[1])][5]
a, b = [int(x) for x in p["problem"][len("What is "):-1].split(" + ")]
for k, arg in enumerate(['{"expression": "%d + %d"}' % (a, b), '{"numbers": [%d, 123456789012345678901234567890]}' % a]):
    name = "simplify_expression" if k == 0 else "gcd"
    msgs = [{"role": "system", "content": "teacher"}, {"role": "user", "content": "Problem: " + p["problem"]},
            {"role": "assistant", "content": 'Let me compute.\n<tool_call>\n{"name": "%s", "arguments": %s}\n</tool_call>' % (name, arg)},
            {"role": "tool", "tool_call_id": "call_0", "name": name, "content": '{"result":"%d"}' % (a + b)},
            {"role": "assistant", "content": "So the answer is \\boxed{%d}." % (a + b)}]
    calls = [{"turn": 1, "id": "call_0", "name": name, "arguments": arg, "result": '{"result":"1"}', "status": "ok"}]
    print(json.dumps({"pid": p["pid"], "sample": k, "status": "correct", "text": {"id": p["id"], "pid": p["pid"],
                      "sample": k, "status": "correct", "messages": msgs, "calls": calls}}))
PY
"$FIX" solve "$work/hermes.h5" < "$work/hermes.jsonl" 2>/dev/null || fail "hermes fixture"
"$TKD" export "$work/job.json" -q --set export.out_dir="$work/hermes" --set export.solve_store="$work/hermes.h5" \
  --set 'export.variants=["tir"]' --set 'eval.benchmarks=[]' --set export.valid_fraction=0 >/dev/null || fail "export hermes"
/usr/bin/python3 - "$work/hermes/tir" <<'PY' || fail "tir from <tool_call> text"
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1] + "/train.jsonl")]
m = json.load(open(sys.argv[1] + "/manifest.json"))["counts"]["dropped"]
a = lines[0]["messages"][2] if len(lines) == 1 else {}
ok = (len(lines) == 1 and m["malformed"] == 1 and a.get("content") == "Let me compute."
      and a["tool_calls"][0]["function"]["arguments"] == {"expression": a["tool_calls"][0]["function"]["arguments"].get("expression")}
      and isinstance(a["tool_calls"][0]["function"]["arguments"]["expression"], str))
print(("ok  " if ok else "FAIL") + " tir: <tool_call> text becomes a native call; a 100-bit integer argument is malformed")
sys.exit(0 if ok else 1)
PY

# a re-run writes the same bytes
cp -r "$work/out/sft" "$work/sft1"
"$TKD" export "$work/job.json" -q >/dev/null || fail "second export"
diff -r "$work/sft1" "$work/out/sft" >/dev/null && ok "re-run: byte-identical files ($(ls "$work"/sft1/*/* | wc -l) files)" \
  || fail "re-run differs: $(diff -rq "$work/sft1" "$work/out/sft")"

# format oracle; the solver's follow-up prompts kept as user turns render too
"$TKD" export "$work/job.json" -q --set export.out_dir="$work/keep" --set export.tir_follow_ups=keep \
  --set export.variants='["tir"]' >/dev/null || fail "export keep"
rc=0
/usr/bin/python3 "$xdir/check_format.py" "$work"/out/sft/*/train.jsonl "$work"/out/sft/*/valid.jsonl \
  "$work/keep/tir/train.jsonl" || rc=$?
[ $rc = 0 ] || [ $rc = 77 ] || fail "format oracle"

# tkd train reads each variant as it is: one step each
for v in nl tir gold; do
  "$TKD" train "$work/job.json" -q --set train.data="$work/out/sft/$v/train.jsonl" \
    --set train.out_dir="$work/train_$v" >"$work/train_$v.log" 2>&1 || { cat "$work/train_$v.log"; fail "train on $v"; }
  loss=$(grep -o '"loss":[^,]*' "$work/train_$v/train_log.jsonl" | head -1 | cut -d: -f2)
  awk -v l="$loss" 'BEGIN { exit !(l > 0 && l < 100) }' || fail "train on $v: loss '$loss'"
  ok "tkd train: one step on $v, loss $loss"
done
echo "all export checks passed"
