/*
 * Errors and the logger. The logger is the only global mutable state in tkd:
 * a level and the MPI rank used as a line prefix, so that lines from many
 * ranks interleaved in one Slurm output file can still be told apart.
 */
#include "tkd/core.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

int tkd_err_set(tkd_err *e, int code, const char *fmt, ...) {
    if (e) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(e->msg, sizeof e->msg, fmt, ap);
        va_end(ap);
        e->code = code;
    }
    return code;
}

int tkd_err_wrap(tkd_err *e, const char *fmt, ...) {
    if (!e)
        return TKD_EINTERNAL;
    char old[TKD_ERR_MSG_MAX];
    memcpy(old, e->msg, sizeof old);
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
    if (n >= 0 && (size_t)n < sizeof e->msg)
        snprintf(e->msg + n, sizeof e->msg - (size_t)n, ": %.*s", (int)(sizeof e->msg - (size_t)n), old);
    return e->code;
}

void tkd_err_clear(tkd_err *e) {
    if (e) {
        e->code = 0;
        e->msg[0] = '\0';
    }
}

const char *tkd_strerror(int code) {
    switch (code) {
    case TKD_OK: return "ok";
    case TKD_EINVAL: return "invalid input";
    case TKD_ENOMEM: return "out of memory";
    case TKD_EIO: return "I/O error";
    case TKD_EFORMAT: return "malformed file";
    case TKD_ELIMIT: return "limit exceeded";
    case TKD_ETIMEOUT: return "timed out";
    case TKD_ENOTFOUND: return "not found";
    case TKD_ESTOP: return "stopped on request";
    case TKD_EMPI: return "MPI error";
    case TKD_EUSAGE: return "bad usage";
    case TKD_ENET: return "network error";
    case TKD_EMATH: return "mathematically undefined";
    case TKD_EINTERNAL: return "internal error";
    case TKD_EBUSY: return "in use by another run";
    default: return "unknown error";
    }
}

int tkd_exit_code(int err_code) {
    switch (err_code) {
    case TKD_OK: return TKD_EXIT_OK;
    case TKD_EINVAL:
    case TKD_EFORMAT:
    case TKD_EUSAGE:
    case TKD_ENOTFOUND:
    case TKD_EBUSY: return TKD_EXIT_USAGE;
    case TKD_ESTOP: return TKD_EXIT_STOPPED;
    default: return TKD_EXIT_FAIL;
    }
}

static tkd_log_level log_level = TKD_LOG_INFO;
static int log_rank = -1;

void tkd_log_set_level(tkd_log_level lvl) { log_level = lvl; }
void tkd_log_set_rank(int rank) { log_rank = rank; }
tkd_log_level tkd_log_get_level(void) { return log_level; }

void tkd_log(tkd_log_level lvl, const char *fmt, ...) {
    static const char *names[] = {"debug", "info", "warn", "error"};
    if (lvl < log_level || lvl >= TKD_LOG_QUIET)
        return;
    char ts[32];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(ts, sizeof ts, "%H:%M:%S", &tm);
    char line[4096];
    int n;
    if (log_rank >= 0)
        n = snprintf(line, sizeof line, "%s tkd[r%d] %s: ", ts, log_rank, names[lvl]);
    else
        n = snprintf(line, sizeof line, "%s tkd %s: ", ts, names[lvl]);
    va_list ap;
    va_start(ap, fmt);
    if (n > 0 && (size_t)n < sizeof line)
        vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
    va_end(ap);
    /* one write per line so that ranks sharing a file do not interleave mid-line */
    fprintf(stderr, "%s\n", line);
    fflush(stderr);
}
