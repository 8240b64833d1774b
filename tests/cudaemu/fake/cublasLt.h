/* A stand-in for cuBLASLt's header (tests/cudaemu): only the types the
 * CUDA model's private header names; the products are emulated in emu.cpp. */
#ifndef TKD_EMU_CUBLASLT_H
#define TKD_EMU_CUBLASLT_H

typedef enum { CUBLAS_STATUS_SUCCESS = 0 } cublasStatus_t;
typedef struct emu_lt *cublasLtHandle_t;
typedef struct emu_desc *cublasLtMatmulDesc_t;
typedef struct emu_layout *cublasLtMatrixLayout_t;
typedef struct {
    unsigned long long data[8];
} cublasLtMatmulAlgo_t;

#endif
