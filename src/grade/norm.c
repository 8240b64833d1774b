/*
 * Answer-text normalisation before parsing: what changes the look of an
 * answer but never its value. Math delimiters, \left/\right, spacing
 * commands, \$ and degree signs go; \dfrac/\tfrac become \frac; thousands
 * separators (1,234  1{,}234  11,\!111  7\,425\,000) are removed; a few
 * Unicode signs become LaTeX; trailing unit words ("5 cm", "12 square units")
 * are cut. Units written with \text{} are dropped by the parser instead.
 */
#include "gnode.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

typedef struct {
    const char *from, *to;
} subst;

/* Commands rewritten (to "" = dropped, " " = a space). Longest names first
 * where one is a prefix of another does not matter: names end at a non-letter. */
static const subst cmd_subst[] = {{"left", ""},          {"right", ""},         {"big", ""},
                                  {"Big", ""},           {"bigg", ""},          {"Bigg", ""},
                                  {"bigl", ""},          {"bigr", ""},          {"Bigl", ""},
                                  {"Bigr", ""},          {"biggl", ""},         {"biggr", ""},
                                  {"Biggl", ""},         {"Biggr", ""},         {"displaystyle", ""},
                                  {"textstyle", ""},     {"scriptstyle", ""},   {"limits", ""},
                                  {"nolimits", ""},      {"circ", ""},          {"degree", ""},
                                  {"degrees", ""},       {"quad", " "},         {"qquad", " "},
                                  {"dfrac", "\\frac"},   {"tfrac", "\\frac"},   {"cfrac", "\\frac"},
                                  {"dbinom", "\\binom"}, {"tbinom", "\\binom"}, {"lvert", "|"},
                                  {"rvert", "|"},        {"vert", "|"},         {"lVert", "|"},
                                  {"rVert", "|"},        {"mid", "|"},          {"lbrace", "\\{"},
                                  {"rbrace", "\\}"},     {"lbrack", "["},       {"rbrack", "]"},
                                  {"langle", "("},       {"rangle", ")"},       {"leq", "\\le"},
                                  {"geq", "\\ge"},       {"neq", "\\ne"},       {"leqslant", "\\le"},
                                  {"geqslant", "\\ge"},  {"lt", "<"},           {"gt", ">"},
                                  {"ast", "*"},          {"colon", ":"},        {"infin", "\\infty"},
                                  {"hbox", "\\mbox"},    {"text", "\\text"},    {"dots", "..."},
                                  {"ldots", "..."},      {"cdots", "..."},      {"phantom", "\\phantom"},
                                  {"tiny", ""},          {"small", ""},         {"large", ""},
                                  {"Large", ""},         {"emph", "\\text"},    {"textup", "\\text"},
                                  {"textsf", "\\text"},  {"texttt", "\\text"},  {"dagger", ""},
                                  {NULL, NULL}};

/* Unicode (UTF-8) spellings models use. */
static const subst utf8_subst[] = {{"\xc2\xb0", ""},
                                   {"\xe2\x88\x92", "-"},
                                   {"\xc3\x97", "\\times "},
                                   {"\xc2\xb7", "\\cdot "},
                                   {"\xe2\x8b\x85", "\\cdot "},
                                   {"\xe2\x89\xa4", "\\le "},
                                   {"\xe2\x89\xa5", "\\ge "},
                                   {"\xe2\x89\xa0", "\\ne "},
                                   {"\xcf\x80", "\\pi "},
                                   {"\xe2\x88\x9e", "\\infty "},
                                   {"\xe2\x88\x9a", "\\sqrt "},
                                   {"\xc2\xb1", "\\pm "},
                                   {"\xc2\xa0", " "},
                                   {"\xe2\x80\x89", ""},
                                   {NULL, NULL}};

/* Trailing words that are units (cut when a value precedes them). */
static const char *unit_words[] = {
    "units",   "unit",    "square",  "sq",         "cubic",   "cm",     "centimeters", "centimeter", "meters",
    "meter",   "metres",  "km",      "kilometers", "mm",      "inches", "inch",        "feet",       "foot",
    "ft",      "yards",   "yard",    "miles",      "mile",    "mph",    "degrees",     "degree",     "dollars",
    "dollar",  "cents",   "cent",    "hours",      "hour",    "hrs",    "minutes",     "minute",     "mins",
    "seconds", "days",    "day",     "weeks",      "years",   "months", "people",      "students",   "ways",
    "pounds",  "lbs",     "ounces",  "oz",         "gallons", "liters", "litres",      "grams",      "kg",
    "points",  "cookies", "marbles", "times",      "percent", "rad",    "radians",     NULL};

static int is_letter(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
static int is_digit(char c) {
    return c >= '0' && c <= '9';
}

/* Length of a thousands separator at s (",", "{,}", ",\!", "\,", "{,}\!"), 0 if none. */
static size_t thousands_sep(const char *s) {
    if (!strncmp(s, "{,}", 3))
        return 3;
    if (!strncmp(s, ",\\!", 3))
        return 3;
    if (!strncmp(s, "\\,", 2) || !strncmp(s, "\\!", 2))
        return 2;
    if (s[0] == ',')
        return 1;
    return 0;
}

/* Does a thousands separator at s continue the digit run that ends the output? */
static size_t thousands_here(const char *s, const tkd_buf *out, int grouped, int depth) {
    size_t sep = thousands_sep(s);
    if (!sep || (sep == 1 && depth > 0)) /* (12,102) is a pair: inside brackets only {,} and ,\! group */
        return 0;
    size_t run = 0;
    while (run < out->len && is_digit(out->data[out->len - 1 - run]))
        run++;
    if (run == 0 || (!grouped && run > 3))
        return 0;
    if (run < out->len) {
        char before = out->data[out->len - 1 - run];
        if (before == '.' || is_letter(before) || before == '_')
            return 0;
    }
    const char *d = s + sep;
    if (!(is_digit(d[0]) && is_digit(d[1]) && is_digit(d[2])) || is_digit(d[3]))
        return 0;
    /* "1,234.5" is fine; "1,2345" is not (checked above); "0,5" never gets here (2 digits). */
    return sep;
}

static int cut_trailing_units(tkd_buf *b) {
    for (int rounds = 0; rounds < 4; rounds++) {
        while (b->len && isspace((unsigned char)b->data[b->len - 1]))
            b->data[--b->len] = '\0';
        size_t end = b->len;
        /* optional ^2 / ^3 / ^{2} after the unit */
        if (end >= 2 && b->data[end - 2] == '^' && (b->data[end - 1] == '2' || b->data[end - 1] == '3'))
            end -= 2;
        else if (end >= 4 && !strncmp(b->data + end - 4, "^{", 2) && b->data[end - 1] == '}')
            end -= 4;
        size_t w = end;
        while (w > 0 && is_letter(b->data[w - 1]))
            w--;
        if (w == end || w == 0 || b->data[w - 1] == '\\')
            return 0;
        char prev = b->data[w - 1];
        if (!(prev == ' ' || prev == '}' || is_digit(prev)))
            return 0;
        int hit = 0;
        for (const char **u = unit_words; *u && !hit; u++)
            hit = strlen(*u) == end - w && !strncasecmp(*u, b->data + w, end - w);
        if (!hit)
            return 0;
        int pct = (end - w == 7 && !strncasecmp(b->data + w, "percent", 7));
        b->len = w;
        b->data[w] = '\0';
        /* something must remain that is not a space */
        size_t k = 0;
        while (k < b->len && isspace((unsigned char)b->data[k]))
            k++;
        if (k == b->len)
            return 0;
        if (pct && tkd_buf_putc(b, '%'))
            return TKD_ENOMEM;
    }
    return 0;
}

int grade_normalise(const char *s, tkd_buf *out) {
    tkd_buf_reset(out);
    int rc = 0, grouped = 0, depth = 0;
    for (size_t i = 0; s[i] && !rc;) {
        char c = s[i];
        if (c == '(' || c == '[' || (c == '\\' && s[i + 1] == '{'))
            depth++;
        else if ((c == ')' || c == ']' || (c == '\\' && s[i + 1] == '}')) && depth > 0)
            depth--;
        if (is_digit(c) && out->len == 0)
            grouped = 0;
        if (out->len && is_digit(out->data[out->len - 1])) {
            size_t sep = thousands_here(s + i, out, grouped, depth);
            if (sep) {
                i += sep;
                grouped = 1;
                continue;
            }
        }
        if (!is_digit(c))
            grouped = 0;
        if (c == '$') {
            i++;
            continue;
        }
        if (c == '^') {
            /* ^\circ, ^{\circ}, ^{ \circ } */
            size_t j = i + 1;
            while (s[j] == ' ')
                j++;
            int brace = s[j] == '{';
            if (brace)
                j++;
            while (s[j] == ' ')
                j++;
            if (!strncmp(s + j, "\\circ", 5) && !is_letter(s[j + 5])) {
                j += 5;
                while (s[j] == ' ')
                    j++;
                if (!brace || s[j] == '}') {
                    i = j + brace;
                    continue;
                }
            }
        }
        if ((unsigned char)c >= 0x80) {
            const subst *u;
            for (u = utf8_subst; u->from; u++)
                if (!strncmp(s + i, u->from, strlen(u->from)))
                    break;
            if (u->from) {
                rc = tkd_buf_puts(out, u->to);
                i += strlen(u->from);
                continue;
            }
        }
        if (c == '\\' && s[i + 1] == '\\') { /* a row break stays whole */
            rc = tkd_buf_puts(out, "\\\\");
            i += 2;
            continue;
        }
        if (c == '\\') {
            char n = s[i + 1];
            if (n == '$') {
                i += 2;
                continue;
            }
            if (n == '%') {
                rc = tkd_buf_putc(out, '%');
                i += 2;
                continue;
            }
            if (n == '!') {
                i += 2;
                continue;
            }
            if (n == ',' || n == ';' || n == ':' || n == ' ' || n == '>') {
                rc = tkd_buf_putc(out, ' ');
                i += 2;
                continue;
            }
            if (n == '(' || n == ')' || n == '[' || n == ']') { /* \( \) \[ \] delimiters */
                i += 2;
                continue;
            }
            if (is_letter(n)) {
                size_t j = i + 1;
                while (is_letter(s[j]))
                    j++;
                const subst *m;
                for (m = cmd_subst; m->from; m++)
                    if (strlen(m->from) == j - i - 1 && !strncmp(m->from, s + i + 1, j - i - 1))
                        break;
                if (j - i - 1 == 6 && !strncmp(s + i + 1, "mathbb", 6)) {
                    /* \mathbb{R}, \mathbb R: the real line, as the interval it is */
                    size_t k = j;
                    while (s[k] == ' ')
                        k++;
                    size_t e = s[k] == '{' ? k + 1 : k;
                    while (s[e] == ' ')
                        e++;
                    if (s[e] == 'R' && !is_letter(s[e + 1])) {
                        size_t stop = e + 1;
                        while (s[k] == '{' && s[stop] == ' ')
                            stop++;
                        if (s[k] != '{' || s[stop] == '}') {
                            rc = tkd_buf_puts(out, "(-\\infty,\\infty)");
                            i = s[k] == '{' ? stop + 1 : stop;
                            continue;
                        }
                    }
                }
                if (m->from && !strcmp(m->from, "phantom")) {
                    /* \phantom{-}1, \phantom -1: invisible, so gone with its argument */
                    while (s[j] == ' ')
                        j++;
                    if (s[j] == '{') {
                        size_t e = tkd_text_match_brace(s, j);
                        j = e ? e : j + 1;
                    } else if (s[j]) {
                        j++;
                    }
                    i = j;
                    continue;
                }
                if (m->from) {
                    int is_lr = !strcmp(m->from, "left") || !strcmp(m->from, "right");
                    if (is_lr && s[j] == '.')
                        j++;
                    rc = tkd_buf_puts(out, m->to);
                    /* keep a following letter from gluing onto a rewritten command */
                    if (!rc && m->to[0] == '\\' && is_letter(s[j]))
                        rc = tkd_buf_putc(out, ' ');
                    i = j;
                    continue;
                }
                rc = tkd_buf_append(out, s + i, j - i);
                i = j;
                continue;
            }
        }
        rc = tkd_buf_putc(out, c);
        i++;
    }
    if (rc || tkd_buf_reserve(out, 1))
        return TKD_ENOMEM;
    out->data[out->len] = '\0';
    tkd_text_trim(out->data);
    out->len = strlen(out->data);
    /* a trailing full stop ends a sentence, not a number */
    while (out->len && (out->data[out->len - 1] == '.' || out->data[out->len - 1] == ' '))
        out->data[--out->len] = '\0';
    return cut_trailing_units(out);
}
