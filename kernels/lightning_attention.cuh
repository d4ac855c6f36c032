#pragma once
// Lightning attention (simple gated linear attention with a fixed decay per head).
// Per head h with gamma = exp(-slope_h) and c = dim^-1/2, over tokens t:
//     S_t = gamma * S_{t-1} + k_t v_t^T      (S is [dim (keys), dim (values)] in fp32)
//     o_t = c * q_t^T S_t                    (the current token included)
// q and k arrive normalised and rotated. Twin: sala::cpu::lightningChunked / lightningRecurrent.
//
// Common requirements (violations return cudaErrorInvalidValue before touching the GPU):
// dim is 16, 32, 64 or 128; heads > 0; pointers non-null; state 32-byte aligned (as
// cudaMalloc gives); row strides at least heads * dim.

#include "kernel_common.cuh"

namespace folio::kernels {

// Prefill of `tokens` tokens in the chunked form (chunk 64: masked quadratic form inside a
// chunk, the fp32 state across chunks), continuing from `state` and leaving the state after
// the last token there, so consecutive calls equal one long call. q, k, v: row t of each at
// ptr + t * rowStride, heads * dim values. out: row t at out + t * outStride.
// slopes: device [heads]; state: device [heads, dim, dim]. tokens == 0 does nothing.
// Long calls are split into segments processed in parallel (a per-segment state summary, a
// scan over segments, then the outputs), using stream-ordered scratch from cudaMallocAsync
// when available.
cudaError_t launchLightningPrefill(const bf16* q, const bf16* k, const bf16* v, int64_t rowStride,
                                   int64_t tokens, int heads, int dim, const float* slopes,
                                   float* state, bf16* out, int64_t outStride, cudaStream_t stream);

// One decode token: S = gamma S + k v^T, o = c q^T S. q, k, v, out: [heads * dim] each.
// state must be 16-byte aligned. A programmatic dependent (dependent_launch.cuh) that reads the
// state before it waits: the kernel launched just before it may write q, k and v, but not the
// state (in a decode step the state's last writer is the layer's previous step). `next` (the
// layer's output projection in a decode step) is requested into L2 once the kernel has waited.
cudaError_t launchLightningDecode(const bf16* q, const bf16* k, const bf16* v, int heads, int dim,
                                  const float* slopes, float* state, bf16* out, cudaStream_t stream,
                                  L2Range next = {});

} // namespace folio::kernels
