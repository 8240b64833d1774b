/*
 * expr nodes: constructors (which take ownership of their children and free
 * them all on failure), free, deep copy, structural equality and hashing, and
 * the table of known function names.
 */
#include "tkd/expr.h"

#include <stdlib.h>
#include <string.h>

static const struct {
    const char *name;
    tkd_fn_id id;
} fn_names[] = {{"exp", TKD_FN_EXP},
                {"log", TKD_FN_LOG},
                {"sin", TKD_FN_SIN},
                {"cos", TKD_FN_COS},
                {"tan", TKD_FN_TAN},
                {"sec", TKD_FN_SEC},
                {"csc", TKD_FN_CSC},
                {"cot", TKD_FN_COT},
                {"asin", TKD_FN_ASIN},
                {"acos", TKD_FN_ACOS},
                {"atan", TKD_FN_ATAN},
                {"atan2", TKD_FN_ATAN2},
                {"acot", TKD_FN_ACOT},
                {"sinh", TKD_FN_SINH},
                {"cosh", TKD_FN_COSH},
                {"tanh", TKD_FN_TANH},
                {"asinh", TKD_FN_ASINH},
                {"acosh", TKD_FN_ACOSH},
                {"atanh", TKD_FN_ATANH},
                {"Abs", TKD_FN_ABS},
                {"sign", TKD_FN_SIGN},
                {"floor", TKD_FN_FLOOR},
                {"ceiling", TKD_FN_CEILING},
                {"frac", TKD_FN_FRAC},
                {"re", TKD_FN_RE},
                {"im", TKD_FN_IM},
                {"conjugate", TKD_FN_CONJUGATE},
                {"arg", TKD_FN_ARG},
                {"factorial", TKD_FN_FACTORIAL},
                {"binomial", TKD_FN_BINOMIAL},
                {"gamma", TKD_FN_GAMMA},
                {"gcd", TKD_FN_GCD},
                {"lcm", TKD_FN_LCM},
                {"Mod", TKD_FN_MOD},
                {"Min", TKD_FN_MIN},
                {"Max", TKD_FN_MAX},
                {"Sum", TKD_FN_SUM},
                {"Product", TKD_FN_PRODUCT},
                /* aliases (never printed) */
                {"ln", TKD_FN_LOG},
                {"abs", TKD_FN_ABS},
                {"arcsin", TKD_FN_ASIN},
                {"arccos", TKD_FN_ACOS},
                {"arctan", TKD_FN_ATAN},
                {"ceil", TKD_FN_CEILING},
                {"mod", TKD_FN_MOD},
                {"min", TKD_FN_MIN},
                {"max", TKD_FN_MAX},
                {"arccot", TKD_FN_ACOT},
                {NULL, TKD_FN_UNDEF}};

const char *tkd_expr_fn_name(tkd_fn_id id) {
    for (int i = 0; fn_names[i].name; i++)
        if (fn_names[i].id == id)
            return fn_names[i].name;
    return "f";
}

tkd_fn_id tkd_expr_fn_lookup(const char *name) {
    for (int i = 0; fn_names[i].name; i++)
        if (!strcmp(fn_names[i].name, name))
            return fn_names[i].id;
    return TKD_FN_UNDEF;
}

static tkd_expr *node_new(tkd_expr_kind kind, size_t n) {
    tkd_expr *x = calloc(1, sizeof *x);
    if (!x)
        return NULL;
    x->kind = kind;
    fmpq_init(x->q);
    if (n) {
        x->args = calloc(n, sizeof *x->args);
        if (!x->args) {
            fmpq_clear(x->q);
            free(x);
            return NULL;
        }
    }
    x->n = n;
    return x;
}

void tkd_expr_free(tkd_expr *x) {
    if (!x)
        return;
    for (size_t i = 0; i < x->n; i++)
        tkd_expr_free(x->args[i]);
    free(x->args);
    free(x->name);
    fmpq_clear(x->q);
    free(x);
}

static void free_all(size_t n, tkd_expr **args) {
    for (size_t i = 0; i < n; i++)
        tkd_expr_free(args[i]);
}

tkd_expr *tkd_expr_fmpq(const fmpq_t v) {
    tkd_expr *x = node_new(TKD_EX_NUM, 0);
    if (x)
        fmpq_set(x->q, v);
    return x;
}

tkd_expr *tkd_expr_fmpz(const fmpz_t v) {
    tkd_expr *x = node_new(TKD_EX_NUM, 0);
    if (x)
        fmpz_set(fmpq_numref(x->q), v); /* den stays 1 */
    return x;
}

tkd_expr *tkd_expr_int(long v) {
    tkd_expr *x = node_new(TKD_EX_NUM, 0);
    if (x)
        fmpq_set_si(x->q, v, 1);
    return x;
}

tkd_expr *tkd_expr_rat(long p, long q) {
    if (q == 0)
        return NULL;
    tkd_expr *x = node_new(TKD_EX_NUM, 0);
    if (!x)
        return NULL;
    if (q < 0) {
        fmpz_set_si(fmpq_numref(x->q), p);
        fmpz_neg(fmpq_numref(x->q), fmpq_numref(x->q));
        fmpz_set_si(fmpq_denref(x->q), q);
        fmpz_neg(fmpq_denref(x->q), fmpq_denref(x->q));
        fmpq_canonicalise(x->q);
    } else {
        fmpq_set_si(x->q, p, (ulong)q);
    }
    return x;
}

tkd_expr *tkd_expr_dec(const fmpq_t v, long places) {
    tkd_expr *x = node_new(TKD_EX_DEC, 0);
    if (x) {
        fmpq_set(x->q, v);
        x->places = places;
    }
    return x;
}

static tkd_expr *named(tkd_expr_kind kind, const char *name) {
    if (!name)
        return NULL;
    tkd_expr *x = node_new(kind, 0);
    if (!x)
        return NULL;
    x->name = strdup(name);
    if (!x->name) {
        tkd_expr_free(x);
        return NULL;
    }
    return x;
}

tkd_expr *tkd_expr_sym(const char *name) {
    return named(TKD_EX_SYM, name);
}

tkd_expr *tkd_expr_text(const char *utf8) {
    return named(TKD_EX_STR, utf8);
}

tkd_expr *tkd_expr_const(tkd_expr_const_id id) {
    if ((int)id < 0 || id >= TKD_C_COUNT)
        return NULL;
    tkd_expr *x = node_new(TKD_EX_CONST, 0);
    if (x)
        x->op = (int)id;
    return x;
}

/* The generic n-ary builder: takes ownership of args[0..n). */
static tkd_expr *build(tkd_expr_kind kind, int op, size_t n, tkd_expr **args) {
    for (size_t i = 0; i < n; i++)
        if (!args[i]) {
            free_all(n, args);
            return NULL;
        }
    tkd_expr *x = node_new(kind, n);
    if (!x) {
        free_all(n, args);
        return NULL;
    }
    x->op = op;
    if (n)
        memcpy(x->args, args, n * sizeof *args);
    return x;
}

static tkd_expr *build2(tkd_expr_kind kind, int op, tkd_expr *a, tkd_expr *b) {
    tkd_expr *v[2] = {a, b};
    return build(kind, op, 2, v);
}

tkd_expr *tkd_expr_add(size_t n, tkd_expr **args) {
    if (n == 0)
        return tkd_expr_int(0);
    if (n == 1)
        return args[0];
    return build(TKD_EX_ADD, 0, n, args);
}

tkd_expr *tkd_expr_mul(size_t n, tkd_expr **args) {
    if (n == 0)
        return tkd_expr_int(1);
    if (n == 1)
        return args[0];
    return build(TKD_EX_MUL, 0, n, args);
}

tkd_expr *tkd_expr_add2(tkd_expr *a, tkd_expr *b) {
    return build2(TKD_EX_ADD, 0, a, b);
}

tkd_expr *tkd_expr_mul2(tkd_expr *a, tkd_expr *b) {
    return build2(TKD_EX_MUL, 0, a, b);
}

tkd_expr *tkd_expr_neg(tkd_expr *a) {
    if (a && a->kind == TKD_EX_NUM) {
        fmpq_neg(a->q, a->q);
        return a;
    }
    return tkd_expr_mul2(tkd_expr_int(-1), a);
}

tkd_expr *tkd_expr_sub(tkd_expr *a, tkd_expr *b) {
    return tkd_expr_add2(a, tkd_expr_neg(b));
}

tkd_expr *tkd_expr_pow(tkd_expr *base, tkd_expr *exp) {
    return build2(TKD_EX_POW, 0, base, exp);
}

tkd_expr *tkd_expr_div(tkd_expr *a, tkd_expr *b) {
    return tkd_expr_mul2(a, tkd_expr_pow(b, tkd_expr_int(-1)));
}

tkd_expr *tkd_expr_sqrt(tkd_expr *a) {
    return tkd_expr_pow(a, tkd_expr_rat(1, 2));
}

tkd_expr *tkd_expr_fn(tkd_fn_id id, size_t n, tkd_expr **args) {
    tkd_expr *x = build(TKD_EX_FUNC, (int)id, n, args);
    if (!x)
        return NULL;
    x->name = strdup(tkd_expr_fn_name(id));
    if (!x->name) {
        tkd_expr_free(x);
        return NULL;
    }
    return x;
}

tkd_expr *tkd_expr_fn1(tkd_fn_id id, tkd_expr *a) {
    return tkd_expr_fn(id, 1, &a);
}

tkd_expr *tkd_expr_fn2(tkd_fn_id id, tkd_expr *a, tkd_expr *b) {
    tkd_expr *v[2] = {a, b};
    return tkd_expr_fn(id, 2, v);
}

tkd_expr *tkd_expr_call(const char *name, size_t n, tkd_expr **args) {
    if (name && n == 1 && !strcmp(name, "sqrt")) /* the canonical shape: Pow(a, 1/2) */
        return tkd_expr_sqrt(args[0]);
    tkd_fn_id id = name ? tkd_expr_fn_lookup(name) : TKD_FN_UNDEF;
    if (id != TKD_FN_UNDEF)
        return tkd_expr_fn(id, n, args);
    tkd_expr *x = name ? build(TKD_EX_FUNC, TKD_FN_UNDEF, n, args) : NULL;
    if (!x) {
        if (!name)
            free_all(n, args);
        return NULL;
    }
    x->name = strdup(name);
    if (!x->name) {
        tkd_expr_free(x);
        return NULL;
    }
    return x;
}

tkd_expr *tkd_expr_rel(tkd_expr_rel_op op, tkd_expr *a, tkd_expr *b) {
    return build2(TKD_EX_REL, (int)op, a, b);
}

tkd_expr *tkd_expr_seq(tkd_expr_kind kind, size_t n, tkd_expr **args) {
    if (kind != TKD_EX_LIST && kind != TKD_EX_TUPLE && kind != TKD_EX_SET) {
        free_all(n, args);
        return NULL;
    }
    return build(kind, 0, n, args);
}

tkd_expr *tkd_expr_interval(tkd_expr *lo, tkd_expr *hi, int lopen, int ropen) {
    return build2(TKD_EX_INTERVAL, (lopen ? TKD_IV_LOPEN : 0) | (ropen ? TKD_IV_ROPEN : 0), lo, hi);
}

tkd_expr *tkd_expr_matrix(size_t rows, size_t cols, tkd_expr **args) {
    tkd_expr *x = build(TKD_EX_MATRIX, 0, rows * cols, args);
    if (x) {
        x->rows = rows;
        x->cols = cols;
    }
    return x;
}

tkd_expr *tkd_expr_pm(tkd_expr *a, tkd_expr *b) {
    if (!a && b)
        a = tkd_expr_int(0);
    return build2(TKD_EX_PM, 0, a, b);
}

tkd_expr *tkd_expr_copy(const tkd_expr *x) {
    if (!x)
        return NULL;
    tkd_expr *y = node_new(x->kind, x->n);
    if (!y)
        return NULL;
    y->op = x->op;
    y->rows = x->rows;
    y->cols = x->cols;
    y->places = x->places;
    fmpq_set(y->q, x->q);
    if (x->name && !(y->name = strdup(x->name))) {
        tkd_expr_free(y);
        return NULL;
    }
    for (size_t i = 0; i < x->n; i++) {
        if (!(y->args[i] = tkd_expr_copy(x->args[i]))) {
            tkd_expr_free(y);
            return NULL;
        }
    }
    return y;
}

int tkd_expr_equal(const tkd_expr *a, const tkd_expr *b) {
    if (a == b)
        return 1;
    if (!a || !b || a->kind != b->kind || a->op != b->op || a->n != b->n || a->rows != b->rows)
        return 0;
    if ((a->kind == TKD_EX_NUM || a->kind == TKD_EX_DEC) && !fmpq_equal(a->q, b->q))
        return 0;
    if (a->kind == TKD_EX_DEC && a->places != b->places)
        return 0;
    if ((a->name || b->name) && (!a->name || !b->name || strcmp(a->name, b->name)))
        return 0;
    for (size_t i = 0; i < a->n; i++)
        if (!tkd_expr_equal(a->args[i], b->args[i]))
            return 0;
    return 1;
}

static uint64_t mix(uint64_t h, uint64_t v) {
    h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
    return h * 0xff51afd7ed558ccdULL;
}

static uint64_t hash_fmpz(const fmpz_t z) {
    uint64_t h = (uint64_t)fmpz_sgn(z);
    if (fmpz_fits_si(z))
        return mix(h, (uint64_t)fmpz_get_si(z));
    ulong lo = fmpz_fdiv_ui(z, 1000000007UL);
    return mix(mix(h, lo), fmpz_bits(z));
}

uint64_t tkd_expr_hash(const tkd_expr *x) {
    if (!x)
        return 0;
    uint64_t h = mix((uint64_t)x->kind * 31 + 7, (uint64_t)x->op);
    if (x->kind == TKD_EX_NUM || x->kind == TKD_EX_DEC) {
        h = mix(h, hash_fmpz(fmpq_numref(x->q)));
        h = mix(h, hash_fmpz(fmpq_denref(x->q)));
        h = mix(h, (uint64_t)x->places);
    }
    if (x->name)
        for (const char *p = x->name; *p; p++)
            h = mix(h, (unsigned char)*p);
    h = mix(h, x->rows);
    for (size_t i = 0; i < x->n; i++)
        h = mix(h, tkd_expr_hash(x->args[i]));
    return h;
}

int tkd_expr_is_num(const tkd_expr *x) {
    return x && (x->kind == TKD_EX_NUM || x->kind == TKD_EX_DEC);
}

int tkd_expr_is_int(const tkd_expr *x, long v) {
    return tkd_expr_is_num(x) && fmpz_is_one(fmpq_denref(x->q)) && fmpz_cmp_si(fmpq_numref(x->q), v) == 0;
}

int tkd_expr_has_sym(const tkd_expr *x, const char *name) {
    if (!x)
        return 0;
    if (x->kind == TKD_EX_SYM && (!name || !strcmp(x->name, name)))
        return 1;
    for (size_t i = 0; i < x->n; i++)
        if (tkd_expr_has_sym(x->args[i], name))
            return 1;
    return 0;
}

size_t tkd_expr_count_nodes(const tkd_expr *x) {
    if (!x)
        return 0;
    size_t c = 1;
    for (size_t i = 0; i < x->n; i++)
        c += tkd_expr_count_nodes(x->args[i]);
    return c;
}

typedef struct {
    const char **v;
    size_t n, cap;
    const char *bound[64];
    size_t nbound;
} symset;

static int is_bound(const symset *s, const char *name) {
    for (size_t i = 0; i < s->nbound; i++)
        if (!strcmp(s->bound[i], name))
            return 1;
    return 0;
}

static int collect(const tkd_expr *x, symset *s) {
    if (x->kind == TKD_EX_SYM) {
        if (is_bound(s, x->name))
            return 0;
        for (size_t i = 0; i < s->n; i++)
            if (!strcmp(s->v[i], x->name))
                return 0;
        if (s->n == s->cap) {
            size_t cap = s->cap ? 2 * s->cap : 8;
            const char **v = realloc(s->v, cap * sizeof *v);
            if (!v)
                return TKD_ENOMEM;
            s->v = v;
            s->cap = cap;
        }
        s->v[s->n++] = x->name;
        return 0;
    }
    /* Sum(f, (i, a, b)): i is bound in f, free in a and b */
    if (x->kind == TKD_EX_FUNC && (x->op == TKD_FN_SUM || x->op == TKD_FN_PRODUCT) && x->n == 2 &&
        x->args[1]->kind == TKD_EX_TUPLE && x->args[1]->n == 3 && x->args[1]->args[0]->kind == TKD_EX_SYM &&
        s->nbound < 64) {
        const tkd_expr *t = x->args[1];
        int rc;
        if ((rc = collect(t->args[1], s)) || (rc = collect(t->args[2], s)))
            return rc;
        s->bound[s->nbound++] = t->args[0]->name;
        rc = collect(x->args[0], s);
        s->nbound--;
        return rc;
    }
    for (size_t i = 0; i < x->n; i++) {
        int rc = collect(x->args[i], s);
        if (rc)
            return rc;
    }
    return 0;
}

static int cmp_names(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int tkd_expr_free_syms(const tkd_expr *x, const char ***names, size_t *n, tkd_err *e) {
    symset s = {0};
    *names = NULL;
    *n = 0;
    if (!x)
        return 0;
    if (collect(x, &s)) {
        free(s.v);
        return tkd_err_set(e, TKD_ENOMEM, "out of memory collecting the symbols of an expression");
    }
    if (s.n)
        qsort(s.v, s.n, sizeof *s.v, cmp_names);
    *names = s.v;
    *n = s.n;
    return 0;
}
