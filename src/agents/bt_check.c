/*
 * The checks of back-translation that need no LLM (see tkd/agents.h): the
 * tool's result as an answer the grader reads, the judge's exact stage, the
 * strict reading of the LLM judge's verdict, and the leak check of a
 * rephrased solution. Exact before LLM: a derivation whose boxed result is
 * not the tool's result is rejected here, without a request.
 */
#include "tkd/agents.h"

#include "tkd/expr.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *tkd_bt_exact_name(tkd_bt_exact_verdict v) {
    static const char *const n[] = {"equal", "different", "no_box", "undecided", "not_gradable"};
    return (unsigned)v < sizeof n / sizeof *n ? n[v] : "?";
}

/* One SymPy-syntax value (string or number) as LaTeX into b; 0, or -1 when
 * it is not an expression. */
static int value_latex(const json_t *v, tkd_buf *b) {
    if (json_is_integer(v))
        return tkd_buf_printf(b, "%lld", (long long)json_integer_value(v)) ? -1 : 0;
    if (json_is_real(v))
        return tkd_buf_printf(b, "%.17g", json_real_value(v)) ? -1 : 0;
    if (!json_is_string(v))
        return -1;
    tkd_expr *x = NULL;
    tkd_err e = {0};
    if (tkd_expr_parse_str(json_string_value(v), &x, &e))
        return -1;
    char *l = tkd_expr_to_latex(x);
    tkd_expr_free(x);
    int rc = l && !tkd_buf_puts(b, l) ? 0 : -1;
    free(l);
    return rc;
}

char *tkd_bt_result_latex(const char *answer_json) {
    json_t *j = json_loads(answer_json ? answer_json : "", 0, NULL);
    json_t *r = json_is_object(j) ? json_object_get(j, "result") : j;
    json_t *line = NULL;
    if (json_is_object(r) && json_is_string(json_object_get(r, "stdout"))) {
        /* run_python: what the program printed, when it is one value on one line */
        const char *o = json_string_value(json_object_get(r, "stdout"));
        size_t n = strlen(o);
        while (n && (o[n - 1] == '\n' || o[n - 1] == ' '))
            n--;
        r = line = memchr(o, '\n', n) || !n ? NULL : json_stringn(o, n);
    }
    tkd_buf b;
    tkd_buf_init(&b);
    int bad = !r;
    if (json_is_array(r)) {
        size_t i;
        json_t *v;
        json_array_foreach(r, i, v) {
            if (i && tkd_buf_puts(&b, ", "))
                bad = 1;
            if (!bad && value_latex(v, &b))
                bad = 1;
        }
        bad |= json_array_size(r) == 0;
    } else if (!bad) {
        bad = value_latex(r, &b) != 0;
    }
    json_decref(line);
    json_decref(j);
    if (bad) {
        tkd_buf_free(&b);
        return NULL;
    }
    return tkd_buf_steal(&b);
}

tkd_bt_exact_verdict tkd_bt_exact(const char *derivation, const char *answer_json, const tkd_grade_opts *o,
                                  char *reason, size_t cap) {
    char *boxed = NULL;
    tkd_err e = {0};
    int rc = tkd_grade_extract(derivation ? derivation : "", TKD_GRADE_BOXED, &boxed, &e);
    if (rc || !boxed || !*tkd_text_trim(boxed)) {
        free(boxed);
        snprintf(reason, cap, "the derivation boxes no result");
        return TKD_BT_EXACT_NO_BOX;
    }
    char *gold = tkd_bt_result_latex(answer_json);
    if (!gold) {
        snprintf(reason, cap, "the tool's result is not an expression; boxed %.60s", boxed);
        free(boxed);
        return TKD_BT_EXACT_NOT_GRADABLE;
    }
    tkd_grade_verdict v;
    tkd_grade_equal(gold, boxed, o, &v);
    tkd_bt_exact_verdict out = v.result == TKD_GRADE_EQUAL       ? TKD_BT_EXACT_EQUAL
                               : v.result == TKD_GRADE_UNDECIDED ? TKD_BT_EXACT_UNDECIDED
                                                                 : TKD_BT_EXACT_DIFFERENT;
    if (out == TKD_BT_EXACT_DIFFERENT)
        snprintf(reason, cap, "the boxed result %.60s is not the computed result %.60s (%s)", boxed, gold, v.reason);
    else
        snprintf(reason, cap, "%s (%s)",
                 out == TKD_BT_EXACT_EQUAL ? "the boxed result equals the computed one" : "the grader could not decide",
                 v.reason);
    free(boxed);
    free(gold);
    return out;
}

int tkd_bt_parse_verdict(const char *reply, char *reason, size_t cap) {
    const char *p = reply ? reply : "";
    while (isspace((unsigned char)*p))
        p++;
    size_t n = strlen(p);
    while (n && isspace((unsigned char)p[n - 1]))
        n--;
    if (!n) {
        snprintf(reason, cap, "empty verdict (a reject)");
        return 0;
    }
    /* one ```json ... ``` fence around the object is unwrapped */
    if (n > 6 && !strncmp(p, "```", 3) && !strncmp(p + n - 3, "```", 3)) {
        const char *nl = memchr(p, '\n', n);
        if (nl && nl < p + n - 3) {
            n = (size_t)(p + n - 3 - (nl + 1));
            p = nl + 1;
        }
    }
    json_error_t je;
    json_t *j = json_loadb(p, n, 0, &je);
    if (!json_is_object(j)) {
        snprintf(reason, cap, "the verdict is not a JSON object (a reject): %.80s", reply);
        json_decref(j);
        return 0;
    }
    const char *v = json_string_value(json_object_get(j, "verdict"));
    const char *why = json_string_value(json_object_get(j, "reason"));
    int ok = v && !strcasecmp(v, "accept");
    if (ok)
        snprintf(reason, cap, "%.150s", why ? why : "accepted");
    else if (v)
        snprintf(reason, cap, "%.150s", why && *why ? why : "rejected");
    else
        snprintf(reason, cap, "no \"verdict\" string in the verdict (a reject)");
    json_decref(j);
    return ok;
}

static const char *find_ci(const char *hay, const char *needle) {
    size_t n = strlen(needle);
    if (!n)
        return NULL;
    for (const char *p = hay; *p; p++)
        if (!strncasecmp(p, needle, n))
            return p;
    return NULL;
}

int tkd_bt_leaks(const char *text, const char *const *patterns, int n_patterns, const char *const *tools, int n_tools,
                 char *which, size_t cap) {
    const char *t = text ? text : "";
    for (int i = 0; i < n_patterns; i++)
        if (patterns[i] && find_ci(t, patterns[i])) {
            snprintf(which, cap, "%s", patterns[i]);
            return 1;
        }
    for (int i = 0; i < n_tools; i++) {
        if (!tools[i] || !strchr(tools[i], '_'))
            continue;
        if (find_ci(t, tools[i])) {
            snprintf(which, cap, "%s", tools[i]);
            return 1;
        }
    }
    return 0;
}
