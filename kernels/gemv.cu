#include "elementwise_common.cuh"
#include "gemv.cuh"
#include "shared_memory_ops.cuh"

#include <algorithm>

namespace folio::kernels {
namespace {

using detail::blockSum;
using detail::loadVec;
using detail::storeVec;

constexpr int kThreads = 256;
constexpr int kWarps = kThreads / 32;
constexpr int kBlocksPerSm = 2;
constexpr int kLaneElems = 8; // one 16-byte load of bf16
constexpr int kWarpElems = 32 * kLaneElems;
// Loads in flight per lane: a warp streams 8 KB of a row at a time, and two thread blocks per SM
// keep 128 KB in flight, several times what the memory latency needs.
constexpr int kLoads = 16;
constexpr int kStepElems = kWarpElems * kLoads;

using Step = uint4[kLoads];

// Weights are read once per step: streamed past the caches so they keep the caches' contents.
__device__ __forceinline__ void loadStep(const bf16* row, int k, int step, int lane, Step& w) {
#pragma unroll
    for (int u = 0; u < kLoads; ++u) {
        const int i = step * kStepElems + u * kWarpElems + lane * kLaneElems;
        if (i < k) w[u] = __ldcs(reinterpret_cast<const uint4*>(row + i));
    }
}

__device__ __forceinline__ float low(uint32_t pair) {
    return __uint_as_float(pair << 16);
}
__device__ __forceinline__ float high(uint32_t pair) {
    return __uint_as_float(pair & 0xffff0000u);
}

__device__ __forceinline__ void dot8(uint32_t w, uint32_t x, float& even, float& odd) {
    even = fmaf(low(w), low(x), even);
    odd = fmaf(high(w), high(x), odd);
}

// Two running sums halve the chain of dependent multiply-adds.
__device__ __forceinline__ void dotStep(const Step& w, const bf16* xs, int k, int step, int lane,
                                        float& even, float& odd) {
#pragma unroll
    for (int u = 0; u < kLoads; ++u) {
        const int i = step * kStepElems + u * kWarpElems + lane * kLaneElems;
        if (i >= k) continue;
        const uint4 x = *reinterpret_cast<const uint4*>(xs + i);
        dot8(w[u].x, x.x, even, odd);
        dot8(w[u].y, x.y, even, odd);
        dot8(w[u].z, x.z, even, odd);
        dot8(w[u].w, x.w, even, odd);
    }
}

// Norm inputs up to this width keep their slots in registers between the sum of squares and the
// scaling, and their norm weights are loaded before the wait (weights never change during a
// step): the input then costs one memory round trip after the wait instead of two.
constexpr int kResidentSlots = 2;
constexpr int kResidentK = kThreads * kLaneElems * kResidentSlots;

struct NormWeights {
    uint4 slot[kResidentSlots];
};

__device__ __forceinline__ void unpack(uint4 p, float (&v)[kLaneElems]) {
    const uint32_t pairs[4] = {p.x, p.y, p.z, p.w};
#pragma unroll
    for (int j = 0; j < 4; ++j) {
        v[2 * j] = low(pairs[j]);
        v[2 * j + 1] = high(pairs[j]);
    }
}

__device__ __forceinline__ void preloadNormWeights(const bf16* weight, int k, NormWeights& nw) {
    if (!weight || k > kResidentK) return;
#pragma unroll
    for (int s = 0; s < kResidentSlots; ++s) {
        const int i = (threadIdx.x + s * kThreads) * kLaneElems;
        if (i < k) nw.slot[s] = *reinterpret_cast<const uint4*>(weight + i);
    }
}

// x = (weight ? src / rms(src) * weight : src) * (gate ? sigmoid(gate) : 1), rounded to bf16,
// with the arithmetic of launchRmsNorm and launchGatedNorm; for k <= kResidentK.
template <typename T>
__device__ __forceinline__ void normInputResident(const T* src, const bf16* weight,
                                                  const NormWeights& nw, const bf16* gate,
                                                  float eps, int k, bf16* xs) {
    constexpr int V = kLaneElems;
    float v[kResidentSlots][V];
    uint4 g[kResidentSlots];
    float sumSq = 0.0f;
#pragma unroll
    for (int s = 0; s < kResidentSlots; ++s) {
        const int i = (threadIdx.x + s * kThreads) * V;
        if (i >= k) continue;
        loadVec<V>(src + i, v[s]);
        if (gate) g[s] = *reinterpret_cast<const uint4*>(gate + i);
#pragma unroll
        for (int j = 0; j < V; ++j) sumSq += v[s][j] * v[s][j];
    }
    __shared__ float scratch[32];
    const float inv = weight ? 1.0f / sqrtf(blockSum(sumSq, scratch) / float(k) + eps) : 1.0f;
#pragma unroll
    for (int s = 0; s < kResidentSlots; ++s) {
        const int i = (threadIdx.x + s * kThreads) * V;
        if (i >= k) continue;
        float m[V];
        if (weight) {
            unpack(nw.slot[s], m);
#pragma unroll
            for (int j = 0; j < V; ++j) v[s][j] = v[s][j] * inv * m[j];
        }
        if (gate) {
            unpack(g[s], m);
#pragma unroll
            for (int j = 0; j < V; ++j) v[s][j] *= detail::sigmoid(m[j]);
        }
        storeVec<V>(xs + i, v[s]);
    }
}

// The same for any k: two passes over src.
template <typename T>
__device__ __forceinline__ void normInputStreamed(const T* src, const bf16* weight,
                                                  const bf16* gate, float eps, int k, bf16* xs) {
    constexpr int V = kLaneElems;
    const int first = threadIdx.x * V;
    constexpr int stride = kThreads * V;
    float inv = 1.0f;
    if (weight) {
        __shared__ float scratch[32];
        float sumSq = 0.0f;
        for (int i = first; i < k; i += stride) {
            float v[V];
            loadVec<V>(src + i, v);
#pragma unroll
            for (int j = 0; j < V; ++j) sumSq += v[j] * v[j];
        }
        inv = 1.0f / sqrtf(blockSum(sumSq, scratch) / float(k) + eps);
    }
    for (int i = first; i < k; i += stride) {
        float v[V], m[V];
        loadVec<V>(src + i, v);
        if (weight) {
            loadVec<V>(weight + i, m);
#pragma unroll
            for (int j = 0; j < V; ++j) v[j] = v[j] * inv * m[j];
        }
        if (gate) {
            loadVec<V>(gate + i, m);
#pragma unroll
            for (int j = 0; j < V; ++j) v[j] *= detail::sigmoid(m[j]);
        }
        storeVec<V>(xs + i, v);
    }
}

template <typename T>
__device__ __forceinline__ void normInput(const T* src, const bf16* weight, const NormWeights& nw,
                                          const bf16* gate, float eps, int k, bf16* xs) {
    if (k <= kResidentK)
        normInputResident(src, weight, nw, gate, eps, k, xs);
    else
        normInputStreamed(src, weight, gate, eps, k, xs);
}

// x into shared memory, with the same arithmetic as the standalone kernels it replaces.
template <GemvInputKind Kind>
__device__ __forceinline__ void buildInput(const GemvInput& in, int k, const NormWeights& nw,
                                           bf16* xs) {
    if constexpr (Kind == GemvInputKind::Bf16) {
        // Every piece requested before any is used: cp.async holds no registers (the weights'
        // loads hold them all), where loads into registers went one round trip per piece, 8 for
        // the down product's k = 16,384. Each thread waits for its own copies; the barrier after
        // the build shows them to the whole block.
        for (int i = threadIdx.x * kLaneElems; i < k; i += kThreads * kLaneElems)
            cpAsync16(xs + i, in.x + i, true);
        cpAsyncCommit();
        cpAsyncWait<0>();
    } else if constexpr (Kind == GemvInputKind::RmsNorm) {
        normInput(in.residual, in.normWeight, nw, nullptr, in.eps, k, xs);
    } else {
        normInput(in.x, in.normWeight, nw, in.gate, in.eps, k, xs);
    }
}

enum class Store { Bf16, F32, SwiGlu };

// acc is the row's product; for SwiGlu, gate is the gate row's and acc the up row's, each rounded
// to bf16 as a stored product would be before launchSiluMul reads it.
template <Store S>
__device__ __forceinline__ void storeRow(const GemvOutput& out, int64_t row, float acc,
                                         float gate) {
    if constexpr (S == Store::F32) {
        float* y = static_cast<float*>(out.y) + row;
        float v = out.alpha * acc;
        if (out.beta != 0.0f) v += out.beta * *y;
        *y = v;
    } else if constexpr (S == Store::Bf16) {
        static_cast<bf16*>(out.y)[row] = __float2bfloat16(out.alpha * acc);
    } else {
        const float g = __bfloat162float(__float2bfloat16(out.alpha * gate));
        const float u = __bfloat162float(__float2bfloat16(out.alpha * acc));
        static_cast<bf16*>(out.y)[row] = __float2bfloat16(detail::siluMul(g, u));
    }
}

// Each warp takes rows warp, warp + warps, ...; a row is `rowSteps` steps of kStepElems, and for
// SwiGlu an output row is the gate row and then the up row, 2 * rowSteps steps. The loads of a
// warp's next step are issued as soon as the current one has been multiplied, before the row's
// sum and store.
template <GemvInputKind Kind, Store S>
__global__ void __launch_bounds__(kThreads, kBlocksPerSm)
    gemvKernel(GemvInput in, const bf16* __restrict__ w, int64_t n, int k, GemvOutput out) {
    constexpr bool kPair = S == Store::SwiGlu;
    extern __shared__ uint4 sharedX[];
    bf16* xs = reinterpret_cast<bf16*>(sharedX);
    const int lane = threadIdx.x % 32;
    const int64_t warps = int64_t(gridDim.x) * kWarps;
    const int rowSteps = (k + kStepElems - 1) / kStepElems;
    const int steps = kPair ? 2 * rowSteps : rowSteps;
    // The weight row of output row r that step s reads, and s within that row.
    auto weightRow = [&](int64_t r, int s) { return w + (kPair && s >= rowSteps ? r + n : r) * k; };
    auto inRow = [&](int s) { return kPair && s >= rowSteps ? s - rowSteps : s; };
    int64_t row = int64_t(blockIdx.x) * kWarps + threadIdx.x / 32;
    Step buf;
    if (row < n) loadStep(weightRow(row, 0), k, 0, lane, buf);
    NormWeights nw;
    if constexpr (Kind != GemvInputKind::Bf16) preloadNormWeights(in.normWeight, k, nw);
    waitForPrecedingKernel();
    buildInput<Kind>(in, k, nw, xs);
    __syncthreads();
    float even = 0.0f, odd = 0.0f, gate = 0.0f;
    for (int step = 0; row < n;) {
        dotStep(buf, xs, k, inRow(step), lane, even, odd);
        int64_t nextRow = row;
        int nextStep = step + 1;
        if (nextStep == steps) {
            nextStep = 0;
            nextRow += warps;
        }
        if (nextRow < n) loadStep(weightRow(nextRow, nextStep), k, inRow(nextStep), lane, buf);
        if (kPair && nextStep == rowSteps) {
            gate = detail::groupSum(even + odd, 32);
            even = odd = 0.0f;
        } else if (nextStep == 0) {
            const float acc = detail::groupSum(even + odd, 32);
            if (lane == 0) storeRow<S>(out, row, acc, gate);
            even = odd = 0.0f;
        }
        row = nextRow;
        step = nextStep;
    }
}

bool aligned16(const void* p) {
    return detail::alignedFor(p, 16);
}

bool validInput(const GemvInput& in) {
    switch (in.kind) {
    case GemvInputKind::Bf16:
        return in.x && aligned16(in.x);
    case GemvInputKind::RmsNorm:
        return in.residual && in.normWeight && aligned16(in.residual) && aligned16(in.normWeight);
    case GemvInputKind::GatedNorm:
        return in.x && aligned16(in.x) && aligned16(in.normWeight) && aligned16(in.gate);
    }
    return false;
}

// Thread blocks for n rows: as many warps as two blocks per SM give, then as few as still give
// every warp the same number of rows (so the last rows do not run alone).
unsigned gridFor(int64_t n) {
    int device = 0, sms = 0;
    if (cudaGetDevice(&device) != cudaSuccess ||
        cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device) != cudaSuccess)
        sms = 1;
    const int64_t most = int64_t(std::max(sms, 1)) * kBlocksPerSm * kWarps;
    const int64_t rowsPerWarp = (n + most - 1) / most;
    const int64_t warps = (n + rowsPerWarp - 1) / rowsPerWarp;
    return ceilDiv(warps, kWarps);
}

template <GemvInputKind Kind, Store S>
cudaError_t launchWith(const GemvInput& in, const bf16* w, int64_t n, int k, const GemvOutput& out,
                       cudaStream_t stream) {
    // x in shared memory: 32 KiB at most, within the default limit.
    const size_t shared = size_t(k) * sizeof(bf16);
    return launchDependent(gemvKernel<Kind, S>, gridFor(n), kThreads, shared, stream, in, w, n, k,
                           out);
}

template <GemvInputKind Kind>
cudaError_t launchKind(const GemvInput& in, const bf16* w, int64_t n, int k, const GemvOutput& out,
                       cudaStream_t stream) {
    if (out.swiglu) return launchWith<Kind, Store::SwiGlu>(in, w, n, k, out, stream);
    return out.f32 ? launchWith<Kind, Store::F32>(in, w, n, k, out, stream)
                   : launchWith<Kind, Store::Bf16>(in, w, n, k, out, stream);
}

} // namespace

cudaError_t launchGemv(const GemvInput& in, const bf16* w, int64_t n, int k, const GemvOutput& out,
                       cudaStream_t stream) {
    if (n < 0 || k < kLaneElems || k > kMaxGemvK || k % kLaneElems != 0)
        return cudaErrorInvalidValue;
    if ((!out.f32 && out.beta != 0.0f) || (out.swiglu && out.f32)) return cudaErrorInvalidValue;
    if (n == 0) return cudaSuccess;
    if (!w || !aligned16(w) || !out.y || !validInput(in)) return cudaErrorInvalidValue;
    switch (in.kind) {
    case GemvInputKind::Bf16:
        return launchKind<GemvInputKind::Bf16>(in, w, n, k, out, stream);
    case GemvInputKind::RmsNorm:
        return launchKind<GemvInputKind::RmsNorm>(in, w, n, k, out, stream);
    case GemvInputKind::GatedNorm:
        return launchKind<GemvInputKind::GatedNorm>(in, w, n, k, out, stream);
    }
    return cudaErrorInvalidValue;
}

} // namespace folio::kernels
