/*
 * store: open a closed shard that was cut short. HDF5 refuses a closed file
 * shorter than the end-of-file address in its superblock ("truncated file"),
 * although every row written before the cut is still on disk. (A shard whose
 * writer was killed still carries its SWMR-writing flag, and HDF5 skips that
 * check for it: such a shard opens, and reads zeros past the cut.) Here the
 * file is mapped, padded with zeros to that address, and opened from memory
 * through the core driver with callbacks that hand HDF5 the mapping itself
 * instead of a copy, so the cost is the pages HDF5 touches. Zeros are what
 * tkd_store_scan refuses, so only verified rows come out.
 */
#include "store_int.h"

#include <H5FDcore.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* The end-of-file address of a version 2 or 3 superblock at offset 0 (tkd
 * writes libver latest: version 3), or 0 when fd has none. Layout:
 * signature (8), version, size of offsets, size of lengths, flags (1 each),
 * base address, extension address, end-of-file address, root (O each). */
static uint64_t stored_eof(int fd) {
    unsigned char sb[48];
    if (pread(fd, sb, sizeof sb, 0) != (ssize_t)sizeof sb || memcmp(sb, "\211HDF\r\n\032\n", 8) ||
        (sb[8] != 2 && sb[8] != 3) || sb[9] != 8)
        return 0;
    uint64_t eof = 0;
    for (int i = 7; i >= 0; i--)
        eof = eof << 8 | sb[12 + 16 + i];
    return eof;
}

/* The file image callbacks: HDF5 gets the mapping, never a copy of it. */
typedef struct {
    void *buf;
    size_t len;
} image_udata;

static void *img_malloc(size_t size, H5FD_file_image_op_t op, void *udata) {
    (void)op;
    image_udata *u = udata;
    return size <= u->len ? u->buf : NULL;
}

static void *img_memcpy(void *dest, const void *src, size_t size, H5FD_file_image_op_t op, void *udata) {
    (void)size;
    (void)op;
    (void)udata;
    return dest == src ? dest : NULL; /* only ever "copied" onto itself */
}

static void *img_realloc(void *ptr, size_t size, H5FD_file_image_op_t op, void *udata) {
    (void)ptr;
    (void)size;
    (void)op;
    (void)udata;
    return NULL; /* read-only */
}

static herr_t img_free(void *ptr, H5FD_file_image_op_t op, void *udata) {
    (void)ptr;
    (void)op;
    (void)udata;
    return 0; /* the mapping belongs to the store handle */
}

static void *udata_copy(void *udata) {
    return udata;
}

static herr_t udata_free(void *udata) {
    (void)udata;
    return 0;
}

static void unmap(tkd_store *s) {
    if (s->image)
        munmap(s->image, s->image_len);
    free(s->image_udata);
    s->image = NULL;
    s->image_udata = NULL;
}

/* Map path (size bytes) into a zero-filled region of len bytes. */
static void *map_padded(int fd, size_t size, size_t len) {
    void *base = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (base == MAP_FAILED)
        return NULL;
    /* the file's pages over the start; past its end the page is zero-filled */
    if (size && mmap(base, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED, fd, 0) == MAP_FAILED) {
        munmap(base, len);
        return NULL;
    }
    return base;
}

int store_open_salvage(const char *path, tkd_store **out, tkd_err *e) {
    tkd_err oe = {0};
    int rc = tkd_store_open(path, out, &oe);
    if (rc == 0 || !strstr(oe.msg, "truncated file")) {
        if (e && rc)
            *e = oe;
        return rc;
    }
    int fd = open(path, O_RDONLY);
    struct stat st;
    uint64_t eof = fd >= 0 && fstat(fd, &st) == 0 ? stored_eof(fd) : 0;
    if (!eof || eof <= (uint64_t)st.st_size || eof > (uint64_t)SIZE_MAX) {
        if (fd >= 0)
            close(fd);
        if (e)
            *e = oe;
        return rc;
    }
    tkd_store *s = store_new(path, e);
    if (!s) {
        close(fd);
        return TKD_ENOMEM;
    }
    s->image_len = (size_t)eof;
    s->image = map_padded(fd, (size_t)st.st_size, s->image_len);
    close(fd);
    s->image_udata = malloc(sizeof(image_udata));
    s->image_free = unmap;
    s->file_bytes = (uint64_t)st.st_size;
    s->file_bytes_expected = eof;
    hid_t fapl = -1;
    if (!s->image || !s->image_udata) {
        rc = tkd_err_set(e, TKD_EFORMAT, "%s (and it cannot be mapped to read what is left: %s)", oe.msg,
                         strerror(errno));
        goto fail;
    }
    image_udata *u = s->image_udata;
    u->buf = s->image;
    u->len = s->image_len;
    H5FD_file_image_callbacks_t cb = {img_malloc, img_memcpy, img_realloc, img_free, udata_copy, udata_free, u};
    /* the core driver refuses an image whose name is an existing file */
    char name[64];
    snprintf(name, sizeof name, "/nonexistent/tkd-image-%ld-%p", (long)getpid(), (void *)s);
    fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (fapl < 0 || H5Pset_fapl_core(fapl, 1 << 20, 0) < 0 || H5Pset_file_image_callbacks(fapl, &cb) < 0 ||
        H5Pset_file_image(fapl, s->image, s->image_len) < 0 || (s->file = H5Fopen(name, H5F_ACC_RDONLY, fapl)) < 0) {
        tkd_err he = {0};
        store_h5_err(&he, TKD_EFORMAT, path, "cannot open the image of");
        rc = tkd_err_set(e, TKD_EFORMAT, "%s (and what is left does not open either: %s)", oe.msg, he.msg);
        goto fail;
    }
    H5Pclose(fapl);
    fapl = -1;
    if ((rc = store_open_rest(s, &oe))) {
        rc = tkd_err_set(e, rc, "cannot open store '%s': cut short at %llu of %llu bytes, and what is left %s", path,
                         (unsigned long long)st.st_size, (unsigned long long)eof,
                         strstr(oe.msg, "not a tkd store") ? "holds no store" : "is unreadable");
        goto fail;
    }
    *out = s;
    return 0;
fail:
    if (fapl >= 0)
        H5Pclose(fapl);
    store_free(s);
    return rc;
}
