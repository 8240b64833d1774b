/*
 * Internal to the report (src/phases/report*.c): report_gather computes
 * every number into one JSON object (the content of report.json);
 * report_plots writes the plot data beside the report and runs the gnuplot
 * scripts of analysis/ on them.
 */
#ifndef TKD_REPORT_INT_H
#define TKD_REPORT_INT_H

#include "tkd/phases.h"

#include <jansson.h>

int report_gather(const tkd_job *job, json_t **out, tkd_err *e);
int report_plots(json_t *r, const char *dir, tkd_buf *md, tkd_err *e);

#endif
