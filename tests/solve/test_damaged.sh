#!/usr/bin/env bash
# The solve done-set on a shard cut short. A solve is killed (kill -9) mid-run
# (HDF5 opens its shard cut short, reading zeros past the cut), another runs
# to the end (HDF5 refuses its closed shard cut short; tkd reads it from an
# image padded with zeros). Copies of each shard are truncated at five points (inside the text
# dataset, inside the records, at the superblock's end, in the middle of the
# last text chunk, at the last byte; chunk addresses from h5py). For each, a
# fresh run folder holds the cut shard and `tkd solve` runs again:
#  - it names the damaged shard and counts its damaged rows (or calls it
#    unreadable), and skips exactly the problems whose record h5py reads back
#    as the killed writer wrote it (nothing readable lost, nothing unverified
#    counted as done);
#  - it completes; `tkd store merge` fails on the cut shard without
#    --skip-damaged, and with it the merged store holds every sample of every
#    problem exactly once (check_solve.py), with no duplicate: nothing done
#    was redone.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
N=200
fixture $N
start_server --latency-ms 10 --jitter-ms 5
job base.json "$work/base" '"store": {"flush_every": 4}'
"$TKD" data import base.json >import.log 2>&1 || { cat import.log; fail "import"; }
# two requests at a time: slow enough to be killed half-way
sed -i 's/"max_in_flight": 64/"max_in_flight": 2/; s/"max_in_flight": 512/"max_in_flight": 2/' base.json
"$TKD" solve base.json >run0.log 2>&1 &
pid=$!
for _ in $(seq 600); do
  n=$(sed -nE 's/.*solve: ([0-9]+) problems solved.*/\1/p' run0.log | tail -1)
  [ "${n:-0}" -ge 40 ] && break
  sleep 0.05
done
kill -9 $pid
set +e; wait $pid; rc=$?; set -e
[ $rc = 137 ] && ! grep -q "all done" run0.log || { tail -5 run0.log; fail "the first solve was not killed half-way (exit $rc)"; }
shard=base/shards/solve/r00000.a0.h5
[ -s "$shard" ] || fail "the killed solve left no shard"
cp "$shard" dead.h5
rm -rf base/shards/solve

# oracle.py INTACT CUT: rows of CUT that h5py reads back exactly as in INTACT
# (record and text), and of those the problems with a final status; a cut
# closed shard is read from a copy padded with zeros to INTACT's length
cat >oracle.py <<'PY'
import json, sys
import h5py
def rows(path):
    out = {}
    try:
        f = h5py.File(path, "r", swmr=True)
    except Exception:
        return out
    with f:
        try:
            rec, text = f["records"], f["text"]
            n = rec.shape[0]
        except Exception:
            return out
        for i in range(n):
            try:
                r = rec[i]
                out[i] = (r.tobytes(), text[int(r["text_off"]):int(r["text_off"] + r["text_len"])].tobytes(),
                          int(r["pid"]), int(r["status"]))
            except Exception:
                pass
    return out
import os, shutil
pad = sys.argv[2] + ".pad"
shutil.copy(sys.argv[2], pad)
os.truncate(pad, os.path.getsize(sys.argv[1]))
intact, cut = rows(sys.argv[1]), rows(pad)
os.remove(pad)
ok = [i for i in cut if i in intact and cut[i] == intact[i] and intact[i][1] and json.loads(intact[i][1]) is not None]
done = {cut[i][2] for i in ok if cut[i][3] != 7}  # 7: api_error, redone
print(len(intact), len(ok), len(done))
PY
cut_case() { # cut_case KIND SHARD: the five cuts of SHARD, each re-run in a folder of its own
  local kind=$1 src=$2 k=0 cut
  cuts=$(/usr/bin/python3 - "$src" <<'PY'
import os, sys, h5py
with h5py.File(sys.argv[1], "r", swmr=True) as f:
    t = sorted((f["text"].id.get_chunk_info(k) for k in range(f["text"].id.get_num_chunks())), key=lambda c: c.byte_offset)
    r = sorted((f["records"].id.get_chunk_info(k) for k in range(f["records"].id.get_num_chunks())), key=lambda c: c.byte_offset)
    used = f["text"].shape[0] - t[-1].chunk_offset[0]  # bytes of text in the last chunk
size = os.path.getsize(sys.argv[1])
print(t[len(t) // 2].byte_offset + 100, r[0].byte_offset + 72 * 60 + 5, 48, t[-1].byte_offset + used // 2, size - 1)
PY
)
  local names=("inside the text dataset" "inside the records" "at the superblock's end" "mid-chunk" "at the last byte")
  for cut in $cuts; do
    what=${names[$k]}
    k=$((k + 1))
    d=$work/$kind$k
    mkdir -p "$d/shards/solve"
    cp base/problems.h5 "$d/"
    cp "$src" "$d/shards/solve/r00000.a0.h5"
    truncate -s "$cut" "$d/shards/solve/r00000.a0.h5"
    read -r total verified before <<<"$(/usr/bin/python3 oracle.py "$src" "$d/shards/solve/r00000.a0.h5")"
    damaged=$((total - verified))
    job j$kind$k.json "$d" '"store": {"flush_every": 4}'
    "$TKD" solve j$kind$k.json >run$kind$k.log 2>&1 || { tail -20 run$kind$k.log; fail "($kind, $what) the re-run failed"; }
    if [ "$verified" = 0 ] && ! grep -q "damaged shard" run$kind$k.log; then
      grep -q "skipping an unreadable shard .*r00000.a0.h5" run$kind$k.log || { tail -20 run$kind$k.log; fail "($kind, $what) no word of the unreadable shard"; }
    elif [ "$damaged" -gt 0 ]; then
      grep -Eq "damaged shard .*r00000.a0.h5: $damaged of $total rows (is|are) damaged .*only its $verified verified rows count" run$kind$k.log ||
        { grep -E "warn|damaged" run$kind$k.log | head; fail "($kind, $what) the log does not name the shard with $damaged of $total rows damaged"; }
    fi
    grep -Eq "all done: $N/$N problems done, $before before this run" run$kind$k.log ||
      { grep "all done" run$kind$k.log; fail "($kind, $what) want $before problems done before (h5py reads $verified of $total rows)"; }
    if [ "$damaged" -gt 0 ]; then
      set +e; "$TKD" store merge "$d/shards/solve" "$d/solve.h5" >merge$kind$k.log 2>&1; rc=$?; set -e
      [ $rc = 2 ] && grep -q -- "--skip-damaged" merge$kind$k.log || { cat merge$kind$k.log; fail "($kind, $what) merge without --skip-damaged: exit $rc"; }
    fi
    "$TKD" store merge --skip-damaged "$d/shards/solve" "$d/solve.h5" >merge$kind$k.log 2>&1 || { cat merge$kind$k.log; fail "($kind, $what) merge"; }
    grep -q " 0 duplicates dropped" merge$kind$k.log || { cat merge$kind$k.log; fail "($kind, $what) a problem done before was redone"; }
    check "$d/solve.h5" --expected expected.json --samples 1 >check$kind$k.log || { cat check$kind$k.log; fail "($kind, $what) merged store"; }
    ok "($kind shard, $what, byte $cut) h5py reads $verified of $total rows; the re-run skipped $before problems, redid the rest; merged store complete, every sample once"
  done
}
cut_case killed "$work/dead.h5"
job full.json "$work/full" '"store": {"flush_every": 4}'
mkdir -p full && cp base/problems.h5 full/
"$TKD" solve full.json >runfull.log 2>&1 || { tail -20 runfull.log; fail "the full run"; }
cp full/shards/solve/r00000.a0.h5 "$work/closed.h5"
cut_case closed "$work/closed.h5"
