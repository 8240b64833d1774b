"""store oracle: a shard cut short. Two shards: one whose writer was killed
(SIGKILL) after 1,100 rows (HDF5 opens it cut short and reads zeros past the
cut) and one closed after 1,200 rows (HDF5 refuses it cut short: tkd reads
it from an image padded with zeros). Copies of each are truncated at five
points chosen from the chunk addresses h5py reports: inside the text
dataset, inside the records, at the superblock's end, in the middle of the
last text chunk, and at the last byte. h5py (HDF5's own reader, not tkd's)
says which rows are still readable (from the cut file, or for the closed
shard from a copy padded with zeros to its length): the record reads back
with the fields the writer wrote and the text reads back byte-identical.
For each cut:
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


def cut_shard(tmp, kind, src, nrows, good, ts):
    size = os.path.getsize(src)
    with h5py.File(src, "r", swmr=True) as f:
        check(f["records"].shape[0] == nrows, "the %s shard holds %d rows" % (kind, f["records"].shape[0]))
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
    full = readable(src, ts)
    check(len(full) == nrows, "h5py reads all %d rows of the intact %s shard (%d)" % (nrows, kind, len(full)))
    for what, cut in cuts.items():
        d = os.path.join(tmp, "%s%d" % (kind, cut))
        os.makedirs(d)
        shard = os.path.join(d, "r00000.a0.h5")
        shutil.copy(src, shard)
        os.truncate(shard, cut)
        shutil.copy(good, os.path.join(d, "r00001.a0.h5"))
        if kind == "closed":  # the oracle reads a copy padded with zeros to the length HDF5 recorded
            shutil.copy(shard, shard + ".pad")
            os.truncate(shard + ".pad", size)
            want = readable(shard + ".pad", ts)
            os.remove(shard + ".pad")
        else:
            want = readable(shard, ts)
        lost = nrows - len(want)
        print("%s shard, cut %s at byte %d of %d: h5py reads %d of %d rows" % (
            kind, what, cut, size, len(want), nrows))
        check(lost > 0 or what == "at the last byte", "%s %s: the cut damages something" % (kind, what))
        unreadable = not want and run("store", "info", shard)[0] != 0

        # export: exactly the readable rows
        out = os.path.join(d, "t.jsonl")
        code, msg = run("store", "export", shard, "--what", "traces", "--jsonl", out)
        if unreadable:
            check(code == 2 and "r00000.a0.h5" in msg,
                  "%s %s: export of an unreadable shard: %d %s" % (kind, what, code, msg))
        else:
            check(code == 0, "%s %s: export exit %d: %s" % (kind, what, code, msg))
            lines = [json.loads(x) for x in open(out, encoding="utf-8")]
            got = {int(o["pid"], 16) // 7919: json.dumps(o["text"], ensure_ascii=False).encode() for o in lines}
            check(len(lines) == len(want) and sorted(got) == sorted(want),
                  "%s %s: export wrote %d rows, h5py reads %d" % (kind, what, len(lines), len(want)))
            check(all(json.loads(got[i]) == json.loads(want[i]) for i in want if i in got),
                  "%s %s: exported texts" % (kind, what))
            if lost:
                check(re.search(r"r00000.a0.h5: %d of %d rows (is|are) damaged" % (lost, nrows), msg) is not None,
                      "%s %s: export names the shard and counts %d damaged rows: %s" % (kind, what, lost, msg))

        # merge: refused without --skip-damaged
        m = os.path.join(tmp, "m%s%d.h5" % (kind, cut))
        code, msg = run("store", "merge", d, m)
        if lost:
            check(code == 2 and "--skip-damaged" in msg and "r00000.a0.h5" in msg and not os.path.exists(m),
                  "%s %s: merge without --skip-damaged: %d %s" % (kind, what, code, msg))
            if not unreadable:
                check(re.search(r"%d of %d rows (is|are) damaged" % (lost, nrows), msg) is not None and
                      "merges its %d verified rows" % len(want) in msg,
                      "%s %s: merge message: %s" % (kind, what, msg))
            code, msg = run("store", "merge", d, m, "--skip-damaged")
        check(code == 0, "%s %s: merge --skip-damaged: %d %s" % (kind, what, code, msg))
        if lost:
            skipped = "%d damaged rows of shards cut short, %d unreadable shards" % (
                0 if unreadable else lost, 1 if unreadable else 0)
            check(skipped in msg and "r00000.a0.h5" in msg,
                  "%s %s: merge says what it skipped: %s" % (kind, what, msg))
        code, vmsg = run("store", "verify", m)
        check(code == 0, "%s %s: verify of the merged file: %s" % (kind, what, vmsg))
        with h5py.File(m, "r") as f:
            rec, text = f["records"][:], f["text"]
            solve = {int(r["pid"]) // 7919: text[int(r["text_off"]):int(r["text_off"] + r["text_len"])].tobytes()
                     for r in rec if r["phase"] == 1}
            evals = sum(1 for r in rec if r["phase"] == 3)
        check(solve == want, "%s %s: merged %d solve rows, h5py reads %d (same texts: %s)" % (
            kind, what, len(solve), len(want), solve == want))
        check(evals == GOOD_ROWS, "%s %s: the sound shard's %d rows merged (%d)" % (kind, what, GOOD_ROWS, evals))


def main():
    tmp = tempfile.mkdtemp(prefix="tkd_damaged_")
    ts = texts(N)
    tpath, jpath = os.path.join(tmp, "texts.bin"), os.path.join(tmp, "job.json")
    open(tpath, "wb").write(b"".join(struct.pack("<I", len(t)) + t for t in ts))
    open(jpath, "w").write('{"output_dir": "o"}')
    dead = os.path.join(tmp, "dead.h5")
    r = subprocess.run([WRITER, dead, tpath, jpath, str(DIE_AFTER)])
    check(r.returncode == -9, "writer killed: %d" % r.returncode)
    closed = os.path.join(tmp, "closed.h5")
    subprocess.run([WRITER, closed, tpath, jpath], check=True)
    # a sound shard of another phase (its keys never collide with the solve rows)
    good = os.path.join(tmp, "good.h5")
    gpath = os.path.join(tmp, "gtexts.bin")
    open(gpath, "wb").write(b"".join(struct.pack("<I", len(t)) + t for t in ts[:GOOD_ROWS]))
    subprocess.run([WRITER, good, gpath, jpath], check=True, env=dict(os.environ, TKD_SW_PHASE="eval"))
    for kind, src, nrows in (("killed", dead, DIE_AFTER), ("closed", closed, N)):
        cut_shard(tmp, kind, src, nrows, good, ts)
    shutil.rmtree(tmp)
    print("%s: %d failures" % (os.path.basename(__file__), fails))
    return 1 if fails else 0


sys.exit(main())
