#pragma once
// Appending projected keys/values to a sparse layer's cache.

#include "kernel_common.cuh"

namespace folio::kernels {

// dst[g][startPosition + t][:] = src[t][g * dim : (g + 1) * dim] for t < tokens, g < kvHeads.
// src rows are `srcRowStride` elements apart; dst heads are `dstHeadStride` elements apart. The
// start position may live in device memory (see Position).
cudaError_t launchAppendKv(const bf16* src, int64_t srcRowStride, int64_t tokens, int kvHeads,
                           int dim, bf16* dst, int64_t dstHeadStride, Position startPosition,
                           cudaStream_t stream);

// A layer's keys and values in one launch: launchAppendKv from `keys` into keyCache and from
// `values` into valueCache, with the same strides and start position.
cudaError_t launchAppendKeysValues(const bf16* keys, const bf16* values, int64_t srcRowStride,
                                   int64_t tokens, int kvHeads, int dim, bf16* keyCache,
                                   bf16* valueCache, int64_t dstHeadStride, Position startPosition,
                                   cudaStream_t stream);

} // namespace folio::kernels
