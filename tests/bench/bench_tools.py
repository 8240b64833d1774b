#!/usr/bin/python3
"""The SymPy side of bench_tools: the same calls through the SymPy functions the
paper's reference toolkit uses (tests/tools/test_oracle.py's REF table: parse
the strings, call SymPy, str() the result), warm, each repeated until 0.2 s.
Like tkd's tkd_tools_call, a call goes from the JSON argument text to the
JSON answer text (json.loads, the tool, json.dumps({"result": ...})).
Prints "tool<TAB>microseconds per call<TAB>ok|error"."""
import json
import os
import signal
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
import test_oracle  # noqa: E402  (the reference implementations)


class Timeout(Exception):
    pass


def on_alarm(*_):
    raise Timeout()


def run(tool, args_json):
    r = test_oracle.REF[tool](json.loads(args_json))
    return json.dumps({"result": str(r)})


# SymPy caches results (factorint, totient, limit...): repeating one call
# would time a dictionary lookup. Clear the cache before every call and
# subtract what clearing alone costs.
from sympy.core.cache import clear_cache  # noqa: E402

n, t0 = 0, time.perf_counter()
while time.perf_counter() - t0 < 0.2:
    clear_cache()
    n += 1
CLEAR_US = (time.perf_counter() - t0) / n * 1e6

signal.signal(signal.SIGALRM, on_alarm)
for line in open(sys.argv[1]):
    c = json.loads(line)
    tool, args = c["tool"], json.dumps(c["args"])
    ok = "ok"
    try:
        signal.alarm(30)
        run(tool, args)  # warm up
        n, t0 = 0, time.perf_counter()
        while True:
            clear_cache()
            run(tool, args)
            n += 1
            t = time.perf_counter() - t0
            if t >= 0.2 or n >= 100000:
                break
        signal.alarm(0)
        us = max(t / n * 1e6 - CLEAR_US, 0.01)
    except Timeout:
        us, ok = 30e6, "timeout"
    except Exception:
        signal.alarm(0)
        us, ok = float("nan"), "error"
    print("%s\t%.2f\t%s" % (tool, us, ok), flush=True)
