#!/usr/bin/env bash
# The solve phase on 1,000 scripted problems, under mpiexec -n 2 (one sample
# per problem) and -n 4 (two samples): every sample appears exactly once in
# the shards with the status its script leads to and its whole conversation
# (checked with h5py); the merged store verifies. Then a replay-only run, as
# one plain process, from the -n 2 run's cache: no request reaches the
# server and the store's records and texts are reproduced exactly (only
# finished_at, the wall-clock time of writing, differs). Last, tool calls
# written as <tool_call> blocks in the content (teacher.tool_call_format hermes).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
N=1000
fixture $N
start_server --latency-ms 5 --jitter-ms 5
for case in 2:1 4:2; do
  np=${case%:*} n=${case#*:}
  SAMPLES=$n job job$np.json "$work/out$np"
  "$TKD" data import job$np.json >import$np.log 2>&1 || { cat import$np.log; fail "import"; }
  t0=$(date +%s.%N)
  mpiexec -n $np "$TKD" solve job$np.json >run$np.log 2>&1 || { tail -30 run$np.log; fail "n=$np: tkd solve failed"; }
  t1=$(date +%s.%N)
  grep -q "all done: $N/$N problems done, 0 before this run; no duplicates" run$np.log ||
    { tail -20 run$np.log; fail "n=$np: not all done"; }
  grep -Eq "solve: [0-9]+ problems solved, [0-9]+ samples: [0-9]+ correct, [0-9]+ wrong, [0-9]+ failed; in flight: [0-9]+ samples, [0-9]+ requests \(\+[0-9]+ waiting\); retries [0-9]+, cache hits [0-9]+; [0-9]+ tokens/s" run$np.log ||
    fail "n=$np: no progress line"
  [ "$(ls out$np/shards/solve/*.h5 | wc -l)" = $np ] || fail "n=$np: expected one shard per rank"
  check out$np/shards/solve/*.h5 --expected expected.json --samples $n || fail "n=$np: store check"
  "$TKD" store merge out$np/shards/solve out$np/solve.h5 >merge$np.log 2>&1 || { cat merge$np.log; fail "merge"; }
  "$TKD" store verify out$np/solve.h5 >/dev/null || fail "n=$np: verify"
  rate=$(/usr/bin/python3 -c "print(f'{$N/($t1-$t0):.0f}')")
  ok "n=$np: $N problems x $n samples, each once with its status and conversation ($rate problems/s wall, startup included; server max in flight $(stat_of max_in_flight))"
done

# replay-only, one plain process, from the -n 2 run's cache: no request is sent
before=$(stat_of requests)
CACHEMODE=replay-only CACHE="$work/out2.cache" job jobr.json "$work/outr"
"$TKD" data import jobr.json >/dev/null 2>&1
"$TKD" solve jobr.json >runr.log 2>&1 || { tail -20 runr.log; fail "replay-only run failed"; }
after=$(stat_of requests)
[ "$before" = "$after" ] || fail "replay-only sent $((after - before)) requests"
"$TKD" store merge outr/shards/solve outr/solve.h5 >/dev/null 2>&1
for s in out2 outr; do "$TKD" store export $s/solve.h5 --what traces --jsonl $s.jsonl >/dev/null; done
/usr/bin/python3 - <<'PY' || fail "replay-only did not reproduce the store"
import json
def load(p):
    rows = {}
    for l in open(p):
        r = json.loads(l)
        r.pop("finished_at")
        r.pop("text_off", None)
        rows[(r["pid"], r["sample"])] = r
    return rows
a, b = load("out2.jsonl"), load("outr.jsonl")
diff = [k for k in a if a[k] != b.get(k)]
print(f"{len(a)} records, {len(b)} replayed, {len(diff)} differ")
if diff:
    k = diff[0]
    print(json.dumps(a[k])[:600]); print(json.dumps(b.get(k))[:600])
raise SystemExit(1 if diff or len(a) != len(b) else 0)
PY
ok "replay-only (one plain process): no request sent; every record and text reproduced"

# tool calls written as <tool_call> blocks in the content (Qwen/Hermes style), one plain process
"$SERVER" --port 0 --max-seconds 600 --script "$work/script.jsonl" --tool-format hermes --latency-ms 5 \
  >"$work/hermes.port" 2>/dev/null &
spids+=($!)
for _ in $(seq 100); do [ -s "$work/hermes.port" ] && break; sleep 0.05; done
port=$(awk '{print $2}' "$work/hermes.port")
head -200 problems.jsonl >problems200.jsonl
/usr/bin/python3 -c "
import json; e = json.load(open('expected.json')); json.dump({k: e[k] for k in list(e)[:200]}, open('expected200.json', 'w'))"
job jobh.json "$work/outh"
sed -i 's/problems.jsonl/problems200.jsonl/; s/"http2": false/"http2": false, "tool_call_format": "hermes"/' jobh.json
"$TKD" data import jobh.json >/dev/null 2>&1
"$TKD" solve jobh.json >runh.log 2>&1 || { tail -20 runh.log; fail "hermes run failed"; }
check outh/shards/solve/*.h5 --expected expected200.json --samples 1 || fail "hermes: store check"
ok "hermes-format tool calls: 200 problems, each once with its status and conversation"
