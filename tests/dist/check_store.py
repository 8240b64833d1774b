#!/usr/bin/python3
"""Oracle check of testwork output with h5py (not tkd's reader).
  check_store.py merged PATH N [PFX]  every item PFX0..PFX<N-1> (default test/) exactly once
  check_store.py problems PATH N      write a problems file as h5py sees the store layout:
                                      N problems, pid = hash of "problem/<i>"
  check_store.py shard PATH MIN       a shard (maybe cut off by kill -9) opens and
                                      holds at least MIN test records with sound text
  check_store.py count PATH...        print the total number of records
Exit 0 when the check holds, 1 with a message otherwise."""
import hashlib
import json
import sys

import h5py


def pid_of(i, prefix="test/"):
    return int.from_bytes(hashlib.sha256(f"{prefix}{i}".encode()).digest()[:8], "big")


RECORD = [("pid", "<u8"), ("sample", "<u4"), ("phase", "u1"), ("status", "u1"), ("flags", "<u2"),
          ("turns", "<u4"), ("tool_calls", "<u4"), ("prompt_tokens", "<u8"), ("completion_tokens", "<u8"),
          ("latency_s", "<f8"), ("finished_at", "<f8"), ("text_off", "<u8"), ("text_len", "<u8")]


def write_problems(path, n):
    import numpy as np
    docs = [json.dumps({"id": f"problem/{i}", "problem": f"What is {i} + {i}?", "answer": str(2 * i)}).encode()
            for i in range(n)]
    rows = np.zeros(n, dtype=np.dtype(RECORD))
    off = 0
    for i, d in enumerate(docs):
        rows[i]["pid"], rows[i]["phase"] = pid_of(i, "problem/"), 0
        rows[i]["text_off"], rows[i]["text_len"] = off, len(d)
        off += len(d)
    with h5py.File(path, "w") as f:
        f.create_dataset("records", data=rows, maxshape=(None,), chunks=True)
        f.create_dataset("text", data=np.frombuffer(b"".join(docs) or b"", dtype=np.uint8), maxshape=(None,),
                         chunks=True)
        f.attrs["schema_version"] = np.int64(1)
        for k in ("tkd_version", "git_commit", "phase", "created", "job", "job_sha256"):
            f.attrs[k] = "problem" if k == "phase" else "x"
        f.attrs["rank"] = np.int64(0)
        f.attrs["attempt"] = np.int64(0)
        f.attrs["manifest"] = "{}"


def records(path):
    with h5py.File(path, "r", swmr=True) as f:
        rec = f["records"][:]
        text = f["text"][:].tobytes()
    return rec, text


def fail(msg):
    print(f"check_store: {msg}", file=sys.stderr)
    sys.exit(1)


def main():
    what, args = sys.argv[1], sys.argv[2:]
    if what == "merged":
        path, n = args[0], int(args[1])
        prefix = args[2] if len(args) > 2 else "test/"
        rec, text = records(path)
        pids = [int(p) for p in rec["pid"]]
        if len(pids) != len(set(pids)):
            fail(f"{path}: {len(pids) - len(set(pids))} duplicate pids")
        want = {pid_of(i, prefix) for i in range(n)}
        if set(pids) != want:
            fail(f"{path}: {len(want - set(pids))} items missing, {len(set(pids) - want)} unexpected")
        if any(int(p) != 9 for p in rec["phase"]):
            fail(f"{path}: a record is not of phase test (9)")
        print(f"{path}: {len(pids)} records, every item exactly once")
    elif what == "shard":
        path, least = args[0], int(args[1])
        rec, text = records(path)
        if len(rec) < least:
            fail(f"{path}: {len(rec)} records, expected at least {least}")
        for r in rec:
            off, ln = int(r["text_off"]), int(r["text_len"])
            doc = json.loads(text[off:off + ln])
            if int(doc["pid"], 16) != int(r["pid"]):
                fail(f"{path}: text of a record names pid {doc['pid']}, the record {int(r['pid']):016x}")
        print(f"{path}: opens, {len(rec)} records with sound text")
    elif what == "problems":
        write_problems(args[0], int(args[1]))
    elif what == "count":
        print(sum(len(records(p)[0]) for p in args))
    else:
        fail(f"unknown check {what}")


main()
