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

} // namespace sala::cuda

#define SALA_CUDA(expr) SALA_TRY(::sala::cuda::cudaStatus((expr), #expr))
#define SALA_CUBLAS(expr) SALA_TRY(::sala::cuda::cublasStatus((expr), #expr))
