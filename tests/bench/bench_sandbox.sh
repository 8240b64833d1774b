#!/usr/bin/env bash
# run_python's overhead: a call through `tkd tool call run_python --direct`
# (a new sandbox per call: namespaces, the new root, seccomp, rlimits, then
# the interpreter) next to a bare `python3 -c pass` and `python3 -c 'import
# sympy'` in the same run, and the same in the weak mode. The CLI's own start
# is measured with a toolkit call (factor_integer) and subtracted, so
# "sandbox" is what the sandbox adds to the interpreter's start. Median of N
# runs (BENCH_N, default 20) of each, interleaved. Python is /usr/bin/python3.
set -euo pipefail
: "${TKD:=${TKD_BUILD_DIR:-build}/bin/tkd}"
N=${BENCH_N:-20}
/usr/bin/python3 - "$TKD" "$N" <<'PY'
import os, statistics, subprocess, sys, time
tkd, n = sys.argv[1], int(sys.argv[2])
py = "/usr/bin/python3"
weak = dict(os.environ, TKD_SANDBOX_FORCE_WEAK="1")
def rp(code, *extra):
    return [tkd, "tool", "call", "run_python", '{"code": "%s"}' % code, "--direct", "--python", py, *extra]
cases = [
    ("python3 -c pass", [py, "-I", "-B", "-c", "pass"], None),
    ("python3 -c 'import sympy'", [py, "-I", "-B", "-c", "import sympy"], None),
    ("tkd tool call factor_integer (CLI start)", [tkd, "tool", "call", "factor_integer", '{"n": 12}', "--direct"], None),
    ("run_python pass (strict)", rp("pass"), None),
    ("run_python import sympy (strict)", rp("import sympy"), None),
    ("run_python pass (weak)", rp("pass", "--sandbox", "allow-weak"), weak),
    ("run_python import sympy (weak)", rp("import sympy", "--sandbox", "allow-weak"), weak),
]
times = {c[0]: [] for c in cases}
for c in cases:  # warm the page cache once, and check each works
    r = subprocess.run(c[1], env=c[2], capture_output=True, text=True)
    if r.returncode != 0 or '"error"' in r.stdout:
        sys.exit("bench_sandbox: %s failed: %s %s" % (c[0], r.stdout, r.stderr))
for _ in range(n):
    for name, argv, env in cases:
        t = time.perf_counter()
        subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        times[name].append((time.perf_counter() - t) * 1000)
med = {k: statistics.median(v) for k, v in times.items()}
base, sym, cli = med["python3 -c pass"], med["python3 -c 'import sympy'"], med["tkd tool call factor_integer (CLI start)"]
print("run_python overhead, median of %d runs (ms)" % n)
print("| case | median ms | vs python3 -c pass | sandbox adds (ms) |")
print("|---|---:|---:|---:|")
for name, _, _ in cases:
    adds = ""
    if name.startswith("run_python"):
        bare = sym if "sympy" in name else base
        adds = "%.1f" % (med[name] - cli - bare)
    print("| %s | %.1f | %.2fx | %s |" % (name, med[name], med[name] / base, adds))
PY
