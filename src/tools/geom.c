/*
 * The paper's geometry toolkit, exact: coordinates and lengths are Calcium
 * numbers (integers, fractions, "sqrt(3)", "2*cos(pi/5)"), so distances come
 * out as sqrt(2) rather than 1.4142. Points are [x, y] lists; answers print
 * points as "(x, y)" and lines as equations "y = m*x + b" or "x = c".
 */
#include <stdlib.h>
#include <string.h>

#include "tools_int.h"

#define PTS_MAX 1000

typedef struct pt {
    ca_t x, y;
} pt;

/* A point [x, y] from v; key names it in messages. */
static int load_pt(const tkd_json *v, const char *key, pt *p, ca_ctx_t ctx, tkd_err *e) {
    ca_init(p->x, ctx);
    ca_init(p->y, ctx);
    if (!tkd_json_is(v, TKD_JSON_ARR) || tkd_json_size(v) != 2)
        return tkd_err_set(e, TKD_EINVAL,
                           "'%s' must be a point [x, y] of two numbers or expression strings, e.g. [1, \"sqrt(3)\"]",
                           key);
    for (int c = 0; c < 2; c++)
        if (tnum_from_json(c ? p->y : p->x, tkd_json_at(v, c), "", ctx, e)) {
            char w[64]; /* again, for a message naming the coordinate */
            snprintf(w, sizeof w, "'%s' %c", key, "xy"[c]);
            return tnum_from_json(c ? p->y : p->x, tkd_json_at(v, c), w, ctx, e);
        }
    if (ca_check_is_real(p->x, ctx) != T_TRUE || ca_check_is_real(p->y, ctx) != T_TRUE)
        return tkd_err_set(e, TKD_EINVAL, "'%s' must have real coordinates", key);
    return 0;
}

static void clear_pts(pt *p, int n, ca_ctx_t ctx) {
    for (int i = 0; i < n; i++) {
        ca_clear(p[i].x, ctx);
        ca_clear(p[i].y, ctx);
    }
}

static int load_pts(const tkd_json *args, const char *const *keys, int n, pt *p, ca_ctx_t ctx, tkd_err *e) {
    for (int i = 0; i < n; i++)
        if (load_pt(tkd_json_get(args, keys[i]), keys[i], p + i, ctx, e)) {
            clear_pts(p, i + 1, ctx);
            return e->code;
        }
    return 0;
}

static tkd_json *num_json(tkd_arena *ta, const ca_t v, ca_ctx_t ctx, tkd_err *e) {
    tkd_expr *x = tkd_expr_from_ca(v, ctx, e);
    return x ? tjson_ast(ta, x) : NULL;
}

static tkd_json *pt_json(tkd_arena *ta, const ca_t x, const ca_t y, ca_ctx_t ctx, tkd_err *e) {
    tkd_expr *a = tkd_expr_from_ca(x, ctx, e), *b = a ? tkd_expr_from_ca(y, ctx, e) : NULL;
    if (!b) {
        tkd_expr_free(a);
        return NULL;
    }
    tkd_expr *v[2] = {a, b};
    return tjson_ast(ta, tkd_expr_seq(TKD_EX_TUPLE, 2, v));
}

/* cross = (b - a) x (c - a) */
static void cross(ca_t r, const pt *a, const pt *b, const pt *c, ca_ctx_t ctx) {
    ca_t u, v;
    ca_init(u, ctx);
    ca_init(v, ctx);
    ca_sub(u, b->x, a->x, ctx);
    ca_sub(v, c->y, a->y, ctx);
    ca_mul(r, u, v, ctx);
    ca_sub(u, b->y, a->y, ctx);
    ca_sub(v, c->x, a->x, ctx);
    ca_mul(u, u, v, ctx);
    ca_sub(r, r, u, ctx);
    ca_clear(u, ctx);
    ca_clear(v, ctx);
}

static void dist2(ca_t r, const pt *a, const pt *b, ca_ctx_t ctx) {
    ca_t u;
    ca_init(u, ctx);
    ca_sub(u, a->x, b->x, ctx);
    ca_sqr(r, u, ctx);
    ca_sub(u, a->y, b->y, ctx);
    ca_sqr(u, u, ctx);
    ca_add(r, r, u, ctx);
    ca_clear(u, ctx);
}

static int done(tkd_json **result, tkd_json *v, tkd_err *e) {
    if (!v)
        return e->code ? e->code : tkd_err_set(e, TKD_ENOMEM, "out of memory");
    *result = v;
    return 0;
}

static const char *const P12[] = {"point1", "point2"}, *const P123[] = {"point1", "point2", "point3"};

static int t_midpoint(tkd_arena *ta, const tkd_json *args, tkd_json **result, tkd_err *e) {
    ca_ctx_t ctx;
    tca_ctx_init(ctx);
    pt p[2];
    int rc = load_pts(args, P12, 2, p, ctx, e);
    if (!rc) {
        ca_t x, y;
        ca_init(x, ctx);
        ca_init(y, ctx);
        ca_add(x, p[0].x, p[1].x, ctx);
        ca_div_ui(x, x, 2, ctx);
        ca_add(y, p[0].y, p[1].y, ctx);
        ca_div_ui(y, y, 2, ctx);
        rc = done(result, pt_json(ta, x, y, ctx, e), e);
        ca_clear(x, ctx);
        ca_clear(y, ctx);
        clear_pts(p, 2, ctx);
    }
    ca_ctx_clear(ctx);
    return rc ? tkd_err_wrap(e, "compute_midpoint_GH") : 0;
}

static int t_distance(tkd_arena *ta, const tkd_json *args, tkd_json **result, tkd_err *e) {
    ca_ctx_t ctx;
    tca_ctx_init(ctx);
    pt p[2];
    int rc = load_pts(args, P12, 2, p, ctx, e);
    if (!rc) {
        ca_t d;
        ca_init(d, ctx);
        dist2(d, p, p + 1, ctx);
        ca_sqrt(d, d, ctx);
        rc = done(result, num_json(ta, d, ctx, e), e);
        ca_clear(d, ctx);
        clear_pts(p, 2, ctx);
    }
    ca_ctx_clear(ctx);
    return rc ? tkd_err_wrap(e, "compute_point_distance") : 0;
}

static int t_bisector(tkd_arena *ta, const tkd_json *args, tkd_json **result, tkd_err *e) {
    ca_ctx_t ctx;
    tca_ctx_init(ctx);
    pt p[2];
    int rc = load_pts(args, P12, 2, p, ctx, e);
    if (rc) {
        ca_ctx_clear(ctx);
        return tkd_err_wrap(e, "compute_line_bisectors");
    }
    ca_t dx, dy, mx, my, m, b;
    ca_init(dx, ctx);
    ca_init(dy, ctx);
    ca_init(mx, ctx);
    ca_init(my, ctx);
    ca_init(m, ctx);
    ca_init(b, ctx);
    ca_sub(dx, p[1].x, p[0].x, ctx);
    ca_sub(dy, p[1].y, p[0].y, ctx);
    ca_add(mx, p[0].x, p[1].x, ctx);
    ca_div_ui(mx, mx, 2, ctx);
    ca_add(my, p[0].y, p[1].y, ctx);
    ca_div_ui(my, my, 2, ctx);
    /* dx (x - mx) + dy (y - my) = 0 */
    truth_t zy = ca_check_is_zero(dy, ctx), zx = ca_check_is_zero(dx, ctx);
    tkd_buf out;
    tkd_buf_init(&out);
    if (zy == T_TRUE && zx == T_TRUE) {
        rc = tkd_err_set(e, TKD_EMATH, "the two points coincide, so there is no segment to bisect");
    } else if (zy == T_TRUE) {
        tkd_expr *x = tkd_expr_from_ca(mx, ctx, e);
        char *s = x ? tkd_expr_to_str(x) : NULL;
        tkd_expr_free(x);
        if (s)
            tkd_buf_printf(&out, "x = %s", s);
        else
            rc = e->code ? e->code : TKD_ENOMEM;
        free(s);
    } else if (zy == T_FALSE) { /* y = m x + b, m = -dx/dy, b = my + dx mx / dy */
        ca_div(m, dx, dy, ctx);
        ca_neg(m, m, ctx);
        ca_mul(b, m, mx, ctx);
        ca_sub(b, my, b, ctx);
        tkd_expr *mm = tkd_expr_from_ca(m, ctx, e), *bb = mm ? tkd_expr_from_ca(b, ctx, e) : NULL;
        tkd_expr *rhs = bb ? tkd_expr_add2(tkd_expr_mul2(mm, tkd_expr_sym("x")), bb) : NULL;
        tkd_expr *n = NULL;
        if (rhs && !tkd_expr_simplify(rhs, &n, e)) {
            char *s = tkd_expr_to_str(n);
            tkd_buf_printf(&out, "y = %s", s ? s : "?");
            free(s);
        } else {
            if (!bb)
                tkd_expr_free(mm);
            rc = e->code ? e->code : TKD_ENOMEM;
        }
        tkd_expr_free(rhs);
        tkd_expr_free(n);
    } else {
        rc = tkd_err_set(e, TKD_EMATH, "could not decide whether the points are level");
    }
    if (!rc)
        *result = tkd_json_string(ta, out.data);
    tkd_buf_free(&out);
    ca_clear(dx, ctx);
    ca_clear(dy, ctx);
    ca_clear(mx, ctx);
    ca_clear(my, ctx);
    ca_clear(m, ctx);
    ca_clear(b, ctx);
    clear_pts(p, 2, ctx);
    ca_ctx_clear(ctx);
    return rc ? tkd_err_wrap(e, "compute_line_bisectors") : 0;
}

static int tri(tkd_arena *ta, const tkd_json *args, tkd_json **result, int what, tkd_err *e) {
    static const char *names[] = {"compute_centroid", "compute_orthocenter", "compute_triangle_area_vertices"};
    ca_ctx_t ctx;
    tca_ctx_init(ctx);
    pt p[3];
    int rc = load_pts(args, P123, 3, p, ctx, e);
    if (rc) {
        ca_ctx_clear(ctx);
        return tkd_err_wrap(e, "%s", names[what]);
    }
    ca_t x, y, c, t, u;
    ca_init(x, ctx);
    ca_init(y, ctx);
    ca_init(c, ctx);
    ca_init(t, ctx);
    ca_init(u, ctx);
    cross(c, p, p + 1, p + 2, ctx);
    truth_t degenerate = ca_check_is_zero(c, ctx);
    if (what == 0) {
        ca_add(x, p[0].x, p[1].x, ctx);
        ca_add(x, x, p[2].x, ctx);
        ca_div_ui(x, x, 3, ctx);
        ca_add(y, p[0].y, p[1].y, ctx);
        ca_add(y, y, p[2].y, ctx);
        ca_div_ui(y, y, 3, ctx);
        rc = done(result, pt_json(ta, x, y, ctx, e), e);
    } else if (what == 2) {
        ca_abs(c, c, ctx);
        ca_div_ui(c, c, 2, ctx);
        rc = done(result, num_json(ta, c, ctx, e), e);
    } else if (degenerate != T_FALSE) {
        rc = tkd_err_set(e, TKD_EMATH, "the three points are collinear: there is no triangle, so no orthocenter");
    } else {
        /* (H - A).(B - C) = 0, (H - B).(A - C) = 0: a 2x2 system by Cramer */
        ca_t a1, b1, c1, a2, b2, c2, det;
        ca_init(a1, ctx);
        ca_init(b1, ctx);
        ca_init(c1, ctx);
        ca_init(a2, ctx);
        ca_init(b2, ctx);
        ca_init(c2, ctx);
        ca_init(det, ctx);
        ca_sub(a1, p[1].x, p[2].x, ctx);
        ca_sub(b1, p[1].y, p[2].y, ctx);
        ca_mul(c1, a1, p[0].x, ctx);
        ca_mul(t, b1, p[0].y, ctx);
        ca_add(c1, c1, t, ctx);
        ca_sub(a2, p[0].x, p[2].x, ctx);
        ca_sub(b2, p[0].y, p[2].y, ctx);
        ca_mul(c2, a2, p[1].x, ctx);
        ca_mul(t, b2, p[1].y, ctx);
        ca_add(c2, c2, t, ctx);
        ca_mul(det, a1, b2, ctx);
        ca_mul(t, a2, b1, ctx);
        ca_sub(det, det, t, ctx);
        ca_mul(x, c1, b2, ctx);
        ca_mul(t, c2, b1, ctx);
        ca_sub(x, x, t, ctx);
        ca_div(x, x, det, ctx);
        ca_mul(y, a1, c2, ctx);
        ca_mul(t, a2, c1, ctx);
        ca_sub(y, y, t, ctx);
        ca_div(y, y, det, ctx);
        rc = done(result, pt_json(ta, x, y, ctx, e), e);
        ca_clear(a1, ctx);
        ca_clear(b1, ctx);
        ca_clear(c1, ctx);
        ca_clear(a2, ctx);
        ca_clear(b2, ctx);
        ca_clear(c2, ctx);
        ca_clear(det, ctx);
    }
    ca_clear(x, ctx);
    ca_clear(y, ctx);
    ca_clear(c, ctx);
    ca_clear(t, ctx);
    ca_clear(u, ctx);
    clear_pts(p, 3, ctx);
    ca_ctx_clear(ctx);
    return rc ? tkd_err_wrap(e, "%s", names[what]) : 0;
}

static int t_centroid(tkd_arena *ta, const tkd_json *a, tkd_json **r, tkd_err *e) {
    return tri(ta, a, r, 0, e);
}
static int t_orthocenter(tkd_arena *ta, const tkd_json *a, tkd_json **r, tkd_err *e) {
    return tri(ta, a, r, 1, e);
}
static int t_area_vertices(tkd_arena *ta, const tkd_json *a, tkd_json **r, tkd_err *e) {
    return tri(ta, a, r, 2, e);
}

static int load_list(const tkd_json *args, const char *key, int min, pt **p, int *n, ca_ctx_t ctx, tkd_err *e) {
    const tkd_json *a;
    if (targ_list(args, key, (size_t)min, PTS_MAX, &a, e))
        return e->code;
    *n = (int)tkd_json_size(a);
    *p = calloc((size_t)*n, sizeof **p);
    if (!*p)
        return tkd_err_set(e, TKD_ENOMEM, "out of memory");
    for (int i = 0; i < *n; i++) {
        int rc = load_pt(tkd_json_at(a, i), "point", *p + i, ctx, e);
        if (rc) {
            clear_pts(*p, i + 1, ctx);
            free(*p);
            return tkd_err_wrap(e, "%s element %d", key, i + 1);
        }
    }
    return 0;
}

static int t_collinear(tkd_arena *ta, const tkd_json *args, tkd_json **result, tkd_err *e) {
    ca_ctx_t ctx;
    tca_ctx_init(ctx);
    pt *p;
    int n, rc = load_list(args, "points", 1, &p, &n, ctx, e);
    if (!rc) {
        int coll = 1;
        int base = -1; /* a point different from p[0] */
        for (int i = 1; i < n && base < 0; i++)
            if (ca_check_equal(p[i].x, p[0].x, ctx) != T_TRUE || ca_check_equal(p[i].y, p[0].y, ctx) != T_TRUE)
                base = i;
        ca_t c;
        ca_init(c, ctx);
        for (int i = 1; base > 0 && i < n && coll; i++) {
            cross(c, p, p + base, p + i, ctx);
            truth_t z = ca_check_is_zero(c, ctx);
            if (z == T_UNKNOWN)
                rc = tkd_err_set(e, TKD_EMATH, "could not decide collinearity exactly");
            coll = z == T_TRUE;
        }
        if (!rc)
            *result = tkd_json_string(ta, coll ? "True" : "False");
        ca_clear(c, ctx);
        clear_pts(p, n, ctx);
        free(p);
    }
    ca_ctx_clear(ctx);
    return rc ? tkd_err_wrap(e, "check_points_collinear") : 0;
}

static int t_polygon_area(tkd_arena *ta, const tkd_json *args, tkd_json **result, tkd_err *e) {
    ca_ctx_t ctx;
    tca_ctx_init(ctx);
    pt *p;
    int n, rc = load_list(args, "vertices", 3, &p, &n, ctx, e);
    if (!rc) {
        ca_t s, t;
        ca_init(s, ctx);
        ca_init(t, ctx);
        for (int i = 0; i < n; i++) { /* shoelace */
            const pt *a = p + i, *b = p + (i + 1) % n;
            ca_mul(t, a->x, b->y, ctx);
            ca_add(s, s, t, ctx);
            ca_mul(t, b->x, a->y, ctx);
            ca_sub(s, s, t, ctx);
        }
        ca_abs(s, s, ctx);
        ca_div_ui(s, s, 2, ctx);
        rc = done(result, num_json(ta, s, ctx, e), e);
        ca_clear(s, ctx);
        ca_clear(t, ctx);
        clear_pts(p, n, ctx);
        free(p);
    }
    ca_ctx_clear(ctx);
    return rc ? tkd_err_wrap(e, "compute_polygon_area") : 0;
}

static int t_angle(tkd_arena *ta, const tkd_json *args, tkd_json **result, tkd_err *e) {
    static const char *const K[] = {"line1_point1", "line1_point2", "line2_point1", "line2_point2"};
    ca_ctx_t ctx;
    tca_ctx_init(ctx);
    pt p[4];
    int rc = load_pts(args, K, 4, p, ctx, e);
    if (rc) {
        ca_ctx_clear(ctx);
        return tkd_err_wrap(e, "compute_angle_between");
    }
    ca_t ux, uy, vx, vy, d, n1, n2, c;
    ca_init(ux, ctx);
    ca_init(uy, ctx);
    ca_init(vx, ctx);
    ca_init(vy, ctx);
    ca_init(d, ctx);
    ca_init(n1, ctx);
    ca_init(n2, ctx);
    ca_init(c, ctx);
    ca_sub(ux, p[1].x, p[0].x, ctx);
    ca_sub(uy, p[1].y, p[0].y, ctx);
    ca_sub(vx, p[3].x, p[2].x, ctx);
    ca_sub(vy, p[3].y, p[2].y, ctx);
    dist2(n1, p, p + 1, ctx);
    dist2(n2, p + 2, p + 3, ctx);
    if (ca_check_is_zero(n1, ctx) != T_FALSE || ca_check_is_zero(n2, ctx) != T_FALSE) {
        rc = tkd_err_set(e, TKD_EMATH, "each line needs two different points");
    } else {
        ca_mul(d, ux, vx, ctx); /* cos = u.v / (|u| |v|) */
        ca_mul(c, uy, vy, ctx);
        ca_add(d, d, c, ctx);
        ca_mul(n1, n1, n2, ctx);
        ca_sqrt(n1, n1, ctx);
        ca_div(c, d, n1, ctx);
        /* acos(c): a rational multiple of pi when Calcium can tell */
        ca_t a, r;
        ca_init(a, ctx);
        ca_init(r, ctx);
        ca_acos(a, c, ctx);
        ca_pi(r, ctx);
        ca_div(r, a, r, ctx);
        fmpq_t q;
        fmpq_init(q);
        tkd_expr *x = NULL;
        if (ca_get_fmpq(q, r, ctx))
            x = tkd_expr_mul2(tkd_expr_fmpq(q), tkd_expr_const(TKD_C_PI));
        else {
            tkd_expr *cc = tkd_expr_from_ca(c, ctx, e);
            x = cc ? tkd_expr_fn1(TKD_FN_ACOS, cc) : NULL;
        }
        rc = done(result, tjson_ast(ta, x), e);
        fmpq_clear(q);
        ca_clear(a, ctx);
        ca_clear(r, ctx);
    }
    ca_clear(ux, ctx);
    ca_clear(uy, ctx);
    ca_clear(vx, ctx);
    ca_clear(vy, ctx);
    ca_clear(d, ctx);
    ca_clear(n1, ctx);
    ca_clear(n2, ctx);
    ca_clear(c, ctx);
    clear_pts(p, 4, ctx);
    ca_ctx_clear(ctx);
    return rc ? tkd_err_wrap(e, "compute_angle_between") : 0;
}

static int t_point_line(tkd_arena *ta, const tkd_json *args, tkd_json **result, tkd_err *e) {
    static const char *const K[] = {"point", "line_point1", "line_point2"};
    ca_ctx_t ctx;
    tca_ctx_init(ctx);
    pt p[3];
    int rc = load_pts(args, K, 3, p, ctx, e);
    if (rc) {
        ca_ctx_clear(ctx);
        return tkd_err_wrap(e, "compute_point_to_line_distance");
    }
    ca_t c, n;
    ca_init(c, ctx);
    ca_init(n, ctx);
    dist2(n, p + 1, p + 2, ctx);
    truth_t same = ca_check_is_zero(n, ctx);
    if (same == T_TRUE) { /* a point, not a line: the distance to it */
        dist2(c, p, p + 1, ctx);
        ca_sqrt(c, c, ctx);
    } else {
        cross(c, p + 1, p + 2, p, ctx);
        ca_abs(c, c, ctx);
        ca_sqrt(n, n, ctx);
        ca_div(c, c, n, ctx);
    }
    rc = done(result, num_json(ta, c, ctx, e), e);
    ca_clear(c, ctx);
    ca_clear(n, ctx);
    clear_pts(p, 3, ctx);
    ca_ctx_clear(ctx);
    return rc ? tkd_err_wrap(e, "compute_point_to_line_distance") : 0;
}

static int t_heron(tkd_arena *ta, const tkd_json *args, tkd_json **result, tkd_err *e) {
    static const char *const K[] = {"side1", "side2", "side3"};
    ca_ctx_t ctx;
    tca_ctx_init(ctx);
    ca_t s[3], h, t;
    for (int i = 0; i < 3; i++)
        ca_init(s[i], ctx);
    ca_init(h, ctx);
    ca_init(t, ctx);
    int rc = 0;
    for (int i = 0; i < 3 && !rc; i++) {
        char w[32];
        snprintf(w, sizeof w, "'%s'", K[i]);
        const tkd_json *v = tkd_json_get(args, K[i]);
        rc = tnum_from_json(s[i], v, w, ctx, e);
    }
    for (int i = 0; i < 3 && !rc; i++) { /* triangle inequality, strict */
        ca_add(t, s[(i + 1) % 3], s[(i + 2) % 3], ctx);
        ca_sub(t, t, s[i], ctx);
        if (ca_check_is_real(t, ctx) != T_TRUE || ca_check_is_negative_real(t, ctx) != T_FALSE ||
            ca_check_is_zero(t, ctx) != T_FALSE)
            rc = tkd_err_set(
                e, TKD_EMATH,
                "the sides violate the triangle inequality (each side must be shorter than the sum of the other two)");
    }
    if (!rc) {
        /* 16 A^2 = (a+b+c)(-a+b+c)(a-b+c)(a+b-c) */
        ca_add(h, s[0], s[1], ctx);
        ca_add(h, h, s[2], ctx);
        for (int i = 0; i < 3; i++) {
            ca_add(t, s[(i + 1) % 3], s[(i + 2) % 3], ctx);
            ca_sub(t, t, s[i], ctx);
            ca_mul(h, h, t, ctx);
        }
        ca_sqrt(h, h, ctx);
        ca_div_ui(h, h, 4, ctx);
        rc = done(result, num_json(ta, h, ctx, e), e);
    }
    for (int i = 0; i < 3; i++)
        ca_clear(s[i], ctx);
    ca_clear(h, ctx);
    ca_clear(t, ctx);
    ca_ctx_clear(ctx);
    return rc ? tkd_err_wrap(e, "compute_triangle_area_sides") : 0;
}

#define PT(n, d)                                                                                                       \
    { n, TP_VECTOR, 1, d }

const struct tkd_tool tkd_tools_geom_table[] = {
    {"compute_line_bisectors",
     "geometry",
     "perpendicular bisector of a segment",
     "Perpendicular bisector of the segment between two points, as a line equation \"y = m*x + b\" (or \"x = c\"). "
     "Coordinates may be numbers or expression strings. Example: {\"point1\": [0, 0], \"point2\": [2, 2]} -> \"y = 2 - "
     "x\".",
     {PT("point1", "first endpoint [x, y]"), PT("point2", "second endpoint [x, y]")},
     t_bisector},
    {"compute_centroid",
     "geometry",
     "centroid of a triangle",
     "Centroid of the triangle with the given vertices, as \"(x, y)\". Example: {\"point1\": [0, 0], \"point2\": [4, "
     "0], \"point3\": [2, 3]} -> \"(2, 1)\".",
     {PT("point1", "vertex [x, y]"), PT("point2", "vertex [x, y]"), PT("point3", "vertex [x, y]")},
     t_centroid},
    {"compute_orthocenter",
     "geometry",
     "orthocenter of a triangle",
     "Orthocenter (intersection of the altitudes) of a triangle, as \"(x, y)\". Example: {\"point1\": [0, 0], "
     "\"point2\": [4, 0], \"point3\": [1, 3]} -> \"(1, 1)\".",
     {PT("point1", "vertex [x, y]"), PT("point2", "vertex [x, y]"), PT("point3", "vertex [x, y]")},
     t_orthocenter},
    {"compute_midpoint_GH",
     "geometry",
     "midpoint of two points",
     "Midpoint of two points, as \"(x, y)\". Example: {\"point1\": [1, 2], \"point2\": [3, 8]} -> \"(2, 5)\".",
     {PT("point1", "first point [x, y]"), PT("point2", "second point [x, y]")},
     t_midpoint},
    {"compute_point_distance",
     "geometry",
     "distance between two points",
     "Euclidean distance between two points, exact. Example: {\"point1\": [0, 0], \"point2\": [1, 1]} -> \"sqrt(2)\".",
     {PT("point1", "first point [x, y]"), PT("point2", "second point [x, y]")},
     t_distance},
    {"check_points_collinear",
     "geometry",
     "are the points on one line",
     "Whether all the points lie on one straight line: \"True\" or \"False\". Example: {\"points\": [[0, 0], [1, 1], "
     "[2, 2]]} -> \"True\".",
     {{"points", TP_POINTS, 1, "list of points [[x1, y1], [x2, y2], ...]"}},
     t_collinear},
    {"compute_angle_between",
     "geometry",
     "angle between two lines (radians)",
     "Angle in radians between the direction vectors of two lines, each given by two points, in [0, pi] (like SymPy's "
     "Line.angle_between). Example: {\"line1_point1\": [0, 0], \"line1_point2\": [1, 0], \"line2_point1\": [0, 0], "
     "\"line2_point2\": [1, 1]} -> \"pi/4\".",
     {PT("line1_point1", "first point of line 1"), PT("line1_point2", "second point of line 1"),
      PT("line2_point1", "first point of line 2"), PT("line2_point2", "second point of line 2")},
     t_angle},
    {"compute_triangle_area_vertices",
     "geometry",
     "triangle area from its vertices",
     "Area of the triangle with the given vertices. Example: {\"point1\": [0, 0], \"point2\": [4, 0], \"point3\": [0, "
     "3]} -> \"6\".",
     {PT("point1", "vertex [x, y]"), PT("point2", "vertex [x, y]"), PT("point3", "vertex [x, y]")},
     t_area_vertices},
    {"compute_point_to_line_distance",
     "geometry",
     "distance from a point to a line",
     "Shortest distance from a point to the line through two points. Example: {\"point\": [0, 0], \"line_point1\": [1, "
     "0], \"line_point2\": [0, 1]} -> \"sqrt(2)/2\".",
     {PT("point", "the point [x, y]"), PT("line_point1", "a point on the line"),
      PT("line_point2", "another point on the line")},
     t_point_line},
    {"compute_triangle_area_sides",
     "geometry",
     "triangle area from its sides (Heron)",
     "Area of a triangle from its three side lengths (Heron's formula), exact; an error if the sides violate the "
     "triangle inequality. Example: {\"side1\": 3, \"side2\": 4, \"side3\": 5} -> \"6\".",
     {{"side1", TP_NUMBER, 1, "first side length"},
      {"side2", TP_NUMBER, 1, "second side length"},
      {"side3", TP_NUMBER, 1, "third side length"}},
     t_heron},
    {"compute_polygon_area",
     "geometry",
     "area of a polygon (shoelace)",
     "Area of a simple polygon from its vertices in order (shoelace formula). Example: {\"vertices\": [[0, 0], [4, 0], "
     "[4, 3], [0, 3]]} -> \"12\".",
     {{"vertices", TP_POINTS, 1, "list of at least 3 vertices [[x1, y1], ...] in order"}},
     t_polygon_area},
    {NULL, NULL, NULL, NULL, {{0}}, NULL}};
