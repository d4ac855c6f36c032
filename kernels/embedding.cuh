#pragma once
// Token embedding lookup.

#include "kernel_common.cuh"

namespace folio::kernels {

// h[t, :] = table[ids[t], :] * scale as f32; table is [vocab, hidden] bf16, h is [tokens, hidden].
// ids live on the device. A row whose id is outside [0, vocab) is filled with NaN rather than
// read out of bounds, so a bad id surfaces in the logits instead of corrupting memory.
// Errors: cudaErrorInvalidValue for negative sizes or null pointers (with tokens > 0).
cudaError_t launchEmbedding(const bf16* table, int64_t vocab, int hidden, const int32_t* ids,
                            int64_t tokens, float scale, float* h, cudaStream_t stream);

} // namespace folio::kernels
