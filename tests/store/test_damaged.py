"""store oracle: a shard cut short. A writer is killed (SIGKILL) after 1,100
rows, then copies of its shard are truncated at five points chosen from the
chunk addresses h5py reports: inside the text dataset, inside the records,
at the superblock's end, in the middle of the last text chunk, and at the
last byte. h5py (HDF5's own reader, not tkd's) says which rows are still
readable: the record reads back with the fields the writer wrote and the
text reads back byte-identical. For each cut:
  - `tkd store export` writes exactly those rows (nothing readable lost,
    nothing unverified exported) and names the shard and the damaged count;
  - `tkd store merge` fails (exit 2) saying how many rows are damaged and
    that --skip-damaged keeps the verified ones; with --skip-damaged the
    merged file holds exactly those rows plus a sound shard's, passes
    `tkd store verify`, and the message says what was skipped;
  - an unreadable shard (cut at the superblock) fails merge, and with
    --skip-damaged is left out with a message.
The solve done-set on a cut shard is tested in tests/solve/test_damaged.sh."""
import json
import os
import re
import shutil
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
N, DIE_AFTER, GOOD_ROWS = 1200, 1100, 20
fails = 0


def check(cond, what):
    global fails
    if not cond:
        fails += 1
        print("FAIL:", what)


def texts(n):
    return [json.dumps({"i": i, "s": "é∑x" * (i % 300), "q": [i, None, True]}, ensure_ascii=False).encode()
            for i in range(n)]


def readable(path, ts):
    """Rows h5py reads back as written: {row: text}; an error is unreadable."""
    got = {}
    try:
        f = h5py.File(path, "r", swmr=True)
    except Exception:
        return got
    with f:
        try:
            rec, text = f["records"], f["text"]
            n = rec.shape[0]
        except Exception:
            return got
        for i in range(n):
            try:
                r = rec[i]
                off, ln = int(r["text_off"]), int(r["text_len"])
                t = text[off:off + ln].tobytes()
            except Exception:
                continue
            ok = (int(r["pid"]) == i * 7919 + 1 and int(r["sample"]) == i % 3 and int(r["phase"]) == 1
                  and int(r["status"]) == i % 9 and int(r["turns"]) == i and i < len(ts) and t == ts[i])
            if ok:
                got[i] = t
    return got


def run(*args):
    r = subprocess.run([TKD] + list(args), capture_output=True, text=True)
    return r.returncode, r.stdout + r.stderr


def main():
    tmp = tempfile.mkdtemp(prefix="tkd_damaged_")
    ts = texts(N)
    tpath, jpath = os.path.join(tmp, "texts.bin"), os.path.join(tmp, "job.json")
    open(tpath, "wb").write(b"".join(struct.pack("<I", len(t)) + t for t in ts))
    open(jpath, "w").write('{"output_dir": "o"}')
    dead = os.path.join(tmp, "dead.h5")
    r = subprocess.run([WRITER, dead, tpath, jpath, str(DIE_AFTER)])
    check(r.returncode == -9, "writer killed: %d" % r.returncode)
    # a sound shard of another phase (its keys never collide with the solve rows)
    good = os.path.join(tmp, "good.h5")
    gpath = os.path.join(tmp, "gtexts.bin")
    open(gpath, "wb").write(b"".join(struct.pack("<I", len(t)) + t for t in ts[:GOOD_ROWS]))
    subprocess.run([WRITER, good, gpath, jpath], check=True, env=dict(os.environ, TKD_SW_PHASE="eval"))
    size = os.path.getsize(dead)
    with h5py.File(dead, "r", swmr=True) as f:
        check(f["records"].shape[0] == DIE_AFTER, "the killed shard holds %d rows" % f["records"].shape[0])
        tc = [f["text"].id.get_chunk_info(k) for k in range(f["text"].id.get_num_chunks())]
        rc = [f["records"].id.get_chunk_info(k) for k in range(f["records"].id.get_num_chunks())]
        ntext = f["text"].shape[0]
    tc.sort(key=lambda c: c.byte_offset)
    rc.sort(key=lambda c: c.byte_offset)
    cuts = {
        "inside the text dataset": tc[len(tc) // 3].byte_offset + 100,
        "inside the records": rc[1].byte_offset + 72 * 100 + 3,
        "at the superblock's end": 48,
        "mid-chunk": tc[-1].byte_offset + (ntext - tc[-1].chunk_offset[0]) // 2,  # half the text in it
        "at the last byte": size - 1,
    }
    full = readable(dead, ts)
    check(len(full) == DIE_AFTER, "h5py reads all %d rows of the intact killed shard (%d)" % (DIE_AFTER, len(full)))
    for what, cut in cuts.items():
        d = os.path.join(tmp, "cut%d" % cut)
        os.makedirs(d)
        shard = os.path.join(d, "r00000.a0.h5")
        shutil.copy(dead, shard)
        os.truncate(shard, cut)
        shutil.copy(good, os.path.join(d, "r00001.a0.h5"))
        want = readable(shard, ts)
        lost = DIE_AFTER - len(want)
        print("cut %s at byte %d of %d: h5py reads %d of %d rows" % (what, cut, size, len(want), DIE_AFTER))
        check(lost > 0 or what == "at the last byte", "%s: the cut damages something" % what)
        unreadable = not want and run("store", "info", shard)[0] != 0

        # export: exactly the readable rows
        out = os.path.join(d, "t.jsonl")
        code, msg = run("store", "export", shard, "--what", "traces", "--jsonl", out)
        if unreadable:
            check(code == 2 and "r00000.a0.h5" in msg, "%s: export of an unreadable shard: %d %s" % (what, code, msg))
        else:
            check(code == 0, "%s: export exit %d: %s" % (what, code, msg))
            lines = [json.loads(x) for x in open(out, encoding="utf-8")]
            got = {int(o["pid"], 16) // 7919: json.dumps(o["text"], ensure_ascii=False).encode() for o in lines}
            check(len(lines) == len(want) and sorted(got) == sorted(want),
                  "%s: export wrote %d rows, h5py reads %d" % (what, len(lines), len(want)))
            check(all(json.loads(got[i]) == json.loads(want[i]) for i in want if i in got),
                  "%s: exported texts" % what)
            if lost:
                check(re.search(r"r00000.a0.h5: %d of %d rows are damaged" % (lost, DIE_AFTER), msg) is not None,
                      "%s: export names the shard and counts %d damaged rows: %s" % (what, lost, msg))

        # merge: refused without --skip-damaged
        m = os.path.join(tmp, "m%d.h5" % cut)
        code, msg = run("store", "merge", d, m)
        if lost:
            check(code == 2 and "--skip-damaged" in msg and "r00000.a0.h5" in msg and not os.path.exists(m),
                  "%s: merge without --skip-damaged: %d %s" % (what, code, msg))
            if not unreadable:
                check("%d of %d rows are damaged" % (lost, DIE_AFTER) in msg and
                      "merges its %d verified rows" % len(want) in msg, "%s: merge message: %s" % (what, msg))
            code, msg = run("store", "merge", d, m, "--skip-damaged")
        check(code == 0, "%s: merge --skip-damaged: %d %s" % (what, code, msg))
        if lost:
            skipped = "%d damaged rows of shards cut short, %d unreadable shards" % (
                0 if unreadable else lost, 1 if unreadable else 0)
            check(skipped in msg and "r00000.a0.h5" in msg, "%s: merge says what it skipped: %s" % (what, msg))
        code, vmsg = run("store", "verify", m)
        check(code == 0, "%s: verify of the merged file: %s" % (what, vmsg))
        with h5py.File(m, "r") as f:
            rec, text = f["records"][:], f["text"]
            solve = {int(r["pid"]) // 7919: text[int(r["text_off"]):int(r["text_off"] + r["text_len"])].tobytes()
                     for r in rec if r["phase"] == 1}
            evals = sum(1 for r in rec if r["phase"] == 3)
        check(solve == want, "%s: merged %d solve rows, h5py reads %d (same texts: %s)" % (
            what, len(solve), len(want), solve == want))
        check(evals == GOOD_ROWS, "%s: the sound shard's %d rows merged (%d)" % (what, GOOD_ROWS, evals))
    shutil.rmtree(tmp)
    print("%s: %d failures" % (os.path.basename(__file__), fails))
    return 1 if fails else 0


sys.exit(main())
