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
        if (tnum_from_json(c ? p->y : p->x, tkd_json_at(v, c), ctx, e, "'%s' %c", key, "xy"[c]))
            return e->code;
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

/* A list of at least min points. */
static int load_list(const tkd_json *args, const char *key, int min, pt **out, int *nout, ca_ctx_t ctx, tkd_err *e) {
    const tkd_json *a;
    if (targ_list(args, key, (size_t)min, PTS_MAX, &a, e))
        return e->code;
    int n = (int)tkd_json_size(a);
    pt *p = calloc((size_t)n, sizeof *p);
    if (!p)
        return tkd_err_set(e, TKD_ENOMEM, "out of memory");
    for (int i = 0; i < n; i++)
        if (load_pt(tkd_json_at(a, i), "point", p + i, ctx, e)) {
            clear_pts(p, i + 1, ctx);
            free(p);
            return tkd_err_wrap(e, "%s element %d", key, i + 1);
        }
    *out = p;
    *nout = n;
    return 0;
}

/*
 * One geometry call: its Calcium context, the points and numbers of its
 * arguments, read in the order of the tool's parameter table (TP_VECTOR: a
 * point, TP_POINTS: a list of points, TP_NUMBER: a number), and scratch
 * numbers. geo_run sets all of it up and releases it around the tool's body,
 * which only computes.
 */
#define GEO_SCRATCH 12

typedef struct geo {
    tkd_arena *ta;
    ca_ctx_t ctx;
    pt fixed[4], *p; /* the points: fixed, or a list (malloc'd) */
    int n;
    ca_t num[3]; /* number arguments */
    ca_t v[GEO_SCRATCH];
} geo;

typedef int (*geo_body)(geo *g, tkd_json **result, tkd_err *e);

static int geo_load(geo *g, const struct tkd_tool *t, const tkd_json *args, int min, tkd_err *e) {
    int nn = 0;
    for (int i = 0; i < TOOL_PARAMS_MAX && t->params[i].name; i++) {
        const tool_param *q = &t->params[i];
        const tkd_json *v = tkd_json_get(args, q->name);
        if (q->type == TP_POINTS) {
            if (load_list(args, q->name, min, &g->p, &g->n, g->ctx, e))
                return e->code;
        } else if (q->type == TP_VECTOR && g->n < 4) {
            if (load_pt(v, q->name, g->fixed + g->n++, g->ctx, e)) /* counted: load_pt initialised it */
                return e->code;
        } else if (q->type == TP_NUMBER && nn < 3) {
            if (tnum_from_json(g->num[nn++], v, g->ctx, e, "'%s'", q->name))
                return e->code;
        }
    }
    return 0;
}

static int geo_run(const char *name, int min, geo_body body, tkd_arena *ta, const tkd_json *args, tkd_json **result,
                   tkd_err *e) {
    geo g;
    g.ta = ta;
    g.p = g.fixed;
    g.n = 0;
    tca_ctx_init(g.ctx);
    for (int i = 0; i < 3; i++)
        ca_init(g.num[i], g.ctx);
    for (int i = 0; i < GEO_SCRATCH; i++)
        ca_init(g.v[i], g.ctx);
    int rc = geo_load(&g, tkd_tools_find(name), args, min, e);
    if (!rc)
        rc = body(&g, result, e);
    for (int i = 0; i < 3; i++)
        ca_clear(g.num[i], g.ctx);
    for (int i = 0; i < GEO_SCRATCH; i++)
        ca_clear(g.v[i], g.ctx);
    clear_pts(g.p, g.n, g.ctx);
    if (g.p != g.fixed)
        free(g.p);
    ca_ctx_clear(g.ctx);
    return rc ? tkd_err_wrap(e, "%s", name) : 0;
}

/* The handler of a geometry tool: its body run in a geo frame. */
#define GEO_TOOL(body_, name_, min_)                                                                                   \
    static int t_##body_(tkd_arena *ta, const tkd_json *args, tkd_json **result, tkd_err *e) {                        \
        return geo_run(name_, min_, body_, ta, args, result, e);                                                       \
    }

static int midpoint(geo *g, tkd_json **result, tkd_err *e) {
    const pt *p = g->p;
    ca_ptr x = g->v[0], y = g->v[1];
    ca_add(x, p[0].x, p[1].x, g->ctx);
    ca_div_ui(x, x, 2, g->ctx);
    ca_add(y, p[0].y, p[1].y, g->ctx);
    ca_div_ui(y, y, 2, g->ctx);
    return done(result, pt_json(g->ta, x, y, g->ctx, e), e);
}

static int distance(geo *g, tkd_json **result, tkd_err *e) {
    ca_ptr d = g->v[0];
    dist2(d, g->p, g->p + 1, g->ctx);
    ca_sqrt(d, d, g->ctx);
    return done(result, num_json(g->ta, d, g->ctx, e), e);
}

static int bisector(geo *g, tkd_json **result, tkd_err *e) {
    const pt *p = g->p;
    ca_ctx_struct *ctx = g->ctx;
    ca_ptr dx = g->v[0], dy = g->v[1], mx = g->v[2], my = g->v[3], m = g->v[4], b = g->v[5];
    ca_sub(dx, p[1].x, p[0].x, ctx);
    ca_sub(dy, p[1].y, p[0].y, ctx);
    ca_add(mx, p[0].x, p[1].x, ctx);
    ca_div_ui(mx, mx, 2, ctx);
    ca_add(my, p[0].y, p[1].y, ctx);
    ca_div_ui(my, my, 2, ctx);
    /* dx (x - mx) + dy (y - my) = 0 */
    truth_t zy = ca_check_is_zero(dy, ctx), zx = ca_check_is_zero(dx, ctx);
    int rc = 0;
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
        rc = done(result, tkd_json_string(g->ta, out.data), e);
    tkd_buf_free(&out);
    return rc;
}

static int centroid(geo *g, tkd_json **result, tkd_err *e) {
    const pt *p = g->p;
    ca_ptr x = g->v[0], y = g->v[1];
    ca_add(x, p[0].x, p[1].x, g->ctx);
    ca_add(x, x, p[2].x, g->ctx);
    ca_div_ui(x, x, 3, g->ctx);
    ca_add(y, p[0].y, p[1].y, g->ctx);
    ca_add(y, y, p[2].y, g->ctx);
    ca_div_ui(y, y, 3, g->ctx);
    return done(result, pt_json(g->ta, x, y, g->ctx, e), e);
}

static int area_vertices(geo *g, tkd_json **result, tkd_err *e) {
    ca_ptr c = g->v[0];
    cross(c, g->p, g->p + 1, g->p + 2, g->ctx);
    ca_abs(c, c, g->ctx);
    ca_div_ui(c, c, 2, g->ctx);
    return done(result, num_json(g->ta, c, g->ctx, e), e);
}

static int orthocenter(geo *g, tkd_json **result, tkd_err *e) {
    const pt *p = g->p;
    ca_ctx_struct *ctx = g->ctx;
    ca_ptr x = g->v[0], y = g->v[1], t = g->v[2], a1 = g->v[3], b1 = g->v[4], c1 = g->v[5], a2 = g->v[6],
           b2 = g->v[7], c2 = g->v[8], det = g->v[9];
    cross(t, p, p + 1, p + 2, ctx);
    if (ca_check_is_zero(t, ctx) != T_FALSE)
        return tkd_err_set(e, TKD_EMATH, "the three points are collinear: there is no triangle, so no orthocenter");
    /* (H - A).(B - C) = 0, (H - B).(A - C) = 0: a 2x2 system by Cramer */
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
    return done(result, pt_json(g->ta, x, y, ctx, e), e);
}

static int collinear(geo *g, tkd_json **result, tkd_err *e) {
    const pt *p = g->p;
    int coll = 1, rc = 0;
    int base = -1; /* a point different from p[0] */
    for (int i = 1; i < g->n && base < 0; i++)
        if (ca_check_equal(p[i].x, p[0].x, g->ctx) != T_TRUE || ca_check_equal(p[i].y, p[0].y, g->ctx) != T_TRUE)
            base = i;
    for (int i = 1; base > 0 && i < g->n && coll; i++) {
        cross(g->v[0], p, p + base, p + i, g->ctx);
        truth_t z = ca_check_is_zero(g->v[0], g->ctx);
        if (z == T_UNKNOWN)
            rc = tkd_err_set(e, TKD_EMATH, "could not decide collinearity exactly");
        coll = z == T_TRUE;
    }
    return rc ? rc : done(result, tkd_json_string(g->ta, coll ? "True" : "False"), e);
}

static int polygon_area(geo *g, tkd_json **result, tkd_err *e) {
    ca_ptr s = g->v[0], t = g->v[1];
    for (int i = 0; i < g->n; i++) { /* shoelace */
        const pt *a = g->p + i, *b = g->p + (i + 1) % g->n;
        ca_mul(t, a->x, b->y, g->ctx);
        ca_add(s, s, t, g->ctx);
        ca_mul(t, b->x, a->y, g->ctx);
        ca_sub(s, s, t, g->ctx);
    }
    ca_abs(s, s, g->ctx);
    ca_div_ui(s, s, 2, g->ctx);
    return done(result, num_json(g->ta, s, g->ctx, e), e);
}

static int angle(geo *g, tkd_json **result, tkd_err *e) {
    const pt *p = g->p;
    ca_ctx_struct *ctx = g->ctx;
    ca_ptr ux = g->v[0], uy = g->v[1], vx = g->v[2], vy = g->v[3], d = g->v[4], n1 = g->v[5], n2 = g->v[6],
           c = g->v[7], a = g->v[8], r = g->v[9];
    ca_sub(ux, p[1].x, p[0].x, ctx);
    ca_sub(uy, p[1].y, p[0].y, ctx);
    ca_sub(vx, p[3].x, p[2].x, ctx);
    ca_sub(vy, p[3].y, p[2].y, ctx);
    dist2(n1, p, p + 1, ctx);
    dist2(n2, p + 2, p + 3, ctx);
    if (ca_check_is_zero(n1, ctx) != T_FALSE || ca_check_is_zero(n2, ctx) != T_FALSE)
        return tkd_err_set(e, TKD_EMATH, "each line needs two different points");
    ca_mul(d, ux, vx, ctx); /* cos = u.v / (|u| |v|) */
    ca_mul(c, uy, vy, ctx);
    ca_add(d, d, c, ctx);
    ca_mul(n1, n1, n2, ctx);
    ca_sqrt(n1, n1, ctx);
    ca_div(c, d, n1, ctx);
    /* acos(c): a rational multiple of pi when Calcium can tell */
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
    fmpq_clear(q);
    return done(result, tjson_ast(g->ta, x), e);
}

static int point_line(geo *g, tkd_json **result, tkd_err *e) {
    const pt *p = g->p;
    ca_ptr c = g->v[0], n = g->v[1];
    dist2(n, p + 1, p + 2, g->ctx);
    if (ca_check_is_zero(n, g->ctx) == T_TRUE) { /* a point, not a line: the distance to it */
        dist2(c, p, p + 1, g->ctx);
        ca_sqrt(c, c, g->ctx);
    } else {
        cross(c, p + 1, p + 2, p, g->ctx);
        ca_abs(c, c, g->ctx);
        ca_sqrt(n, n, g->ctx);
        ca_div(c, c, n, g->ctx);
    }
    return done(result, num_json(g->ta, c, g->ctx, e), e);
}

static int heron(geo *g, tkd_json **result, tkd_err *e) {
    ca_ctx_struct *ctx = g->ctx;
    ca_t *s = g->num;
    ca_ptr h = g->v[0], t = g->v[1];
    for (int i = 0; i < 3; i++) { /* triangle inequality, strict */
        ca_add(t, s[(i + 1) % 3], s[(i + 2) % 3], ctx);
        ca_sub(t, t, s[i], ctx);
        if (ca_check_is_real(t, ctx) != T_TRUE || ca_check_is_negative_real(t, ctx) != T_FALSE ||
            ca_check_is_zero(t, ctx) != T_FALSE)
            return tkd_err_set(
                e, TKD_EMATH,
                "the sides violate the triangle inequality (each side must be shorter than the sum of the other two)");
    }
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
    return done(result, num_json(g->ta, h, ctx, e), e);
}

GEO_TOOL(midpoint, "compute_midpoint_GH", 0)
GEO_TOOL(distance, "compute_point_distance", 0)
GEO_TOOL(bisector, "compute_line_bisectors", 0)
GEO_TOOL(centroid, "compute_centroid", 0)
GEO_TOOL(orthocenter, "compute_orthocenter", 0)
GEO_TOOL(area_vertices, "compute_triangle_area_vertices", 0)
GEO_TOOL(collinear, "check_points_collinear", 1)
GEO_TOOL(polygon_area, "compute_polygon_area", 3)
GEO_TOOL(angle, "compute_angle_between", 0)
GEO_TOOL(point_line, "compute_point_to_line_distance", 0)
GEO_TOOL(heron, "compute_triangle_area_sides", 0)

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
