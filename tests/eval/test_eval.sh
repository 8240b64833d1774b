#!/usr/bin/env bash
# The eval phase against a scripted student (tkd_testserver --script) whose
# every answer is known in advance: two endpoint arms, a MATH-shaped and a
# GSM8K-shaped benchmark, 4 samples per problem (right answers written three
# ways, wrong ones, none, responses cut at the length limit).
#  - mpiexec -n 2 and -n 4: every sample recorded once with the status,
#    answer, tokens and finish reason it was given; results.json equals the
#    metrics of the known truth and of an independent Python reference on the
#    exported records (tests/eval/check_eval.py); both runs give the same
#    results.json; --metrics-only rewrites it the same.
#  - kill -9 of a rank mid-run, then a re-run; SIGTERM to a plain process
#    mid-run (exit 3), then a re-run: nothing lost or duplicated, the same results.
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
test_prefix=eval
source "$here/../lib/phase_test.sh"
K=4 B=200 SEED=7
/usr/bin/python3 "$here/gen_fixture.py" "$work" base,tuned $K 30 20

start_server() { # start_server NAME ARGS...: sets port (two servers, each with its own port file and log)
  rm -f "$work/$1.port"
  local name=$1
  shift
  "$SERVER" --port 0 --max-seconds 600 --script "$work/script.jsonl" "$@" >"$work/$name.port" 2>"$work/$name.log" &
  spids+=($!)
  for _ in $(seq 100); do [ -s "$work/$name.port" ] && break; sleep 0.05; done
  port=$(awk '{print $2}' "$work/$name.port")
  [ -n "$port" ] || fail "the test server did not start"
}
job() { # job FILE OUTDIR [MAX_IN_FLIGHT]
  local arm
  arm() { echo "{\"name\": \"$1\", \"model\": \"$2\", \"base_urls\": [\"http://127.0.0.1:$port/v1\"], \"http2\": false, \"timeout_s\": 5}"; }
  cat >"$1" <<JSON
{"output_dir": "$2", "seed": $SEED,
 "teacher": {"connect_timeout_s": 1, "backoff_base_s": 0.05, "backoff_max_s": 0.5},
 "eval": {"samples_per_problem": $K, "temperature": 0.6, "max_new_tokens": 64, "bootstrap": $B,
          "max_in_flight": ${3:-1024},
          "arms": [$(arm base base-model), $(arm tuned base-model-tuned)],
          "benchmarks": [{"name": "mb", "path": "$work/mb.jsonl", "format": "math"},
                         {"name": "gs", "path": "$work/gs.jsonl", "format": "gsm8k"}]},
 "dist": {"lease_max": 16, "progress_every_s": 1, "grace_s": 5, "lease_timeout_s": 5}}
JSON
}
records() { # records OUTDIR: every shard's records, in name order, as one JSONL
  : >"$1.jsonl"
  for s in "$1"/shards/eval/*.h5; do "$TKD" store export "$s" --what traces --jsonl - >>"$1.jsonl" 2>/dev/null; done
}
check() { # check OUTDIR [--records-only]
  records "$1"
  /usr/bin/python3 "$here/check_eval.py" "$1/eval/results.json" truth.json "$1.jsonl" $K $B $SEED ${2:-}
}
same() { /usr/bin/python3 -c "import json,sys; sys.exit(json.load(open('$1')) != json.load(open('$2')))"; }

start_server fast --latency-ms 2 --jitter-ms 3
for np in 2 4; do
  job job$np.json "$work/out$np"
  mpiexec -n $np "$TKD" eval job$np.json >run$np.log 2>&1 || { tail -30 run$np.log; fail "n=$np: tkd eval failed"; }
  grep -q "all done: 400/400 samples done, 0 before this run; no duplicates" run$np.log ||
    { tail -20 run$np.log; fail "n=$np: not all done"; }
  grep -q "^base  *mb  *30 " run$np.log || fail "n=$np: no results table"
  [ -s out$np/eval.h5 ] || fail "n=$np: no merged store OUT/eval.h5"
  "$TKD" store verify out$np/eval.h5 >/dev/null || fail "n=$np: the merged store does not verify"
  if [ $np = 2 ]; then
    check out$np || fail "n=$np: results differ from the truth or the reference"
  else # the same results.json as -n 2 (checked below); the records checked here
    check out$np --records-only || fail "n=$np: records differ from the script"
  fi
  [ $np = 2 ] && ok "n=2: 400 samples, each once as scripted; results.json = the known truth = the Python reference" ||
    ok "n=$np: 400 samples, each once as scripted"
done
same out2/eval/results.json out4/eval/results.json || fail "-n 2 and -n 4 give different results"
cp out2/eval/results.json first.json
"$TKD" eval job2.json --metrics-only >metrics.log 2>&1 || { cat metrics.log; fail "--metrics-only failed"; }
same first.json out2/eval/results.json || fail "--metrics-only gives different results"
ok "-n 2 and -n 4 give the same results.json; --metrics-only rewrites it the same"

# kill -9 of rank 1 mid-run (slow replies, few in flight), then a re-run
start_server slow --latency-ms 60 --jitter-ms 20
job jobk.json "$work/outk" 8
mpiexec -n 2 "$TKD" eval jobk.json >runk1.log 2>&1 &
mp=$!
for _ in $(seq 200); do
  pid=$(sed -n 's/.*eval: rank 1 (pid \([0-9]*\)).*/\1/p' runk1.log)
  [ -n "$pid" ] && break
  sleep 0.05
done
[ -n "$pid" ] || fail "rank 1 did not start"
sleep 0.7
kill -9 "$pid"
set +e
wait $mp
rc=$?
set -e
[ $rc -ne 0 ] || fail "mpiexec exited 0 although rank 1 was killed"
records outk
n1=$(grep -c '"phase":"eval"' outk.jsonl || true)
[ "$n1" -gt 0 ] && [ "$n1" -lt 400 ] || fail "kill -9: $n1 records before the re-run (want some, not all)"
mpiexec -n 2 "$TKD" eval jobk.json >runk2.log 2>&1 || { tail -20 runk2.log; fail "re-run after kill -9 failed"; }
grep -Eq "all done: 400/400 samples done, [1-9][0-9]* before this run" runk2.log ||
  { tail -20 runk2.log; fail "the re-run did not skip what was done"; }
check outk --records-only || fail "after kill -9 and a re-run: records lost or duplicated"
same first.json outk/eval/results.json || fail "after kill -9 and a re-run: results differ from the clean run"
ok "kill -9 of rank 1 after $n1 records (mpiexec rc $rc), re-run: every sample once, the same results"

# SIGTERM to a plain process mid-run: exit 3; a re-run finishes
job jobt.json "$work/outt" 8
"$TKD" eval jobt.json >runt1.log 2>&1 &
tp=$!
sleep 1.5
kill -TERM $tp
set +e
wait $tp
rc=$?
set -e
[ $rc -eq 3 ] || { tail -20 runt1.log; fail "SIGTERM: exit $rc, want 3"; }
records outt
n1=$(grep -c '"phase":"eval"' outt.jsonl || true)
"$TKD" eval jobt.json >runt2.log 2>&1 || { tail -20 runt2.log; fail "re-run after SIGTERM failed"; }
grep -Eq "all done: 400/400 samples done, $n1 before this run" runt2.log ||
  { tail -20 runt2.log; fail "the re-run after SIGTERM did not skip the $n1 samples done"; }
check outt --records-only || fail "after SIGTERM and a re-run: records lost or duplicated"
same first.json outt/eval/results.json || fail "after SIGTERM and a re-run: results differ from the clean run"
ok "SIGTERM after $n1 records: exit 3; re-run: every sample once, the same results"

# mode tir: the solver agent with the student in the teacher's place (plan, a tool call, a boxed answer)
/usr/bin/python3 - <<'PY'
import json
with open("tir_script.jsonl", "w") as f:
    for i in range(30):
        g = 5 * i + 3
        ans = g if i % 3 else g + 1
        turns = [{"content": "Plan: simplify, then box it."},
                 {"content": "Computing.", "tool_calls": [{"name": "simplify_expression", "arguments": {"expression": f"{g} - 0"}}]},
                 {"content": f"The tool says {g}. So \\boxed{{{ans}}}."}]
        f.write(json.dumps({"problem": f"tools/mb/{i:04d}/0", "turns": turns}) + "\n")
PY
"$SERVER" --port 0 --max-seconds 600 --script "$work/tir_script.jsonl" --latency-ms 2 >"$work/tir.port" 2>/dev/null &
spids+=($!)
for _ in $(seq 100); do [ -s "$work/tir.port" ] && break; sleep 0.05; done
port=$(awk '{print $2}' "$work/tir.port")
cat >jobtir.json <<JSON
{"output_dir": "$work/outtir", "seed": $SEED,
 "teacher": {"connect_timeout_s": 1, "backoff_base_s": 0.05, "backoff_max_s": 0.5},
 "solve": {"tools": ["simplify_expression"], "max_turns": 5},
 "eval": {"samples_per_problem": 1, "bootstrap": $B,
          "arms": [{"name": "tools", "mode": "tir", "model": "m", "base_urls": ["http://127.0.0.1:$port/v1"], "http2": false}],
          "benchmarks": [{"name": "mb", "path": "$work/mb.jsonl", "format": "math"}]}}
JSON
mpiexec -n 2 "$TKD" eval jobtir.json >runtir.log 2>&1 || { tail -20 runtir.log; fail "tkd eval (tir) failed"; }
"$TKD" store export outtir/eval.h5 --what traces --jsonl - 2>/dev/null | /usr/bin/python3 -c "
import json, sys
rows = [json.loads(l) for l in sys.stdin]
bad = [r for r in rows if r['tool_calls'] != 1 or r['turns'] != 3 or r['status'] != ('wrong' if int(r['text']['id'][3:]) % 3 == 0 else 'correct')
       or r['text']['mode'] != 'tir' or r['text']['calls'][0]['result'].find(str(5 * int(r['text']['id'][3:]) + 3)) < 0]
print(len(rows), 'records', len(bad), 'unexpected')
sys.exit(1 if bad or len(rows) != 30 else 0)" || fail "tir: records differ from the script"
acc=$(/usr/bin/python3 -c "import json; print(json.load(open('outtir/eval/results.json'))['arms']['tools']['benchmarks']['mb']['accuracy'])")
[ "$acc" = "$(/usr/bin/python3 -c 'print(20/30)')" ] || fail "tir: accuracy $acc, want 20/30"
ok "mode tir (2 ranks): 30 samples, each a plan, one tool call run by the toolkit, a boxed answer; accuracy 20/30 as scripted"
