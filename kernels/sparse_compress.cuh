#pragma once
// InfLLM-V2 compressed keys: mean pooling of the cached keys of a sparse layer over windows of
// `kernel` keys every `stride` keys (level 1: 32/16, level 2: 128/64 in the real model).

#include "kernel_common.cuh"

namespace folio::kernels {

// out[g][j] = mean(keys[g][j*stride .. j*stride+kernel-1]) for j in [firstIndex,
// firstIndex+count) and every kv head g: fp32 sums, one bf16 rounding at the end, as the
// reference does. keys: [kvHeads] heads of rows of `dim`, head g at keys + g*keyHeadStride
// (likewise out). The engine calls it after each append for the windows that append
// completed, so earlier windows are never rewritten. count == 0 launches nothing.
cudaError_t launchCompressKeys(const bf16* keys, int64_t keyHeadStride, int kvHeads, int dim,
                               int kernel, int stride, int64_t firstIndex, int64_t count, bf16* out,
                               int64_t outHeadStride, cudaStream_t stream);

struct CompressLevel {
    int kernel = 0, stride = 0;
    bf16* out = nullptr;
    int64_t outHeadStride = 0;
};

// A decode step's append and compression in one launch: the key and value of the token at
// *position (rows of kvHeads * dim, keys and values) go to keyCache and valueCache (heads
// headStride elements apart) as launchAppendKeysValues puts them, and the windows of both levels
// that key completes are compressed, bit for bit as launchCompressKeys compresses them.
cudaError_t launchAppendCompressStep(const bf16* keys, const bf16* values, int kvHeads, int dim,
                                     bf16* keyCache, bf16* valueCache, int64_t headStride,
                                     const CompressLevel& first, const CompressLevel& second,
                                     const int64_t* position, cudaStream_t stream);

} // namespace folio::kernels
