#pragma once
// Row-wise RMSNorm of the residual stream, and the output norm/gate of the attention mixers.

#include "kernel_common.cuh"

namespace folio::kernels {

// Widest row the norm kernels accept.
constexpr int kMaxNormWidth = 16384;

// For each of `rows` rows: y = x / sqrt(mean(x^2) + eps) * weight, in fp32; written as bf16 to
// out (row stride outStride) and, when outF32 is not null, also as f32 to outF32 [rows, width]
// (contiguous). x is f32 with row stride xStride.
// Errors: cudaErrorInvalidValue for width outside [1, kMaxNormWidth], strides below width,
// negative rows or null pointers.
cudaError_t launchRmsNorm(const float* x, int64_t xStride, int64_t rows, int width,
                          const bf16* weight, float eps, bf16* out, int64_t outStride,
                          float* outF32, cudaStream_t stream);

// In place on bf16 rows of o: o = (normWeight ? rmsnorm(o) * normWeight : o) * sigmoid(gate),
// where a null gate means a factor of 1 (gate row stride gateStride). Lightning layers use the
// norm (width 4096) and the gate; sparse layers the gate only. With neither, nothing is launched.
// Errors: as launchRmsNorm.
cudaError_t launchGatedNorm(bf16* o, int64_t oStride, int64_t rows, int width,
                            const bf16* normWeight, float eps, const bf16* gate, int64_t gateStride,
                            cudaStream_t stream);

} // namespace folio::kernels
