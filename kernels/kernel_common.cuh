#pragma once
// Conventions shared by every kernel launcher:
// - plain pointers and sizes in, no engine types; bf16 is __nv_bfloat16;
// - every launcher takes a cudaStream_t and returns the cudaError_t of its launch
//   (cudaGetLastError() after the launch), so callers check every launch;
// - strides are in elements; "rows" are tokens unless a comment says otherwise;
// - activations are bf16 in memory with fp32 arithmetic inside; residuals, softmax
//   statistics and linear-attention states are fp32.

#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <cstdint>

namespace folio::kernels {

using bf16 = __nv_bfloat16;

inline unsigned ceilDiv(int64_t a, int64_t b) {
    return static_cast<unsigned>((a + b - 1) / b);
}

} // namespace folio::kernels
