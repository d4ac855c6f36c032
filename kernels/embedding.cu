#include "elementwise_common.cuh"
#include "embedding.cuh"

#include <algorithm>
#include <cmath>

namespace folio::kernels {
namespace {

using detail::loadVec;
using detail::storeVec;

// One block per token; each thread moves V elements per step.
template <int V>
__global__ void embeddingKernel(const bf16* __restrict__ table, int64_t vocab, int hidden,
                                const int32_t* __restrict__ ids, float scale,
                                float* __restrict__ h) {
    waitForPrecedingKernel();
    const int64_t t = blockIdx.x;
    const int32_t id = ids[t];
    float* out = h + t * hidden;
    const bool valid = id >= 0 && id < vocab;
    const bf16* src = table + (valid ? int64_t(id) : 0) * hidden;
    for (int i = threadIdx.x * V; i < hidden; i += blockDim.x * V) {
        float v[V];
        if (valid) {
            loadVec<V>(src + i, v);
#pragma unroll
            for (int k = 0; k < V; ++k) v[k] *= scale;
        } else {
#pragma unroll
            for (int k = 0; k < V; ++k) v[k] = NAN;
        }
        storeVec<V>(out + i, v);
    }
}

template <int V>
cudaError_t launchWith(const bf16* table, int64_t vocab, int hidden, const int32_t* ids,
                       int64_t tokens, float scale, float* h, cudaStream_t stream) {
    const unsigned threads = std::min(256u, detail::roundUpWarp(hidden / V));
    return launchDependent(embeddingKernel<V>, static_cast<unsigned>(tokens), threads, 0, stream,
                           table, vocab, hidden, ids, scale, h);
}

} // namespace

cudaError_t launchEmbedding(const bf16* table, int64_t vocab, int hidden, const int32_t* ids,
                            int64_t tokens, float scale, float* h, cudaStream_t stream) {
    if (tokens < 0 || vocab < 0 || hidden <= 0 || tokens > INT32_MAX) return cudaErrorInvalidValue;
    if (tokens == 0) return cudaSuccess;
    if (!table || !ids || !h) return cudaErrorInvalidValue;
    // 8 bf16 in (16 bytes) and 8 floats out when every row starts on such a boundary.
    if (hidden % 8 == 0 && detail::alignedFor(table, 16) && detail::alignedFor(h, 16))
        return launchWith<8>(table, vocab, hidden, ids, tokens, scale, h, stream);
    if (hidden % 2 == 0 && detail::alignedFor(table, 4) && detail::alignedFor(h, 8))
        return launchWith<2>(table, vocab, hidden, ids, tokens, scale, h, stream);
    return launchWith<1>(table, vocab, hidden, ids, tokens, scale, h, stream);
}

} // namespace folio::kernels
