/*
 * Checked allocation, growable buffers and whole-file helpers. Buffers are
 * always NUL-terminated so text can be used in place.
 */
#include "tkd/core.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void *tkd_malloc(size_t n, tkd_err *e) {
    void *p = malloc(n ? n : 1);
    if (!p)
        tkd_err_set(e, TKD_ENOMEM, "out of memory allocating %zu bytes", n);
    return p;
}

void *tkd_calloc(size_t count, size_t size, tkd_err *e) {
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (!p)
        tkd_err_set(e, TKD_ENOMEM, "out of memory allocating %zu x %zu bytes", count, size);
    return p;
}

void *tkd_realloc(void *p, size_t n, tkd_err *e) {
    void *q = realloc(p, n ? n : 1);
    if (!q)
        tkd_err_set(e, TKD_ENOMEM, "out of memory growing to %zu bytes", n);
    return q;
}

char *tkd_strndup(const char *s, size_t n, tkd_err *e) {
    char *p = tkd_malloc(n + 1, e);
    if (p) {
        memcpy(p, s, n);
        p[n] = '\0';
    }
    return p;
}

char *tkd_strdup(const char *s, tkd_err *e) { return tkd_strndup(s, strlen(s), e); }

void tkd_buf_init(tkd_buf *b) {
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

void tkd_buf_free(tkd_buf *b) {
    free(b->data);
    tkd_buf_init(b);
}

void tkd_buf_reset(tkd_buf *b) {
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

int tkd_buf_reserve(tkd_buf *b, size_t extra) {
    if (b->len + extra + 1 <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < b->len + extra + 1) {
        if (cap > SIZE_MAX / 2)
            return TKD_ENOMEM;
        cap *= 2;
    }
    char *p = realloc(b->data, cap);
    if (!p)
        return TKD_ENOMEM;
    b->data = p;
    b->cap = cap;
    return 0;
}

int tkd_buf_append(tkd_buf *b, const void *p, size_t n) {
    if (tkd_buf_reserve(b, n))
        return TKD_ENOMEM;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

int tkd_buf_puts(tkd_buf *b, const char *s) { return tkd_buf_append(b, s, strlen(s)); }
int tkd_buf_putc(tkd_buf *b, char c) { return tkd_buf_append(b, &c, 1); }

int tkd_buf_vprintf(tkd_buf *b, const char *fmt, va_list ap) {
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0 || tkd_buf_reserve(b, (size_t)n))
        return TKD_ENOMEM;
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    return 0;
}

int tkd_buf_printf(tkd_buf *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int rc = tkd_buf_vprintf(b, fmt, ap);
    va_end(ap);
    return rc;
}

char *tkd_buf_steal(tkd_buf *b) {
    if (!b->data && tkd_buf_reserve(b, 0))
        return NULL;
    char *p = b->data;
    tkd_buf_init(b);
    return p;
}

int tkd_file_read(const char *path, char **out, size_t *len, tkd_err *e) {
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return tkd_err_set(e, errno == ENOENT ? TKD_ENOTFOUND : TKD_EIO, "cannot open '%s': %s", path,
                           strerror(errno));
    tkd_buf b;
    tkd_buf_init(&b);
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (tkd_buf_append(&b, chunk, n)) {
            fclose(f);
            tkd_buf_free(&b);
            return tkd_err_set(e, TKD_ENOMEM, "out of memory reading '%s'", path);
        }
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        tkd_buf_free(&b);
        return tkd_err_set(e, TKD_EIO, "error reading '%s' (is it a directory?)", path);
    }
    if (len)
        *len = b.len;
    *out = tkd_buf_steal(&b);
    return *out ? 0 : tkd_err_set(e, TKD_ENOMEM, "out of memory reading '%s'", path);
}

char *tkd_path_follow(const char *path, tkd_err *e) {
    char target[4096];
    ssize_t n = readlink(path, target, sizeof target - 1);
    if (n < 0 || n >= (ssize_t)sizeof target - 1) /* not a link: the path itself */
        return tkd_strdup(path, e);
    target[n] = '\0';
    const char *slash = strrchr(path, '/');
    tkd_buf b;
    tkd_buf_init(&b);
    if (target[0] == '/' || !slash ? tkd_buf_puts(&b, target)
                                    : tkd_buf_printf(&b, "%.*s/%s", (int)(slash - path), path, target)) {
        tkd_buf_free(&b);
        tkd_err_set(e, TKD_ENOMEM, "out of memory");
        return NULL;
    }
    return tkd_buf_steal(&b);
}

int tkd_file_write_atomic(const char *link, const void *data, size_t len, tkd_err *e) {
    char *path = tkd_path_follow(link, e);
    if (!path)
        return TKD_ENOMEM;
    int rc = 0;
    tkd_buf tmp;
    tkd_buf_init(&tmp);
    if (tkd_buf_printf(&tmp, "%s.tmp.%ld", path, (long)getpid())) {
        free(path);
        return tkd_err_set(e, TKD_ENOMEM, "out of memory");
    }
    int fd = open(tmp.data, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        rc = tkd_err_set(e, TKD_EIO, "cannot create '%s': %s", tmp.data, strerror(errno));
        goto out;
    }
    const char *p = data;
    size_t left = len;
    while (left > 0) {
        ssize_t w = write(fd, p, left);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            rc = tkd_err_set(e, TKD_EIO, "cannot write '%s': %s", tmp.data, strerror(errno));
            close(fd);
            unlink(tmp.data);
            goto out;
        }
        p += w;
        left -= (size_t)w;
    }
    if (fsync(fd) != 0 || close(fd) != 0 || rename(tmp.data, path) != 0) {
        rc = tkd_err_set(e, TKD_EIO, "cannot finish writing '%s': %s", path, strerror(errno));
        unlink(tmp.data);
    }
out:
    tkd_buf_free(&tmp);
    free(path);
    return rc;
}

int tkd_mkdirs(const char *path, tkd_err *e) {
    char *p = tkd_strdup(path, e);
    if (!p)
        return TKD_ENOMEM;
    for (char *s = p + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        if (mkdir(p, 0755) != 0 && errno != EEXIST) {
            int rc = tkd_err_set(e, TKD_EIO, "cannot create folder '%s': %s", p, strerror(errno));
            free(p);
            return rc;
        }
        *s = '/';
    }
    int rc = 0;
    if (mkdir(p, 0755) != 0 && errno != EEXIST)
        rc = tkd_err_set(e, TKD_EIO, "cannot create folder '%s': %s", p, strerror(errno));
    free(p);
    return rc;
}
