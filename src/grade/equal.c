/*
 * Answer equivalence: the policy written in include/tkd/grade.h, rule by
 * rule, in that order. Structure first (text, lists, tuples, intervals,
 * matrices, relations), then scalars: exact rationals, Arb balls for
 * constants, random points for free variables. Every loop checks the
 * deadline; a comparison that runs out of time is "undecided".
 */
#include "equal_p.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int is_scalar_kind(gkind k) {
    return k == GN_NUM || k == GN_SYM || k == GN_CONST || k == GN_ADD || k == GN_MUL || k == GN_NEG || k == GN_DIV ||
           k == GN_POW || k == GN_FUNC || k == GN_FACT || k == GN_PERCENT || k == GN_BASENUM;
}

/* ---- rewriting helpers ---- */
static gnode *strip_percent(G *g, const gnode *n, int apply) {
    if (n->k != GN_PERCENT)
        return (gnode *)n;
    if (!apply)
        return n->kid[0];
    gnode *h = gn_new(g->a, GN_NUM, 0);
    gnode *d = gn_new(g->a, GN_DIV, 2);
    if (!h || !d) {
        g->oom = 1;
        return (gnode *)n;
    }
    h->str = "100";
    d->kid[0] = n->kid[0];
    d->kid[1] = h;
    return d;
}

/* Expand \pm into alternatives: out[] receives up to 16 trees; returns count (0: no \pm). */
static int count_pm(const gnode *n) {
    if (!n)
        return 0;
    int c = n->k == GN_PM;
    for (int i = 0; i < n->n; i++)
        c += count_pm(n->kid[i]);
    return c;
}

/* Copy of n with the PM nodes resolved by the bits of choice (in tree order). */
static gnode *resolve_pm(G *g, const gnode *n, unsigned choice, int *idx) {
    if (!n)
        return NULL;
    if (n->k == GN_PM) {
        int bit = (choice >> (*idx)++) & 1;
        int sign = n->op * (bit ? -1 : 1);
        gnode *l = resolve_pm(g, n->kid[0], choice, idx);
        gnode *r = resolve_pm(g, n->kid[1], choice, idx);
        if (!r)
            return NULL;
        gnode *t = r;
        if (sign < 0) {
            t = gn_new(g->a, GN_NEG, 1);
            if (!t)
                return NULL;
            t->kid[0] = r;
        }
        if (!l)
            return t;
        gnode *s = gn_new(g->a, GN_ADD, 2);
        if (!s)
            return NULL;
        s->kid[0] = l;
        s->kid[1] = t;
        return s;
    }
    gnode *c = gn_new(g->a, n->k, n->n);
    if (!c)
        return NULL;
    gnode **kids = c->kid;
    *c = *n;
    c->arena = NULL;
    c->kid = kids;
    for (int i = 0; i < n->n; i++)
        if (n->kid[i] && !(c->kid[i] = resolve_pm(g, n->kid[i], choice, idx)))
            return NULL;
    return c;
}

static gnode *expand_pm(G *g, const gnode *n) {
    int k = count_pm(n);
    if (k == 0 || k > MAX_PM)
        return (gnode *)n;
    int m = 1 << k;
    gnode *l = gn_new(g->a, GN_LIST, m);
    if (!l) {
        g->oom = 1;
        return (gnode *)n;
    }
    for (int c = 0; c < m; c++) {
        int idx = 0;
        if (!(l->kid[c] = resolve_pm(g, n, (unsigned)c, &idx))) {
            g->oom = 1;
            return (gnode *)n;
        }
    }
    return l;
}

/* x = 5, (x, y) = (1, 2), x \in [1, 2]: the value after a lone variable label. */
/* What may stand left of "=" as a name: x, xy, f(x), f^{-1}(x), a_{n}. */
static int is_label(const gnode *l) {
    switch (l->k) {
    case GN_SYM: return 1;
    case GN_MUL:
        for (int i = 0; i < l->n; i++)
            if (!is_label(l->kid[i]))
                return 0;
        return 1;
    case GN_POW: return l->kid[0]->k == GN_SYM && !ghas_kind(l->kid[1], GN_SYM);
    default: return 0;
    }
}

static const gnode *unlabel(const gnode *n) {
    if (n->k == GN_REL && (n->op == REL_EQ || n->op == REL_IN)) {
        const gnode *l = n->kid[0];
        int label = is_label(l);
        if (l->k == GN_TUPLE) {
            label = 1;
            for (int i = 0; i < l->n; i++)
                label &= l->kid[i]->k == GN_SYM;
        }
        if (label)
            return n->kid[1];
        /* a worked value "\frac13 = 0.333" (\approx reads as =): its last side, when no side
         * has a variable (so 2x+4y-3=0 is never read as 0) */
        if (n->op == REL_EQ && !ghas_kind(n, GN_SYM) && is_scalar_kind(n->kid[1]->k))
            return n->kid[1];
    }
    if (n->k == GN_AND && !ghas_kind(n, GN_SYM)) {
        int all_eq = 1;
        for (int i = 0; i < n->n; i++)
            all_eq &= n->kid[i]->k == GN_REL && n->kid[i]->op == REL_EQ;
        if (all_eq && is_scalar_kind(n->kid[n->n - 1]->kid[1]->k))
            return n->kid[n->n - 1]->kid[1];
    }
    return n;
}

/* An inequality in one variable against constants, as an interval (NULL if not one). */
static gnode *rel_interval(G *g, const gnode *n) {
    const gnode *rels[2];
    int nr = 0;
    if (n->k == GN_REL)
        rels[nr++] = n;
    else if ((n->k == GN_AND || (n->k == GN_LIST && n->op == LIST_AND)) && n->n == 2)
        rels[0] = n->kid[0], rels[1] = n->kid[1], nr = 2;
    else
        return NULL;
    for (int i = 0; i < nr; i++)
        if (rels[i]->k != GN_REL)
            return NULL;
    const gnode *lo = NULL, *hi = NULL;
    int loc = 0, hic = 0;
    const char *var = NULL;
    for (int i = 0; i < nr; i++) {
        const gnode *r = rels[i];
        int op = r->op;
        const gnode *v = r->kid[0], *k = r->kid[1];
        if (op != REL_LT && op != REL_LE && op != REL_GT && op != REL_GE)
            return NULL;
        if (v->k != GN_SYM) {
            v = r->kid[1];
            k = r->kid[0];
            op = op == REL_LT ? REL_GT : op == REL_LE ? REL_GE : op == REL_GT ? REL_LT : REL_LE;
        }
        if (v->k != GN_SYM || (var && strcmp(var, v->str)) || ghas_kind(k, GN_SYM))
            return NULL;
        var = v->str;
        if (op == REL_GT || op == REL_GE) {
            if (lo)
                return NULL;
            lo = k;
            loc = op == REL_GE;
        } else {
            if (hi)
                return NULL;
            hi = k;
            hic = op == REL_LE;
        }
    }
    gnode *iv = gn_new(g->a, GN_INTERVAL, 2);
    gnode *inf = gn_new(g->a, GN_CONST, 0), *ninf = gn_new(g->a, GN_NEG, 1);
    if (!iv || !inf || !ninf) {
        g->oom = 1;
        return NULL;
    }
    inf->str = "inf";
    ninf->kid[0] = inf;
    iv->kid[0] = lo ? (gnode *)lo : ninf;
    iv->kid[1] = hi ? (gnode *)hi : inf;
    iv->lo_closed = loc;
    iv->hi_closed = hic;
    return iv;
}

/* Anything that reads as an interval: [a,b), (a,b) (a pair), a < x \le b. */
static gnode *as_interval(G *g, const gnode *n) {
    if (n->k == GN_INTERVAL)
        return (gnode *)n;
    if (n->k == GN_TUPLE && n->n == 2) {
        gnode *iv = gn_new(g->a, GN_INTERVAL, 2);
        if (!iv) {
            g->oom = 1;
            return NULL;
        }
        iv->kid[0] = n->kid[0];
        iv->kid[1] = n->kid[1];
        return iv;
    }
    if (n->k == GN_REL && n->op == REL_IN && n->kid[0]->k == GN_SYM)
        return as_interval(g, n->kid[1]);
    return rel_interval(g, n);
}

/* A union (or a list of inequalities joined by "or") as a UNION of intervals; NULL if not one. */
static gnode *as_union(G *g, const gnode *n) {
    if (n->k != GN_UNION && n->k != GN_LIST)
        return NULL;
    gnode *u = gn_new(g->a, GN_UNION, n->n);
    if (!u) {
        g->oom = 1;
        return NULL;
    }
    for (int i = 0; i < n->n; i++)
        if (!(u->kid[i] = as_interval(g, n->kid[i])))
            return NULL;
    return u;
}

/* ---- collections ---- */
static int eq_ordered(G *g, const gnode *x, const gnode *y) {
    if (x->n != y->n)
        return set_why(g, "different number of entries", NE);
    int und = 0;
    for (int i = 0; i < x->n; i++) {
        int r = gq_eq(g, x->kid[i], y->kid[i]);
        if (r == NE)
            return NE;
        und |= r == UND;
    }
    return und ? UND : EQ;
}

/* Unordered one-to-one matching (Kuhn's algorithm on a lazily filled table). */
static int try_match(G *g, const gnode *x, const gnode *y, signed char *tab, int *match_of_y, char *seen, int i) {
    int n = y->n;
    for (int j = 0; j < n; j++) {
        if (seen[j])
            continue;
        signed char *t = &tab[i * n + j];
        if (*t == 0)
            *t = (signed char)(gq_eq(g, x->kid[i], y->kid[j]) == EQ ? 1 : 2);
        if (*t != 1)
            continue;
        seen[j] = 1;
        if (match_of_y[j] < 0 || try_match(g, x, y, tab, match_of_y, seen, match_of_y[j])) {
            match_of_y[j] = i;
            return 1;
        }
        if (g->c.timed_out)
            return 0;
    }
    return 0;
}

static int eq_unordered(G *g, const gnode *x, const gnode *y) {
    if (x->n != y->n)
        return set_why(g, "different number of elements (a subset is not equal)", NE);
    int n = x->n;
    if (n == 0)
        return set_why(g, "both empty", EQ);
    signed char *tab = calloc((size_t)n * (size_t)n, 1);
    int *mo = malloc(sizeof(int) * (size_t)n);
    char *seen = malloc((size_t)n);
    if (!tab || !mo || !seen) {
        free(tab);
        free(mo);
        free(seen);
        g->oom = 1;
        return UND;
    }
    for (int j = 0; j < n; j++)
        mo[j] = -1;
    int ok = 1;
    for (int i = 0; i < n && ok; i++) {
        memset(seen, 0, (size_t)n);
        ok = try_match(g, x, y, tab, mo, seen, i);
        if (gctx_expired(&g->c))
            ok = 0;
    }
    free(tab);
    free(mo);
    free(seen);
    if (g->c.timed_out)
        return set_why(g, "timeout", UND);
    return set_why(g, ok ? "same elements in any order" : "elements differ", ok ? EQ : (g->undecided ? UND : NE));
}

static void text_norm(const char *s, char *out, size_t cap) {
    size_t k = 0;
    for (; *s && k + 1 < cap; s++) {
        unsigned char c = (unsigned char)*s;
        if (isspace(c) || c == '(' || c == ')' || c == '.' || c == '{' || c == '}' || c == '\\')
            continue;
        out[k++] = (char)tolower(c);
    }
    out[k] = '\0';
}

/* A word read as math ("no" is n*o): its letters, or NULL. */
static const char *as_word(G *g, const gnode *n) {
    if (n->k == GN_TEXT || n->k == GN_SYM)
        return n->str;
    if (n->k == GN_CONST && (!strcmp(n->str, "e") || !strcmp(n->str, "i")))
        return n->str;
    if (n->k != GN_MUL || n->n > 64)
        return NULL;
    char *w = ga_alloc(g->a, (size_t)n->n + 1);
    if (!w)
        return NULL;
    for (int i = 0; i < n->n; i++) {
        const gnode *k = n->kid[i];
        if (!((k->k == GN_SYM || k->k == GN_CONST) && strlen(k->str) == 1))
            return NULL;
        w[i] = k->str[0];
    }
    return w;
}

static int eq_text(G *g, const gnode *x, const gnode *y) {
    char a[256], b[256];
    /* "\text{12 feet}" against 12: the text may hold the value */
    if (x->k == GN_TEXT && y->k != GN_TEXT && !as_word(g, y)) {
        gnode *t = NULL;
        if (grade_parse(g->a, x->str, &t, NULL) == 0 && t->k != GN_TEXT)
            return gq_eq(g, t, y);
    }
    if (y->k == GN_TEXT && x->k != GN_TEXT && !as_word(g, x)) {
        gnode *t = NULL;
        if (grade_parse(g->a, y->str, &t, NULL) == 0 && t->k != GN_TEXT)
            return gq_eq(g, x, t);
    }
    const char *wx = as_word(g, x), *wy = as_word(g, y);
    if (!wx || !wy)
        return set_why(g, "text against a value", NE);
    text_norm(wx, a, sizeof a);
    text_norm(wy, b, sizeof b);
    return set_why(g, "text, ignoring case", strcmp(a, b) == 0 ? EQ : NE);
}

static int eq_intervals(G *g, const gnode *x, const gnode *y) {
    if (x->lo_closed != y->lo_closed || x->hi_closed != y->hi_closed)
        return set_why(g, "interval ends open/closed differ", NE);
    int r = eq_ordered(g, x, y);
    return r == EQ ? set_why(g, "same interval", EQ) : r;
}

/* A relation, a chain a < x < b, or relations joined by "and" (x > 0 \wedge x < \pi). */
static int is_rel(const gnode *n) {
    if (n->k == GN_REL || n->k == GN_AND)
        return 1;
    if (n->k != GN_LIST || n->op != LIST_AND)
        return 0;
    for (int i = 0; i < n->n; i++)
        if (n->kid[i]->k != GN_REL)
            return 0;
    return 1;
}

int gq_eq(G *g, const gnode *x, const gnode *y) {
    if (g->oom)
        return UND;
    if (gctx_expired(&g->c))
        return set_why(g, "timeout", UND);
    /* inequalities, intervals and their unions: the same solution set (equal_set.c) */
    if (gq_sets(g, x, y))
        return EQ;
    /* labels: x = 11 against 11 */
    int xrel = is_rel(x), yrel = is_rel(y);
    if (xrel != yrel || (x->k == GN_REL && y->k == GN_REL && x->op != y->op)) {
        const gnode *ux = unlabel(x), *uy = unlabel(y);
        if (ux != x || uy != y)
            return gq_eq(g, ux, uy);
    }
    /* percent: drop the sign(s), else apply them */
    if (x->k == GN_PERCENT || y->k == GN_PERCENT) {
        int r = gq_eq(g, strip_percent(g, x, 0), strip_percent(g, y, 0));
        if (r == EQ)
            return set_why(g, "equal with the percent sign dropped", EQ);
        r = gq_eq(g, strip_percent(g, x, 1), strip_percent(g, y, 1));
        return r == EQ ? set_why(g, "equal with the percent applied", EQ) : r;
    }
    /* \pm a is the list {a, -a} */
    if (count_pm(x) || count_pm(y)) {
        const gnode *ex = expand_pm(g, x), *ey = expand_pm(g, y);
        if (ex == x && ey == y)
            return set_why(g, "too many \\pm signs", UND);
        return gq_eq(g, ex, ey);
    }
    /* text answers */
    if (x->k == GN_TEXT || y->k == GN_TEXT)
        return eq_text(g, x, y);
    /* one-element collections are their element */
    if ((x->k == GN_SET || x->k == GN_LIST) && x->n == 1)
        return gq_eq(g, x->kid[0], y);
    if ((y->k == GN_SET || y->k == GN_LIST) && y->n == 1)
        return gq_eq(g, x, y->kid[0]);
    gkind kx = x->k, ky = y->k;
    if ((kx == GN_LIST || kx == GN_SET) && (ky == GN_LIST || ky == GN_SET))
        return eq_unordered(g, x, y);
    if (kx == GN_UNION || ky == GN_UNION) {
        gnode *ux = as_union(g, x), *uy = as_union(g, y);
        if (ux && uy)
            return eq_unordered(g, ux, uy);
        if (kx == GN_UNION && ky == GN_UNION)
            return eq_unordered(g, x, y);
        return set_why(g, "a union against another kind", NE);
    }
    if (kx == GN_INTER && ky == GN_INTER)
        return eq_unordered(g, x, y);
    if (kx == GN_TUPLE && ky == GN_TUPLE)
        return eq_ordered(g, x, y);
    if ((kx == GN_TUPLE && ky == GN_LIST) || (kx == GN_LIST && ky == GN_TUPLE))
        return eq_ordered(g, x, y);
    if (kx == GN_INTERVAL && ky == GN_INTERVAL)
        return eq_intervals(g, x, y);
    if ((kx == GN_INTERVAL && ky == GN_TUPLE) || (kx == GN_TUPLE && ky == GN_INTERVAL)) {
        const gnode *iv = kx == GN_INTERVAL ? x : y;
        if (iv->lo_closed || iv->hi_closed)
            return set_why(g, "closed interval end against a point", NE);
        return eq_ordered(g, x, y);
    }
    if (kx == GN_MATRIX && ky == GN_MATRIX) {
        if (x->rows != y->rows || x->cols != y->cols)
            return set_why(g, "matrix shapes differ", NE);
        return eq_ordered(g, x, y);
    }
    if ((kx == GN_MATRIX && ky == GN_TUPLE) || (kx == GN_TUPLE && ky == GN_MATRIX)) {
        const gnode *m = kx == GN_MATRIX ? x : y;
        if (m->rows != 1 && m->cols != 1)
            return set_why(g, "matrix against a tuple", NE);
        return eq_ordered(g, x, y);
    }
    /* inequalities and intervals */
    if (xrel || yrel) {
        gnode *ix = as_interval(g, x);
        gnode *iy = as_interval(g, y);
        if (ix && iy)
            return eq_intervals(g, ix, iy);
        if (kx == GN_REL && ky == GN_REL && x->op == REL_EQ && y->op == REL_EQ)
            return gq_equations(g, x, y);
        if (kx == GN_REL && ky == GN_REL && x->op == y->op) {
            int r = gq_eq(g, x->kid[0], y->kid[0]);
            return r == EQ ? gq_eq(g, x->kid[1], y->kid[1]) : r;
        }
        if (kx == GN_AND && ky == GN_AND)
            return eq_ordered(g, x, y);
        return set_why(g, "different relations", NE);
    }
    if (is_scalar_kind(kx) && is_scalar_kind(ky))
        return gq_scalar(g, x, y);
    return set_why(g, "different kinds of answer", NE);
}

void tkd_grade_opts_default(tkd_grade_opts *o) {
    o->timeout_s = TKD_GRADE_DEFAULT_TIMEOUT_S;
    o->seed = 0;
    o->no_shortcut = 0;
}

/* Whitespace-free normalised text, for the fast path and unparseable answers. */
static int squeeze(const char *s, tkd_buf *tmp, tkd_buf *out) {
    if (grade_normalise(s, tmp))
        return TKD_ENOMEM;
    tkd_buf_reset(out);
    for (size_t i = 0; i < tmp->len; i++)
        if (!isspace((unsigned char)tmp->data[i]) && tkd_buf_putc(out, tmp->data[i]))
            return TKD_ENOMEM;
    return out->data ? 0 : tkd_buf_puts(out, "");
}

/* The same tree, printed: the last resort for answers no rule can evaluate. */
static int same_tree(const gnode *x, const gnode *y) {
    tkd_buf a, b;
    tkd_buf_init(&a);
    tkd_buf_init(&b);
    int same =
        !tkd_grade_node_print(x, &a) && !tkd_grade_node_print(y, &b) && a.data && b.data && !strcmp(a.data, b.data);
    tkd_buf_free(&a);
    tkd_buf_free(&b);
    return same;
}

static void verdict(tkd_grade_verdict *v, tkd_grade_result r, const char *fmt, const char *a, const char *b) {
    v->result = r;
    snprintf(v->reason, sizeof v->reason, fmt, a ? a : "", b ? b : "");
}

int tkd_grade_equal(const char *gold, const char *pred, const tkd_grade_opts *o, tkd_grade_verdict *v) {
    tkd_grade_opts def;
    if (!o) {
        tkd_grade_opts_default(&def);
        o = &def;
    }
    double budget = o->timeout_s > 0 ? o->timeout_s : TKD_GRADE_DEFAULT_TIMEOUT_S;
    if (!gold || !pred) {
        verdict(v, TKD_GRADE_DIFFERENT, "missing %s%s", gold ? "" : "gold", pred ? "" : " prediction");
        return 0;
    }
    if (strlen(gold) > TKD_GRADE_MAX_INPUT || strlen(pred) > TKD_GRADE_MAX_INPUT) {
        verdict(v, TKD_GRADE_DIFFERENT, "answer longer than the limit%s%s", NULL, NULL);
        return 0;
    }
    tkd_buf t, sg, sp;
    tkd_buf_init(&t);
    tkd_buf_init(&sg);
    tkd_buf_init(&sp);
    int rc = squeeze(gold, &t, &sg);
    if (!rc)
        rc = squeeze(pred, &t, &sp);
    tkd_buf_free(&t);
    if (rc) {
        tkd_buf_free(&sg);
        tkd_buf_free(&sp);
        verdict(v, TKD_GRADE_UNDECIDED, "out of memory%s%s", NULL, NULL);
        return TKD_ENOMEM;
    }
    if (sp.len == 0) {
        verdict(v, TKD_GRADE_DIFFERENT, "empty prediction%s%s", NULL, NULL);
        goto out;
    }
    if (!o->no_shortcut && !strcmp(sg.data, sp.data)) {
        verdict(v, TKD_GRADE_EQUAL, "same text%s%s", NULL, NULL);
        goto out;
    }
    {
        garena a = {0};
        G g = {.a = &a};
        g.c.deadline = tkd_now() + budget;
        tkd_rng_seed(&g.rng, o->seed ? o->seed : 0x7464u);
        for (int i = 0; i < 16; i++)
            acb_init(g.c.val[i]);
        gnode *gx = NULL, *gy = NULL;
        tkd_err e = {0};
        if (grade_parse(&a, gold, &gx, &e)) {
            int same = !strcasecmp(sg.data, sp.data);
            verdict(v, same ? TKD_GRADE_EQUAL : TKD_GRADE_DIFFERENT, "gold does not parse (%.100s)%s", e.msg, NULL);
        } else if (grade_parse(&a, pred, &gy, &e)) {
            verdict(v, TKD_GRADE_DIFFERENT, "prediction does not parse (%.100s)%s", e.msg, NULL);
        } else {
            int r = gq_eq(&g, gx, gy);
            if (r != EQ && !g.oom && same_tree(gx, gy)) {
                r = EQ; /* 5:00 against 5:00 cannot be evaluated, yet it is the same answer */
                g.why = "same parsed form";
                g.c.timed_out = 0;
            }
            if (g.oom)
                verdict(v, TKD_GRADE_UNDECIDED, "out of memory%s%s", NULL, NULL);
            else if (g.c.timed_out)
                snprintf(v->reason, sizeof v->reason, "timeout (budget %g s)", budget), v->result = TKD_GRADE_UNDECIDED;
            else if (r == EQ)
                verdict(v, TKD_GRADE_EQUAL, "%s%s", g.why ? g.why : "equal", NULL);
            else if (r == UND)
                verdict(v, TKD_GRADE_UNDECIDED, "undecided: %s%s", g.why ? g.why : "?", NULL);
            else
                verdict(v, TKD_GRADE_DIFFERENT, "%s%s", g.why ? g.why : "different", NULL);
        }
        for (int i = 0; i < 16; i++)
            acb_clear(g.c.val[i]);
        ga_free(&a);
    }
out:
    tkd_buf_free(&sg);
    tkd_buf_free(&sp);
    return 0;
}
