#include "random_fill.cuh"

namespace folio::kernels {
namespace {

__host__ __device__ inline uint64_t mix64(uint64_t x) {
    // splitmix64 finaliser: a bijective, well-mixed hash of the counter.
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

__host__ __device__ inline float uniformOf(uint64_t seed, int64_t i) {
    const uint64_t bits = mix64(seed * 0x2545f4914f6cdd1dull + static_cast<uint64_t>(i));
    return static_cast<float>(bits >> 40) * (1.0f / 8388608.0f) - 1.0f; // 24 bits -> [-1, 1)
}

__global__ void fillKernel(bf16* p, int64_t n, uint64_t seed, float scale, float offset) {
    for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
         i += int64_t(gridDim.x) * blockDim.x)
        p[i] = __float2bfloat16(offset + scale * uniformOf(seed, i));
}

} // namespace

float uniformAt(uint64_t seed, int64_t i) {
    return uniformOf(seed, i);
}

cudaError_t launchFillUniformBf16(bf16* p, int64_t n, uint64_t seed, float scale, float offset,
                                  cudaStream_t stream) {
    if (n <= 0) return cudaSuccess;
    const unsigned blocks = static_cast<unsigned>(std::min<int64_t>(ceilDiv(n, 256), 65536));
    fillKernel<<<blocks, 256, 0, stream>>>(p, n, seed, scale, offset);
    return cudaGetLastError();
}

} // namespace folio::kernels
