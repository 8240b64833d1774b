# Shared by the back-translation shell tests: a scratch folder, the scripted
# test server (teacher, translator, judge and rephrase replies), a fixture of
# N problems solved by `tkd solve` (its completion merges src/solve.h5), job
# files, and output folders seeded with that solve store (bt_out).
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
test_prefix=bt
source "$here/../lib/phase_test.sh"
check() { /usr/bin/python3 "$here/check_bt.py" "$@"; }
expect_of() { /usr/bin/python3 -c "import json; print(json.load(open('$work/expected.json'))['$1'])"; }

job() { # job FILE OUTDIR [extra top-level JSON members]
  cat >"$1" <<JSON
{"output_dir": "$2", "log_level": "info",
 "data": {"sources": [{"path": "$work/problems.jsonl", "name": "t", "format": "bench"}]},
 "teacher": {"model": "test-model", "base_urls": ["http://127.0.0.1:$port/v1"], "http2": false,
             "cache": "${CACHEMODE:-read-write}", "cache_dir": "${CACHE:-$2.cache}", "max_in_flight": ${INFL:-256},
             "timeout_s": 2, "connect_timeout_s": 1, "backoff_base_s": 0.05, "backoff_max_s": 0.5},
 "solve": {"max_turns": 5, "max_in_flight": 512, "tools": ["simplify_expression", "gcd", "solve_equation"]},
 "backtranslate": {"max_in_flight": ${BTINFL:-512}},
 "dist": {"lease_max": 64, "progress_every_s": 1, "grace_s": ${GRACE:-5}, "lease_timeout_s": 5}
 ${3:+, $3}}
JSON
}
solve_store() { # solve_store N: fixture of N problems, solved into $work/src/solve.h5
  /usr/bin/python3 "$here/gen_bt_fixture.py" "$1" "$work"
  start_server --latency-ms 1
  job jobsrc.json "$work/src"
  "$TKD" data import jobsrc.json >import.log 2>&1 || { cat import.log; fail "import"; }
  "$TKD" solve jobsrc.json >solve.log 2>&1 || { tail -20 solve.log; fail "tkd solve"; }
  [ -s src/solve.h5 ] && [ -s src/solve.complete.json ] || fail "the solve phase did not complete"
}
bt_out() { # bt_out DIR: an output folder holding the problems and the complete solve phase
  mkdir -p "$1"
  cp src/problems.h5 src/solve.h5 "$1/" # used as made by hand (no marker): the phase says so and goes on
}
