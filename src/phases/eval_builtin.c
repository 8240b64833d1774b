/*
 * The builtin engine: tkd's own generation on the rank (placeholder).
 */
#include "eval_int.h"

int eval_builtin_new(const tkd_job *job, size_t arm, eval_engine **out, tkd_err *e) {
    (void)out;
    return tkd_err_set(e, TKD_EINVAL, "%s: eval.arms[%zu]: the builtin engine is not built yet", job->path, arm);
}
