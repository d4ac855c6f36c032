#pragma once
// Per-head RMSNorm of q/k and rotary position embedding (rotate-half layout).

#include "kernel_common.cuh"

namespace folio::kernels {

constexpr int kMaxRopeHeadDim = 256;

// In place on a [rows, heads * dim] bf16 section with row stride rowStride (elements). For each
// head vector of each row, in fp32:
//  1. if normWeight is not null: RMSNorm over dim with that weight (shared by all heads);
//  2. if rope: rotate-half RoPE over the full dim at position startPosition + row (the start
//     given on the host or read from the device, see Position), with
//     inv_freq_i = theta^(-2i/dim). The angle position * inv_freq_i is formed in double and
//     reduced modulo 2*pi before the float sine/cosine, so its error does not grow with the
//     position (positions past 2^20 stay as accurate as position 1).
// With neither step nothing is launched. A programmatic dependent (dependent_launch.cuh) that
// reads a device position and the norm weights before it waits: the kernel launched just before
// it may write x, not those.
// Errors: cudaErrorInvalidValue for dim odd or outside [2, kMaxRopeHeadDim], heads < 1,
// rowStride < heads * dim, negative rows or startPosition, a null x.
cudaError_t launchHeadNormRope(bf16* x, int64_t rowStride, int64_t rows, int heads, int dim,
                               const bf16* normWeight, float eps, bool rope, Position startPosition,
                               double theta, cudaStream_t stream);

// Two groups of heads back to back in each row, as q and k of a layer are: the first `heads`
// heads normalised with normWeight, the next `secondHeads` with secondNormWeight (either may be
// null), both rotated alike; one launch instead of two. Errors as above, and for a negative
// secondHeads or rowStride < (heads + secondHeads) * dim.
cudaError_t launchHeadNormRopePair(bf16* x, int64_t rowStride, int64_t rows, int heads,
                                   const bf16* normWeight, int secondHeads,
                                   const bf16* secondNormWeight, int dim, float eps, bool rope,
                                   Position startPosition, double theta, cudaStream_t stream);

} // namespace folio::kernels
