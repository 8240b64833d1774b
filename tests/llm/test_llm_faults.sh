#!/usr/bin/env bash
# Integration test of the teacher client against the fault-injecting test
# server (tests/llm/server): 10% of each fault kind (429 with Retry-After,
# 5xx, stalls past the timeout, malformed JSON, truncated bodies, dropped
# connections, 4xx). Checks, from both sides:
#   - every request ends in a recorded state (one line each, a known status);
#   - no 4xx is retried (the server sees no body again after a 4xx);
#   - Retry-After is respected (server-side gaps >= the value asked);
#   - the server received exactly the attempts the client counted;
#   - replay-only reproduces every cached line byte for byte with no request,
#     and a miss is the status cache_miss;
#   - <tool_call> blocks and native tool calls from a scripted teacher;
#   - the secret check: the API key appears in no file the run wrote or logged.
set -euo pipefail
: "${TKD:?}" "${TKD_BUILD_DIR:?}"
SERVER=$TKD_BUILD_DIR/bin/tkd_testserver
[ -x "$SERVER" ] || { echo "tkd_testserver not built"; exit 1; }
work=$(mktemp -d /tmp/tkd_llm_faults.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
cd "$work"
export TKD_TEST_API_KEY="sk-test-SECRET123-$$-$RANDOM$RANDOM"
N=400

start_server() { # name args...
  local name=$1; shift
  "$SERVER" --port 0 --max-seconds 170 "$@" >"$name.port" 2>"$name.log" &
  pids+=($!)
  for _ in $(seq 100); do [ -s "$name.port" ] && break; sleep 0.05; done
  awk '{print $2}' "$name.port"
}

# a scripted teacher: problems p0..p9 call a tool first, then answer
for i in $(seq 0 9); do
  printf '{"problem":"p%d","turns":[{"content":"Let me simplify.","tool_calls":[{"name":"simplify","arguments":{"expr":"%d+%d"}}]},{"content":"The answer is \\\\boxed{%d}.","reasoning":"add"}]}\n' "$i" "$i" "$i" $((2 * i))
done >script.jsonl

port=$(start_server faults --fault-all 0.1 --latency-ms 10 --jitter-ms 10 --stall-ms 5000 --retry-after 1 \
  --require-key-env TKD_TEST_API_KEY --script script.jsonl --seed 7)
cat >job.json <<EOF
{"output_dir": "$work/out", "teacher": {"model": "test-model", "base_urls": ["http://127.0.0.1:$port/v1"],
 "api_key_env": "TKD_TEST_API_KEY", "http2": false, "timeout_s": 2, "connect_timeout_s": 2,
 "max_retries": 12, "retry_budget": 4, "backoff_base_s": 0.05, "backoff_max_s": 0.5,
 "cache": "read-write", "cache_dir": "$work/cache", "max_in_flight": 64}}
EOF
"$TKD" llm batch job.json --requests $N --out run1.jsonl -v 2>run1.log || { cat run1.log; exit 1; }
curl -s "http://127.0.0.1:$port/stats" >stats1.json
"$TKD" llm batch job.json --requests $N --out run2.jsonl --set teacher.cache=replay-only -v 2>run2.log
curl -s "http://127.0.0.1:$port/stats" >stats2.json

# hermes-format tool calls, and a missing key is refused (401, not retried)
port2=$(start_server hermes --tool-format hermes --script script.jsonl --require-key-env TKD_TEST_API_KEY)
sed -e "s/:$port\//:$port2\//" -e 's/"read-write"/"off"/' job.json >job2.json
"$TKD" llm batch job2.json --requests 3 --out hermes.jsonl 2>hermes_run.log
TKD_TEST_API_KEY= "$TKD" llm batch job2.json --requests 2 --out nokey.jsonl 2>nokey.log
curl -s "http://127.0.0.1:$port2/stats" >stats3.json
cat run1.log | tail -1

/usr/bin/python3 - "$N" <<'EOF'
import json, sys
n = int(sys.argv[1])
fails = []
def check(cond, what):
    if not cond:
        fails.append(what)
    print(("ok   " if cond else "FAIL ") + what)
r1 = [json.loads(l) for l in open("run1.jsonl")]
raw1 = open("run1.jsonl").read().splitlines()
raw2 = open("run2.jsonl").read().splitlines()
r2 = [json.loads(l) for l in raw2]
s1, s2 = json.load(open("stats1.json")), json.load(open("stats2.json"))
known = {"ok", "http_error", "context_length", "network", "timeout", "malformed", "retries_exhausted"}
check(len(r1) == n and [x["index"] for x in r1] == list(range(n)), f"{n} requests, {n} recorded results")
check(all(x["status"] in known for x in r1), "every status is a recorded state")
by = {}
for x in r1:
    by[x["status"]] = by.get(x["status"], 0) + 1
print("     statuses:", by, "server:", {k: s1[k] for k in ("requests", "ok", "429", "5xx", "stall", "malformed", "truncated", "dropped", "4xx")})
for k in ("429", "5xx", "stall", "malformed", "truncated", "dropped", "4xx"):
    check(s1[k] > 0, f"fault '{k}' was injected ({s1[k]})")
check(s1["unauthorized"] == 0, "the API key reached the server")
check(s1["retried_after_4xx"] == 0, "no 4xx was retried (server side)")
four = [x for x in r1 if 400 <= x["http_code"] < 500 and x["http_code"] != 429 and x["http_code"] != 408]
check(all(x["attempts"] == 1 or x["status"] in ("http_error", "context_length") for x in four), "4xx ends the request")
check(len(four) == s1["4xx"], f"each injected 4xx ended one request ({len(four)} vs {s1['4xx']})")
check(all(x["status"] in ("http_error", "context_length") for x in four), "4xx statuses recorded as http_error/context_length")
check(s1["retry_after_checked"] > 10 and s1["retry_after_violations"] == 0,
      f"Retry-After respected on {s1['retry_after_checked']} retries (min gap ratio {s1['min_retry_after_ratio']})")
# libcurl itself re-sends once when a reused keep-alive connection dies before
# any reply (a dropped connection looks like that), so the server may see up
# to one extra request per dropped connection.
att = sum(x["attempts"] for x in r1)
check(att <= s1["requests"] <= att + s1["dropped"],
      f"server received the attempts counted ({s1['requests']} = {att} + curl's re-sends on dropped reused connections)")
check(by.get("ok", 0) >= n * 0.6, "most requests succeed despite the faults")
tc = [x for x in r1 if x["status"] == "ok" and x["index"] < 10]
check(all(x["tool_calls"] and x["tool_calls"][0]["name"] == "simplify" for x in tc) and tc, "native tool calls from the script")
# replay
check(s2["requests"] == s1["requests"], "replay-only made no request")
cached = {"ok", "context_length"}
same = all((a == b) if x["status"] in cached else (y["status"] == "cache_miss") for x, y, a, b in zip(r1, r2, raw1, raw2))
check(len(r2) == n and same, "replay-only reproduces every cached line byte for byte; the rest are cache_miss")
h = [json.loads(l) for l in open("hermes.jsonl")]
check(len(h) == 3 and all(x["tool_calls"] and x["tool_calls"][0]["name"] == "simplify" and
      json.loads(x["tool_calls"][0]["arguments"]) == {"expr": f"{x['index']}+{x['index']}"} for x in h),
      "<tool_call> blocks in content parsed")
nk = [json.loads(l) for l in open("nokey.jsonl")]
s3 = json.load(open("stats3.json"))
check(all(x["status"] == "http_error" and x["http_code"] == 401 and x["attempts"] == 1 for x in nk) and s3["unauthorized"] == 2,
      "without the key: 401, not retried")
print(f"{sum(1 for _ in fails) == 0 and 'all checks passed' or 'FAILED: ' + '; '.join(fails)}")
sys.exit(1 if fails else 0)
EOF

# the secret check: no file written by the runs or the servers holds the key
if grep -rl -- "$TKD_TEST_API_KEY" "$work"; then
  echo "FAIL the API key leaked into the files above"; exit 1
fi
files=$(find "$work" -type f | wc -l)
echo "ok   the API key is in none of the $files files written (cache, results, logs)"
