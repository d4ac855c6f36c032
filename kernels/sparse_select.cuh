#pragma once
// InfLLM-V2 block selection for the queries of a prefill chunk or a decode step: stage-1
// scores of the level-1 compressed keys (normalised by the log-sum-exp over the level-2
// keys, summed over the query heads of a kv group), max-pooled per key block, plus the
// forced initial and local blocks, top-k by score.

#include "kernel_common.cuh"

#include <cstddef>

namespace folio::kernels {

struct SparseSelectParams {
    int heads = 0;   // query heads
    int kvHeads = 0; // query head h belongs to kv group h / (heads / kvHeads)
    int dim = 0;
    int blockSize = 0;
    int initBlocks = 0;
    int localBlocks = 0;
    int topkTotal = 0;
    int kernel1 = 0, stride1 = 0; // level-1 compressed keys
    int kernel2 = 0, stride2 = 0; // level-2 compressed keys (the stage-1 normaliser)
};

// Workspace for a call with `tokens` queries whose last position is at most maxPosition.
// The launcher works through the chunk in slices that fit the workspace it is given; this is
// the size it would like: 4 bytes per (query, kv group, key block), for at most
// min(tokens, a slice of about 256 MiB) queries, never less than one query's worth.
size_t sparseSelectWorkspace(const SparseSelectParams& p, int64_t tokens, int64_t maxPosition);

// For query t at absolute position startPosition + t (q row t at q + t*qRowStride, heads side
// by side) and kv group g, writes the selected blocks to blocks[(t*kvHeads + g)*topkTotal ..]:
// ascending block ids, padded with -1. k1/k2: [kvHeads] heads of rows of `dim`, head g at
// k1 + g*k1HeadStride, holding at least the keys visible to the last query (16-byte aligned,
// head strides multiples of 8). Supported: dim 16, 64 or 128; heads / kvHeads 8 or 16;
// blockSize a multiple of stride1 with blockSize / stride1 <= 64; initBlocks + localBlocks + 1
// <= topkTotal. Anything else is cudaErrorInvalidValue, as is a workspace too small for one
// query. Scores use bf16 tensor-core products with fp32 accumulation.
cudaError_t launchSparseSelect(const SparseSelectParams& p, const bf16* q, int64_t qRowStride,
                               int64_t tokens, int64_t startPosition, const bf16* k1,
                               int64_t k1HeadStride, const bf16* k2, int64_t k2HeadStride,
                               int32_t* blocks, void* workspace, size_t workspaceBytes,
                               cudaStream_t stream);

// The decode step's form, for CUDA graphs: one query (q as above) whose position is read from
// `position` in device memory and is at most maxPosition. The launch shape depends on
// maxPosition only, and the workspace must be sparseSelectWorkspace(p, 1, maxPosition) bytes;
// the selection is the same as launchSparseSelect's for that position. `next` (the layer's
// output projection in a decode step) is requested into L2 by the selection's first kernel once
// it has waited: the selection and the attention after it leave DRAM mostly idle.
cudaError_t launchSparseSelectStep(const SparseSelectParams& p, const bf16* q,
                                   const int64_t* position, int64_t maxPosition, const bf16* k1,
                                   int64_t k1HeadStride, const bf16* k2, int64_t k2HeadStride,
                                   int32_t* blocks, void* workspace, size_t workspaceBytes,
                                   cudaStream_t stream, L2Range next = {});

} // namespace folio::kernels
