/*
 * store: what the files of src/store share and nobody else sees. The open
 * store handle, the HDF5 error helpers and the keyset (an open-addressing
 * hash set of 128-bit keys behind tkd_idset and the merge's duplicate check).
 */
#ifndef TKD_STORE_INT_H
#define TKD_STORE_INT_H

#include "tkd/store.h"

#include <hdf5.h>

/* Chunk sizes: records in rows, text in bytes. A flush rewrites the last
 * partial chunk, so chunks stay small enough that frequent flushes are cheap. */
#define STORE_REC_CHUNK 512
#define STORE_TEXT_CHUNK 65536
/* Rows and text bytes a reader pulls per HDF5 call in merge/export/done-set. */
#define STORE_READ_BLOCK 4096
/* Largest text span a reader pulls in one call; a block over it is read row by row. */
#define STORE_SPAN_MAX ((uint64_t)64 << 20)
/* Metadata read attempts of a SWMR reader (each retry sleeps twice as long;
 * from 1 ns: 24 attempts wait about 16 ms in all, 100 would wait for ages). */
#define STORE_SWMR_READ_ATTEMPTS 24
/* Rows per flush unless tkd_store_set_flush_every says otherwise. */
#define STORE_FLUSH_DEFAULT 64

struct tkd_store {
    char *path;
    hid_t file, drec, dtext, rectype;
    int writer; /* 1: we append; 0: read-only */
    int swmr;   /* writer in SWMR mode (shards) or not (merge output) */
    size_t flush_every;
    hsize_t nrows; /* rows in /records on disk (reader: at open/refresh) */
    hsize_t ntext; /* bytes in /text on disk */
    /* writer: rows and text not yet written */
    tkd_record *pend;
    size_t npend, cap_pend;
    tkd_buf ptext;
    /* a shard cut short opened from a zero-padded image (salvage.c) */
    uint64_t file_bytes, file_bytes_expected; /* both 0 when not */
    void *image, *image_udata;
    size_t image_len;
    void (*image_free)(tkd_store *s); /* after the file is closed */
};

/* An empty handle for path (every id -1); store_free releases any handle. */
tkd_store *store_new(const char *path, tkd_err *e);
void store_free(tkd_store *s);
/* After s->file is open: the datasets, their types, the schema version, the sizes. */
int store_open_rest(tkd_store *s, tkd_err *e);
/* tkd_store_open, and for a file HDF5 refuses as truncated (a closed shard cut
 * short), an open of its zero-padded image: what was lost reads as zeros,
 * which the row checks of tkd_store_scan refuse. For the verifying readers. */
int store_open_salvage(const char *path, tkd_store **out, tkd_err *e);

/* Turn off HDF5's own error printing (idempotent; per thread). */
void store_h5_quiet(void);
/* Fill e with code and "<what> '<path>': <HDF5's innermost message>". */
int store_h5_err(tkd_err *e, int code, const char *path, const char *what);
/* The memory (and file) compound type matching tkd_record; caller closes. */
hid_t store_record_type(void);
/* Open for writing without SWMR (merge output): same layout as a shard. */
int store_create_plain(const char *path, const tkd_store_meta *meta, tkd_store **out, tkd_err *e);
/* Write a root string attribute (fixed length, NUL-terminated). */
int store_put_attr_str(hid_t loc, const char *name, const char *value, const char *path, tkd_err *e);
/* Read n rows starting at row into recs (trusts only rows below nrows). */
int store_read_rows(tkd_store *s, size_t row, size_t n, tkd_record *recs, tkd_err *e);
/* Read text bytes [off, off+len) into buf (caller sized it); range-checked. */
int store_read_bytes(tkd_store *s, uint64_t off, uint64_t len, char *buf, tkd_err *e);
/* Sorted list of the *.h5 files directly in dir; *n 0 and 0 returned when dir
 * does not exist and missing_ok. Caller frees with store_free_list. */
int store_list_h5(const char *dir, int missing_ok, char ***names, size_t *n, tkd_err *e);
void store_free_list(char **names, size_t n);
/* 1 when text[0..n) is one valid JSON text (RFC 8259, UTF-8, no NUL byte). */
int store_json_valid(const char *text, size_t n);

/* ---- keyset: 128-bit keys, open addressing, linear probing ---- */
typedef struct store_keyset {
    uint64_t *k; /* 2 words per slot */
    uint8_t *used;
    size_t cap, n; /* cap is a power of two */
} store_keyset;

void store_keyset_init(store_keyset *ks);
void store_keyset_free(store_keyset *ks);
int store_keyset_add(store_keyset *ks, uint64_t a, uint64_t b); /* 1 added, 0 present, <0 ENOMEM */
int store_keyset_has(const store_keyset *ks, uint64_t a, uint64_t b);

#endif
