#include "elementwise_common.cuh"
#include "kv_cache.cuh"

namespace folio::kernels {
namespace {

// The sections one launch copies: blockIdx.y picks one (keys, or keys and values).
struct Sections {
    const bf16* src[2];
    bf16* dst[2];
};

// One thread copies 8 bf16 (16 bytes) when the row allows it, else one element.
__global__ void appendKvKernel(Sections sections, int64_t srcRowStride, int64_t tokens, int kvHeads,
                               int dim, int64_t dstHeadStride, Position startPosition, int vec) {
    waitForPrecedingKernel();
    const bf16* __restrict__ src = sections.src[blockIdx.y];
    bf16* __restrict__ dst = sections.dst[blockIdx.y];
    const int64_t perRow = int64_t(kvHeads) * dim / vec;
    const int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
    if (i >= tokens * perRow) return;
    const int64_t t = i / perRow;
    const int64_t e = (i % perRow) * vec;
    const int g = static_cast<int>(e / dim);
    const int d = static_cast<int>(e % dim);
    const bf16* s = src + t * srcRowStride + e;
    bf16* o = dst + g * dstHeadStride + (startPosition.get() + t) * dim + d;
    if (vec == 8)
        *reinterpret_cast<uint4*>(o) = *reinterpret_cast<const uint4*>(s);
    else
        *o = *s;
}

cudaError_t appendSections(Sections sections, unsigned count, int64_t srcRowStride, int64_t tokens,
                           int kvHeads, int dim, int64_t dstHeadStride, Position startPosition,
                           cudaStream_t stream) {
    if (!startPosition.valid()) return cudaErrorInvalidValue;
    if (tokens <= 0) return cudaSuccess;
    bool aligned = dim % 8 == 0 && srcRowStride % 8 == 0 && dstHeadStride % 8 == 0;
    for (unsigned i = 0; i < count; ++i)
        aligned = aligned && detail::alignedFor(sections.src[i], 16) &&
                  detail::alignedFor(sections.dst[i], 16);
    const int vec = aligned ? 8 : 1;
    const int64_t total = tokens * kvHeads * dim / vec;
    return launchDependent(appendKvKernel, dim3(ceilDiv(total, 256), count), 256, 0, stream,
                           sections, srcRowStride, tokens, kvHeads, dim, dstHeadStride,
                           startPosition, vec);
}

} // namespace

cudaError_t launchAppendKv(const bf16* src, int64_t srcRowStride, int64_t tokens, int kvHeads,
                           int dim, bf16* dst, int64_t dstHeadStride, Position startPosition,
                           cudaStream_t stream) {
    return appendSections({{src, nullptr}, {dst, nullptr}}, 1, srcRowStride, tokens, kvHeads, dim,
                          dstHeadStride, startPosition, stream);
}

cudaError_t launchAppendKeysValues(const bf16* keys, const bf16* values, int64_t srcRowStride,
                                   int64_t tokens, int kvHeads, int dim, bf16* keyCache,
                                   bf16* valueCache, int64_t dstHeadStride, Position startPosition,
                                   cudaStream_t stream) {
    return appendSections({{keys, values}, {keyCache, valueCache}}, 2, srcRowStride, tokens,
                          kvHeads, dim, dstHeadStride, startPosition, stream);
}

} // namespace folio::kernels
