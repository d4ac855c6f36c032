#include "dependent_launch.cuh"
#include "kv_cache.cuh"

namespace folio::kernels {
namespace {

// One thread copies 8 bf16 (16 bytes) when the row allows it, else one element.
__global__ void appendKvKernel(const bf16* __restrict__ src, int64_t srcRowStride, int64_t tokens,
                               int kvHeads, int dim, bf16* __restrict__ dst, int64_t dstHeadStride,
                               Position startPosition, int vec) {
    waitForPrecedingKernel();
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

} // namespace

cudaError_t launchAppendKv(const bf16* src, int64_t srcRowStride, int64_t tokens, int kvHeads,
                           int dim, bf16* dst, int64_t dstHeadStride, Position startPosition,
                           cudaStream_t stream) {
    if (!startPosition.valid()) return cudaErrorInvalidValue;
    if (tokens <= 0) return cudaSuccess;
    const bool aligned = dim % 8 == 0 && srcRowStride % 8 == 0 && dstHeadStride % 8 == 0 &&
                         reinterpret_cast<uintptr_t>(src) % 16 == 0 &&
                         reinterpret_cast<uintptr_t>(dst) % 16 == 0;
    const int vec = aligned ? 8 : 1;
    const int64_t total = tokens * kvHeads * dim / vec;
    return launchDependent(appendKvKernel, ceilDiv(total, 256), 256, 0, stream, src, srcRowStride,
                           tokens, kvHeads, dim, dst, dstHeadStride, startPosition, vec);
}

} // namespace folio::kernels
