#include "activations.cuh"
#include "elementwise_common.cuh"

#include <algorithm>

namespace folio::kernels {
namespace {

using detail::loadVec;
using detail::storeVec;

constexpr unsigned kThreads = 256;
constexpr int64_t kMaxGridY = 65535;
constexpr int64_t kMaxConvertBlocks = 1 << 16;

// x: chunks of V elements along the row; y: rows, striding when there are more than gridDim.y.
template <int V>
__global__ void siluMulKernel(const bf16* __restrict__ gateUp, int64_t rowStride, int64_t rows,
                              int inter, bf16* __restrict__ out, int64_t outStride) {
    waitForPrecedingKernel();
    const int i = (blockIdx.x * blockDim.x + threadIdx.x) * V;
    if (i >= inter) return;
    for (int64_t r = blockIdx.y; r < rows; r += gridDim.y) {
        float g[V], u[V], y[V];
        loadVec<V>(gateUp + r * rowStride + i, g);
        loadVec<V>(gateUp + r * rowStride + inter + i, u);
        // Same expression as the CPU twin: g / (1 + e^-g) * u.
#pragma unroll
        for (int j = 0; j < V; ++j) y[j] = detail::siluMul(g[j], u[j]);
        storeVec<V>(out + r * outStride + i, y);
    }
}

// Grid-stride over whole vectors; the first threads of block 0 take the n % V tail.
template <int V, typename In, typename Out>
__global__ void convertKernel(const In* __restrict__ in, Out* __restrict__ out, int64_t n) {
    const int64_t vectors = n / V;
    const int64_t step = int64_t(gridDim.x) * blockDim.x;
    for (int64_t v = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; v < vectors; v += step) {
        float x[V];
        loadVec<V>(in + v * V, x);
        storeVec<V>(out + v * V, x);
    }
    const int64_t tail = vectors * V + threadIdx.x;
    if (blockIdx.x == 0 && tail < n) {
        float x[1];
        loadVec<1>(in + tail, x);
        storeVec<1>(out + tail, x);
    }
}

template <typename In, typename Out>
cudaError_t launchConvert(const In* in, Out* out, int64_t n, cudaStream_t stream) {
    if (n < 0) return cudaErrorInvalidValue;
    if (n == 0) return cudaSuccess;
    if (!in || !out) return cudaErrorInvalidValue;
    const int vec = detail::widestVec(8, [&](int v) {
        return detail::alignedFor(in, sizeof(In) * v) && detail::alignedFor(out, sizeof(Out) * v);
    });
    return detail::withVec(vec, [&](auto v) {
        constexpr int V = decltype(v)::value;
        const int64_t blocks = std::clamp<int64_t>(ceilDiv(n / V, kThreads), 1, kMaxConvertBlocks);
        convertKernel<V><<<static_cast<unsigned>(blocks), kThreads, 0, stream>>>(in, out, n);
        return cudaGetLastError();
    });
}

} // namespace

cudaError_t launchSiluMul(const bf16* gateUp, int64_t rowStride, int64_t rows, int inter, bf16* out,
                          int64_t outStride, cudaStream_t stream) {
    if (rows < 0 || inter < 1 || rowStride < 2 * int64_t(inter) || outStride < inter)
        return cudaErrorInvalidValue;
    if (rows == 0) return cudaSuccess;
    if (!gateUp || !out) return cudaErrorInvalidValue;
    const int vec = detail::widestVec(8, [&](int v) {
        return inter % v == 0 && rowStride % v == 0 && outStride % v == 0 &&
               detail::alignedFor(gateUp, 2 * v) && detail::alignedFor(out, 2 * v);
    });
    return detail::withVec(vec, [&](auto v) {
        constexpr int V = decltype(v)::value;
        const int vectors = inter / V;
        const unsigned threads = std::min(kThreads, detail::roundUpWarp(vectors));
        const dim3 grid(ceilDiv(vectors, threads),
                        static_cast<unsigned>(std::min(rows, kMaxGridY)));
        return launchDependent(siluMulKernel<V>, grid, threads, 0, stream, gateUp, rowStride, rows,
                               inter, out, outStride);
    });
}

cudaError_t launchF32ToBf16(const float* in, bf16* out, int64_t n, cudaStream_t stream) {
    return launchConvert(in, out, n, stream);
}

cudaError_t launchBf16ToF32(const bf16* in, float* out, int64_t n, cudaStream_t stream) {
    return launchConvert(in, out, n, stream);
}

} // namespace folio::kernels
