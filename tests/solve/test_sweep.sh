#!/usr/bin/env bash
# tkd sweep: 3 arms that differ only in a training key share one import and
# one solve (the teacher is asked once: its request count does not grow after
# the first arm), while arms that differ in a solve key each solve; every
# arm's solve store holds every problem once; re-planning is idempotent.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
fixture 60
start_server --latency-ms 2
job base.json "$work/out"
sed -i 's/"cache": "read-write"/"cache": "off"/' base.json   # no cache: only sharing saves requests
echo '{"name": "rank", "grid": {"train.lora.r": [8, 16, 64]}}' > rank.json
"$TKD" sweep base.json rank.json --out "$work/sw" >plan.log 2>&1 || { cat plan.log; fail "planning failed"; }
"$TKD" sweep base.json rank.json --out "$work/sw" >plan2.log 2>&1 || { cat plan2.log; fail "re-planning failed"; }
[ "$(ls sw/arms/*.json | wc -l)" -eq 3 ] || { ls -R sw; fail "want 3 arm job files"; }
/usr/bin/python3 - <<'PY' || fail "the arms do not share their solve stage"
import json
p = json.load(open("sw/sweep.json"))
st = [a["stages"] for a in p["arms"]]
assert len({s["solve"] for s in st}) == 1 and len({s["import"] for s in st}) == 1, st
assert len({s["train"] for s in st}) == 3, st
assert sorted(a["set"]["train.lora.r"] for a in p["arms"]) == [8, 16, 64]
PY
r0=$(stat_of requests)
for a in sw/arms/*.json; do
  "$TKD" run "$a" --to solve -n 2 >"$a.log" 2>&1 || { cat "$a.log"; fail "tkd run $a failed"; }
  [ "$a" = "$(ls sw/arms/*.json | head -1)" ] && r1=$(stat_of requests)
done
[ "$r1" -gt "$r0" ] || fail "the first arm sent no request"
[ "$(stat_of requests)" -eq "$r1" ] || fail "later arms asked the teacher again ($r1 -> $(stat_of requests))"
[ "$(grep -l 'run: solve: complete, skipped' sw/arms/*.json.log | wc -l)" -eq 2 ] || fail "two arms should skip solve"
for a in sw/arms/*/; do
  "$TKD" store verify "$a/solve.h5" >/dev/null || fail "$a: solve store"
done
[ "$(ls sw/stages | grep -c '^solve-')" -eq 1 ] || fail "more than one solve stage"
ok "3 arms differing in train.lora.r: one import and one solve ($((r1 - r0)) teacher requests in all)"

echo '{"name": "turns", "arms": [{"name": "t3", "set": {"solve.max_turns": 3}}, {"name": "t5", "set": {"solve.max_turns": 5}}]}' > turns.json
"$TKD" sweep base.json turns.json --out "$work/sw2" --run --to solve -n 2 >sw2.log 2>&1 || { cat sw2.log; fail "sweep --run"; }
[ "$(ls sw2/stages | grep -c '^solve-')" -eq 2 ] && [ "$(ls sw2/stages | grep -c '^import-')" -eq 1 ] ||
  { ls sw2/stages; fail "arms differing in a solve key must solve apart and share import"; }
[ "$(grep -c 'run: solve: done' sw2.log)" -eq 2 ] || { cat sw2.log; fail "each arm should solve"; }
ok "2 arms differing in solve.max_turns: one import, two solves"

"$TKD" report sw >rep.log 2>&1 || { cat rep.log; fail "tkd report on a sweep folder"; }
[ "$(grep -c '^| train.lora.r\|^| r[0-9]' sw/report/report.md)" -eq 3 ] || { cat sw/report/report.md; fail "the sweep report should have a row per arm"; }
ok "tkd report on the sweep folder: a row per arm"
