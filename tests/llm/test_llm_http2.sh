#!/usr/bin/env bash
# HTTP/2 where offered: nginx on loopback with TLS (a throw-away self-signed
# certificate trusted through teacher.ca_file) and h2, in front of a plain
# HTTP/1.1 backend, as nginx fronts a vLLM server. (The backend is a second
# nginx server block: the front reads each request body whole before it
# answers, as a real server does. nginx's own `return` answers before the
# body has arrived and then resets the stream, and libcurl 7.88 reports that
# reset as a stream error, now and then.) Checks, from nginx's
# access log, that the client speaks HTTP/2 and multiplexes many requests
# over at most max_connections_per_endpoint connections; that http2=false
# falls back to HTTP/1.1; that an untrusted certificate is a recorded
# network failure, never a success; and that answers sent before a large
# request body has been read (/early/, /small/: a 413) end at once, never
# hang until the timeout, and over HTTP/1.1 are kept whole.
set -euo pipefail
: "${TKD:?}"
command -v nginx >/dev/null && command -v openssl >/dev/null || { echo "skip: nginx or openssl missing"; exit 0; }
[ "$(id -u)" -eq 0 ] || { echo "skip: nginx here runs as root"; exit 0; }
work=$(mktemp -d /tmp/tkd_llm_h2.XXXXXX)
npid=""
cleanup() {
  [ -n "$npid" ] && kill "$npid" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
cd "$work"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout key.pem -out cert.pem -days 1 \
  -subj "/CN=127.0.0.1" -addext "subjectAltName=IP:127.0.0.1" 2>/dev/null
read -r port backend < <(/usr/bin/python3 -c '
import socket
s = [socket.socket() for _ in range(2)]
for x in s: x.bind(("127.0.0.1", 0))
print(*(x.getsockname()[1] for x in s))')
body='{"id":"c","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"over h2 \\boxed{2}"},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":4,"total_tokens":7}}'
cat >nginx.conf <<EOF
daemon off;
worker_processes 1;
user root;
pid $work/nginx.pid;
error_log $work/error.log warn;
events { worker_connections 1024; }
http {
  log_format p '\$server_protocol \$connection';
  access_log $work/access.log p;
  client_body_temp_path $work/body; proxy_temp_path $work/proxy; fastcgi_temp_path $work/fcgi;
  uwsgi_temp_path $work/uwsgi; scgi_temp_path $work/scgi;
  server {
    listen 127.0.0.1:$port ssl http2;
    ssl_certificate $work/cert.pem;
    ssl_certificate_key $work/key.pem;
    location / { proxy_pass http://127.0.0.1:$backend; }
    location /early/ { default_type application/json; return 200 '$body'; }
    location /small/ { client_max_body_size 1k; default_type application/json; return 200 '$body'; }
  }
  server {
    listen 127.0.0.1:$backend;
    access_log off;
    location / { default_type application/json; return 200 '$body'; }
  }
}
EOF
nginx -p "$work" -c "$work/nginx.conf" &
npid=$!
for _ in $(seq 50); do curl -s -o /dev/null --cacert cert.pem "https://127.0.0.1:$port/" && break; sleep 0.1; done
cat >job.json <<EOF
{"output_dir": "$work/out", "teacher": {"model": "m", "base_urls": ["https://127.0.0.1:$port/v1"],
 "ca_file": "$work/cert.pem", "max_connections_per_endpoint": 2, "max_retries": 0, "backoff_base_s": 0.01}}
EOF
fail=0
check() { if eval "$2"; then echo "ok   $1"; else echo "FAIL $1"; fail=1; fi; }

: >access.log
kill -USR1 "$npid" # reopen the log, without the readiness probe
sleep 0.2
"$TKD" llm batch job.json --requests 200 --out h2.jsonl 2>h2.log
check "200 replies over h2, all ok" '[ "$(grep -c "\"status\":\"ok\"" h2.jsonl)" -eq 200 ]'
grep -v '"status":"ok"' h2.jsonl | head -3 || true # a failed record tells why, in the log
check "nginx saw HTTP/2.0 only" '[ "$(grep -c "^HTTP/2.0 " access.log)" -eq 200 ] && ! grep -qv "^HTTP/2.0 " access.log'
conns=$(awk '{print $2}' access.log | sort -u | wc -l)
check "multiplexed over <= 2 connections ($conns)" '[ "$conns" -le 2 ]'

: >access.log
kill -USR1 "$npid" # reopen the log
sleep 0.2
"$TKD" llm batch job.json --requests 20 --out h1.jsonl --set teacher.http2=false 2>h1.log
check "http2=false speaks HTTP/1.1" '[ "$(grep -c "^HTTP/1.1 " access.log)" -eq 20 ]'

"$TKD" llm batch job.json --requests 3 --out noca.jsonl --set teacher.ca_file= 2>noca.log || true
check "an untrusted certificate is a recorded failure" \
  '[ "$(grep -c "\"status\":\"retries_exhausted\"" noca.jsonl)" -eq 3 ] && grep -q "network error" noca.jsonl'
# Answers before the body is read. The 100 KB system prompt outgrows HTTP/2's
# first flow-control window, so nginx answers while the upload waits.
big=$(head -c 100000 /dev/zero | tr '\0' a)
early() { # BASE HTTP2 OUT: 20 requests; prints the seconds they took
  local t0=$SECONDS
  "$TKD" llm batch job.json --requests 20 --out "$3" --system "$big" --set "teacher.base_urls=[\"https://127.0.0.1:$port/$1\"]" \
    --set teacher.http2="$2" --set teacher.timeout_s=30 2>>early.log
  echo $((SECONDS - t0))
}
secs=$(early early true h2early.jsonl)
check "early answers over h2 end at once (${secs}s), none hangs to the timeout" \
  '[ "$secs" -lt 20 ] && [ "$(wc -l <h2early.jsonl)" -eq 20 ] && ! grep -q "\"status\":\"timeout\"" h2early.jsonl && ! grep -q "curl 28" h2early.jsonl'
secs=$(early early false h1early.jsonl)
check "early answers over HTTP/1.1 are kept whole (${secs}s)" '[ "$(grep -c "\"status\":\"ok\"" h1early.jsonl)" -eq 20 ]'
early small false h1small.jsonl >/dev/null
check "an early 413 over HTTP/1.1 is recorded as HTTP 413" '[ "$(grep -c "\"http_code\":413" h1small.jsonl)" -eq 20 ]'
exit $fail
