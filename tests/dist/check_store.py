#!/usr/bin/python3
"""Oracle check of testwork output with h5py (not tkd's reader).
  check_store.py merged PATH N        every synthetic item test/0..N-1 exactly once
  check_store.py shard PATH MIN       a shard (maybe cut off by kill -9) opens and
                                      holds at least MIN test records with sound text
  check_store.py count PATH...        print the total number of records
Exit 0 when the check holds, 1 with a message otherwise."""
import hashlib
import json
import sys

import h5py


def pid_of(i):
    return int.from_bytes(hashlib.sha256(f"test/{i}".encode()).digest()[:8], "big")


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
        rec, text = records(path)
        pids = [int(p) for p in rec["pid"]]
        if len(pids) != len(set(pids)):
            fail(f"{path}: {len(pids) - len(set(pids))} duplicate pids")
        want = {pid_of(i) for i in range(n)}
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
    elif what == "count":
        print(sum(len(records(p)[0]) for p in args))
    else:
        fail(f"unknown check {what}")


main()
