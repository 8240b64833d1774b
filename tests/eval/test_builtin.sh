#!/usr/bin/env bash
# The builtin engine (tkd's own CPU generation) under tkd eval:
#  - a tiny Qwen2 trained by `tkd train` on 8 problems, with the student
#    prompt eval uses (student.system_prompt), answers all 8 right under
#    `tkd eval` on 2 ranks; the untrained base answers none;
#  - batched decode (batch 4, continuous batching) gives the same greedy
#    responses as batch 1 and as `tkd generate --chat-file`;
#  - a response cut at max_new_tokens is recorded with status length.
set -euo pipefail
: "${TKD:?TKD (the tkd CLI) must be set; run through ctest}"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
W=$(mktemp -d "${TMPDIR:-/tmp}/tkd-evalb.XXXXXX")
trap 'rm -rf "$W"' EXIT
cd "$W"
fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok   $*"; }

cat >cfg.json <<JSON
{"hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2,
 "intermediate_size": 128, "vocab_size": 384, "max_position_embeddings": 512, "rope_theta": 10000.0,
 "rms_norm_eps": 1e-6, "tie_word_embeddings": true, "eos_token_id": 1, "bos_token_id": 2}
JSON
"$TKD" model init cfg.json base --seed 4 >/dev/null
echo "Answer in a box." >system.txt
/usr/bin/python3 - <<'PY'
import json, random
rng = random.Random(3)
with open("bench.jsonl", "w") as b, open("sft.jsonl", "w") as s, open("chats.jsonl", "w") as c:
    for i in range(8):
        x, y = rng.randrange(10, 99), rng.randrange(10, 99)
        q = f"Add {x} and {y}."
        b.write(json.dumps({"id": f"{i}", "problem": q, "solution": str(x + y)}) + "\n")
        msgs = [{"role": "system", "content": "Answer in a box."}, {"role": "user", "content": q}]
        s.write(json.dumps({"messages": msgs + [{"role": "assistant", "content": f"{x}+{y} = \\boxed{{{x + y}}}"}]}) + "\n")
        c.write(json.dumps({"messages": msgs}) + "\n")
PY
printf '{"output_dir": "%s/fit", "seed": 5, "train": {"model_dir": "%s/base", "data": "%s/sft.jsonl", "seq_len": 128, "log_every": 0}}\n' \
  "$W" "$W" "$W" >train.json
"$TKD" train train.json --set train.full_finetune=true --set train.lr=3e-3 --set train.steps=200 \
  --set train.batch=2 --set train.packing=true --set train.warmup_steps=10 --set train.checkpoint_every=0 -q
job() { # job FILE OUT BATCH MAX_NEW
  cat >"$1" <<JSON
{"output_dir": "$W/$2", "seed": 9, "student": {"system_prompt": "$W/system.txt"},
 "eval": {"samples_per_problem": 1, "temperature": 0, "max_new_tokens": $4, "bootstrap": 100,
          "arms": [{"name": "fit", "engine": "builtin", "model_dir": "$W/fit/train/model", "batch": $3},
                   {"name": "base", "engine": "builtin", "model_dir": "$W/base", "batch": $3}],
          "benchmarks": [{"name": "add", "path": "$W/bench.jsonl", "format": "bench"}]},
 "dist": {"lease_max": 4, "progress_every_s": 5}}
JSON
}
job b4.json out4 4 40
mpiexec -n 2 "$TKD" eval b4.json >run4.log 2>&1 || { tail -20 run4.log; fail "tkd eval (builtin, 2 ranks) failed"; }
grep -q "all done: 16/16 samples done" run4.log || { tail -20 run4.log; fail "not all done"; }
acc() { /usr/bin/python3 -c "import json; r = json.load(open('$1/eval/results.json')); print(r['arms']['$2']['benchmarks']['add']['accuracy'])"; }
[ "$(acc out4 fit)" = 1.0 ] || { cat run4.log; fail "the trained model is not right on all 8 problems: $(acc out4 fit)"; }
[ "$(acc out4 base)" = 0.0 ] || fail "the untrained base is right on some: $(acc out4 base)"
ok "builtin engine, 2 ranks: the trained model answers 8/8 right, the base 0/8"

responses() { # responses OUT ARM: one response per line, in problem order
  "$TKD" store export "$W/$1/eval.h5" --what traces --jsonl - 2>/dev/null | /usr/bin/python3 -c "
import json, sys
rows = sorted((json.loads(l)['text'] for l in sys.stdin), key=lambda d: (d['arm'], int(d['id'].split('/')[1])))
for d in rows:
    if d['arm'] == '$2': print(json.dumps(d['response']))"
}
job b1.json out1 1 40
"$TKD" eval b1.json >run1.log 2>&1 || { tail -20 run1.log; fail "tkd eval (builtin, batch 1) failed"; }
responses out4 fit >r4.txt
responses out1 fit >r1.txt
cmp -s r4.txt r1.txt || { diff r4.txt r1.txt | head; fail "batch 4 and batch 1 give different greedy responses"; }
responses out4 base >b4.txt
responses out1 base >b1.txt
cmp -s b4.txt b1.txt || fail "batch 4 and batch 1 give different greedy responses (base)"
"$TKD" generate fit/train/model --chat-file chats.jsonl --max-new 40 --json |
  /usr/bin/python3 -c "import json, sys; [print(json.dumps(json.loads(l)['text'])) for l in sys.stdin]" >g.txt
cmp -s r4.txt g.txt || { diff r4.txt g.txt | head; fail "tkd eval and tkd generate give different greedy responses"; }
ok "greedy responses: batch 4 (continuous batching) = batch 1 = tkd generate, for both arms"

job bl.json outl 4 3
"$TKD" eval bl.json >runl.log 2>&1 || { tail -20 runl.log; fail "tkd eval (max_new_tokens 3) failed"; }
"$TKD" store export outl/eval.h5 --what traces --jsonl - 2>/dev/null | /usr/bin/python3 -c "
import json, sys
rows = [json.loads(l) for l in sys.stdin]
bad = [r for r in rows if r['status'] != 'length' or r['completion_tokens'] != 3 or r['text']['finish_reason'] != 'length']
sys.exit(1 if bad or len(rows) != 16 else 0)" || fail "responses cut at max_new_tokens are not recorded as length"
/usr/bin/python3 -c "import json; r = json.load(open('outl/eval/results.json')); assert r['arms']['fit']['benchmarks']['add']['length_share'] == 1.0" ||
  fail "length_share is not 1"
ok "max_new_tokens 3: every response recorded with status length, 3 tokens, finish_reason length; length_share 1"

# tkd generate --ids stops at the chat end tokens too (the model folder has a tokenizer)
ids=$(head -1 chats.jsonl | "$TKD" tokenize fit/train/model --chat --gen |
  /usr/bin/python3 -c "import json, sys; print(','.join(map(str, json.loads(sys.stdin.read())['ids'])))")
end=$(echo '<|im_end|>' | "$TKD" tokenize fit/train/model | awk '{print $1}')
out=$("$TKD" generate fit/train/model --ids "$ids" --max-new 40)
n=$(echo "$out" | tr ',' '\n' | grep -c . || true)
echo ",$out," | grep -q ",$end," && fail "--ids: the output holds <|im_end|> ($end): $out"
[ "$n" -lt 40 ] || fail "--ids did not stop at <|im_end|>: $n tokens"
ok "generate --ids stops at <|im_end|> after $n tokens, like --chat"

# job-file errors are refused with exit 2 and say what to fix
bad() { # bad NAME EXPECTED-MESSAGE --set ...
  local name=$1 want=$2
  shift 2
  set +e
  "$TKD" eval b4.json "$@" >bad.log 2>&1
  local rc=$?
  set -e
  [ $rc -eq 2 ] && grep -q "$want" bad.log || { cat bad.log; fail "$name: exit $rc, want 2 and '$want'"; }
}
bad "tir with builtin" "tir needs engine endpoint" --set eval.arms.0.mode=tir
bad "endpoint without url" "needs model and base_urls" --set eval.arms.0.engine=endpoint
bad "unknown arm key" "eval.arms\[0\].modle" --set eval.arms.0.modle=x
bad "duplicate arm" "is used twice" --set eval.arms.1.name=fit
bad "no benchmark" "eval.benchmarks is empty" --set 'eval.benchmarks=[]'
bad "missing benchmark file" "eval.benchmarks\[0\]" --set eval.benchmarks.0.path=/nonexistent.jsonl
ok "bad job files: exit 2 with a message naming the key"
# a benchmark without a name is named after its file (bench.jsonl -> bench; its problem ids bench/ID)
"$TKD" eval b4.json --metrics-only --set 'eval.benchmarks.0.name=' >noname.log 2>&1 || { cat noname.log; fail "--metrics-only without a benchmark name"; }
/usr/bin/python3 -c "
import json; b = json.load(open('out4/eval/results.json'))['arms']['fit']['benchmarks']
assert list(b) == ['bench'] and b['bench']['missing'] == 8, b" || fail "a benchmark without a name is not named after its file"
ok "a benchmark without a name is named after its file"
