#pragma once
// InfLLM-V2 stage 2: block-sparse softmax attention over the blocks chosen per query.
//
// Query token t at absolute position p, query head h, kv group g = h / (heads / kvHeads):
// softmax with scale dim^-1/2 over the keys u <= p inside the chosen blocks of (t, g), and
// the matching weighted sum of values. Block lists hold ascending block ids; negative
// entries are unused padding. Keys/values: [kvHeads][capacity][dim] bf16 with head stride
// `kvHeadStride` (= capacity * dim); they must already hold the keys of the queries.
// Supported: dim in {16, 32, 64, 128}, heads a multiple of kvHeads. A query with no visible
// key in its blocks gets zeros. Invalid arguments give cudaErrorInvalidValue, nothing runs.

#include "kernel_common.cuh"

#include <cstddef>

namespace folio::kernels {

// Prefill: `tokens` queries at positions startPosition.., q/out rows [tokens, heads * dim]
// (row strides in elements, even), blocks [tokens, kvHeads, topkTotal]. A thread block keeps
// the lists of its few tokens in shared memory, so a topkTotal too large for it (thousands)
// gives cudaErrorInvalidValue.
cudaError_t launchSparseAttentionPrefill(const bf16* q, int64_t qRowStride, int64_t tokens,
                                         int64_t startPosition, int heads, int kvHeads, int dim,
                                         const bf16* keys, const bf16* values, int64_t kvHeadStride,
                                         const int32_t* blocks, int topkTotal, int blockSize,
                                         bf16* out, int64_t outRowStride, cudaStream_t stream);

// Bytes of workspace launchSparseAttentionDecode needs: partial results per block, and words
// that count the partials as they arrive. Those words must be zero before the workspace's first
// decode (resetSparseDecodeWorkspace, on the stream the decodes use); every decode leaves them
// zero again.
size_t sparseDecodeWorkspace(int heads, int dim, int topkTotal);
cudaError_t resetSparseDecodeWorkspace(float* workspace, int heads, int dim, int topkTotal,
                                       cudaStream_t stream);

// Decode: one query q [heads * dim] at `position` (host value or device address), blocks
// [kvHeads, topkTotal], out [heads * dim]. Fixed launch shape for a given
// topkTotal and no allocation or host sync, so it can be captured in a CUDA graph.
cudaError_t launchSparseAttentionDecode(const bf16* q, int heads, int kvHeads, int dim,
                                        Position position, const bf16* keys, const bf16* values,
                                        int64_t kvHeadStride, const int32_t* blocks, int topkTotal,
                                        int blockSize, bf16* out, float* workspace,
                                        size_t workspaceBytes, cudaStream_t stream);

namespace detail {
// How a decode runs: the fastest the device and shape allow, or one way for tests (Clustered
// gives cudaErrorNotSupported where it cannot run).
enum class DecodePath { Fastest, Clustered, Split };

cudaError_t launchSparseAttentionDecodePath(const bf16* q, int heads, int kvHeads, int dim,
                                            Position position, const bf16* keys, const bf16* values,
                                            int64_t kvHeadStride, const int32_t* blocks,
                                            int topkTotal, int blockSize, bf16* out,
                                            float* workspace, size_t workspaceBytes,
                                            DecodePath path, cudaStream_t stream);

// The prefill with an explicit number of warps per thread block (4 or 8) and of K/V tiles in
// its ring (2 to 4; 2 where the block lists leave no room for more), for tests and benchmarks;
// launchSparseAttentionPrefill picks both itself.
cudaError_t launchSparseAttentionPrefillWarps(const bf16* q, int64_t qRowStride, int64_t tokens,
                                              int64_t startPosition, int heads, int kvHeads,
                                              int dim, const bf16* keys, const bf16* values,
                                              int64_t kvHeadStride, const int32_t* blocks,
                                              int topkTotal, int blockSize, bf16* out,
                                              int64_t outRowStride, int warps, int stages,
                                              cudaStream_t stream);
} // namespace detail

} // namespace folio::kernels
