/*
 * safetensors: the Hugging Face tensor file format, read by mmap and written
 * crash-safely. A file is an 8-byte little-endian header length, a JSON header
 * {"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, ...,
 * "__metadata__": {...}} and the raw little-endian data after it.
 *
 * tkd_st_open takes a .safetensors file, a model.safetensors.index.json, or a
 * folder holding either (sharded checkpoints are opened shard by shard and
 * seen as one set of tensors). Errors name the file and the tensor.
 */
#ifndef TKD_SAFETENSORS_H
#define TKD_SAFETENSORS_H

#include "tkd/core.h"

#include <stdint.h>

#define TKD_ST_MAX_DIMS 8
#define TKD_ST_MAX_HEADER (100u << 20) /* a header above 100 MB is refused */

typedef enum { TKD_ST_F32 = 0, TKD_ST_F16, TKD_ST_BF16, TKD_ST_OTHER } tkd_st_dtype;

typedef struct tkd_st_tensor {
    char *name;
    tkd_st_dtype dtype;
    char dtype_name[16]; /* as written in the header ("F32", "I64", ...) */
    int ndim;
    int64_t shape[TKD_ST_MAX_DIMS];
    const void *data; /* into the mmapped file */
    size_t nbytes;
    int file; /* index into tkd_st.files */
} tkd_st_tensor;

typedef struct tkd_st {
    int n_files;
    char **files; /* paths */
    void **maps;
    size_t *map_len;
    int n;
    tkd_st_tensor *t;
    char *metadata; /* "__metadata__" of the first file as JSON text, or NULL */
} tkd_st;

int tkd_st_open(const char *path, tkd_st *st, tkd_err *e);
void tkd_st_close(tkd_st *st);
const tkd_st_tensor *tkd_st_find(const tkd_st *st, const char *name);
size_t tkd_st_numel(const tkd_st_tensor *t);
/*
 * Copy tensor `name` into dst as fp32 (converting f16/bf16), checking that
 * its shape is exactly shape[0..ndim). Missing tensor: TKD_ENOTFOUND.
 */
int tkd_st_read_f32(const tkd_st *st, const char *name, float *dst, const int64_t *shape, int ndim, tkd_err *e);

/* One tensor to write (fp32 in memory). */
typedef struct tkd_st_entry {
    const char *name;
    const float *data;
    int ndim;
    int64_t shape[TKD_ST_MAX_DIMS];
} tkd_st_entry;

/*
 * Write n tensors to path (temp file, fsync, rename) as F32, or as BF16 when
 * bf16 is set (round to nearest even). metadata: a JSON object text of
 * string values for "__metadata__", or NULL.
 */
int tkd_st_write(const char *path, const tkd_st_entry *t, int n, int bf16, const char *metadata, tkd_err *e);

float tkd_bf16_to_f32(uint16_t h);
uint16_t tkd_f32_to_bf16(float f);
float tkd_f16_to_f32(uint16_t h);

#endif
