# Shared by the solve shell tests: a scratch folder, the scripted test server,
# a fixture of N problems imported with `tkd data import`, job files.
set -euo pipefail
: "${TKD:?TKD (the tkd CLI) must be set; run through ctest}" "${TKD_BUILD_DIR:?}"
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SERVER=$TKD_BUILD_DIR/bin/tkd_testserver
[ -x "$SERVER" ] || { echo "tkd_testserver not built"; exit 1; }
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
work=$(mktemp -d "${TMPDIR:-/tmp}/tkd-solve.XXXXXX")
spids=()
cleanup() {
  for p in "${spids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
cd "$work"
fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok   $*"; }
check() { /usr/bin/python3 "$here/check_solve.py" "$@"; }
stats() { curl -s "http://127.0.0.1:$port/stats"; }
stat_of() { stats | /usr/bin/python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }

fixture() { # fixture N: problems.jsonl, script.jsonl, expected.json in $work
  /usr/bin/python3 "$here/gen_fixture.py" "$1" "$work"
}
start_server() { # start_server ARGS...: sets port
  "$SERVER" --port 0 --max-seconds 600 --script "$work/script.jsonl" "$@" >"$work/server.port" 2>"$work/server.log" &
  spids+=($!)
  for _ in $(seq 100); do [ -s "$work/server.port" ] && break; sleep 0.05; done
  port=$(awk '{print $2}' "$work/server.port")
  [ -n "$port" ] || fail "the test server did not start"
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
