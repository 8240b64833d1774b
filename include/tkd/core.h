/*
 * core: what every other module stands on. Error codes and messages, the
 * logger (the one piece of global mutable state), growable byte buffers,
 * SHA-256, a seeded RNG, clocks and small text helpers.
 *
 * Error convention: a function that can fail returns int (0 ok, a negative
 * TKD_E* code) and fills a tkd_err with a message a user can act on: what
 * failed, on which input, and what to do. Library code never calls exit().
 */
#ifndef TKD_CORE_H
#define TKD_CORE_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* ---- errors: the one place the codes are documented ---- */
enum {
    TKD_OK = 0,
    TKD_EINVAL = -1,    /* bad input from outside: job file, dataset, argument */
    TKD_ENOMEM = -2,    /* an allocation failed */
    TKD_EIO = -3,       /* a file or device could not be read or written */
    TKD_EFORMAT = -4,   /* a file exists but its content is malformed */
    TKD_ELIMIT = -5,    /* a named limit (size, depth, time, memory) was exceeded */
    TKD_ETIMEOUT = -6,  /* a time budget ran out */
    TKD_ENOTFOUND = -7, /* a named thing (key, file, tool, id) does not exist */
    TKD_ESTOP = -8,     /* stopped on request (SIGTERM/SIGUSR1); resumable */
    TKD_EMPI = -9,      /* an MPI call failed */
    TKD_EUSAGE = -10,   /* bad command line */
    TKD_ENET = -11,     /* network or remote service failure */
    TKD_EMATH = -12,    /* mathematically undefined or unsupported (1/0, ...) */
    TKD_EINTERNAL = -13, /* a bug in tkd: please report it */
    TKD_EBUSY = -14      /* held by another run (the output folder's lock); exit 2 */
};

#define TKD_ERR_MSG_MAX 1024

typedef struct tkd_err {
    int code;
    char msg[TKD_ERR_MSG_MAX];
} tkd_err;

/* Fill *e (may be NULL) with code and a printf-style message; returns code. */
int tkd_err_set(tkd_err *e, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Prefix an existing message with more context ("reading X: <old msg>"). */
int tkd_err_wrap(tkd_err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void tkd_err_clear(tkd_err *e);
const char *tkd_strerror(int code);

/* Process exit codes, decided only by cli/. */
enum { TKD_EXIT_OK = 0, TKD_EXIT_FAIL = 1, TKD_EXIT_USAGE = 2, TKD_EXIT_STOPPED = 3 };
int tkd_exit_code(int err_code);

/* ---- logging: lines on stderr, readable in a Slurm output file ---- */
typedef enum { TKD_LOG_DEBUG = 0, TKD_LOG_INFO, TKD_LOG_WARN, TKD_LOG_ERROR, TKD_LOG_QUIET } tkd_log_level;

void tkd_log_set_level(tkd_log_level lvl);
void tkd_log_set_rank(int rank); /* -1: no rank prefix */
tkd_log_level tkd_log_get_level(void);
void tkd_log(tkd_log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define tkd_log_debug(...) tkd_log(TKD_LOG_DEBUG, __VA_ARGS__)
#define tkd_log_info(...) tkd_log(TKD_LOG_INFO, __VA_ARGS__)
#define tkd_log_warn(...) tkd_log(TKD_LOG_WARN, __VA_ARGS__)
#define tkd_log_error(...) tkd_log(TKD_LOG_ERROR, __VA_ARGS__)

/* ---- checked allocation helpers: return NULL and fill e on failure ---- */
void *tkd_malloc(size_t n, tkd_err *e);
void *tkd_calloc(size_t count, size_t size, tkd_err *e);
void *tkd_realloc(void *p, size_t n, tkd_err *e);
char *tkd_strdup(const char *s, tkd_err *e);
char *tkd_strndup(const char *s, size_t n, tkd_err *e);

/* ---- growable byte buffer, always NUL-terminated ---- */
typedef struct tkd_buf {
    char *data;
    size_t len;
    size_t cap;
} tkd_buf;

void tkd_buf_init(tkd_buf *b);
void tkd_buf_free(tkd_buf *b);
void tkd_buf_reset(tkd_buf *b); /* len = 0, keeps memory */
int tkd_buf_reserve(tkd_buf *b, size_t extra);
int tkd_buf_append(tkd_buf *b, const void *p, size_t n);
int tkd_buf_puts(tkd_buf *b, const char *s);
int tkd_buf_putc(tkd_buf *b, char c);
int tkd_buf_printf(tkd_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int tkd_buf_vprintf(tkd_buf *b, const char *fmt, va_list ap);
/* Hand the bytes to the caller (who frees them); b is left empty. */
char *tkd_buf_steal(tkd_buf *b);

/* Read a whole file (NUL-terminated; *len excludes the NUL). */
int tkd_file_read(const char *path, char **out, size_t *len, tkd_err *e);
/* Where a write to path lands: the target of path when it is a symbolic
 * link (relative targets taken from the link's folder), else path itself;
 * caller frees. A sweep links an arm's outputs into shared stage folders. */
char *tkd_path_follow(const char *path, tkd_err *e);
/* Write a whole file crash-safely: temp name in the same folder, fsync, rename
 * (through a symbolic link at path: the link stays, its target is replaced). */
int tkd_file_write_atomic(const char *path, const void *data, size_t len, tkd_err *e);
/* mkdir -p */
int tkd_mkdirs(const char *path, tkd_err *e);
/* Read exactly n bytes from fd (retrying on EINTR): 0, or -1 on an error or end of file first. */
int tkd_read_full(int fd, void *p, size_t n);

/* ---- SHA-256 ---- */
typedef struct tkd_sha256 {
    uint32_t h[8];
    uint64_t nbytes;
    uint8_t block[64];
    size_t fill;
} tkd_sha256;

void tkd_sha256_init(tkd_sha256 *s);
void tkd_sha256_update(tkd_sha256 *s, const void *p, size_t n);
void tkd_sha256_final(tkd_sha256 *s, uint8_t out[32]);
/* Hex digest (65 bytes with NUL) of a memory range or of a file. */
void tkd_sha256_hex(const void *p, size_t n, char out[65]);
int tkd_sha256_file(const char *path, char out[65], tkd_err *e);
/* 64-bit hash of bytes (first 8 bytes of SHA-256, big-endian): stable ids. */
uint64_t tkd_hash64(const void *p, size_t n);

/* ---- RNG: xoshiro256** seeded by splitmix64; reproducible everywhere ---- */
typedef struct tkd_rng {
    uint64_t s[4];
} tkd_rng;

void tkd_rng_seed(tkd_rng *r, uint64_t seed);
uint64_t tkd_rng_u64(tkd_rng *r);
double tkd_rng_uniform(tkd_rng *r); /* [0, 1) */
uint64_t tkd_rng_below(tkd_rng *r, uint64_t n); /* [0, n) without bias */

/* ---- clocks ---- */
double tkd_now(void);      /* monotonic seconds */
double tkd_wall_time(void); /* Unix time, seconds */
void tkd_wall_iso(char out[32]); /* 2026-11-22T05:43:39Z */

/* ---- text helpers ---- */
/*
 * The content of the last \boxed{...} or \fbox{...} in text, with brace
 * matching (also "\boxed 5" without braces). Returns a malloc'd string or
 * NULL when there is none (or on allocation failure).
 */
char *tkd_text_last_boxed(const char *text);
/* Index just past the brace group starting at s[i] == '{' (\{ and \} do not
 * count), or 0 if it is unbalanced. The one brace matcher (grade uses it too). */
size_t tkd_text_match_brace(const char *s, size_t i);
/* Trim ASCII whitespace in place; returns s. */
char *tkd_text_trim(char *s);
/* Levenshtein distance, capped at cap (for "did you mean" hints). */
size_t tkd_text_edit_distance(const char *a, const char *b, size_t cap);
/* True if s is valid UTF-8 of n bytes. */
int tkd_text_utf8_valid(const char *s, size_t n);
/* Remove a UTF-8 byte-order mark (EF BB BF) from the start of the n bytes
 * of s (NUL-terminated), in place; returns the new length. Editors on
 * Windows write one; every JSONL reader strips it from line 1. */
size_t tkd_text_strip_bom(char *s, size_t n);

#endif
