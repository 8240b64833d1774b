# Shared by the whole-pipeline tests (tests/solve/test_sweep_chain.sh,
# tests/slurm/test_chain.sh): a run small enough to go through import,
# solve, backtranslate, export, train, eval and report in seconds, against
# the project's stand-ins (the stand-in teacher of jobs/quickstart.sh, a
# tiny random student, a scripted endpoint arm for eval).
#   source tests/lib/pipeline.sh
#   pl_fixture DIR N            problems, scripts, benchmarks, the tiny student
#   pl_server DIR/SCRIPT LATENCY_MS   a tkd_testserver on a free port: sets pl_port
#   pl_job FILE OUT DIR TEACHER_PORT EVAL_PORT [extra top-level JSON members]
#   pl_stat PORT KEY            one number of the server's /stats
#   pl_stop_servers             (call from the test's exit trap)
: "${TKD:?}" "${TKD_SOURCE_DIR:?}" "${TKD_BUILD_DIR:?}"
pl_pids=()

pl_fixture() {
  /usr/bin/python3 "$TKD_SOURCE_DIR/tests/lib/pipeline_fixture.py" "$2" "$1"
  "$TKD" model init "$TKD_SOURCE_DIR/jobs/student_tiny.json" "$1/student" --seed 1 >/dev/null
}

pl_server() {
  local script=$1 f
  f=$(mktemp "$(dirname "$script")/server.XXXXXX")
  "$TKD_BUILD_DIR/bin/tkd_testserver" --port 0 --max-seconds 900 --latency-ms "$2" --script "$script" \
    >"$f" 2>"$f.log" &
  pl_pids+=($!)
  for _ in $(seq 100); do [ -s "$f" ] && break; sleep 0.05; done
  pl_port=$(awk '{print $2}' "$f")
  [ -n "$pl_port" ] || { echo "the test server on $script did not start" >&2; return 1; }
}

pl_stat() {
  curl -s "http://127.0.0.1:$1/stats" | /usr/bin/python3 -c "import json,sys; print(json.load(sys.stdin)['$2'])"
}

pl_stop_servers() {
  local p
  for p in "${pl_pids[@]}"; do kill "$p" 2>/dev/null || true; done
}

pl_job() {
  local file=$1 out=$2 dir=$3
  cat >"$file" <<JSON
{"name": "pipe", "output_dir": "$out", "seed": 7, "log_level": "info",
 "data": {"sources": [{"path": "$dir/problems.jsonl", "name": "t", "format": "bench"}]},
 "teacher": {"model": "stand-in", "base_urls": ["http://127.0.0.1:$4/v1"], "http2": false, "max_in_flight": 8,
             "timeout_s": 10, "connect_timeout_s": 2, "backoff_base_s": 0.05, "backoff_max_s": 0.5},
 "solve": {"samples_per_problem": 2, "max_in_flight": 8},
 "dist": {"lease_max": 4, "lease_min": 1, "progress_every_s": 1, "grace_s": 5, "lease_timeout_s": 60},
 "export": {"variants": ["nl", "tir"], "dedup": {"near": false}},
 "train": {"model_dir": "$dir/student", "seq_len": 256, "steps": 6, "batch": 2, "lr": 0.002, "warmup_steps": 1,
           "log_every": 1, "checkpoint_every": 0, "lora": {"r": 8, "alpha": 16}},
 "eval": {"samples_per_problem": 2, "temperature": 0.7, "max_new_tokens": 12, "bootstrap": 200,
          "arms": [{"name": "base", "engine": "builtin", "model_dir": "$dir/student"},
                   {"name": "tuned", "engine": "builtin", "model_dir": "$dir/student", "adapter": "$out/train/adapter"},
                   {"name": "oracle", "engine": "endpoint", "model": "oracle", "http2": false,
                    "base_urls": ["http://127.0.0.1:$5/v1"]}],
          "benchmarks": [{"name": "e1", "path": "$dir/e1.jsonl", "format": "bench"},
                         {"name": "e2", "path": "$dir/e2.jsonl", "format": "bench"}]}
 ${6:+, $6}}
JSON
}
