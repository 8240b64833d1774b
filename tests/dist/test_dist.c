/*
 * Unit tests of dist that need no second rank: lease sizing, the dist.* keys
 * of a job file, and the stop-signal flag. The protocol itself is tested
 * under mpiexec by mpi_dist.c.
 */
#include "tkd/dist.h"
#include "tkd_test.h"

#include <signal.h>

TEST(lease_size) {
    tkd_dist_cfg c;
    tkd_dist_cfg_default(&c);
    c.lease_min = 4;
    c.lease_max = 100;
    /* remaining / ranks, rounded up, clamped, never more than remaining */
    CHECK_INT(tkd_dist_lease_size(&c, 100000, 4), 100);
    CHECK_INT(tkd_dist_lease_size(&c, 250, 4), 63);
    CHECK_INT(tkd_dist_lease_size(&c, 40, 4), 10);
    CHECK_INT(tkd_dist_lease_size(&c, 10, 4), 4);
    CHECK_INT(tkd_dist_lease_size(&c, 3, 4), 3);
    CHECK_INT(tkd_dist_lease_size(&c, 0, 4), 0);
    CHECK_INT(tkd_dist_lease_size(&c, 1000, 0), 100);
    /* shrinks monotonically as the queue drains */
    long long prev = tkd_dist_lease_size(&c, 100000, 8);
    for (long long rem = 100000; rem > 0; rem -= prev) {
        long long k = tkd_dist_lease_size(&c, rem, 8);
        CHECK(k <= prev && k >= 1 && k <= rem);
        prev = k;
    }
    c.lease_min = 50, c.lease_max = 10; /* inconsistent bounds: lease_min wins */
    CHECK_INT(tkd_dist_lease_size(&c, 1000, 2), 50);
}

TEST(hold_cap) {
    tkd_dist_cfg c;
    tkd_dist_cfg_default(&c);
    CHECK_NEAR(c.max_share, 1, 1e-12);
    /* ceil(max_share * unfinished / ranks), at least lease_min */
    CHECK_INT(tkd_dist_hold_cap(&c, 300, 2), 150);
    CHECK_INT(tkd_dist_hold_cap(&c, 700, 4), 175);
    CHECK_INT(tkd_dist_hold_cap(&c, 3001, 4), 751);
    CHECK_INT(tkd_dist_hold_cap(&c, 3, 4), 1);
    CHECK_INT(tkd_dist_hold_cap(&c, 0, 4), 1);
    CHECK_INT(tkd_dist_hold_cap(&c, 100, 0), 100);
    c.lease_min = 8;
    CHECK_INT(tkd_dist_hold_cap(&c, 20, 4), 8);
    c.max_share = 0.5; /* the remaining / (2 x ranks) */
    CHECK_INT(tkd_dist_hold_cap(&c, 300, 4), 38);
    c.max_share = 4; /* at the rank count: one rank may hold everything */
    CHECK_INT(tkd_dist_hold_cap(&c, 300, 4), 300);
    c.max_share = 1e6;
    CHECK_INT(tkd_dist_hold_cap(&c, 1000000000000LL, 1), 1000000000000LL);
    /* the caps of all ranks together always cover what is unfinished */
    c.lease_min = 1;
    c.max_share = 1;
    for (long long u = 1; u < 5000; u += 7)
        for (int r = 1; r <= 16; r++)
            CHECK(tkd_dist_hold_cap(&c, u, r) * r >= u);
}

TEST(cfg_from_job) {
    tkd_job job;
    tkd_err e = {0};
    const char *text = "{\"output_dir\": \"/tmp/x\", \"dist\": {\"lease_max\": 32, \"grace_s\": 7.5}}";
    CHECK_INT(tkd_job_load_text("job.json", text, NULL, 0, &job, &e), 0);
    tkd_dist_cfg c;
    tkd_dist_cfg_default(&c);
    tkd_dist_cfg_from_job(&job, &c);
    CHECK_INT(c.lease_max, 32);
    CHECK_INT(c.lease_min, 1);
    CHECK_NEAR(c.max_share, 1, 1e-12);
    CHECK_NEAR(c.grace_s, 7.5, 1e-12);
    CHECK_NEAR(c.lease_timeout_s, 600, 1e-12);
    tkd_job_free(&job);
    /* a typo in a dist key is an error naming the key */
    const char *bad = "{\"output_dir\": \"/tmp/x\", \"dist\": {\"leese_max\": 32}}";
    CHECK(tkd_job_load_text("job.json", bad, NULL, 0, &job, &e) != 0);
    CHECK(strstr(e.msg, "leese_max") != NULL);
}

TEST(signals) {
    tkd_err e = {0};
    tkd_dist_signal_reset();
    CHECK_INT(tkd_dist_signal_pending(), 0);
    CHECK_INT(tkd_dist_signals_install(&e), 0);
    raise(SIGUSR1);
    CHECK_INT(tkd_dist_signal_pending(), SIGUSR1);
    tkd_dist_signal_reset();
    raise(SIGTERM);
    CHECK_INT(tkd_dist_signal_pending(), SIGTERM);
    tkd_dist_signal_reset();
    signal(SIGTERM, SIG_DFL);
    signal(SIGUSR1, SIG_DFL);
    signal(SIGINT, SIG_DFL);
}

int main(void) {
    RUN(lease_size);
    RUN(hold_cap);
    RUN(cfg_from_job);
    RUN(signals);
    return TEST_END();
}
