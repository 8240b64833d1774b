"""store oracle: h5py (an HDF5 reader nobody here wrote) opens a store that tkd
wrote; /records reads as a structured array with tkd_record's field names and
values; every text blob read back through h5py is byte-identical to what was
written (multi-byte UTF-8, empty, 1 MiB); the attributes (a 300 KiB job text)
read back; a shard whose writer was killed opens in h5py (swmr=True) with
its flushed rows intact; export leaves out (and reports) the rows whose text
is not JSON. Then the other way: a store written by h5py alone is read by
`tkd store info/verify/export`, and a range damaged with h5py is caught by
`tkd store verify` (exit 1)."""
import json
import os
import random
import struct
import subprocess
import sys
import tempfile

try:
    import h5py
    import numpy as np
except ImportError:
    print("skip: python3-h5py is not installed")
    sys.exit(77)

TKD = os.environ.get("TKD") or sys.exit("TKD is not set")
WRITER = os.path.join(os.environ["TKD_BUILD_DIR"], "bin", "store_writer")
fails = 0


def check(cond, what):
    global fails
    if not cond:
        fails += 1
        print("FAIL:", what)


def texts():
    rnd = random.Random(7)
    alphabet = "aé∑漢字🙂\\\"\n\t{}[]x "
    out = [b"", "∑ é 漢字 🙂".encode(), json.dumps({"q": "x" * 1000}).encode()]
    out.append(("🙂" * (1 << 18)).encode())  # 1 MiB of 4-byte characters
    for i in range(300):
        n = rnd.randrange(0, 3000)
        s = "".join(rnd.choice(alphabet) for _ in range(n))
        out.append(json.dumps({"i": i, "s": s}, ensure_ascii=False).encode())
    return out


def main():
    tmp = tempfile.mkdtemp(prefix="tkd_h5py_")
    ts = texts()
    blob = b"".join(struct.pack("<I", len(t)) + t for t in ts)
    tpath, jpath, store = (os.path.join(tmp, n) for n in ("texts.bin", "job.json", "s.h5"))
    open(tpath, "wb").write(blob)
    job = json.dumps({"output_dir": "out", "note": "é" * 150000}).encode()
    open(jpath, "wb").write(job)
    subprocess.run([WRITER, store, tpath, jpath], check=True)

    with h5py.File(store, "r") as f:
        rec = f["records"][:]
        names = rec.dtype.names
        check(names == ("pid", "sample", "phase", "status", "flags", "turns", "tool_calls", "prompt_tokens",
                        "completion_tokens", "latency_s", "finished_at", "text_off", "text_len"),
              "field names %r" % (names,))
        check(rec.dtype.itemsize == 72, "itemsize %d" % rec.dtype.itemsize)
        check(rec.dtype["pid"] == np.dtype("<u8") and rec.dtype["latency_s"] == np.dtype("<f8"), "field types")
        check(len(rec) == len(ts), "rows %d != %d" % (len(rec), len(ts)))
        i = np.arange(len(rec), dtype=np.uint64)
        check((rec["pid"] == i * 7919 + 1).all(), "pid")
        check((rec["sample"] == i % 3).all(), "sample")
        check((rec["phase"] == 1).all() and (rec["status"] == i % 9).all(), "phase/status")
        check((rec["completion_tokens"] == 10**12 + i).all(), "completion_tokens")
        check((rec["latency_s"] == i / 4).all(), "latency_s")
        text = f["text"]
        check(text.dtype == np.uint8 and text.ndim == 1, "text dtype")
        same = 0
        for r, t in zip(rec, ts):
            got = text[int(r["text_off"]):int(r["text_off"]) + int(r["text_len"])].tobytes()
            same += got == t
        check(same == len(ts), "%d of %d texts byte-identical" % (same, len(ts)))
        a = f.attrs
        check(int(a["schema_version"]) == 1, "schema_version")
        check(int(a["rank"]) == 5 and int(a["attempt"]) == 1, "rank/attempt")
        check(a["job"].decode() == job.decode(), "job text (%d bytes)" % len(job))
        check(a["phase"] == b"solve", "phase attr %r" % a["phase"])
        check(json.loads(a["manifest"]) == {"inputs": []}, "manifest")
        import hashlib
        check(a["job_sha256"].decode() == hashlib.sha256(job).hexdigest(), "job_sha256")

    # a writer killed with SIGKILL after 123 rows (flush every 5): h5py in SWMR
    # mode reads at least the 120 flushed rows, texts byte-identical
    dead = os.path.join(tmp, "dead.h5")
    r = subprocess.run([WRITER, dead, tpath, jpath, "123"])
    check(r.returncode == -9, "writer killed: %d" % r.returncode)
    with h5py.File(dead, "r", swmr=True) as f:
        rec = f["records"][:]
        text = f["text"]
        check(120 <= len(rec) <= 123, "crashed shard rows %d" % len(rec))
        same = sum(text[int(r["text_off"]):int(r["text_off"] + r["text_len"])].tobytes() == t
                   for r, t in zip(rec, ts))
        check(same == len(rec), "crashed shard: %d of %d texts identical" % (same, len(rec)))
    r = subprocess.run([TKD, "store", "verify", dead], capture_output=True, text=True)
    listed = [x for x in r.stderr.splitlines() if ": row " in x]
    # row 0 holds the deliberately empty text, rows 1 and 3 the non-JSON ones; nothing else is wrong
    check(r.returncode == 1 and len(listed) == 3 and "row 0: text is empty" in listed[0]
          and all("text is not JSON" in x for x in listed[1:]), "verify crashed shard: " + r.stderr)

    # tkd's export of the same store, against the texts: every row whose text
    # is JSON (Python's json decides), byte for byte as parsed; the empty and
    # the non-JSON texts are left out and reported
    out = os.path.join(tmp, "t.jsonl")
    r = subprocess.run([TKD, "store", "export", store, "--what", "traces", "--jsonl", out], capture_output=True,
                       text=True)
    check(r.returncode == 0, "export: %d %s" % (r.returncode, r.stderr))
    check("3 of %d rows are damaged" % len(ts) in r.stderr, "export reports the 3 non-JSON rows: " + r.stderr)

    def as_json(t):
        try:
            return json.loads(t.decode()) if t else None
        except ValueError:
            return None

    want = [(k, as_json(t)) for k, t in enumerate(ts) if as_json(t) is not None]
    lines = open(out, encoding="utf-8").read().splitlines()
    check(len(lines) == len(want) == len(ts) - 3, "export lines %d, want %d" % (len(lines), len(want)))
    for line, (k, w) in zip(lines, want):
        o = json.loads(line)
        check(o["text"] == w, "export text %d" % k)
        check(o["pid"] == "%016x" % (k * 7919 + 1) and o["phase"] == "solve", "export fields %d" % k)

    # a store written by h5py alone, read by tkd
    own = os.path.join(tmp, "h5py.h5")
    dt = np.dtype([("pid", "<u8"), ("sample", "<u4"), ("phase", "u1"), ("status", "u1"), ("flags", "<u2"),
                   ("turns", "<u4"), ("tool_calls", "<u4"), ("prompt_tokens", "<u8"),
                   ("completion_tokens", "<u8"), ("latency_s", "<f8"), ("finished_at", "<f8"),
                   ("text_off", "<u8"), ("text_len", "<u8")])
    docs = [json.dumps({"k": k, "v": "é" * k}, ensure_ascii=False).encode() for k in range(20)]
    rows = np.zeros(len(docs), dtype=dt)
    off = 0
    for k, d in enumerate(docs):
        rows[k]["pid"], rows[k]["phase"], rows[k]["status"] = k + 1, 2, 1
        rows[k]["text_off"], rows[k]["text_len"] = off, len(d)
        off += len(d)
    with h5py.File(own, "w") as f:
        f.create_dataset("records", data=rows, maxshape=(None,), chunks=True)
        f.create_dataset("text", data=np.frombuffer(b"".join(docs), dtype=np.uint8), maxshape=(None,),
                         chunks=True)
        f.attrs["schema_version"] = np.int64(1)
        for k in ("tkd_version", "git_commit", "phase", "created", "job", "job_sha256"):
            f.attrs[k] = "x" if k != "job" else ""  # variable-length strings, h5py's default
        f.attrs["rank"] = np.int64(0)
        f.attrs["attempt"] = np.int64(0)
        f.attrs["manifest"] = "{}"
    r = subprocess.run([TKD, "store", "verify", own], capture_output=True, text=True)
    check(r.returncode == 0, "verify h5py-written store: %d %s" % (r.returncode, r.stderr))
    r = subprocess.run([TKD, "store", "info", own], capture_output=True, text=True)
    check(r.returncode == 0 and "backtranslate" in r.stdout and "correct" in r.stdout, "info: " + r.stdout)
    r = subprocess.run([TKD, "store", "export", own, "--what", "traces", "--jsonl", "-"], capture_output=True)
    got = [json.loads(x)["text"] for x in r.stdout.decode().splitlines()]
    check(got == [json.loads(d) for d in docs], "export of h5py-written store")
    with h5py.File(own, "r+") as f:
        rec = f["records"]
        bad = rec[3]
        bad["text_off"] = 10**9
        rec[3] = bad
    r = subprocess.run([TKD, "store", "verify", own], capture_output=True, text=True)
    check(r.returncode == 1 and "row 3: text range" in r.stderr, "verify damaged: %d %s" % (r.returncode, r.stderr))

    subprocess.run(["rm", "-rf", tmp])
    print("%s: %d failures" % (os.path.basename(__file__), fails))
    return 1 if fails else 0


sys.exit(main())
