# Shared by the solve shell tests: a scratch folder, the scripted test server,
# a fixture of N problems imported with `tkd data import`, job files.
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
test_prefix=solve
source "$here/../lib/phase_test.sh"
check() { /usr/bin/python3 "$here/check_solve.py" "$@"; }

fixture() { # fixture N: problems.jsonl, script.jsonl, expected.json in $work
  /usr/bin/python3 "$here/gen_fixture.py" "$1" "$work"
}
job() { # job FILE OUTDIR [extra top-level JSON members]
  cat >"$1" <<JSON
{"output_dir": "$2", "log_level": "info",
 "data": {"sources": [{"path": "$work/problems.jsonl", "name": "t", "format": "bench"}]},
 "teacher": {"model": "test-model", "base_urls": ["http://127.0.0.1:$port/v1"], "http2": false,
             "cache": "${CACHEMODE:-read-write}", "cache_dir": "${CACHE:-$2.cache}", "max_in_flight": 64,
             "timeout_s": 2, "connect_timeout_s": 1, "backoff_base_s": 0.05, "backoff_max_s": 0.5},
 "solve": {"samples_per_problem": ${SAMPLES:-1}, "max_turns": 5, "max_tool_errors": 5, "max_in_flight": 512,
           "tools": ["simplify_expression", "gcd", "evaluate"]},
 "dist": {"lease_max": 64, "progress_every_s": 1, "grace_s": ${GRACE:-5}, "lease_timeout_s": 5}
 ${3:+, $3}}
JSON
}
