/*
 * store: one HDF5 file of fixed-size record rows (/records) and the UTF-8
 * text they point at (/text). Writers batch rows in memory and write them
 * every flush_every rows: text first (extended, written, flushed), then the
 * records, then a file flush, so after kill -9 every row below the length
 * of /records points at text that is on disk. Shards are written in SWMR
 * mode so readers (the done-set, `tkd store info`) can open them while they
 * grow or after their writer died. See include/tkd/store.h for the layout.
 */
#include "store_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ---- HDF5 errors ---- */

void store_h5_quiet(void) {
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
}

static herr_t walk_first(unsigned n, const H5E_error2_t *d, void *data) {
    (void)n;
    char *msg = data;
    if (!msg[0] && d->desc && d->desc[0])
        snprintf(msg, 256, "%s", d->desc);
    return 0;
}

/* The innermost (most specific) message on HDF5's error stack, then clear it. */
static void h5_msg(char msg[256]) {
    msg[0] = '\0';
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, walk_first, msg);
    H5Eclear2(H5E_DEFAULT);
}

int store_h5_err(tkd_err *e, int code, const char *path, const char *what) {
    char msg[256];
    h5_msg(msg);
    if (msg[0])
        return tkd_err_set(e, code, "%s '%s': %s", what, path, msg);
    return tkd_err_set(e, code, "%s '%s'", what, path);
}

/* ---- names ---- */

const char *tkd_phase_name(tkd_phase p) {
    switch (p) {
    case TKD_PHASE_PROBLEM: return "problem";
    case TKD_PHASE_SOLVE: return "solve";
    case TKD_PHASE_BACKTRANSLATE: return "backtranslate";
    case TKD_PHASE_EVAL: return "eval";
    case TKD_PHASE_TEST: return "test";
    }
    return "unknown";
}

int tkd_phase_parse(const char *name) {
    static const tkd_phase all[] = {TKD_PHASE_PROBLEM, TKD_PHASE_SOLVE, TKD_PHASE_BACKTRANSLATE, TKD_PHASE_EVAL,
                                    TKD_PHASE_TEST};
    for (size_t i = 0; name && i < sizeof all / sizeof all[0]; i++)
        if (!strcmp(name, tkd_phase_name(all[i])))
            return (int)all[i];
    return -1;
}

const char *tkd_status_name(tkd_status s) {
    static const char *names[TKD_ST_COUNT] = {
        "done",     "correct", "wrong",    "no_answer",      "turn_limit",  "tool_errors", "length",
        "api_error", "failed", "accepted", "partial", "rejected", "rephrase_wrong", "leaked_tools"};
    return (unsigned)s < TKD_ST_COUNT ? names[s] : "unknown";
}

int tkd_status_parse(const char *name) {
    for (int s = 0; name && s < TKD_ST_COUNT; s++)
        if (!strcmp(name, tkd_status_name((tkd_status)s)))
            return s;
    return -1;
}

int tkd_status_is_final(int status) {
    return status >= 0 && status < TKD_ST_COUNT && status != TKD_ST_API_ERROR;
}

/* ---- the record type ---- */

hid_t store_record_type(void) {
    hid_t t = H5Tcreate(H5T_COMPOUND, sizeof(tkd_record));
    if (t < 0)
        return t;
    herr_t r = 0;
#define M(name, type) r |= H5Tinsert(t, #name, HOFFSET(tkd_record, name), type)
    M(pid, H5T_STD_U64LE);
    M(sample, H5T_STD_U32LE);
    M(phase, H5T_STD_U8LE);
    M(status, H5T_STD_U8LE);
    M(flags, H5T_STD_U16LE);
    M(turns, H5T_STD_U32LE);
    M(tool_calls, H5T_STD_U32LE);
    M(prompt_tokens, H5T_STD_U64LE);
    M(completion_tokens, H5T_STD_U64LE);
    M(latency_s, H5T_IEEE_F64LE);
    M(finished_at, H5T_IEEE_F64LE);
    M(text_off, H5T_STD_U64LE);
    M(text_len, H5T_STD_U64LE);
#undef M
    if (r < 0) {
        H5Tclose(t);
        return -1;
    }
    return t;
}

/* ---- attributes ---- */

int store_put_attr_str(hid_t loc, const char *name, const char *value, const char *path, tkd_err *e) {
    if (!value)
        value = "";
    size_t n = strlen(value);
    hid_t t = H5Tcopy(H5T_C_S1);
    hid_t sp = H5Screate(H5S_SCALAR);
    hid_t a = -1;
    int rc = 0;
    if (t < 0 || sp < 0 || H5Tset_size(t, n ? n : 1) < 0 || H5Tset_strpad(t, H5T_STR_NULLTERM) < 0 ||
        H5Tset_cset(t, H5T_CSET_UTF8) < 0 || (a = H5Acreate2(loc, name, t, sp, H5P_DEFAULT, H5P_DEFAULT)) < 0 ||
        H5Awrite(a, t, n ? value : "") < 0) {
        char what[128];
        snprintf(what, sizeof what, "cannot write attribute '%s' of", name);
        rc = store_h5_err(e, TKD_EIO, path, what);
    }
    if (a >= 0)
        H5Aclose(a);
    if (sp >= 0)
        H5Sclose(sp);
    if (t >= 0)
        H5Tclose(t);
    return rc;
}

static int put_attr_int(hid_t loc, const char *name, long long v, const char *path, tkd_err *e) {
    hid_t sp = H5Screate(H5S_SCALAR);
    hid_t a = -1;
    int rc = 0;
    if (sp < 0 || (a = H5Acreate2(loc, name, H5T_STD_I64LE, sp, H5P_DEFAULT, H5P_DEFAULT)) < 0 ||
        H5Awrite(a, H5T_NATIVE_LLONG, &v) < 0) {
        char what[128];
        snprintf(what, sizeof what, "cannot write attribute '%s' of", name);
        rc = store_h5_err(e, TKD_EIO, path, what);
    }
    if (a >= 0)
        H5Aclose(a);
    if (sp >= 0)
        H5Sclose(sp);
    return rc;
}

int tkd_store_attr(tkd_store *s, const char *name, char **value, tkd_err *e) {
    *value = NULL;
    htri_t ex = H5Aexists(s->file, name);
    if (ex <= 0)
        return tkd_err_set(e, TKD_ENOTFOUND, "'%s' has no attribute '%s'", s->path, name);
    hid_t a = H5Aopen(s->file, name, H5P_DEFAULT);
    hid_t t = a >= 0 ? H5Aget_type(a) : -1;
    hid_t sp = a >= 0 ? H5Aget_space(a) : -1;
    int rc = 0;
    char what[128];
    snprintf(what, sizeof what, "cannot read attribute '%.64s' of", name);
    if (t < 0 || sp < 0) {
        rc = store_h5_err(e, TKD_EFORMAT, s->path, what);
        goto done;
    }
    if (H5Sget_simple_extent_npoints(sp) != 1) {
        rc = tkd_err_set(e, TKD_EFORMAT, "attribute '%s' of '%s' is not a scalar", name, s->path);
        goto done;
    }
    H5T_class_t cls = H5Tget_class(t);
    char num[64];
    if (cls == H5T_INTEGER) {
        long long v = 0;
        if (H5Aread(a, H5T_NATIVE_LLONG, &v) < 0) {
            rc = store_h5_err(e, TKD_EFORMAT, s->path, what);
            goto done;
        }
        snprintf(num, sizeof num, "%lld", v);
        *value = tkd_strdup(num, e);
    } else if (cls == H5T_FLOAT) {
        double v = 0;
        if (H5Aread(a, H5T_NATIVE_DOUBLE, &v) < 0) {
            rc = store_h5_err(e, TKD_EFORMAT, s->path, what);
            goto done;
        }
        snprintf(num, sizeof num, "%.17g", v);
        *value = tkd_strdup(num, e);
    } else if (cls == H5T_STRING && H5Tis_variable_str(t) == 0) {
        size_t n = H5Tget_size(t);
        char *buf = tkd_malloc(n + 1, e);
        if (!buf) {
            rc = TKD_ENOMEM;
            goto done;
        }
        hid_t mt = H5Tcopy(t);
        if (mt < 0 || H5Aread(a, mt, buf) < 0) {
            if (mt >= 0)
                H5Tclose(mt);
            free(buf);
            rc = store_h5_err(e, TKD_EFORMAT, s->path, what);
            goto done;
        }
        H5Tclose(mt);
        buf[n] = '\0';
        *value = buf;
    } else if (cls == H5T_STRING) { /* variable length: written by other tools (h5py's default) */
        char *v = NULL;
        hid_t mt = H5Tcopy(H5T_C_S1);
        if (mt < 0 || H5Tset_size(mt, H5T_VARIABLE) < 0 || H5Tset_cset(mt, H5Tget_cset(t)) < 0 ||
            H5Aread(a, mt, &v) < 0) {
            if (mt >= 0)
                H5Tclose(mt);
            rc = store_h5_err(e, TKD_EFORMAT, s->path, what);
            goto done;
        }
        H5Tclose(mt);
        *value = tkd_strdup(v ? v : "", e);
        H5free_memory(v);
    } else {
        rc = tkd_err_set(e, TKD_EFORMAT, "attribute '%s' of '%s' has a type tkd does not read", name, s->path);
        goto done;
    }
    if (!*value)
        rc = TKD_ENOMEM;
done:
    if (sp >= 0)
        H5Sclose(sp);
    if (t >= 0)
        H5Tclose(t);
    if (a >= 0)
        H5Aclose(a);
    return rc;
}

/* ---- create ---- */

static hid_t make_dataset(hid_t file, const char *name, hid_t type, hsize_t chunk) {
    hsize_t dims[1] = {0}, maxdims[1] = {H5S_UNLIMITED};
    hid_t sp = H5Screate_simple(1, dims, maxdims);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    hid_t d = -1;
    if (sp >= 0 && dcpl >= 0 && H5Pset_chunk(dcpl, 1, &chunk) >= 0)
        d = H5Dcreate2(file, name, type, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    if (dcpl >= 0)
        H5Pclose(dcpl);
    if (sp >= 0)
        H5Sclose(sp);
    return d;
}

static void close_handles(tkd_store *s) {
    if (s->drec >= 0)
        H5Dclose(s->drec);
    if (s->dtext >= 0)
        H5Dclose(s->dtext);
    if (s->rectype >= 0)
        H5Tclose(s->rectype);
    if (s->file >= 0)
        H5Fclose(s->file);
    s->drec = s->dtext = s->rectype = s->file = -1;
}

void store_free(tkd_store *s) {
    if (!s)
        return;
    close_handles(s);
    if (s->image_free)
        s->image_free(s);
    free(s->pend);
    tkd_buf_free(&s->ptext);
    free(s->path);
    free(s);
}

tkd_store *store_new(const char *path, tkd_err *e) {
    tkd_store *s = tkd_calloc(1, sizeof *s, e);
    if (!s)
        return NULL;
    s->file = s->drec = s->dtext = s->rectype = -1;
    s->flush_every = STORE_FLUSH_DEFAULT;
    tkd_buf_init(&s->ptext);
    if (!(s->path = tkd_strdup(path, e))) {
        free(s);
        return NULL;
    }
    return s;
}

static int parent_dirs(const char *path, tkd_err *e) {
    const char *slash = strrchr(path, '/');
    if (!slash || slash == path)
        return 0;
    char *dir = tkd_strndup(path, (size_t)(slash - path), e);
    if (!dir)
        return TKD_ENOMEM;
    int rc = tkd_mkdirs(dir, e);
    free(dir);
    return rc;
}

static int create_file(const char *path, const tkd_store_meta *meta, int swmr, tkd_store **out, tkd_err *e) {
    *out = NULL;
    store_h5_quiet();
    struct stat st;
    if (stat(path, &st) == 0)
        return tkd_err_set(e, TKD_EINVAL,
                           "cannot create store '%s': it already exists (shards are never reused; "
                           "use tkd_store_next_attempt)",
                           path);
    int rc = parent_dirs(path, e);
    if (rc)
        return rc;
    tkd_store *s = store_new(path, e);
    if (!s)
        return TKD_ENOMEM;
    s->writer = 1;
    s->swmr = swmr;
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS), fcpl = H5Pcreate(H5P_FILE_CREATE);
    /* libver latest: SWMR needs it; attribute phase change 0/0 puts every
     * attribute in dense storage, so the job text may exceed 64 KiB. */
    if (fapl < 0 || fcpl < 0 || H5Pset_libver_bounds(fapl, H5F_LIBVER_LATEST, H5F_LIBVER_LATEST) < 0 ||
        H5Pset_attr_phase_change(fcpl, 0, 0) < 0 || (s->file = H5Fcreate(path, H5F_ACC_EXCL, fcpl, fapl)) < 0) {
        rc = store_h5_err(e, TKD_EIO, path, "cannot create store");
        goto fail;
    }
    if ((s->rectype = store_record_type()) < 0 ||
        (s->drec = make_dataset(s->file, "records", s->rectype, STORE_REC_CHUNK)) < 0 ||
        (s->dtext = make_dataset(s->file, "text", H5T_STD_U8LE, STORE_TEXT_CHUNK)) < 0) {
        rc = store_h5_err(e, TKD_EIO, path, "cannot create the datasets of store");
        goto fail;
    }
    char created[32];
    tkd_wall_iso(created);
    const char *phase = meta ? tkd_phase_name(meta->phase) : "unknown";
    if ((rc = put_attr_int(s->file, "schema_version", TKD_STORE_SCHEMA_VERSION, path, e)) ||
        (rc = store_put_attr_str(s->file, "tkd_version", TKD_VERSION, path, e)) ||
        (rc = store_put_attr_str(s->file, "git_commit", TKD_GIT_COMMIT, path, e)) ||
        (rc = store_put_attr_str(s->file, "phase", phase, path, e)) ||
        (rc = put_attr_int(s->file, "rank", meta ? meta->rank : -1, path, e)) ||
        (rc = put_attr_int(s->file, "attempt", meta ? meta->attempt : -1, path, e)) ||
        (rc = store_put_attr_str(s->file, "created", created, path, e)) ||
        (rc = store_put_attr_str(s->file, "job", meta ? meta->job_text : NULL, path, e)) ||
        (rc = store_put_attr_str(s->file, "job_sha256", meta ? meta->job_sha256 : NULL, path, e)) ||
        (rc = store_put_attr_str(s->file, "manifest", meta && meta->manifest_json ? meta->manifest_json : "{}", path,
                                 e)))
        goto fail;
    if (swmr && H5Fstart_swmr_write(s->file) < 0) {
        rc = store_h5_err(e, TKD_EIO, path, "cannot start SWMR writing on store");
        goto fail;
    }
    H5Pclose(fapl);
    H5Pclose(fcpl);
    *out = s;
    return 0;
fail:
    if (fapl >= 0)
        H5Pclose(fapl);
    if (fcpl >= 0)
        H5Pclose(fcpl);
    int made = s->file >= 0;
    store_free(s);
    if (made)
        remove(path);
    return rc;
}

int tkd_store_create(const char *path, const tkd_store_meta *meta, tkd_store **out, tkd_err *e) {
    return create_file(path, meta, 1, out, e);
}

int store_create_plain(const char *path, const tkd_store_meta *meta, tkd_store **out, tkd_err *e) {
    return create_file(path, meta, 0, out, e);
}

/* ---- append and flush ---- */

void tkd_store_set_flush_every(tkd_store *s, size_t rows) {
    if (s)
        s->flush_every = rows ? rows : 1;
}

/* Read or write elements [start, start+n) of a 1-D dataset. */
static herr_t slab_io(hid_t d, hid_t memtype, hsize_t start, hsize_t n, void *buf, int write) {
    hid_t fs = H5Dget_space(d);
    hid_t ms = H5Screate_simple(1, &n, NULL);
    herr_t r = -1;
    if (fs >= 0 && ms >= 0 && H5Sselect_hyperslab(fs, H5S_SELECT_SET, &start, NULL, &n, NULL) >= 0)
        r = write ? H5Dwrite(d, memtype, ms, fs, H5P_DEFAULT, buf) : H5Dread(d, memtype, ms, fs, H5P_DEFAULT, buf);
    if (ms >= 0)
        H5Sclose(ms);
    if (fs >= 0)
        H5Sclose(fs);
    return r;
}

/* Grow a 1-D dataset from old to old+n elements and write buf there. */
static herr_t write_tail(hid_t d, hid_t memtype, hsize_t old, hsize_t n, const void *buf) {
    hsize_t total = old + n;
    if (H5Dset_extent(d, &total) < 0)
        return -1;
    return slab_io(d, memtype, old, n, (void *)buf, 1);
}

int tkd_store_flush(tkd_store *s, tkd_err *e) {
    if (!s || !s->writer)
        return 0;
    if (s->ptext.len) {
        if (write_tail(s->dtext, H5T_NATIVE_UCHAR, s->ntext, s->ptext.len, s->ptext.data) < 0 ||
            (s->swmr && H5Dflush(s->dtext) < 0))
            return store_h5_err(e, TKD_EIO, s->path, "cannot write text to store");
        s->ntext += s->ptext.len;
        tkd_buf_reset(&s->ptext);
    }
    if (s->npend) {
        if (write_tail(s->drec, s->rectype, s->nrows, s->npend, s->pend) < 0 || (s->swmr && H5Dflush(s->drec) < 0))
            return store_h5_err(e, TKD_EIO, s->path, "cannot write records to store");
        s->nrows += s->npend;
        s->npend = 0;
    }
    if (s->swmr && H5Fflush(s->file, H5F_SCOPE_LOCAL) < 0)
        return store_h5_err(e, TKD_EIO, s->path, "cannot flush store");
    return 0;
}

int tkd_store_append(tkd_store *s, tkd_record *rec, const char *text, size_t text_len, tkd_err *e) {
    if (!s->writer)
        return tkd_err_set(e, TKD_EINVAL, "store '%s' was opened read-only", s->path);
    if (s->npend == s->cap_pend) {
        size_t cap = s->cap_pend ? s->cap_pend * 2 : (s->flush_every < 4096 ? s->flush_every : 4096);
        tkd_record *p = tkd_realloc(s->pend, cap * sizeof *p, e);
        if (!p)
            return TKD_ENOMEM;
        s->pend = p;
        s->cap_pend = cap;
    }
    if (text_len && tkd_buf_append(&s->ptext, text, text_len))
        return tkd_err_set(e, TKD_ENOMEM, "out of memory buffering text for '%s'", s->path);
    rec->text_off = (uint64_t)s->ntext + (uint64_t)s->ptext.len - (uint64_t)text_len;
    rec->text_len = (uint64_t)text_len;
    s->pend[s->npend++] = *rec;
    if (s->npend >= s->flush_every)
        return tkd_store_flush(s, e);
    return 0;
}

/* ---- open ---- */

static int check_type(tkd_store *s, tkd_err *e) {
    hid_t ft = H5Dget_type(s->drec);
    int ok = ft >= 0 && H5Tget_class(ft) == H5T_COMPOUND;
    for (int i = 0; ok && i < H5Tget_nmembers(s->rectype); i++) {
        char *name = H5Tget_member_name(s->rectype, (unsigned)i);
        ok = name && H5Tget_member_index(ft, name) >= 0;
        H5free_memory(name);
    }
    if (ft >= 0)
        H5Tclose(ft);
    hid_t tt = H5Dget_type(s->dtext);
    ok = ok && tt >= 0 && H5Tget_class(tt) == H5T_INTEGER && H5Tget_size(tt) == 1;
    if (tt >= 0)
        H5Tclose(tt);
    H5Eclear2(H5E_DEFAULT);
    if (!ok)
        return tkd_err_set(e, TKD_EFORMAT,
                           "'%s' is an HDF5 file but not a tkd store (its /records or /text has "
                           "another type)",
                           s->path);
    return 0;
}

static int read_extent(hid_t d, hsize_t *n) {
    hid_t sp = H5Dget_space(d);
    if (sp < 0)
        return -1;
    int r = H5Sget_simple_extent_ndims(sp) == 1 ? H5Sget_simple_extent_dims(sp, n, NULL) : -1;
    H5Sclose(sp);
    return r < 0 ? -1 : 0;
}

int tkd_store_refresh(tkd_store *s, tkd_err *e) {
    if (s->writer)
        return 0;
    if (s->swmr && (H5Drefresh(s->drec) < 0 || H5Drefresh(s->dtext) < 0))
        return store_h5_err(e, TKD_EIO, s->path, "cannot refresh store");
    /* records first: text never lags behind the rows that point into it */
    if (read_extent(s->drec, &s->nrows) < 0 || read_extent(s->dtext, &s->ntext) < 0)
        return store_h5_err(e, TKD_EFORMAT, s->path, "cannot read the size of store");
    return 0;
}

int tkd_store_open(const char *path, tkd_store **out, tkd_err *e) {
    *out = NULL;
    store_h5_quiet();
    struct stat st;
    if (stat(path, &st) != 0)
        return tkd_err_set(e, errno == ENOENT ? TKD_ENOTFOUND : TKD_EIO, "cannot open store '%s': %s", path,
                           strerror(errno));
    if (S_ISDIR(st.st_mode))
        return tkd_err_set(e, TKD_EINVAL, "cannot open store '%s': it is a folder, not a .h5 file", path);
    FILE *probe = fopen(path, "rb");
    if (!probe)
        return tkd_err_set(e, TKD_EIO, "cannot open store '%s': %s", path, strerror(errno));
    fclose(probe);
    tkd_store *s = store_new(path, e);
    if (!s)
        return TKD_ENOMEM;
    int rc = 0;
    s->swmr = 1;
    /* SWMR readers retry a metadata read whose checksum fails (the writer may
     * be mid-write) with a doubling sleep; HDF5's default of 100 attempts
     * turns one flipped bit into an endless hang, so bound it. */
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (fapl >= 0)
        H5Pset_metadata_read_attempts(fapl, STORE_SWMR_READ_ATTEMPTS);
    s->file = H5Fopen(path, H5F_ACC_RDONLY | H5F_ACC_SWMR_READ, fapl);
    char first[256]; /* before any other HDF5 call clears the error stack */
    h5_msg(first);
    if (fapl >= 0)
        H5Pclose(fapl);
    if (s->file < 0) { /* not written in SWMR mode (a merged file) or not HDF5 */
        s->swmr = 0;
        s->file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
        if (s->file < 0) {
            htri_t h5 = H5Fis_hdf5(path);
            H5Eclear2(H5E_DEFAULT);
            if (h5 <= 0)
                rc = tkd_err_set(e, TKD_EFORMAT,
                                 "cannot open store '%s': not an HDF5 file (garbage, empty or cut off before its "
                                 "superblock)",
                                 path);
            else
                rc = tkd_err_set(e, TKD_EFORMAT, "cannot open store '%s': damaged or truncated HDF5 file (%s)", path,
                                 first);
            goto fail;
        }
    }
    if ((rc = store_open_rest(s, e)))
        goto fail;
    *out = s;
    return 0;
fail:
    store_free(s);
    return rc;
}

int store_open_rest(tkd_store *s, tkd_err *e) {
    const char *path = s->path;
    int rc = 0;
    if ((s->rectype = store_record_type()) < 0)
        return tkd_err_set(e, TKD_EINTERNAL, "cannot build the record type");
    if (H5Lexists(s->file, "records", H5P_DEFAULT) <= 0 || H5Lexists(s->file, "text", H5P_DEFAULT) <= 0 ||
        (s->drec = H5Dopen2(s->file, "records", H5P_DEFAULT)) < 0 ||
        (s->dtext = H5Dopen2(s->file, "text", H5P_DEFAULT)) < 0) {
        H5Eclear2(H5E_DEFAULT);
        return tkd_err_set(e, TKD_EFORMAT, "'%s' is an HDF5 file but not a tkd store (no /records and /text)", path);
    }
    if ((rc = check_type(s, e)))
        return rc;
    char *ver = NULL;
    if (tkd_store_attr(s, "schema_version", &ver, e) == 0 && ver) {
        long v = strtol(ver, NULL, 10);
        free(ver);
        if (v > TKD_STORE_SCHEMA_VERSION || v < 1)
            return tkd_err_set(e, TKD_EFORMAT, "'%s' has store schema version %ld; this tkd reads version %d", path,
                               v, TKD_STORE_SCHEMA_VERSION);
    } else {
        return tkd_err_set(e, TKD_EFORMAT, "'%s' is not a tkd store (no schema_version attribute)", path);
    }
    return tkd_store_refresh(s, e);
}

/* ---- read ---- */

size_t tkd_store_count(const tkd_store *s) {
    return (size_t)s->nrows + (s->writer ? s->npend : 0);
}

uint64_t tkd_store_text_size(const tkd_store *s) {
    return (uint64_t)s->ntext + (s->writer ? (uint64_t)s->ptext.len : 0);
}

static herr_t read_slab(hid_t d, hid_t memtype, hsize_t start, hsize_t n, void *buf) {
    return slab_io(d, memtype, start, n, buf, 0);
}

int store_read_rows(tkd_store *s, size_t row, size_t n, tkd_record *recs, tkd_err *e) {
    size_t total = tkd_store_count(s);
    if (row > total || n > total - row)
        return tkd_err_set(e, TKD_EINVAL, "rows %zu..%zu of '%s' do not exist (it has %zu)", row, row + n, s->path,
                           total);
    size_t on_disk = (size_t)s->nrows;
    if (row < on_disk) {
        size_t k = n < on_disk - row ? n : on_disk - row;
        if (k && read_slab(s->drec, s->rectype, row, k, recs) < 0)
            return store_h5_err(e, TKD_EFORMAT, s->path, "cannot read records (damaged file?) of");
        row += k;
        recs += k;
        n -= k;
    }
    if (n) /* writer: rows still in memory */
        memcpy(recs, s->pend + (row - on_disk), n * sizeof *recs);
    return 0;
}

int store_read_bytes(tkd_store *s, uint64_t off, uint64_t len, char *buf, tkd_err *e) {
    uint64_t total = tkd_store_text_size(s);
    if (off > total || len > total - off)
        return tkd_err_set(e, TKD_EFORMAT, "text range [%llu, +%llu) is outside the %llu bytes of text in '%s'",
                           (unsigned long long)off, (unsigned long long)len, (unsigned long long)total, s->path);
    uint64_t on_disk = s->ntext;
    if (off < on_disk) {
        uint64_t k = len < on_disk - off ? len : on_disk - off;
        if (k && read_slab(s->dtext, H5T_NATIVE_UCHAR, off, k, buf) < 0)
            return store_h5_err(e, TKD_EFORMAT, s->path, "cannot read text (damaged file?) of");
        off += k;
        buf += k;
        len -= k;
    }
    if (len)
        memcpy(buf, s->ptext.data + (off - on_disk), len);
    return 0;
}

int tkd_store_read(tkd_store *s, size_t row, tkd_record *rec, tkd_err *e) {
    return store_read_rows(s, row, 1, rec, e);
}

int tkd_store_read_many(tkd_store *s, size_t row, size_t n, tkd_record *recs, tkd_err *e) {
    return store_read_rows(s, row, n, recs, e);
}

int tkd_store_read_text(tkd_store *s, const tkd_record *rec, char **text, tkd_err *e) {
    *text = NULL;
    if (rec->text_len >= (uint64_t)SIZE_MAX)
        return tkd_err_set(e, TKD_EFORMAT, "a record of '%s' claims %llu bytes of text", s->path,
                           (unsigned long long)rec->text_len);
    uint64_t total = tkd_store_text_size(s);
    if (rec->text_off > total || rec->text_len > total - rec->text_off)
        return tkd_err_set(e, TKD_EFORMAT,
                           "a record of '%s' points at text [%llu, +%llu) beyond its %llu bytes of text (damaged "
                           "file; run `tkd store verify`)",
                           s->path, (unsigned long long)rec->text_off, (unsigned long long)rec->text_len,
                           (unsigned long long)total);
    char *buf = tkd_malloc((size_t)rec->text_len + 1, e);
    if (!buf)
        return TKD_ENOMEM;
    int rc = store_read_bytes(s, rec->text_off, rec->text_len, buf, e);
    if (rc) {
        free(buf);
        return rc;
    }
    buf[rec->text_len] = '\0';
    *text = buf;
    return 0;
}

const char *tkd_store_path(const tkd_store *s) {
    return s->path;
}

/* ---- close ---- */

int tkd_store_close(tkd_store *s, tkd_err *e) {
    if (!s)
        return 0;
    int rc = 0;
    if (s->writer)
        rc = tkd_store_flush(s, e);
    hid_t file = s->file;
    s->file = -1;
    close_handles(s);
    if (file >= 0 && H5Fclose(file) < 0 && !rc)
        rc = store_h5_err(e, TKD_EIO, s->path, "cannot close store");
    H5Eclear2(H5E_DEFAULT);
    store_free(s);
    return rc;
}
