/*
 * bench_llm_load: a closed-loop load generator on the teacher client, one
 * client per MPI rank (run it under mpiexec, or alone as one rank). Each rank
 * keeps --concurrency requests outstanding for --seconds (the first
 * --warmup seconds are not counted), building a fresh request and reading
 * every reply as the solve phase would. Rank 0 prints one JSON line:
 *   {"ranks", "concurrency", "rate" (ok replies/s, all ranks), "rate_min_rank",
 *    "errors", "mean_in_flight", "rss_mib_max", "seconds"}
 * Used by tests/bench/bench_llm.sh; not a test.
 */
#include "tkd/llm.h"

#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

static int submit_one(tkd_llm *c, long i) {
    char user[160];
    snprintf(user, sizeof user, "Problem id: b%ld\nWhat is %ld + %ld?", i, i, i);
    tkd_llm_request r;
    tkd_llm_request_init(&r);
    r.messages = json_pack("[{s:s, s:s}, {s:s, s:s}]", "role", "system", "content", "You are a careful solver.", "role",
                           "user", "content", user);
    r.seed = i;
    r.has_seed = 1;
    tkd_err e = {0};
    int rc = r.messages ? tkd_llm_submit(c, &r, (void *)(intptr_t)i, &e) : TKD_ENOMEM;
    if (rc)
        fprintf(stderr, "bench_llm_load: submit: %s\n", e.msg);
    json_decref(r.messages);
    return rc;
}

int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    int rank = 0, size = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    tkd_llm_config cfg;
    tkd_llm_config_defaults(&cfg);
    cfg.model = "bench-model";
    cfg.http2 = 0;
    cfg.timeout_s = 60;
    cfg.api_key_env = "";
    int conc = 64;
    double seconds = 5, warmup = 1;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--url") && cfg.n_base_urls < TKD_LLM_MAX_ENDPOINTS)
            cfg.base_urls[cfg.n_base_urls++] = argv[i + 1];
        else if (!strcmp(argv[i], "--concurrency"))
            conc = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--seconds"))
            seconds = atof(argv[i + 1]);
        else if (!strcmp(argv[i], "--warmup"))
            warmup = atof(argv[i + 1]);
        else {
            fprintf(stderr, "usage: bench_llm_load --url U [--url U] [--concurrency N] [--seconds S] [--warmup S]\n");
            MPI_Abort(MPI_COMM_WORLD, 2);
        }
    }
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    cfg.max_in_flight = conc;
    cfg.max_connections_per_endpoint = conc;
    cfg.seed = (uint64_t)rank;
    tkd_llm *c = NULL;
    tkd_err e = {0};
    if (tkd_llm_create(&cfg, &c, &e)) {
        fprintf(stderr, "bench_llm_load: %s\n", e.msg);
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    long next = (long)rank * 100000000L;
    for (int i = 0; i < conc; i++)
        submit_one(c, next++);
    MPI_Barrier(MPI_COMM_WORLD);
    double t0 = tkd_now(), tw = t0 + warmup, tend = t0 + seconds;
    long long ok = 0, errors = 0, loops = 0;
    double inflight_sum = 0;
    for (;;) {
        double now = tkd_now();
        if (now >= tend)
            break;
        tkd_llm_poll(c, 5);
        tkd_llm_response *r;
        void *ck;
        now = tkd_now();
        while (tkd_llm_next_done(c, &r, &ck)) {
            if (now >= tw) {
                if (r->status == TKD_LLM_OK && r->content)
                    ok++;
                else
                    errors++;
            }
            tkd_llm_response_free(r);
            if (now < tend)
                submit_one(c, next++);
        }
        if (now >= tw) {
            tkd_llm_stats st;
            tkd_llm_get_stats(c, &st);
            inflight_sum += st.in_flight;
            loops++;
        }
    }
    double span = tend - tw;
    double rate = (double)ok / span, tot_rate = 0, min_rate = 0;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double rss = (double)ru.ru_maxrss / 1024.0, rss_max = 0, mif = loops ? inflight_sum / (double)loops : 0,
           mif_sum = 0;
    long long err_sum = 0;
    MPI_Reduce(&rate, &tot_rate, 1, MPI_DOUBLE, MPI_SUM, 0, MPI_COMM_WORLD);
    MPI_Reduce(&rate, &min_rate, 1, MPI_DOUBLE, MPI_MIN, 0, MPI_COMM_WORLD);
    MPI_Reduce(&rss, &rss_max, 1, MPI_DOUBLE, MPI_MAX, 0, MPI_COMM_WORLD);
    MPI_Reduce(&mif, &mif_sum, 1, MPI_DOUBLE, MPI_SUM, 0, MPI_COMM_WORLD);
    MPI_Reduce(&errors, &err_sum, 1, MPI_LONG_LONG, MPI_SUM, 0, MPI_COMM_WORLD);
    if (rank == 0)
        printf("{\"ranks\": %d, \"concurrency\": %d, \"rate\": %.1f, \"rate_min_rank\": %.1f, \"errors\": %lld, "
               "\"mean_in_flight\": %.1f, \"rss_mib_max\": %.1f, \"seconds\": %.2f}\n",
               size, conc, tot_rate, min_rate, err_sum, mif_sum / size, rss_max, span);
    tkd_llm_free(c); /* requests still in flight are dropped */
    MPI_Finalize();
    return 0;
}
