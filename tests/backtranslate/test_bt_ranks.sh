#!/usr/bin/env bash
# The back-translation phase on 1,000 scripted traces (solved by `tkd solve`
# against the test server), under mpiexec -n 2 and -n 4: every trace appears
# exactly once with the status its script leads to (accepted, rejected by the
# exact stage or by the LLM judge, rephrase_wrong, leaked_tools), with the
# record contract the export reads (checked with h5py); the server counts as
# many judge requests as the derivations that passed the exact stage (a wrong
# boxed result is rejected with no request); the verdicts False, "not
# correct", reject, an empty reply, invalid JSON and {"verdict": true} are
# rejects. The acceptance table is printed at the end and by `tkd store info`.
# Then a replay-only run, as one plain process, from the -n 2 run's cache:
# no request reaches the server and the store is reproduced exactly.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
N=1000
solve_store $N
J=$(expect_of judge_requests) T=$(expect_of translator_requests) R=$(expect_of rephrase_requests)
for np in 2 4; do
  job job$np.json "$work/out$np"
  bt_out out$np
  j0=$(stat_of bt_judge) t0=$(stat_of bt_translator) r0=$(stat_of bt_rephrase)
  mpiexec -n $np "$TKD" backtranslate job$np.json >run$np.out 2>run$np.log ||
    { tail -30 run$np.log; fail "n=$np: tkd backtranslate failed"; }
  grep -q "all done: $N/$N traces done, 0 before this run; no duplicates" run$np.log ||
    { tail -20 run$np.log; fail "n=$np: not all done"; }
  grep -Eq "backtranslate: [0-9]+ traces done: [0-9]+ accepted, .* derivations rejected: [0-9]+ by the exact stage, [0-9]+ by the judge; in flight: [0-9]+ traces, [0-9]+ requests" run$np.log ||
    fail "n=$np: no progress line"
  grep -q "acceptance per tool" run$np.out || { cat run$np.out; fail "n=$np: no acceptance table at the end"; }
  check out$np/shards/backtranslate/*.h5 --expected expected.json || fail "n=$np: store check"
  dj=$(($(stat_of bt_judge) - j0)) dt=$(($(stat_of bt_translator) - t0)) dr=$(($(stat_of bt_rephrase) - r0))
  [ "$dj" = "$J" ] || fail "n=$np: $dj judge requests, expected $J (exact-stage rejects must not reach the judge)"
  [ "$dt" = "$T" ] && [ "$dr" = "$R" ] || fail "n=$np: $dt translator / $dr rephrase requests, expected $T / $R"
  [ -s out$np/backtranslate.h5 ] || fail "n=$np: the phase did not merge its store on completion"
  "$TKD" store verify out$np/backtranslate.h5 >/dev/null || fail "n=$np: verify"
  "$TKD" store info out$np/backtranslate.h5 >info$np.txt || fail "store info"
  grep -q "acceptance per tool" info$np.txt || fail "no acceptance table in store info"
  ok "n=$np: $N traces each once with its status; $dj judge requests = the derivations past the exact stage"
done
cat info2.txt | sed -n '/back-translation:/,$p'
diff <(sed -n '/acceptance per tool/,$p' run2.out) <(sed -n '/acceptance per tool/,$p' info2.txt) ||
  fail "the table at the end of the phase differs from store info's"

# replay-only, one plain process, from the -n 2 run's cache: no request is sent
before=$(stat_of requests)
CACHEMODE=replay-only CACHE="$work/out2.cache" job jobr.json "$work/outr"
bt_out outr
"$TKD" backtranslate jobr.json >runr.out 2>runr.log || { tail -20 runr.log; fail "replay-only run failed"; }
after=$(stat_of requests)
[ "$before" = "$after" ] || fail "replay-only sent $((after - before)) requests"
for s in out2 outr; do "$TKD" store export $s/backtranslate.h5 --what traces --jsonl $s.jsonl >/dev/null; done
/usr/bin/python3 - <<'PY' || fail "replay-only did not reproduce the store"
import json
def load(p):
    rows = {}
    for l in open(p):
        r = json.loads(l)
        r.pop("finished_at"); r.pop("text_off", None)
        rows[(r["pid"], r["sample"])] = r
    return rows
a, b = load("out2.jsonl"), load("outr.jsonl")
diff = [k for k in a if a[k] != b.get(k)]
print(f"{len(a)} records, {len(b)} replayed, {len(diff)} differ")
if diff:
    k = diff[0]; print(json.dumps(a[k])[:800]); print(json.dumps(b.get(k))[:800])
raise SystemExit(1 if diff or len(a) != len(b) else 0)
PY
ok "replay-only (one plain process): no request sent; every record and text reproduced"
