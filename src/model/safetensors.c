/*
 * safetensors read (mmap, f32/f16/bf16, sharded via model.safetensors.index.json)
 * and write (fp32 or bf16, crash-safe). Every length and offset in a header is
 * checked against the file before a byte of data is touched, so a truncated or
 * malformed file gives an error naming the file and the tensor, never a crash.
 */
#include "tkd/safetensors.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

float tkd_bf16_to_f32(uint16_t h) {
    uint32_t u = (uint32_t)h << 16;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

uint16_t tkd_f32_to_bf16(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    if ((u & 0x7fffffffu) > 0x7f800000u) /* NaN stays NaN */
        return (uint16_t)((u >> 16) | 0x40);
    u += 0x7fffu + ((u >> 16) & 1u);
    return (uint16_t)(u >> 16);
}

float tkd_f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16, exp = (h >> 10) & 0x1f, man = h & 0x3ffu, u;
    if (exp == 0) {
        if (man == 0) {
            u = sign;
        } else { /* subnormal: normalise */
            int e = -1;
            do {
                e++;
                man <<= 1;
            } while (!(man & 0x400u));
            u = sign | ((uint32_t)(127 - 15 - e) << 23) | ((man & 0x3ffu) << 13);
        }
    } else if (exp == 31) {
        u = sign | 0x7f800000u | (man << 13);
    } else {
        u = sign | ((exp + 127 - 15) << 23) | (man << 13);
    }
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static int dtype_of(const char *s, tkd_st_dtype *d, size_t *esize) {
    static const struct {
        const char *n;
        tkd_st_dtype d;
        size_t sz;
    } tab[] = {{"F32", TKD_ST_F32, 4},   {"F16", TKD_ST_F16, 2},   {"BF16", TKD_ST_BF16, 2}, {"F64", TKD_ST_OTHER, 8},
               {"I64", TKD_ST_OTHER, 8}, {"I32", TKD_ST_OTHER, 4}, {"I16", TKD_ST_OTHER, 2}, {"I8", TKD_ST_OTHER, 1},
               {"U8", TKD_ST_OTHER, 1},  {"BOOL", TKD_ST_OTHER, 1}};
    for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++)
        if (!strcmp(s, tab[i].n)) {
            *d = tab[i].d;
            *esize = tab[i].sz;
            return 0;
        }
    return -1;
}

size_t tkd_st_numel(const tkd_st_tensor *t) {
    size_t n = 1;
    for (int i = 0; i < t->ndim; i++)
        n *= (size_t)t->shape[i];
    return n;
}

/* Map one file and append its tensors to st. */
static int open_file(tkd_st *st, const char *path, tkd_err *e) {
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return tkd_err_set(e, errno == ENOENT ? TKD_ENOTFOUND : TKD_EIO, "%s: cannot open: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) || sb.st_size < 8) {
        close(fd);
        return tkd_err_set(e, TKD_EFORMAT, "%s: not a safetensors file (shorter than its 8-byte header length)", path);
    }
    size_t len = (size_t)sb.st_size;
    void *map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (map == MAP_FAILED)
        return tkd_err_set(e, TKD_EIO, "%s: mmap failed: %s", path, strerror(errno));
    int fi = st->n_files;
    char **nf = realloc(st->files, sizeof(char *) * (size_t)(fi + 1));
    if (nf)
        st->files = nf;
    void **nm = realloc(st->maps, sizeof(void *) * (size_t)(fi + 1));
    if (nm)
        st->maps = nm;
    size_t *nl = realloc(st->map_len, sizeof(size_t) * (size_t)(fi + 1));
    if (nl)
        st->map_len = nl;
    char *dup = strdup(path);
    if (!nf || !nm || !nl || !dup) {
        free(dup);
        munmap(map, len);
        return tkd_err_set(e, TKD_ENOMEM, "%s: out of memory", path);
    }
    st->files[fi] = dup;
    st->maps[fi] = map;
    st->map_len[fi] = len;
    st->n_files++;

    const unsigned char *b = map;
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--)
        hlen = (hlen << 8) | b[i];
    if (hlen > TKD_ST_MAX_HEADER || hlen > len - 8)
        return tkd_err_set(e, TKD_EFORMAT,
                           "%s: header length %llu exceeds the file (%zu bytes): truncated or not safetensors", path,
                           (unsigned long long)hlen, len);
    json_error_t je;
    json_t *h = json_loadb((const char *)b + 8, (size_t)hlen, 0, &je);
    if (!h || !json_is_object(h)) {
        json_decref(h);
        return tkd_err_set(e, TKD_EFORMAT, "%s: header is not a JSON object: %s", path, je.text);
    }
    const char *data0 = (const char *)b + 8 + hlen;
    size_t dlen = len - 8 - (size_t)hlen;
    const char *key;
    json_t *v;
    int rc = 0;
    size_t cnt = json_object_size(h);
    tkd_st_tensor *nt = realloc(st->t, sizeof(tkd_st_tensor) * (size_t)(st->n + (int)cnt + 1));
    if (!nt) {
        json_decref(h);
        return tkd_err_set(e, TKD_ENOMEM, "%s: out of memory", path);
    }
    st->t = nt;
    json_object_foreach(h, key, v) {
        if (!strcmp(key, "__metadata__")) {
            if (!st->metadata)
                st->metadata = json_dumps(v, JSON_COMPACT);
            continue;
        }
        json_t *dt = json_object_get(v, "dtype"), *sh = json_object_get(v, "shape"),
               *off = json_object_get(v, "data_offsets");
        if (!json_is_string(dt) || !json_is_array(sh) || !json_is_array(off) || json_array_size(off) != 2 ||
            json_array_size(sh) > TKD_ST_MAX_DIMS) {
            rc = tkd_err_set(e, TKD_EFORMAT,
                             "%s: tensor '%s': header entry needs dtype, shape (<= %d dims) and "
                             "data_offsets [begin, end]",
                             path, key, TKD_ST_MAX_DIMS);
            break;
        }
        tkd_st_tensor *t = &st->t[st->n];
        memset(t, 0, sizeof *t);
        size_t esize;
        snprintf(t->dtype_name, sizeof t->dtype_name, "%s", json_string_value(dt));
        if (dtype_of(t->dtype_name, &t->dtype, &esize)) {
            rc = tkd_err_set(e, TKD_EFORMAT, "%s: tensor '%s': unknown dtype '%s'", path, key, t->dtype_name);
            break;
        }
        t->ndim = (int)json_array_size(sh);
        size_t numel = 1;
        int bad = 0;
        for (int i = 0; i < t->ndim; i++) {
            json_t *d = json_array_get(sh, (size_t)i);
            if (!json_is_integer(d) || json_integer_value(d) < 0 || json_integer_value(d) > (1ll << 40)) {
                bad = 1;
                break;
            }
            t->shape[i] = json_integer_value(d);
            if (t->shape[i] && numel > ((size_t)1 << 50) / (size_t)t->shape[i])
                bad = 1;
            numel *= (size_t)t->shape[i];
        }
        json_t *o0 = json_array_get(off, 0), *o1 = json_array_get(off, 1);
        if (bad || !json_is_integer(o0) || !json_is_integer(o1)) {
            rc = tkd_err_set(e, TKD_EFORMAT, "%s: tensor '%s': bad shape or data_offsets", path, key);
            break;
        }
        long long beg = json_integer_value(o0), end = json_integer_value(o1);
        if (beg < 0 || end < beg || (unsigned long long)end > dlen) {
            rc = tkd_err_set(e, TKD_EFORMAT,
                             "%s: tensor '%s': data_offsets [%lld, %lld] outside the %zu data bytes (truncated file?)",
                             path, key, beg, end, dlen);
            break;
        }
        if ((size_t)(end - beg) != numel * esize) {
            rc = tkd_err_set(e, TKD_EFORMAT, "%s: tensor '%s': %lld data bytes but shape and dtype need %zu", path, key,
                             end - beg, numel * esize);
            break;
        }
        t->name = strdup(key);
        if (!t->name) {
            rc = tkd_err_set(e, TKD_ENOMEM, "out of memory");
            break;
        }
        t->data = data0 + beg;
        t->nbytes = (size_t)(end - beg);
        t->file = fi;
        st->n++;
    }
    json_decref(h);
    return rc;
}

static int ends_with(const char *s, const char *suf) {
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && !strcmp(s + a - b, suf);
}

static int open_index(tkd_st *st, const char *path, tkd_err *e) {
    json_error_t je;
    json_t *root = json_load_file(path, 0, &je);
    json_t *wm = root ? json_object_get(root, "weight_map") : NULL;
    if (!json_is_object(wm)) {
        json_decref(root);
        return tkd_err_set(e, TKD_EFORMAT, "%s: not a safetensors index (needs a \"weight_map\" object)%s%s", path,
                           root ? "" : ": ", root ? "" : je.text);
    }
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    char *sl = strrchr(dir, '/');
    if (sl)
        sl[1] = 0;
    else
        dir[0] = 0;
    /* distinct shard names, in order of first appearance */
    const char *key;
    json_t *v;
    int rc = 0;
    json_t *seen = json_object();
    json_object_foreach(wm, key, v) {
        if (!json_is_string(v)) {
            rc = tkd_err_set(e, TKD_EFORMAT, "%s: weight_map['%s'] is not a file name", path, key);
            break;
        }
        const char *f = json_string_value(v);
        if (strchr(f, '/') || json_object_get(seen, f))
            continue;
        json_object_set_new(seen, f, json_true());
        char full[8192];
        snprintf(full, sizeof full, "%s%s", dir, f);
        if ((rc = open_file(st, full, e)))
            break;
    }
    /* every tensor the index names must be there */
    if (!rc)
        json_object_foreach(wm, key, v) if (!tkd_st_find(st, key)) {
            rc = tkd_err_set(e, TKD_EFORMAT, "%s: tensor '%s' is listed in the index but missing from '%s'", path, key,
                             json_string_value(v));
            break;
        }
    json_decref(seen);
    json_decref(root);
    return rc;
}

int tkd_st_open(const char *path, tkd_st *st, tkd_err *e) {
    memset(st, 0, sizeof *st);
    struct stat sb;
    int rc;
    if (stat(path, &sb))
        return tkd_err_set(e, TKD_ENOTFOUND, "%s: no such file or folder", path);
    if (S_ISDIR(sb.st_mode)) {
        char p[4096];
        snprintf(p, sizeof p, "%s/model.safetensors", path);
        if (!stat(p, &sb)) {
            rc = open_file(st, p, e);
        } else {
            snprintf(p, sizeof p, "%s/model.safetensors.index.json", path);
            if (stat(p, &sb))
                return tkd_err_set(e, TKD_ENOTFOUND,
                                   "%s: holds neither model.safetensors nor model.safetensors.index.json", path);
            rc = open_index(st, p, e);
        }
    } else if (ends_with(path, ".json")) {
        rc = open_index(st, path, e);
    } else {
        rc = open_file(st, path, e);
    }
    if (rc)
        tkd_st_close(st);
    return rc;
}

void tkd_st_close(tkd_st *st) {
    for (int i = 0; i < st->n; i++)
        free(st->t[i].name);
    for (int i = 0; i < st->n_files; i++) {
        munmap(st->maps[i], st->map_len[i]);
        free(st->files[i]);
    }
    free(st->t);
    free(st->files);
    free(st->maps);
    free(st->map_len);
    free(st->metadata);
    memset(st, 0, sizeof *st);
}

const tkd_st_tensor *tkd_st_find(const tkd_st *st, const char *name) {
    for (int i = 0; i < st->n; i++)
        if (!strcmp(st->t[i].name, name))
            return &st->t[i];
    return NULL;
}

int tkd_st_read_f32(const tkd_st *st, const char *name, float *dst, const int64_t *shape, int ndim, tkd_err *e) {
    const tkd_st_tensor *t = tkd_st_find(st, name);
    if (!t)
        return tkd_err_set(e, TKD_ENOTFOUND, "%s: tensor '%s' is missing", st->n_files ? st->files[0] : "?", name);
    const char *file = st->files[t->file];
    int same = t->ndim == ndim;
    for (int i = 0; same && i < ndim; i++)
        same = t->shape[i] == shape[i];
    if (!same) {
        char want[128] = "", got[128] = "";
        for (int i = 0; i < ndim; i++)
            snprintf(want + strlen(want), sizeof want - strlen(want), "%s%lld", i ? "," : "", (long long)shape[i]);
        for (int i = 0; i < t->ndim; i++)
            snprintf(got + strlen(got), sizeof got - strlen(got), "%s%lld", i ? "," : "", (long long)t->shape[i]);
        return tkd_err_set(e, TKD_EFORMAT, "%s: tensor '%s' has shape [%s] but the config needs [%s]", file, name, got,
                           want);
    }
    size_t n = tkd_st_numel(t);
    const unsigned char *p = t->data;
    switch (t->dtype) {
    case TKD_ST_F32: memcpy(dst, p, n * 4); break;
    case TKD_ST_BF16:
        for (size_t i = 0; i < n; i++)
            dst[i] = tkd_bf16_to_f32((uint16_t)(p[2 * i] | (p[2 * i + 1] << 8)));
        break;
    case TKD_ST_F16:
        for (size_t i = 0; i < n; i++)
            dst[i] = tkd_f16_to_f32((uint16_t)(p[2 * i] | (p[2 * i + 1] << 8)));
        break;
    default:
        return tkd_err_set(e, TKD_EFORMAT, "%s: tensor '%s' has dtype %s; only F32, F16 and BF16 are supported", file,
                           name, t->dtype_name);
    }
    return 0;
}

int tkd_st_write(const char *path, const tkd_st_entry *t, int n, int bf16, const char *metadata, tkd_err *e) {
    json_t *h = json_object();
    if (!h)
        return tkd_err_set(e, TKD_ENOMEM, "out of memory");
    if (metadata) {
        json_t *m = json_loads(metadata, 0, NULL);
        if (!json_is_object(m)) {
            json_decref(m);
            json_decref(h);
            return tkd_err_set(e, TKD_EINVAL, "%s: metadata is not a JSON object", path);
        }
        json_object_set_new(h, "__metadata__", m);
    }
    size_t esz = bf16 ? 2 : 4, off = 0;
    for (int i = 0; i < n; i++) {
        size_t numel = 1;
        json_t *sh = json_array();
        for (int d = 0; d < t[i].ndim; d++) {
            numel *= (size_t)t[i].shape[d];
            json_array_append_new(sh, json_integer(t[i].shape[d]));
        }
        json_t *ent = json_pack("{s:s, s:o, s:[I,I]}", "dtype", bf16 ? "BF16" : "F32", "shape", sh, "data_offsets",
                                (json_int_t)off, (json_int_t)(off + numel * esz));
        json_object_set_new(h, t[i].name, ent);
        off += numel * esz;
    }
    char *hs = json_dumps(h, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(h);
    if (!hs)
        return tkd_err_set(e, TKD_ENOMEM, "out of memory");
    size_t hl = strlen(hs), pad = (8 - hl % 8) % 8; /* data aligned to 8 bytes */
    size_t total = 8 + hl + pad + off;
    unsigned char *buf = malloc(total);
    if (!buf) {
        free(hs);
        return tkd_err_set(e, TKD_ENOMEM, "%s: out of memory for %zu bytes", path, total);
    }
    uint64_t L = hl + pad;
    for (int i = 0; i < 8; i++)
        buf[i] = (unsigned char)(L >> (8 * i));
    memcpy(buf + 8, hs, hl);
    memset(buf + 8 + hl, ' ', pad);
    free(hs);
    /* data in the order given, matching the offsets assigned above */
    unsigned char *d = buf + 8 + L;
    for (int i = 0; i < n; i++) {
        size_t numel = 1;
        for (int k = 0; k < t[i].ndim; k++)
            numel *= (size_t)t[i].shape[k];
        if (bf16) {
            for (size_t k = 0; k < numel; k++) {
                uint16_t v = tkd_f32_to_bf16(t[i].data[k]);
                d[2 * k] = (unsigned char)v;
                d[2 * k + 1] = (unsigned char)(v >> 8);
            }
        } else {
            memcpy(d, t[i].data, numel * 4);
        }
        d += numel * esz;
    }
    int rc = tkd_file_write_atomic(path, buf, total, e);
    free(buf);
    return rc;
}
