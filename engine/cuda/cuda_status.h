#pragma once
// CUDA and cuBLAS return codes turned into engine errors: every call is checked.

#include "result.h"

#include <cublasLt.h>
#include <cuda_runtime.h>

#include <string>

namespace sala::cuda {

inline Status cudaStatus(cudaError_t e, const char* what) {
    if (e == cudaSuccess) return {};
    const ErrorCode code =
        e == cudaErrorMemoryAllocation ? ErrorCode::OutOfMemory : ErrorCode::Internal;
    return makeError(code, std::string(what) + ": " + cudaGetErrorString(e));
}

inline Status cublasStatus(cublasStatus_t s, const char* what) {
    if (s == CUBLAS_STATUS_SUCCESS) return {};
    const ErrorCode code =
        s == CUBLAS_STATUS_ALLOC_FAILED ? ErrorCode::OutOfMemory : ErrorCode::Internal;
    return makeError(code, std::string(what) + ": cuBLAS status " + std::to_string(int(s)));
}

// A copy on `stream`, waited for. The engine's stream does not synchronize with the legacy
// default stream, where cudaMemcpy runs: a plain cudaMemcpy from pageable memory may return
// before its data lands, and one to the host may read buffers the stream is still writing.
inline Status copyAndWait(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind,
                          cudaStream_t stream, const char* what) {
    if (Status st = cudaStatus(cudaMemcpyAsync(dst, src, bytes, kind, stream), what); !st.ok())
        return st;
    return cudaStatus(cudaStreamSynchronize(stream), what);
}

} // namespace sala::cuda

#define SALA_CUDA(expr) SALA_TRY(::sala::cuda::cudaStatus((expr), #expr))
#define SALA_CUBLAS(expr) SALA_TRY(::sala::cuda::cublasStatus((expr), #expr))
