# Shared by the phase shell tests (tests/solve/lib.sh, tests/backtranslate/lib.sh,
# tests/eval/test_eval.sh): a scratch folder removed at exit with the test servers started in it, fail/ok,
# and the project's scripted test server (start_server; stats and stat_of read
# its /stats). Set test_prefix before sourcing to name the scratch folder.
set -euo pipefail
: "${TKD:?TKD (the tkd CLI) must be set; run through ctest}" "${TKD_BUILD_DIR:?}"
SERVER=$TKD_BUILD_DIR/bin/tkd_testserver
[ -x "$SERVER" ] || { echo "tkd_testserver not built"; exit 1; }
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
work=$(mktemp -d "${TMPDIR:-/tmp}/tkd-${test_prefix:-test}.XXXXXX")
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
stats() { curl -s "http://127.0.0.1:$port/stats"; }
stat_of() { stats | /usr/bin/python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }
start_server() { # start_server ARGS...: the server on $work/script.jsonl; sets port
  rm -f "$work/server.port" # never read a port an earlier server wrote
  "$SERVER" --port 0 --max-seconds 600 --script "$work/script.jsonl" "$@" >"$work/server.port" 2>"$work/server.log" &
  spids+=($!)
  for _ in $(seq 100); do [ -s "$work/server.port" ] && break; sleep 0.05; done
  port=$(awk '{print $2}' "$work/server.port")
  [ -n "$port" ] || fail "the test server did not start"
}
