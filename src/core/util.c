/*
 * RNG, clocks and text helpers. The RNG is xoshiro256** seeded through
 * splitmix64: the same seed gives the same stream on every machine, which is
 * what reproducible runs and resumable checkpoints need.
 */
#include "tkd/core.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <errno.h>
#include <unistd.h>

static uint64_t splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void tkd_rng_seed(tkd_rng *r, uint64_t seed) {
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&seed);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t tkd_rng_u64(tkd_rng *r) {
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double tkd_rng_uniform(tkd_rng *r) { return (double)(tkd_rng_u64(r) >> 11) * 0x1.0p-53; }

uint64_t tkd_rng_below(tkd_rng *r, uint64_t n) {
    if (n == 0)
        return 0;
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t x;
    do
        x = tkd_rng_u64(r);
    while (x >= limit);
    return x % n;
}

double tkd_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

double tkd_wall_time(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void tkd_wall_iso(char out[32]) {
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

size_t tkd_text_match_brace(const char *s, size_t i) {
    int depth = 0;
    for (; s[i]; i++) {
        if (s[i] == '\\' && s[i + 1]) {
            i++; /* \{ and \} do not count */
            continue;
        }
        if (s[i] == '{')
            depth++;
        else if (s[i] == '}' && --depth == 0)
            return i + 1;
    }
    return 0;
}

char *tkd_text_last_boxed(const char *text) {
    const char *best = NULL;
    size_t best_len = 0;
    for (const char *p = text; (p = strchr(p, '\\')) != NULL; p++) {
        size_t kw;
        if (strncmp(p, "\\boxed", 6) == 0)
            kw = 6;
        else if (strncmp(p, "\\fbox", 5) == 0)
            kw = 5;
        else
            continue;
        const char *q = p + kw;
        if (*q == '{') {
            size_t end = tkd_text_match_brace(q, 0);
            if (!end)
                continue;
            best = q + 1;
            best_len = end - 2;
        } else if (*q == ' ') {
            /* "\boxed 5": one token up to whitespace or '$' */
            while (*q == ' ')
                q++;
            size_t n = strcspn(q, " \t\n$");
            if (n == 0)
                continue;
            best = q;
            best_len = n;
        }
    }
    if (!best)
        return NULL;
    char *out = malloc(best_len + 1);
    if (!out)
        return NULL;
    memcpy(out, best, best_len);
    out[best_len] = '\0';
    return tkd_text_trim(out);
}

char *tkd_text_trim(char *s) {
    size_t n = strlen(s);
    while (n > 0 && strchr(" \t\r\n\v\f", s[n - 1]))
        s[--n] = '\0';
    size_t i = strspn(s, " \t\r\n\v\f");
    if (i)
        memmove(s, s + i, n - i + 1);
    return s;
}

size_t tkd_text_edit_distance(const char *a, const char *b, size_t cap) {
    size_t la = strlen(a), lb = strlen(b);
    if (la > 64 || lb > 64)
        return cap;
    size_t row[65];
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t prev = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t cur = row[j];
            size_t best = prev + (a[i - 1] != b[j - 1]);
            if (row[j] + 1 < best)
                best = row[j] + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            prev = cur;
        }
    }
    return row[lb] < cap ? row[lb] : cap;
}

size_t tkd_text_strip_bom(char *s, size_t n) {
    if (n < 3 || memcmp(s, "\xEF\xBB\xBF", 3))
        return n;
    memmove(s, s + 3, n - 2); /* the NUL too */
    return n - 3;
}

int tkd_text_utf8_valid(const char *str, size_t n) {
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        size_t k;
        uint32_t cp;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xe0) == 0xc0) {
            k = 1;
            cp = c & 0x1f;
        } else if ((c & 0xf0) == 0xe0) {
            k = 2;
            cp = c & 0x0f;
        } else if ((c & 0xf8) == 0xf0) {
            k = 3;
            cp = c & 0x07;
        } else
            return 0;
        for (size_t j = 1; j <= k; j++) {
            if (i + j >= n || (s[i + j] & 0xc0) != 0x80)
                return 0;
            cp = cp << 6 | (s[i + j] & 0x3f);
        }
        if ((k == 1 && cp < 0x80) || (k == 2 && cp < 0x800) || (k == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
            (cp >= 0xd800 && cp <= 0xdfff))
            return 0;
        i += k + 1;
    }
    return 1;
}

int tkd_read_full(int fd, void *p, size_t n) {
    char *c = p;
    while (n) {
        ssize_t r = read(fd, c, n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        c += r;
        n -= (size_t)r;
    }
    return 0;
}
