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
usage() { echo "usage: submit.sh [--mpi PLUGIN] JOB.json [JOB2.json ...] [-- PHASE ...]" >&2
          echo "       submit.sh [--mpi PLUGIN] --sweep DIR/sweep.json   (tkd sweep's arms, shared stages once)" >&2; exit 2; }
jobs=()
phases=()
mpi=${TKD_SRUN_MPI:-pmix}
sweep=""
while [ $# -gt 0 ]; do
  case "$1" in
    --sweep) [ $# -ge 2 ] || usage; sweep=$2; shift 2 ;;
    --) shift; phases=("$@"); break ;;
    --mpi) [ $# -ge 2 ] || usage; mpi=$2; shift 2 ;;
    --mpi=*) mpi=${1#--mpi=}; shift ;;
    -h|--help) usage ;;
    -*) echo "submit.sh: unknown option '$1'" >&2; usage ;;
    *) jobs+=("$1"); shift ;;
  esac
done
TKD=${TKD:-$(pwd)/build/bin/tkd}
submit_phase() { # submit_phase PHASE DEPENDENCY JOB...: prints the job id
  local phase=$1 dep=$2 res array=()
  shift 2
  [ $# -eq 1 ] || array=(--array=0-$(( $# - 1 )))
  res=$("$TKD" config sbatch "$1" "$phase") || exit 2
  sbatch --parsable ${dep:+--dependency=afterok:$dep} ${SBATCH_OPTS:-} $res --job-name="tkd-$phase" "${array[@]}" \
    --export=ALL,PHASE="$phase",TKD="$TKD",TKD_SRUN_MPI="$mpi" "$here/phase.sbatch" "$@"
}
if [ -n "$sweep" ]; then
  # A sweep (tkd sweep): each phase's stage is submitted once, with the first arm
  # that has it, after the stage of the phase before it; every arm then gets its
  # report, and the sweep its table once all are done.
  plan=$("$TKD" sweep --stages "$sweep") || exit 2
  for j in $(echo "$plan" | awk '{print $4}' | sort -u); do
    "$TKD" config check "$j" --phase data,solve,backtranslate,export,train,eval,report >/dev/null || exit 2
  done
  declare -A stage_id arm_last
  while read -r phase stage arm job; do
    if [ -z "${stage_id[$stage]:-}" ]; then
      stage_id[$stage]=$(submit_phase "$phase" "${arm_last[$arm]:-}" "$job") || exit 2
      echo "submitted $phase stage $stage as ${stage_id[$stage]} (arm $arm)"
    fi
    arm_last[$arm]=${stage_id[$stage]}
  done <<<"$plan"
  reports=()
  while read -r arm job; do
    id=$(submit_phase report "${arm_last[$arm]}" "$job") || exit 2
    reports+=("$id")
    echo "submitted the report of arm $arm as $id"
  done < <(echo "$plan" | awk '!seen[$3]++ {print $3, $4}')
  dir=$(dirname "$sweep")
  id=$(sbatch --parsable --dependency=afterok:$(IFS=:; echo "${reports[*]}") --output=%x-%j.out ${SBATCH_OPTS:-} \
       --job-name=tkd-sweep-report --wrap="\"$TKD\" report \"$dir\"")
  echo "submitted the sweep's report ($dir/report/report.md) as $id"
  all=$(printf '%s\n' "${stage_id[@]}" "${reports[@]}" "$id" | sort -n | paste -sd, -)
  echo "follow them: squeue -j $all; logs: tkd-PHASE-JOBID.out (sbatch --output to change);"
  echo "a phase that stops early (exit 3) is requeued and resumes; each arm's report lands in its OUTPUT_DIR/report/"
  exit 0
fi
[ ${#jobs[@]} -gt 0 ] || usage
[ ${#phases[@]} -gt 0 ] || phases=(data solve backtranslate export train eval report)
[ -n "$mpi" ] || usage
chain=$(IFS=,; echo "${phases[*]}")
for j in "${jobs[@]}"; do "$TKD" config check "$j" --phase "$chain" >/dev/null || exit 2; done

dep=""
ids=()
for phase in "${phases[@]}"; do
  # several job files: a job array, task i runs job file i (the script's argument i+1)
  id=$(submit_phase "$phase" "$dep" "${jobs[@]}") || exit 2
  res=$("$TKD" config sbatch "${jobs[0]}" "$phase")
  echo "submitted $phase as $id${res:+ ($res)}"
  ids+=("$id")
  dep=$id
done
echo "follow them: squeue -j $(IFS=,; echo "${ids[*]}"); logs: tkd-PHASE-JOBID.out (sbatch --output to change);"
echo "a phase that stops early (exit 3) is requeued and resumes; the report lands in OUTPUT_DIR/report/report.md"
