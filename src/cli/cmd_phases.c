/*
 * The MPI phases as commands: tkd testwork|solve|backtranslate|eval JOB.json, run under mpiexec,
 * srun --mpi=pmix, or as a plain single process. Exit codes: 0 all problems
 * done, 1 failure, 2 bad usage or bad job file, or the output folder in use
 * by another run (its lock, taken by rank 0 for the whole run), 3 stopped
 * early by SIGTERM/SIGUSR1/SIGINT (a re-run resumes).
 */
#include "cli.h"

#include "tkd/dist.h"
#include "tkd/phases.h"
#include "tkd/store.h"

#include <stdio.h>
#include <string.h>

#define TKD_CLI_COMPLETE_TAG 7107 /* rank 0 -> every rank: the completion's result (dist uses its own comm) */

int tkd_cli_mpi_phase(int argc, char **argv, const char *name,
                      int (*run)(const tkd_job *job, MPI_Comm comm, tkd_err *e)) {
    tkd_cli_opts o;
    int rc = tkd_cli_parse(argc, argv, NULL, &o);
    if (rc)
        return rc;
    if (o.n_pos != 1) {
        tkd_cli_usage(name, NULL, stderr);
        return TKD_EXIT_USAGE;
    }
    int provided = 0, rank = 0, size = 1;
    if (MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS) {
        fprintf(stderr, "tkd: error: MPI_Init_thread failed\n");
        return TKD_EXIT_FAIL;
    }
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    if (size > 1)
        tkd_log_set_rank(rank);

    /* Every rank reads the same file, so every rank fails alike; rank 0 says why. */
    tkd_job job;
    tkd_err e = {0};
    if (tkd_job_load(o.pos[0], o.sets, o.n_sets, &job, &e)) {
        if (rank == 0)
            fprintf(stderr, "tkd: error: %s\n", e.msg);
        MPI_Finalize();
        return TKD_EXIT_USAGE;
    }
    tkd_cli_job_env(&job);

    /* One run per output folder: rank 0 holds the lock for the whole run. */
    tkd_store_lock *lock = NULL;
    if (rank == 0)
        rc = tkd_store_lock_take(tkd_job_str(&job, "output_dir"), name, tkd_job_num(&job, "store.lock_stale_s"), &lock,
                                 &e);
    MPI_Bcast(&rc, 1, MPI_INT, 0, MPI_COMM_WORLD);
    if (rc) {
        if (rank == 0)
            fprintf(stderr, "tkd: error: %s\n", e.msg);
        tkd_job_free(&job);
        MPI_Finalize();
        return tkd_exit_code(rc);
    }

    /* Rank 0 decides whether the phase may start (its input phase complete)
     * or is complete already (a no-op), and after a run that did every item,
     * merges the shards and writes the marker; every rank exits alike. */
    int gate = rank == 0 ? tkd_phase_gate(&job, name, &e) : 0;
    MPI_Bcast(&gate, 1, MPI_INT, 0, MPI_COMM_WORLD);
    if (gate == 1) {
        if (rank == 0)
            tkd_log_info("%s: already complete (%s/%s.complete.json matches its inputs): nothing to do; remove the "
                         "marker to run it again",
                         name, tkd_job_str(&job, "output_dir"), name);
        rc = 0;
    } else if (gate < 0) {
        rc = gate;
        if (rank != 0)
            e.msg[0] = '\0';
    } else if ((rc = tkd_dist_signals_install(&e)) == 0) {
        rc = run(&job, MPI_COMM_WORLD, &e);
        /* rank 0 completes the phase (merge and marker) and tells every rank
         * the result, point to point, not as a collective: a rank that died
         * mid-run (its leases re-issued) must not keep the live ones waiting */
        if (rank == 0) {
            if (rc == 0)
                rc = tkd_phase_complete(&job, name, &e);
            for (int r = 1; r < size; r++)
                MPI_Send(&rc, 1, MPI_INT, r, TKD_CLI_COMPLETE_TAG, MPI_COMM_WORLD);
        } else {
            int rc0 = 0;
            MPI_Recv(&rc0, 1, MPI_INT, 0, TKD_CLI_COMPLETE_TAG, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
            if (!rc && rc0) {
                rc = rc0;
                if (rc != TKD_ESTOP)
                    snprintf(e.msg, sizeof e.msg, "%s: rank 0 could not complete the phase (see its error)", name);
            }
        }
    }
    int code = tkd_exit_code(rc);
    if (rc == TKD_ESTOP && rank == 0 && e.msg[0])
        tkd_log_warn("%s", e.msg);
    if (rc == TKD_ESTOP)
        tkd_log_info("%s: stopped early; exit %d (resumable: run the same command again)", name, code);
    else if (rc && (e.msg[0] || rank == 0))
        tkd_log_error("%s", e.msg[0] ? e.msg : tkd_strerror(rc));
    tkd_err le = {0};
    if (tkd_store_lock_release(lock, &le))
        tkd_log_warn("%s", le.msg);
    tkd_job_free(&job);
    MPI_Finalize();
    return code;
}

int tkd_cmd_testwork(int argc, char **argv) { return tkd_cli_mpi_phase(argc, argv, "testwork", tkd_testwork_run); }
int tkd_cmd_solve(int argc, char **argv) { return tkd_cli_mpi_phase(argc, argv, "solve", tkd_solve_run); }
int tkd_cmd_backtranslate(int argc, char **argv) {
    return tkd_cli_mpi_phase(argc, argv, "backtranslate", tkd_backtranslate_run);
}

/* tkd eval JOB.json [--metrics-only]: --metrics-only recomputes
 * OUT/eval/results.json from the records, as one process without MPI. */
int tkd_cmd_eval(int argc, char **argv) {
    int metrics_only = 0, n = 0;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--metrics-only"))
            metrics_only = 1;
        else
            argv[n++] = argv[i];
    }
    if (!metrics_only)
        return tkd_cli_mpi_phase(n, argv, "eval", tkd_eval_run);
    tkd_cli_opts o;
    int rc = tkd_cli_parse(n, argv, NULL, &o);
    if (rc)
        return rc;
    if (o.n_pos != 1) {
        tkd_cli_usage("eval", NULL, stderr);
        return TKD_EXIT_USAGE;
    }
    tkd_job job;
    if ((rc = tkd_cli_load_job(&o, &job)))
        return rc;
    tkd_err e = {0};
    rc = tkd_eval_metrics(&job, 1, &e);
    tkd_job_free(&job);
    return rc ? tkd_cli_fail(&e) : 0;
}
