#include "elementwise_common.cuh"
#include "norms.cuh"

#include <algorithm>

namespace folio::kernels {
namespace {

using detail::blockSum;
using detail::loadVec;
using detail::storeVec;

constexpr int kMaxThreads = 512;
// Each thread keeps its share of the row in registers between the sum and the scaling, so a row
// is read from memory once.
constexpr int kRowFloatsPerThread = 32;
static_assert(kMaxThreads * kRowFloatsPerThread >= kMaxNormWidth);

template <int V> constexpr int kSlots = kRowFloatsPerThread / V;

// Loads this thread's slots of a row (slot k covers elements (threadIdx.x + k*blockDim.x)*V...)
// and returns their sum of squares.
template <int V, typename T>
__device__ __forceinline__ float loadRow(const T* row, int width, float (&v)[kSlots<V>][V]) {
    float sumSq = 0.0f;
#pragma unroll
    for (int k = 0; k < kSlots<V>; ++k) {
        const int i = (threadIdx.x + k * blockDim.x) * V;
        if (i < width) {
            loadVec<V>(row + i, v[k]);
#pragma unroll
            for (int j = 0; j < V; ++j) sumSq += v[k][j] * v[k][j];
        }
    }
    return sumSq;
}

// With 16-byte vectors a thread has at most 4 slots, and the norm weights (and gates) of its
// slots are loaded before the sum: issued with the row's loads, they cost no second memory round
// trip after the block-wide reduction. Narrow vectors load them after the sum, slot by slot, as the
// registers of all three would not fit.
template <int V> constexpr bool kEarly = kSlots<V> <= 4;

template <int V, typename T>
__device__ __forceinline__ void loadSlotsEarly(const T* p, int width, float (&v)[kSlots<V>][V]) {
    if constexpr (kEarly<V>) {
#pragma unroll
        for (int k = 0; k < kSlots<V>; ++k) {
            const int i = (threadIdx.x + k * blockDim.x) * V;
            if (i < width) loadVec<V>(p + i, v[k]);
        }
    }
}

template <int V, typename T>
__device__ __forceinline__ void loadSlotLate(const T* p, int i, float (&v)[V]) {
    if constexpr (!kEarly<V>) loadVec<V>(p + i, v);
}

__device__ __forceinline__ float invRms(float sumSq, int width, float eps, float* scratch) {
    const float total = blockSum(sumSq, scratch);
    return 1.0f / sqrtf(total / float(width) + eps);
}

template <int V>
__global__ void __launch_bounds__(kMaxThreads)
    rmsNormKernel(const float* __restrict__ x, int64_t xStride, int width,
                  const bf16* __restrict__ weight, float eps, bf16* __restrict__ out,
                  int64_t outStride, float* __restrict__ outF32) {
    waitForPrecedingKernel();
    __shared__ float scratch[32];
    const int64_t r = blockIdx.x;
    float w[kSlots<V>][V];
    loadSlotsEarly<V>(weight, width, w);
    float v[kSlots<V>][V];
    const float inv = invRms(loadRow<V>(x + r * xStride, width, v), width, eps, scratch);
#pragma unroll
    for (int k = 0; k < kSlots<V>; ++k) {
        const int i = (threadIdx.x + k * blockDim.x) * V;
        if (i >= width) continue;
        loadSlotLate<V>(weight, i, w[k]);
        // Same association as the CPU twin: (x * inv) * w.
#pragma unroll
        for (int j = 0; j < V; ++j) v[k][j] = v[k][j] * inv * w[k][j];
        storeVec<V>(out + r * outStride + i, v[k]);
        if (outF32) storeVec<V>(outF32 + r * width + i, v[k]);
    }
}

template <int V>
__global__ void __launch_bounds__(kMaxThreads)
    gatedNormKernel(bf16* o, int64_t oStride, int width, const bf16* __restrict__ normWeight,
                    float eps, const bf16* __restrict__ gate, int64_t gateStride) {
    waitForPrecedingKernel();
    __shared__ float scratch[32];
    const int64_t r = blockIdx.x;
    bf16* row = o + r * oStride;
    float w[kSlots<V>][V], g[kSlots<V>][V];
    if (normWeight) loadSlotsEarly<V>(normWeight, width, w);
    if (gate) loadSlotsEarly<V>(gate + r * gateStride, width, g);
    float v[kSlots<V>][V];
    const float sumSq = loadRow<V>(row, width, v);
    const float inv = normWeight ? invRms(sumSq, width, eps, scratch) : 1.0f;
#pragma unroll
    for (int k = 0; k < kSlots<V>; ++k) {
        const int i = (threadIdx.x + k * blockDim.x) * V;
        if (i >= width) continue;
        if (normWeight) {
            loadSlotLate<V>(normWeight, i, w[k]);
#pragma unroll
            for (int j = 0; j < V; ++j) v[k][j] = v[k][j] * inv * w[k][j];
        }
        if (gate) {
            loadSlotLate<V>(gate + r * gateStride, i, g[k]);
#pragma unroll
            for (int j = 0; j < V; ++j) v[k][j] *= detail::sigmoid(g[k][j]);
        }
        storeVec<V>(row + i, v[k]);
    }
}

// Threads per row: about four vector slots each, within the register cache and kMaxThreads.
template <int V> unsigned rowThreads(int width) {
    const int64_t vectors = width / V;
    const int64_t wanted =
        std::max<int64_t>((vectors + 3) / 4, (vectors + kSlots<V> - 1) / kSlots<V>);
    return std::min<unsigned>(kMaxThreads, detail::roundUpWarp(wanted));
}

bool badShape(int64_t rows, int width, int64_t stride) {
    return rows < 0 || rows > INT32_MAX || width < 1 || width > kMaxNormWidth || stride < width;
}

} // namespace

cudaError_t launchRmsNorm(const float* x, int64_t xStride, int64_t rows, int width,
                          const bf16* weight, float eps, bf16* out, int64_t outStride,
                          float* outF32, cudaStream_t stream) {
    if (badShape(rows, width, xStride) || outStride < width) return cudaErrorInvalidValue;
    if (rows == 0) return cudaSuccess;
    if (!x || !weight || !out) return cudaErrorInvalidValue;
    const int vec = detail::widestVec(8, [&](int v) {
        return width % v == 0 && xStride % v == 0 && outStride % v == 0 &&
               detail::alignedFor(x, 4 * v) && detail::alignedFor(weight, 2 * v) &&
               detail::alignedFor(out, 2 * v) && (!outF32 || detail::alignedFor(outF32, 4 * v));
    });
    return detail::withVec(vec, [&](auto v) {
        constexpr int V = decltype(v)::value;
        return launchDependent(rmsNormKernel<V>, static_cast<unsigned>(rows), rowThreads<V>(width),
                               0, stream, x, xStride, width, weight, eps, out, outStride, outF32);
    });
}

cudaError_t launchGatedNorm(bf16* o, int64_t oStride, int64_t rows, int width,
                            const bf16* normWeight, float eps, const bf16* gate, int64_t gateStride,
                            cudaStream_t stream) {
    if (badShape(rows, width, oStride) || (gate && gateStride < width))
        return cudaErrorInvalidValue;
    if (rows == 0 || (!normWeight && !gate)) return cudaSuccess;
    if (!o) return cudaErrorInvalidValue;
    const int vec = detail::widestVec(8, [&](int v) {
        return width % v == 0 && oStride % v == 0 && detail::alignedFor(o, 2 * v) &&
               (!normWeight || detail::alignedFor(normWeight, 2 * v)) &&
               (!gate || (gateStride % v == 0 && detail::alignedFor(gate, 2 * v)));
    });
    return detail::withVec(vec, [&](auto v) {
        constexpr int V = decltype(v)::value;
        return launchDependent(gatedNormKernel<V>, static_cast<unsigned>(rows),
                               rowThreads<V>(width), 0, stream, o, oStride, width, normWeight, eps,
                               gate, gateStride);
    });
}

} // namespace folio::kernels
