/*
 * The acceptance table of back-translation, per tool, as the paper reports
 * it: calls, accepted at the first attempt, accepted after retries, rejected
 * (kept as a stated fact counted apart), read from the records' text. The
 * phase prints it for its shards at the end; `tkd store info` for a merged
 * store. A trace found twice (a re-issued lease) counts once.
 */
#include "runner.h"

#include "tkd/phases.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

typedef struct bt_row {
    char name[64];
    unsigned long long calls, first, retried, rejected, kept, failed;
} bt_row;

struct tkd_bt_table {
    bt_row *rows;
    int n, cap;
    unsigned long long traces, by_status[TKD_ST_COUNT];
    tkd_idset *seen;
};

tkd_bt_table *tkd_bt_table_new(void) {
    tkd_bt_table *t = calloc(1, sizeof *t);
    if (t && !(t->seen = tkd_idset_new())) {
        free(t);
        return NULL;
    }
    return t;
}

void tkd_bt_table_free(tkd_bt_table *t) {
    if (!t)
        return;
    tkd_idset_free(t->seen);
    free(t->rows);
    free(t);
}

static bt_row *row_of(tkd_bt_table *t, const char *name) {
    for (int i = 0; i < t->n; i++)
        if (!strcmp(t->rows[i].name, name))
            return &t->rows[i];
    if (t->n == t->cap) {
        int nc = t->cap ? 2 * t->cap : 32;
        bt_row *nr = realloc(t->rows, (size_t)nc * sizeof *nr);
        if (!nr)
            return NULL;
        t->rows = nr;
        t->cap = nc;
    }
    bt_row *r = &t->rows[t->n++];
    memset(r, 0, sizeof *r);
    snprintf(r->name, sizeof r->name, "%s", name);
    return r;
}

static int add_row(tkd_bt_table *t, tkd_store *s, const tkd_record *rec, tkd_err *e) {
    if (rec->phase != TKD_PHASE_BACKTRANSLATE)
        return 0;
    int fresh = tkd_idset_add(t->seen, phase_pair_key(rec->pid, rec->sample));
    if (fresh < 0)
        return tkd_err_set(e, TKD_ENOMEM, "out of memory");
    if (!fresh)
        return 0;
    t->traces++;
    t->by_status[rec->status < TKD_ST_COUNT ? rec->status : TKD_ST_FAILED]++;
    char *text = NULL;
    int rc = tkd_store_read_text(s, rec, &text, e);
    if (rc)
        return rc;
    json_t *j = json_loads(text, 0, NULL), *c;
    free(text);
    size_t i;
    json_array_foreach(json_object_get(j, "calls"), i, c) {
        const char *tool = json_string_value(json_object_get(c, "tool"));
        const char *out = json_string_value(json_object_get(c, "outcome"));
        bt_row *r = row_of(t, tool ? tool : "?");
        if (!r) {
            json_decref(j);
            return tkd_err_set(e, TKD_ENOMEM, "out of memory");
        }
        r->calls++;
        size_t n_att = json_array_size(json_object_get(c, "attempts"));
        if (out && !strcmp(out, "accepted"))
            (*(n_att <= 1 ? &r->first : &r->retried))++;
        else if (out && !strcmp(out, "kept_as_fact"))
            r->kept++;
        else if (out && !strcmp(out, "rejected"))
            r->rejected++;
        else
            r->failed++;
    }
    json_decref(j);
    return 0;
}

int tkd_bt_table_add_file(tkd_bt_table *t, const char *path, tkd_err *e) {
    tkd_store *s;
    int rc = tkd_store_open(path, &s, e);
    if (rc)
        return rc;
    size_t n = tkd_store_count(s);
    for (size_t row = 0; row < n && !rc; row++) {
        tkd_record rec;
        if (!(rc = tkd_store_read(s, row, &rec, e)))
            rc = add_row(t, s, &rec, e);
    }
    tkd_store_close(s, NULL);
    return rc;
}

typedef struct scan_ctx {
    char **names;
    int n, cap;
} scan_ctx;

/* The shards holding back-translation rows (each read on its own afterwards:
 * one handle per file at a time). */
static int scan_row(void *ctx, const char *shard, const tkd_record *rec) {
    scan_ctx *x = ctx;
    if (rec->phase != TKD_PHASE_BACKTRANSLATE || (x->n && !strcmp(x->names[x->n - 1], shard)))
        return 0;
    if (x->n == x->cap) {
        int nc = x->cap ? 2 * x->cap : 16;
        char **nn = realloc(x->names, (size_t)nc * sizeof *nn);
        if (!nn)
            return TKD_ENOMEM;
        x->names = nn;
        x->cap = nc;
    }
    return (x->names[x->n] = strdup(shard)) ? (x->n++, 0) : TKD_ENOMEM;
}

int tkd_bt_table_add_dir(tkd_bt_table *t, const char *dir, tkd_err *e) {
    scan_ctx x = {NULL, 0, 0};
    int rc = tkd_store_scan_dir(dir, scan_row, &x, e);
    if (rc == TKD_ENOMEM && !e->msg[0])
        tkd_err_set(e, rc, "out of memory listing the shards of %s", dir);
    for (int i = 0; i < x.n && !rc; i++)
        rc = tkd_bt_table_add_file(t, x.names[i], e);
    for (int i = 0; i < x.n; i++)
        free(x.names[i]);
    free(x.names);
    return rc;
}

static double pct(unsigned long long a, unsigned long long b) {
    return b ? 100.0 * (double)a / (double)b : 0.0;
}

void tkd_bt_table_print(const tkd_bt_table *t, FILE *f) {
    fprintf(f, "back-translation: %llu traces:", t->traces);
    for (int s = 0; s < TKD_ST_COUNT; s++)
        if (t->by_status[s])
            fprintf(f, " %s %llu", tkd_status_name((tkd_status)s), t->by_status[s]);
    fprintf(f, "\nacceptance per tool (accepted = first + after retries; kept = kept as a fact; failed = request "
               "failed):\n");
    fprintf(f, "  %-32s %8s %8s %8s %8s %8s %8s %9s\n", "tool", "calls", "first", "retries", "rejected", "kept",
            "failed", "accepted");
    bt_row all;
    memset(&all, 0, sizeof all);
    for (int i = 0; i < t->n; i++) {
        const bt_row *r = &t->rows[i];
        fprintf(f, "  %-32s %8llu %8llu %8llu %8llu %8llu %8llu %8.1f%%\n", r->name, r->calls, r->first, r->retried,
                r->rejected, r->kept, r->failed, pct(r->first + r->retried, r->calls));
        all.calls += r->calls;
        all.first += r->first;
        all.retried += r->retried;
        all.rejected += r->rejected;
        all.kept += r->kept;
        all.failed += r->failed;
    }
    fprintf(f, "  %-32s %8llu %8llu %8llu %8llu %8llu %8llu %8.1f%%\n", "all", all.calls, all.first, all.retried,
            all.rejected, all.kept, all.failed, pct(all.first + all.retried, all.calls));
}
