/*
 * The LaTeX parser's shared state and helpers, split over latex_lex.c (the
 * lexing layer: characters, commands, TeX arguments, sub-parsers),
 * latex_cmd.c (numbers, functions, text, matrices) and latex.c (the
 * grammar). Internal to src/grade.
 */
#ifndef TKD_GRADE_LATEX_P_H
#define TKD_GRADE_LATEX_P_H

#include "gnode.h"

typedef struct P {
    const char *s;
    size_t i, end;
    garena *a;
    int depth;
    int abs_depth;
    int func_arg; /* parsing "\sin 2x": stop at operators and other functions */
    tkd_err *e;
    int failed;
} P;

static inline int is_letter(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
static inline int is_digit(char c) {
    return c >= '0' && c <= '9';
}

gnode *gl_fail(P *p, const char *what);
gnode *gl_oom(P *p);
gnode *gl_mk(P *p, gkind k, int n);
gnode *gl_mk2(P *p, gkind k, gnode *x, gnode *y);
gnode *gl_mk1(P *p, gkind k, gnode *x);
gnode *gl_mk_str(P *p, gkind k, const char *s, size_t n);
void gl_ws(P *p);
char gl_peek(P *p);
int gl_at_cmd(P *p, const char *name);
int gl_eat_cmd(P *p, const char *name);
const char *gl_cmd_name(P *p, size_t *len);
int gl_name_is(const char *nm, size_t len, const char *w);
size_t gl_group_end(P *p, size_t at);
int gl_read_arg(P *p, size_t *b, size_t *e);
gnode *gl_sub_parse(P *p, size_t b, size_t e, int list);
gnode *gl_arg_expr(P *p, const char *what);
gnode *gl_number(P *p);
int gl_word_in(const char *nm, size_t len, const char *const *list);
gnode *gl_symbol_with_sub(P *p, const char *nm, size_t len);
gnode *gl_func(P *p, const char *nm, size_t len);
gnode *gl_textlike(P *p, int math_font);
gnode *gl_matrix(P *p);
extern const char *const gl_func_names[];
extern const char *const gl_greek[];
gnode *gl_postfix(P *p);
gnode *gl_factor(P *p);
gnode *gl_term(P *p);
gnode *gl_sum(P *p);
gnode *gl_item(P *p);
gnode *gl_list_until(P *p, const char *closers, char *closed);

#endif
