#!/usr/bin/env bash
# The solve done-set on a shard cut short. A solve is killed (kill -9) mid-run,
# then copies of its shard are truncated at five points (inside the text
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
N=300
fixture $N
start_server --latency-ms 20 --jitter-ms 10
job base.json "$work/base" '"store": {"flush_every": 4}'
"$TKD" data import base.json >import.log 2>&1 || { cat import.log; fail "import"; }
"$TKD" solve base.json >run0.log 2>&1 &
pid=$!
for _ in $(seq 300); do
  n=$(sed -nE 's/.*solve: ([0-9]+) problems solved.*/\1/p' run0.log | tail -1)
  [ "${n:-0}" -ge 120 ] && break
  sleep 0.1
done
kill -9 $pid
set +e; wait $pid; set -e
shard=base/shards/solve/r00000.a0.h5
[ -s "$shard" ] || fail "the killed solve left no shard"
cp "$shard" dead.h5
rm -rf base/shards/solve

# oracle.py INTACT CUT: rows of CUT that h5py reads back exactly as in INTACT
# (record and text), and of those the problems with a final status
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
intact, cut = rows(sys.argv[1]), rows(sys.argv[2])
ok = [i for i in cut if i in intact and cut[i] == intact[i] and intact[i][1] and json.loads(intact[i][1]) is not None]
done = {cut[i][2] for i in ok if cut[i][3] != 7}  # 7: api_error, redone
print(len(intact), len(ok), len(done))
PY
cuts=$(/usr/bin/python3 - <<'PY'
import os, h5py
with h5py.File("dead.h5", "r", swmr=True) as f:
    t = sorted((f["text"].id.get_chunk_info(k) for k in range(f["text"].id.get_num_chunks())), key=lambda c: c.byte_offset)
    r = sorted((f["records"].id.get_chunk_info(k) for k in range(f["records"].id.get_num_chunks())), key=lambda c: c.byte_offset)
    used = f["text"].shape[0] - t[-1].chunk_offset[0]  # bytes of text in the last chunk
size = os.path.getsize("dead.h5")
print(t[len(t) // 2].byte_offset + 100, r[0].byte_offset + 72 * 60 + 5, 48, t[-1].byte_offset + used // 2, size - 1)
PY
)
names=("inside the text dataset" "inside the records" "at the superblock's end" "mid-chunk" "at the last byte")
k=0
for cut in $cuts; do
  what=${names[$k]}
  k=$((k + 1))
  d=$work/c$k
  mkdir -p "$d/shards/solve"
  cp base/problems.h5 "$d/"
  cp dead.h5 "$d/shards/solve/r00000.a0.h5"
  truncate -s "$cut" "$d/shards/solve/r00000.a0.h5"
  read -r total verified before <<<"$(/usr/bin/python3 oracle.py dead.h5 "$d/shards/solve/r00000.a0.h5")"
  damaged=$((total - verified))
  job j$k.json "$d" '"store": {"flush_every": 4}'
  "$TKD" solve j$k.json >run$k.log 2>&1 || { tail -20 run$k.log; fail "($what) the re-run failed"; }
  if [ "$verified" = 0 ] && ! grep -q "damaged shard" run$k.log; then
    grep -q "skipping an unreadable shard .*r00000.a0.h5" run$k.log || { tail -20 run$k.log; fail "($what) no word of the unreadable shard"; }
  elif [ "$damaged" -gt 0 ]; then
    grep -Eq "damaged shard .*r00000.a0.h5: $damaged of $total rows are damaged .*only its $verified verified rows count" run$k.log ||
      { grep -E "warn|damaged" run$k.log | head; fail "($what) the log does not name the shard with $damaged of $total rows damaged"; }
  fi
  grep -Eq "all done: $N/$N problems done, $before before this run" run$k.log ||
    { grep "all done" run$k.log; fail "($what) want $before problems done before (h5py reads $verified of $total rows)"; }
  if [ "$damaged" -gt 0 ]; then
    set +e; "$TKD" store merge "$d/shards/solve" "$d/solve.h5" >merge$k.log 2>&1; rc=$?; set -e
    [ $rc = 2 ] && grep -q -- "--skip-damaged" merge$k.log || { cat merge$k.log; fail "($what) merge without --skip-damaged: exit $rc"; }
  fi
  "$TKD" store merge --skip-damaged "$d/shards/solve" "$d/solve.h5" >merge$k.log 2>&1 || { cat merge$k.log; fail "($what) merge"; }
  grep -q " 0 duplicates dropped" merge$k.log || { cat merge$k.log; fail "($what) a problem done before was redone"; }
  check "$d/solve.h5" --expected expected.json --samples 1 >check$k.log || { cat check$k.log; fail "($what) merged store"; }
  ok "($what, byte $cut) h5py reads $verified of $total rows; the re-run skipped $before problems, redid the rest; merged store complete, every sample once"
done
