#include "dependent_launch.cuh"
#include "sparse_compress.cuh"

#include <algorithm>

namespace folio::kernels {

namespace {

constexpr int kCompressThreads = 256;

// The decode step's two levels (level 1 and level 2): blockIdx.y picks one.
struct Levels {
    CompressLevel level[2];
};

// One thread per (window, feature) of one kv head; consecutive threads read consecutive
// features of the same key row, so every load is coalesced.
__global__ void compressKeysKernel(const bf16* __restrict__ keys, int64_t keyHeadStride, int dim,
                                   CompressLevel level, int64_t firstIndex, int64_t count) {
    waitForPrecedingKernel();
    const int kernel = level.kernel;
    const int stride = level.stride;
    bf16* __restrict__ out = level.out;
    const int64_t outHeadStride = level.outHeadStride;
    const int g = blockIdx.y;
    const int64_t item = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
    if (item >= count * dim) return;
    const int64_t j = firstIndex + item / dim;
    const int e = static_cast<int>(item % dim);
    const bf16* src = keys + g * keyHeadStride + j * stride * dim + e;
    float sum = 0.0f;
    for (int u = 0; u < kernel; ++u) sum += __bfloat162float(src[int64_t(u) * dim]);
    out[g * outHeadStride + j * dim + e] = __float2bfloat16(sum / float(kernel));
}

// A decode step's append and compression in one launch: thread block (kv head, level). The
// level-0 blocks append the step's key and value; every block compresses the window (if any)
// that the new key completes, taking the new key from the projection rather than from the
// cache (another block writes it there), in the same order of summation as compressKeysKernel.
__global__ void appendCompressStepKernel(const bf16* __restrict__ keys,
                                         const bf16* __restrict__ values, bf16* keyCache,
                                         bf16* __restrict__ valueCache, int64_t headStride, int dim,
                                         Levels levels, const int64_t* position) {
    // Written before the step's first kernel, so it may be read before the wait.
    const int64_t pos = *position;
    waitForPrecedingKernel();
    const int g = blockIdx.x;
    const CompressLevel& level = levels.level[blockIdx.y];
    const int64_t n = pos + 1;
    const bool completes = n >= level.kernel && (n - level.kernel) % level.stride == 0;
    const int64_t j = completes ? (n - level.kernel) / level.stride : 0;
    bf16* head = keyCache + g * headStride;
    for (int e = threadIdx.x; e < dim; e += blockDim.x) {
        const bf16 key = keys[int64_t(g) * dim + e];
        if (blockIdx.y == 0) {
            head[pos * dim + e] = key;
            valueCache[g * headStride + pos * dim + e] = values[int64_t(g) * dim + e];
        }
        if (!completes) continue;
        const bf16* src = head + j * level.stride * dim + e;
        float sum = 0.0f;
        for (int u = 0; u + 1 < level.kernel; ++u) sum += __bfloat162float(src[int64_t(u) * dim]);
        sum += __bfloat162float(key);
        level.out[g * level.outHeadStride + j * dim + e] =
            __float2bfloat16(sum / float(level.kernel));
    }
}

bool badStep(const bf16* keys, int kvHeads, int dim, const int64_t* position) {
    return kvHeads <= 0 || kvHeads > 65535 || dim <= 0 || !position || !keys;
}

bool badLevel(const CompressLevel& level) {
    return level.kernel <= 0 || level.stride <= 0 || !level.out;
}

} // namespace

cudaError_t launchAppendCompressStep(const bf16* keys, const bf16* values, int kvHeads, int dim,
                                     bf16* keyCache, bf16* valueCache, int64_t headStride,
                                     const CompressLevel& first, const CompressLevel& second,
                                     const int64_t* position, cudaStream_t stream) {
    if (badStep(keys, kvHeads, dim, position) || !values || !keyCache || !valueCache ||
        headStride < 0 || badLevel(first) || badLevel(second))
        return cudaErrorInvalidValue;
    const int threads = std::min(256, (dim + 31) / 32 * 32);
    return launchDependent(appendCompressStepKernel, dim3(kvHeads, 2), threads, 0, stream, keys,
                           values, keyCache, valueCache, headStride, dim, Levels{{first, second}},
                           position);
}

cudaError_t launchCompressKeys(const bf16* keys, int64_t keyHeadStride, int kvHeads, int dim,
                               int kernel, int stride, int64_t firstIndex, int64_t count, bf16* out,
                               int64_t outHeadStride, cudaStream_t stream) {
    if (kvHeads <= 0 || dim <= 0 || kernel <= 0 || stride <= 0 || firstIndex < 0 || count < 0)
        return cudaErrorInvalidValue;
    if (count == 0) return cudaSuccess;
    if (!keys || !out) return cudaErrorInvalidValue;
    const int64_t blocks = (count * dim + kCompressThreads - 1) / kCompressThreads;
    if (kvHeads > 65535 || blocks > 0x7fffffff) return cudaErrorInvalidValue;
    const dim3 grid(static_cast<unsigned>(blocks), kvHeads);
    return launchDependent(compressKeysKernel, grid, kCompressThreads, 0, stream, keys,
                           keyHeadStride, dim, CompressLevel{kernel, stride, out, outHeadStride},
                           firstIndex, count);
}

} // namespace folio::kernels
