/*
 * Stop signals. SIGTERM (Slurm time limit, preemption, scancel, mpirun's
 * kill), SIGUSR1 (`#SBATCH --signal=USR1@120`, `kill -USR1` on mpirun, which
 * forwards it) and the first SIGINT (Ctrl-C; a second one kills as usual)
 * only set the flag below; tkd_dist_poll reads it and starts the stop
 * protocol. The flag is the one piece of global mutable state in dist: a
 * signal handler can reach nothing else, and a volatile sig_atomic_t is all
 * it may safely write.
 */
#include "tkd/dist.h"

#include <errno.h>
#include <signal.h>
#include <string.h>

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig) {
    stop_signal = sig;
}

int tkd_dist_signals_install(tkd_err *e) {
    static const int sigs[] = {SIGTERM, SIGUSR1, SIGINT};
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_signal;
        sigemptyset(&sa.sa_mask);
        sa.sa_flags = SA_RESTART | (sigs[i] == SIGINT ? SA_RESETHAND : 0);
        if (sigaction(sigs[i], &sa, NULL))
            return tkd_err_set(e, TKD_EINTERNAL, "dist: cannot install the handler for signal %d: %s", sigs[i],
                               strerror(errno));
    }
    return 0;
}

int tkd_dist_signal_pending(void) {
    return (int)stop_signal;
}

void tkd_dist_signal_reset(void) {
    stop_signal = 0;
}
