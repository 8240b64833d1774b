/*
 * A stand-in for the CUDA runtime's header, for the CPU emulation of the
 * CUDA model (tests/cudaemu): the types and calls model.cu and
 * model_pass.cu use, renamed (emu_*) so they can never meet the real
 * libcudart. Device memory is host memory; streams run at once.
 */
#ifndef TKD_EMU_CUDA_RUNTIME_H
#define TKD_EMU_CUDA_RUNTIME_H

#include <stddef.h>

typedef enum cudaError { cudaSuccess = 0, cudaErrorInvalidValue = 1, cudaErrorMemoryAllocation = 2 } cudaError_t;
typedef struct emu_stream *cudaStream_t;
enum cudaMemcpyKind { cudaMemcpyHostToHost, cudaMemcpyHostToDevice, cudaMemcpyDeviceToHost, cudaMemcpyDeviceToDevice };
enum cudaDeviceAttr { cudaDevAttrClockRate = 13 };
#define cudaStreamNonBlocking 0x01

typedef struct cudaDeviceProp {
    char name[256];
    size_t totalGlobalMem;
    int multiProcessorCount, major, minor;
} cudaDeviceProp;

#define cudaGetErrorString emu_cudaGetErrorString
#define cudaGetLastError emu_cudaGetLastError
#define cudaGetDeviceCount emu_cudaGetDeviceCount
#define cudaGetDeviceProperties emu_cudaGetDeviceProperties
#define cudaDeviceGetAttribute emu_cudaDeviceGetAttribute
#define cudaSetDevice emu_cudaSetDevice
#define cudaMemGetInfo emu_cudaMemGetInfo
#define cudaMalloc emu_cudaMalloc
#define cudaFree emu_cudaFree
#define cudaMemcpyAsync emu_cudaMemcpyAsync
#define cudaMemsetAsync emu_cudaMemsetAsync
#define cudaStreamCreateWithFlags emu_cudaStreamCreateWithFlags
#define cudaStreamDestroy emu_cudaStreamDestroy
#define cudaStreamSynchronize emu_cudaStreamSynchronize

extern "C" {
const char *cudaGetErrorString(cudaError_t e);
cudaError_t cudaGetLastError(void);
cudaError_t cudaGetDeviceCount(int *n);
cudaError_t cudaGetDeviceProperties(cudaDeviceProp *p, int dev);
cudaError_t cudaDeviceGetAttribute(int *v, enum cudaDeviceAttr a, int dev);
cudaError_t cudaSetDevice(int dev);
cudaError_t cudaMemGetInfo(size_t *free_b, size_t *total_b);
cudaError_t cudaMalloc(void **p, size_t n);
cudaError_t cudaFree(void *p);
cudaError_t cudaMemcpyAsync(void *dst, const void *src, size_t n, enum cudaMemcpyKind k, cudaStream_t s);
cudaError_t cudaMemsetAsync(void *p, int v, size_t n, cudaStream_t s);
cudaError_t cudaStreamCreateWithFlags(cudaStream_t *s, unsigned flags);
cudaError_t cudaStreamDestroy(cudaStream_t s);
cudaError_t cudaStreamSynchronize(cudaStream_t s);
}

#endif
