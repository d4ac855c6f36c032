#pragma once
// Elementwise activations and dtype conversions.

#include "kernel_common.cuh"

namespace folio::kernels {

// SwiGLU: each gateUp row is [gate (inter) | up (inter)] (row stride rowStride);
// out[r, i] = silu(gate[r, i]) * up[r, i] in fp32, stored as bf16 (row stride outStride).
// Errors: cudaErrorInvalidValue for inter < 1, rowStride < 2 * inter, outStride < inter,
// negative rows or null pointers.
cudaError_t launchSiluMul(const bf16* gateUp, int64_t rowStride, int64_t rows, int inter, bf16* out,
                          int64_t outStride, cudaStream_t stream);

// out[i] = in[i] for n elements, rounding to nearest even into bf16 (NaN stays NaN).
cudaError_t launchF32ToBf16(const float* in, bf16* out, int64_t n, cudaStream_t stream);
cudaError_t launchBf16ToF32(const bf16* in, float* out, int64_t n, cudaStream_t stream);

} // namespace folio::kernels
