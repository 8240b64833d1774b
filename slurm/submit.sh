#!/usr/bin/env bash
# Submit a chain of tkd phases for one job file, each starting only when the
# previous one succeeded (--dependency=afterok). Ablations: several job files
# become one job array per phase, one task per job file.
#   bash slurm/submit.sh [--mpi PLUGIN] JOB.json [JOB2.json ...] [-- PHASE ...]
# Default phases: the whole chain, data solve backtranslate export train eval
# report (the report job runs last). Each phase's job gets the sbatch options
# of the job file's "slurm" section for that phase (`tkd config sbatch JOB
# PHASE`: partition, nodes, ntasks, gpus_per_task, time, ...; the first job
# file's, for an array), after $SBATCH_OPTS. Before anything is queued, every job file is
# checked for every phase, with what the phases check when they start
# (`tkd config check JOB.json --phase data,solve`): an unknown phase, a
# missing input or prompt file, an unknown tool name or an endpoint that is
# not a URL fails here, exit 2, not hours later in the queue.
# Extra sbatch options come from $SBATCH_OPTS (e.g. "-p gpu --ntasks=8");
# --mpi (or $TKD_SRUN_MPI) chooses srun's MPI plugin (default pmix).
# Nothing is written to disk: the job files are the batch script's arguments.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
usage() { echo "usage: submit.sh [--mpi PLUGIN] JOB.json [JOB2.json ...] [-- PHASE ...]" >&2; exit 2; }
jobs=()
phases=()
mpi=${TKD_SRUN_MPI:-pmix}
while [ $# -gt 0 ]; do
  case "$1" in
    --) shift; phases=("$@"); break ;;
    --mpi) [ $# -ge 2 ] || usage; mpi=$2; shift 2 ;;
    --mpi=*) mpi=${1#--mpi=}; shift ;;
    -h|--help) usage ;;
    -*) echo "submit.sh: unknown option '$1'" >&2; usage ;;
    *) jobs+=("$1"); shift ;;
  esac
done
[ ${#jobs[@]} -gt 0 ] || usage
[ ${#phases[@]} -gt 0 ] || phases=(data solve backtranslate export train eval report)
[ -n "$mpi" ] || usage
TKD=${TKD:-$(pwd)/build/bin/tkd}
chain=$(IFS=,; echo "${phases[*]}")
for j in "${jobs[@]}"; do "$TKD" config check "$j" --phase "$chain" >/dev/null || exit 2; done

dep=""
ids=()
for phase in "${phases[@]}"; do
  array=()
  # job array: task i runs job file i (the script's argument i+1)
  [ ${#jobs[@]} -eq 1 ] || array=(--array=0-$(( ${#jobs[@]} - 1 )))
  res=$("$TKD" config sbatch "${jobs[0]}" "$phase") || exit 2
  id=$(sbatch --parsable $dep ${SBATCH_OPTS:-} $res --job-name="tkd-$phase" "${array[@]}" \
       --export=ALL,PHASE="$phase",TKD="$TKD",TKD_SRUN_MPI="$mpi" "$here/phase.sbatch" "${jobs[@]}")
  echo "submitted $phase as $id${res:+ ($res)}"
  ids+=("$id")
  dep="--dependency=afterok:$id"
done
echo "follow them: squeue -j $(IFS=,; echo "${ids[*]}"); logs: tkd-PHASE-JOBID.out (sbatch --output to change);"
echo "a phase that stops early (exit 3) is requeued and resumes; the report lands in OUTPUT_DIR/report/report.md"
