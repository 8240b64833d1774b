/*
 * Answer extraction from model responses. The last \boxed{} / \fbox{} /
 * \framebox{} (brace matching
 * by core's tkd_text_match_brace; boxes separated only by commas, "and",
 * spaces or math delimiters are one list answer), "final answer is $...$"
 * (Minerva's format), "The answer is ...", GSM8K's "#### n", and the last
 * number as the fallback. auto tries them in that order.
 */
#include "gnode.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_BOXES 64
#define JOIN_GAP 48 /* longest text between two boxes that still joins them */

static const char *const mode_names[] = {"auto", "boxed", "final", "gsm8k", "last_number"};

int tkd_grade_mode_parse(const char *name, tkd_grade_mode *mode, tkd_err *e) {
    for (int i = 0; i < 5; i++)
        if (name && !strcmp(name, mode_names[i])) {
            *mode = (tkd_grade_mode)i;
            return 0;
        }
    return tkd_err_set(e, TKD_EINVAL, "unknown extraction mode '%s': use auto|boxed|final|gsm8k|last_number",
                       name ? name : "(null)");
}

const char *tkd_grade_mode_name(tkd_grade_mode mode) {
    return (unsigned)mode < 5 ? mode_names[mode] : "?";
}

typedef struct {
    size_t start, end;   /* the whole \boxed{...} */
    size_t cstart, cend; /* its content */
} box;

/* Is the text between two boxes only glue: spaces, commas, $, "and", "or", \quad, \text{ and }? */
static int glue_only(const char *s, size_t b, size_t e) {
    if (e - b > JOIN_GAP)
        return 0;
    for (size_t i = b; i < e;) {
        unsigned char c = (unsigned char)s[i];
        if (isspace(c) || c == ',' || c == '$' || c == ';' || c == '{' || c == '}' || c == '(' || c == ')') {
            i++;
            continue;
        }
        static const char *const words[] = {"and", "or",  "\\quad", "\\qquad", "\\text", "\\mbox", "\\,",
                                            "\\;", "\\(", "\\)",    "\\[",     "\\]",    "\\\\",   NULL};
        int hit = 0;
        for (const char *const *w = words; *w && !hit; w++) {
            size_t n = strlen(*w);
            if (i + n <= e && !strncmp(s + i, *w, n) &&
                (isalpha((unsigned char)**w) == 0 || !isalpha((unsigned char)s[i + n]))) {
                i += n;
                hit = 1;
            }
        }
        if (!hit)
            return 0;
    }
    return 1;
}

static int find_boxes(const char *s, box *bx, int max) {
    int n = 0;
    for (const char *p = s; (p = strchr(p, '\\')) != NULL; p++) {
        size_t kw;
        if (!strncmp(p, "\\boxed", 6))
            kw = 6;
        else if (!strncmp(p, "\\fbox", 5))
            kw = 5;
        else if (!strncmp(p, "\\framebox", 9))
            kw = 9;
        else
            continue;
        const char *q = p + kw;
        box b;
        b.start = (size_t)(p - s);
        if (*q == '{') {
            size_t end = tkd_text_match_brace(q, 0);
            if (!end)
                continue;
            b.cstart = (size_t)(q - s) + 1;
            b.cend = (size_t)(q - s) + end - 1;
            b.end = (size_t)(q - s) + end;
        } else if (*q == ' ') {
            while (*q == ' ')
                q++;
            size_t len = strcspn(q, " \t\n$");
            if (len == 0)
                continue;
            b.cstart = (size_t)(q - s);
            b.cend = b.cstart + len;
            b.end = b.cend;
        } else {
            continue;
        }
        if (n == max) {
            memmove(bx, bx + 1, sizeof(box) * (size_t)(max - 1));
            n--;
        }
        bx[n++] = b;
        p = s + b.end - 1;
    }
    return n;
}

static char *dup_trim(const char *s, size_t n) {
    char *o = malloc(n + 1);
    if (!o)
        return NULL;
    memcpy(o, s, n);
    o[n] = '\0';
    return tkd_text_trim(o);
}

static int extract_boxed(const char *s, char **out) {
    box bx[MAX_BOXES];
    int n = find_boxes(s, bx, MAX_BOXES);
    if (n == 0)
        return TKD_ENOTFOUND;
    int first = n - 1;
    while (first > 0 && glue_only(s, bx[first - 1].end, bx[first].start))
        first--;
    tkd_buf b;
    tkd_buf_init(&b);
    int rc = 0;
    for (int i = first; i < n && !rc; i++) {
        if (i > first)
            rc |= tkd_buf_puts(&b, ", ");
        rc |= tkd_buf_append(&b, s + bx[i].cstart, bx[i].cend - bx[i].cstart);
    }
    if (rc || !(*out = tkd_buf_steal(&b))) {
        tkd_buf_free(&b);
        return TKD_ENOMEM;
    }
    tkd_text_trim(*out);
    return 0;
}

/* Case-insensitive last occurrence of needle. */
static const char *last_ci(const char *s, const char *needle) {
    size_t n = strlen(needle);
    const char *best = NULL;
    for (const char *p = s; *p; p++)
        if (!strncasecmp(p, needle, n))
            best = p;
    return best;
}

/* The answer right after a phrase: $...$, \(...\), \boxed{}, or text to the sentence end. */
static int answer_after(const char *p, char **out) {
    while (*p == ' ' || *p == ':' || *p == '\t' || *p == '*')
        p++;
    if (!strncmp(p, "\\boxed", 6) || !strncmp(p, "\\fbox", 5))
        return extract_boxed(p, out);
    if (*p == '$') {
        int dbl = p[1] == '$';
        const char *b = p + 1 + dbl;
        const char *e = b;
        while (*e && !(*e == '$' && (e == b || e[-1] != '\\')))
            e++;
        if (!*e)
            return TKD_ENOTFOUND;
        char *a = dup_trim(b, (size_t)(e - b));
        if (!a)
            return TKD_ENOMEM;
        if (!strncmp(a, "\\boxed", 6)) {
            char *inner = NULL;
            int rc = extract_boxed(a, &inner);
            if (!rc) {
                free(a);
                a = inner;
            }
        }
        *out = a;
        return 0;
    }
    if (!strncmp(p, "\\(", 2) || !strncmp(p, "\\[", 2)) {
        const char *close = strstr(p + 2, p[1] == '(' ? "\\)" : "\\]");
        if (!close)
            return TKD_ENOTFOUND;
        *out = dup_trim(p + 2, (size_t)(close - p - 2));
        return *out ? 0 : TKD_ENOMEM;
    }
    /* plain text up to the end of the line or of the sentence (". " or a final ".") */
    const char *e = p;
    while (*e && *e != '\n' && !(*e == '.' && (e[1] == '\0' || isspace((unsigned char)e[1]))))
        e++;
    if (e == p)
        return TKD_ENOTFOUND;
    *out = dup_trim(p, (size_t)(e - p));
    return *out ? 0 : TKD_ENOMEM;
}

static int extract_final(const char *s, char **out) {
    static const char *const phrases[] = {"final answer is", "final answer:", "final answer", NULL};
    for (const char *const *ph = phrases; *ph; ph++) {
        const char *p = last_ci(s, *ph);
        if (p) {
            int rc = answer_after(p + strlen(*ph), out);
            if (rc != TKD_ENOTFOUND)
                return rc;
        }
    }
    return TKD_ENOTFOUND;
}

static int extract_answer_is(const char *s, char **out) {
    static const char *const phrases[] = {"the answer is", "answer is", "answer:", NULL};
    for (const char *const *ph = phrases; *ph; ph++) {
        const char *p = last_ci(s, *ph);
        if (p) {
            int rc = answer_after(p + strlen(*ph), out);
            if (rc != TKD_ENOTFOUND)
                return rc;
        }
    }
    return TKD_ENOTFOUND;
}

static int extract_gsm8k(const char *s, char **out) {
    const char *p = NULL;
    for (const char *q = s; (q = strstr(q, "####")) != NULL; q += 4)
        p = q;
    if (!p)
        return TKD_ENOTFOUND;
    p += 4;
    while (*p == ' ' || *p == '\t')
        p++;
    size_t n = strcspn(p, "\n");
    while (n && (p[n - 1] == '.' || isspace((unsigned char)p[n - 1])))
        n--;
    if (n == 0)
        return TKD_ENOTFOUND;
    *out = dup_trim(p, n);
    return *out ? 0 : TKD_ENOMEM;
}

/* The last number: -12, 1,234.5, 3/4, .5 */
static int extract_last_number(const char *s, char **out) {
    const char *best = NULL;
    size_t best_len = 0;
    for (const char *p = s; *p;) {
        if (!(isdigit((unsigned char)*p) || (*p == '.' && isdigit((unsigned char)p[1])))) {
            p++;
            continue;
        }
        const char *b = p;
        if (b > s && b[-1] == '-' && !(b - 1 > s && isalnum((unsigned char)b[-2])))
            b--;
        while (isdigit((unsigned char)*p) ||
               (*p == ',' && isdigit((unsigned char)p[1]) && isdigit((unsigned char)p[2]) &&
                isdigit((unsigned char)p[3]) && !isdigit((unsigned char)p[4])))
            p += *p == ',' ? 1 : 1;
        if (*p == '.' && isdigit((unsigned char)p[1])) {
            p++;
            while (isdigit((unsigned char)*p))
                p++;
        }
        if (*p == '/' && isdigit((unsigned char)p[1])) {
            p++;
            while (isdigit((unsigned char)*p))
                p++;
        }
        best = b;
        best_len = (size_t)(p - b);
    }
    if (!best)
        return TKD_ENOTFOUND;
    *out = dup_trim(best, best_len);
    return *out ? 0 : TKD_ENOMEM;
}

int tkd_grade_extract(const char *response, tkd_grade_mode mode, char **out, tkd_err *e) {
    *out = NULL;
    if (!response)
        return tkd_err_set(e, TKD_EINVAL, "no response to extract from");
    int rc = TKD_ENOTFOUND;
    switch (mode) {
    case TKD_GRADE_BOXED: rc = extract_boxed(response, out); break;
    case TKD_GRADE_FINAL:
        rc = extract_final(response, out);
        if (rc == TKD_ENOTFOUND)
            rc = extract_answer_is(response, out);
        break;
    case TKD_GRADE_GSM8K: rc = extract_gsm8k(response, out); break;
    case TKD_GRADE_LAST_NUMBER: rc = extract_last_number(response, out); break;
    case TKD_GRADE_AUTO:
        rc = extract_boxed(response, out);
        if (rc == TKD_ENOTFOUND)
            rc = extract_final(response, out);
        if (rc == TKD_ENOTFOUND)
            rc = extract_answer_is(response, out);
        if (rc == TKD_ENOTFOUND)
            rc = extract_gsm8k(response, out);
        if (rc == TKD_ENOTFOUND)
            rc = extract_last_number(response, out);
        break;
    }
    if (rc == TKD_ENOMEM)
        return tkd_err_set(e, TKD_ENOMEM, "out of memory extracting an answer");
    if (rc == 0 && *out && !**out) {
        free(*out);
        *out = NULL;
        rc = TKD_ENOTFOUND;
    }
    if (rc == TKD_ENOTFOUND)
        return tkd_err_set(e, TKD_ENOTFOUND, "no %s answer found in the response", tkd_grade_mode_name(mode));
    return rc;
}
