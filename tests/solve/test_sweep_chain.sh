#!/usr/bin/env bash
# A sweep carried through train, eval and report (tkd sweep --run), on the
# stand-in teacher and the tiny student (tests/lib/pipeline.sh):
#  1. 3 arms differing only in train.lora.r (4, 8, 16): the first arm runs
#     the whole chain; the others send the teacher no request (its count
#     stays at one arm's, which is the requests recorded in that arm's
#     stores), skip import, solve, backtranslate and export, and train and
#     evaluate their own adapter (its rank is the arm's); one stage each for
#     the shared phases, three for train and eval; each store's manifest and
#     eval/results.json name the sweep, the arm and its keys;
#  2. the report of the first arm equals a Python computation from its
#     records (tests/lib/check_report.py: funnel, back-translation per tool,
#     eval accuracy with its interval, response lengths, pairs, plots);
#  3. the sweep's report has a row per arm and eval arm with its keys and
#     the arm's own accuracy and last loss;
#  4. 2 arms differing in a solve key (solve.max_turns) each solve,
#     back-translate, export, train and evaluate, and share the import.
set -euo pipefail
: "${TKD:?}" "${TKD_SOURCE_DIR:?}" "${TKD_BUILD_DIR:?}"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
source "$TKD_SOURCE_DIR/tests/lib/pipeline.sh"
w=$(mktemp -d "${TMPDIR:-/tmp}/tkd-sweepchain.XXXXXX")
trap 'pl_stop_servers; rm -rf "$w"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok   $*"; }
cd "$w"
pl_fixture "$w" 24
pl_server "$w/teacher.jsonl" 5 && tport=$pl_port
pl_server "$w/evalsrv.jsonl" 2 && eport=$pl_port
pl_job base.json "$w/base" "$w" "$tport" "$eport"

echo '{"name": "rank", "grid": {"train.lora.r": [4, 8, 16]}}' > rank.json
"$TKD" sweep base.json rank.json --out "$w/sw" >plan.log 2>&1 || { cat plan.log; fail "planning the sweep"; }
arms=$(/usr/bin/python3 -c 'import json; print(" ".join(a["job"] for a in json.load(open("sw/sweep.json"))["arms"]))')
first=${arms%% *}
"$TKD" run "$first" -n 2 >arm1.log 2>&1 || { tail -30 arm1.log; fail "the first arm's chain"; }
r1=$(pl_stat "$tport" requests)
/usr/bin/python3 "$TKD_SOURCE_DIR/tests/lib/check_report.py" "${first%.json}" --teacher-requests "$r1" ||
  fail "the first arm's report differs from its records"
ok "the first arm ran the chain: its report equals the Python reference ($r1 teacher requests, each recorded once)"

"$TKD" sweep base.json rank.json --out "$w/sw" --run -n 2 >sweep.log 2>&1 || { tail -30 sweep.log; fail "sweep --run"; }
[ "$(pl_stat "$tport" requests)" -eq "$r1" ] || fail "later arms asked the teacher again ($r1 -> $(pl_stat "$tport" requests))"
for p in import solve backtranslate export; do
  [ "$(grep -c "run: $p: complete, skipped" sweep.log)" -eq 3 ] || { grep "run: $p" sweep.log; fail "every arm should skip $p"; }
done
# the first arm was complete; the other two train and evaluate
[ "$(grep -c 'run: train: done' sweep.log)" -eq 2 ] && [ "$(grep -c 'run: eval: done' sweep.log)" -eq 2 ] ||
  { grep "run: \(train\|eval\)" sweep.log; fail "the later arms should train and evaluate"; }
/usr/bin/python3 - "$w" <<'PY' || fail "stages, adapters or eval inputs"
import json, os, sys, collections
w = sys.argv[1]
plan = json.load(open(f"{w}/sw/sweep.json"))
stages = collections.Counter(s.split("-")[0] for s in os.listdir(f"{w}/sw/stages"))
assert stages == {"import": 1, "solve": 1, "backtranslate": 1, "export": 1, "train": 3, "eval": 3}, stages
for a in plan["arms"]:
    out = a["job"][:-len(".json")]
    r = a["set"]["train.lora.r"]
    cfg = json.load(open(f"{out}/train/adapter/adapter_config.json"))
    assert cfg["r"] == r, (a["name"], cfg["r"], r)
    job = json.load(open(a["job"]))
    ad = [x.get("adapter") for x in job["eval"]["arms"] if x.get("adapter")]
    assert ad == [f"{out}/train/adapter"], (a["name"], ad)   # its own adapter, not the base's
    m = json.load(open(f"{out}/eval.complete.json"))
    ins = [i["path"] for i in m["inputs"] if "adapter" in i["path"]]
    assert ins == [f"{out}/train/adapter/adapter_model.safetensors"], (a["name"], ins)
    # the store and the results name the arm and its keys (the shared solve: the arm that ran it)
    import h5py
    want = {"name": "rank", "arm": a["name"], "set": a["set"]}
    with h5py.File(f"{out}/eval.h5", "r") as f:
        assert json.loads(f.attrs["manifest"])["sweep"] == want, json.loads(f.attrs["manifest"])
    with h5py.File(f"{out}/solve.h5", "r") as f:
        assert json.loads(f.attrs["manifest"])["sweep"]["arm"] == plan["arms"][0]["name"]
    res = json.load(open(f"{out}/eval/results.json"))
    assert res["sweep"] == want, res.get("sweep")
    print(a["name"], "rank", cfg["r"], "evaluated", ad[0].split("/sw/")[1])
PY
ok "3 arms differing in train.lora.r: one import, solve, backtranslate and export (teacher requests stay at $r1), three trainings with the arm's rank, three evals of the arm's own adapter"

"$TKD" report sw >rep.log 2>&1 || { cat rep.log; fail "tkd report on the sweep folder"; }
/usr/bin/python3 - "$w" <<'PY' || { cat sw/report/report.md; fail "the sweep report"; }
import json, sys
w = sys.argv[1]
plan = json.load(open(f"{w}/sw/sweep.json"))
rows = json.load(open(f"{w}/sw/report/report.json"))
md = open(f"{w}/sw/report/report.md").read().splitlines()
assert [r["name"] for r in rows] == [a["name"] for a in plan["arms"]]
for a, r in zip(plan["arms"], rows):
    out = a["job"][:-len(".json")]
    assert r["set"] == a["set"]
    own = json.load(open(f"{out}/report/report.json"))
    assert r["report"]["eval"] == json.load(open(f"{out}/eval/results.json"))
    assert r["report"]["train"]["last_loss"] == own["train"]["last_loss"]
    keys = json.dumps(a["set"], separators=(",", ":"), sort_keys=True)
    for arm in ("base", "tuned", "oracle"):
        row = [l for l in md if l.startswith(f"| {a['name']} | `{keys}` | {arm} |")]
        assert len(row) == 1, (a["name"], arm, row)
        g = r["report"]["eval"]["arms"][arm]["benchmarks"]
        for b in ("e1", "e2"):
            assert " %.1f [%.1f, %.1f] |" % (100 * g[b]["accuracy"], 100 * g[b]["ci95"][0], 100 * g[b]["ci95"][1]) in row[0]
        assert row[0].endswith(" %.4f |" % r["report"]["train"]["last_loss"]), row[0]
print(len(rows), "arms,", len(rows) * 3, "rows")
PY
ok "the sweep report: one row per arm and eval arm, with the arm's keys, accuracies and last loss"

echo '{"name": "turns", "arms": [{"name": "t3", "set": {"solve.max_turns": 3}}, {"name": "t5", "set": {"solve.max_turns": 5}}]}' > turns.json
r0=$(pl_stat "$tport" requests)
"$TKD" sweep base.json turns.json --out "$w/sw2" --run -n 2 >sw2.log 2>&1 || { tail -30 sw2.log; fail "sweep --run (solve key)"; }
/usr/bin/python3 - "$w" <<'PY' || fail "the solve-key sweep"
import collections, json, os, sys
w = sys.argv[1]
stages = collections.Counter(s.split("-")[0] for s in os.listdir(f"{w}/sw2/stages"))
assert stages == {"import": 1, "solve": 2, "backtranslate": 2, "export": 2, "train": 2, "eval": 2}, stages
for a in json.load(open(f"{w}/sw2/sweep.json"))["arms"]:
    assert os.path.exists(a["job"][:-5] + "/report/report.md"), a["name"]
PY
for p in solve backtranslate train eval; do
  [ "$(grep -c "run: $p: done" sw2.log)" -eq 2 ] || { grep "run: $p" sw2.log; fail "each arm should run $p"; }
done
[ "$(grep -c 'run: import: complete, skipped' sw2.log)" -eq 1 ] || fail "the second arm should share the import"
[ "$(pl_stat "$tport" requests)" -gt "$r0" ] || fail "the solve-key arms sent no request"
ok "2 arms differing in solve.max_turns: one import, each arm solves, back-translates, exports, trains, evaluates and reports"
