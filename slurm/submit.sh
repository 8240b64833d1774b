#!/usr/bin/env bash
# Submit a chain of tkd phases for one job file, each starting only when the
# previous one succeeded (--dependency=afterok). Ablations: several job files
# become one job array per phase, one task per job file.
#   bash slurm/submit.sh JOB.json [JOB2.json ...] [-- phase phase ...]
# Default phases: data solve.
# Extra sbatch options come from $SBATCH_OPTS (e.g. "-p gpu --ntasks=8").
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
jobs=()
phases=()
while [ $# -gt 0 ]; do
  if [ "$1" = "--" ]; then shift; phases=("$@"); break; fi
  jobs+=("$1"); shift
done
[ ${#jobs[@]} -gt 0 ] || { echo "usage: submit.sh JOB.json [JOB2.json ...] [-- PHASE ...]" >&2; exit 2; }
[ ${#phases[@]} -gt 0 ] || phases=(data solve)
TKD=${TKD:-$(pwd)/build/bin/tkd}
for j in "${jobs[@]}"; do "$TKD" config check "$j" >/dev/null || exit 2; done

dep=""
for phase in "${phases[@]}"; do
  if [ ${#jobs[@]} -eq 1 ]; then
    id=$(sbatch --parsable $dep ${SBATCH_OPTS:-} --job-name="tkd-$phase" \
         --export=ALL,PHASE="$phase",JOB="${jobs[0]}",TKD="$TKD" "$here/phase.sbatch")
  else
    # job array: task i runs job file i, listed one per line in a file
    list=$(pwd)/.tkd-joblist.$$
    printf '%s\n' "${jobs[@]}" > "$list"
    id=$(sbatch --parsable $dep ${SBATCH_OPTS:-} --job-name="tkd-$phase" --array=0-$(( ${#jobs[@]} - 1 )) \
         --export=ALL,PHASE="$phase",JOBLIST="$list",TKD="$TKD" "$here/phase.sbatch")
  fi
  echo "submitted $phase as $id"
  dep="--dependency=afterok:$id"
done
