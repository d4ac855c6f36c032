#pragma once
// Device helpers shared by the bandwidth-bound kernels (embedding, norms, rope, activations):
// vector loads/stores of up to 16 bytes and warp/block sums. Included by .cu files only.

#include "dependent_launch.cuh"
#include "kernel_common.cuh"

#include <cstddef>
#include <cstdint>
#include <type_traits>

namespace folio::kernels::detail {

// V elements of T moved as one access: the alignment is capped at 16 bytes, the widest global
// access every target has, so a 32-byte pack of floats becomes two 16-byte accesses.
template <typename T, int V> struct alignas(sizeof(T) * V < 16 ? sizeof(T) * V : 16) Pack {
    T e[V];
};

__device__ __forceinline__ float toF32(float v) {
    return v;
}
__device__ __forceinline__ float toF32(bf16 v) {
    return __bfloat162float(v);
}
template <typename T> __device__ __forceinline__ T fromF32(float v);
template <> __device__ __forceinline__ float fromF32<float>(float v) {
    return v;
}
template <> __device__ __forceinline__ bf16 fromF32<bf16>(float v) {
    return __float2bfloat16(v);
}

template <int V, typename T> __device__ __forceinline__ void loadVec(const T* p, float (&v)[V]) {
    const Pack<T, V> pack = *reinterpret_cast<const Pack<T, V>*>(p);
#pragma unroll
    for (int i = 0; i < V; ++i) v[i] = toF32(pack.e[i]);
}

template <int V, typename T> __device__ __forceinline__ void storeVec(T* p, const float (&v)[V]) {
    Pack<T, V> pack;
#pragma unroll
    for (int i = 0; i < V; ++i) pack.e[i] = fromF32<T>(v[i]);
    *reinterpret_cast<Pack<T, V>*>(p) = pack;
}

// sigmoid(g) with the fast exponential and division (a few ulp from 1 / (1 + expf(-g)), and
// 0 or 1 at the extremes): the decode step's output product gates its input in every one of its
// thread blocks, whose gated input took 2.85 us to build with the exact forms on an H100 against
// 1.5 for a normed one (docs/perf.md). The standalone gate uses the same form, so that prefill
// and decode gate alike.
__device__ __forceinline__ float sigmoid(float g) {
    return __fdividef(1.0f, 1.0f + __expf(-g));
}

// silu(g) * u with the exact exponential and division: the SwiGLU of launchSiluMul and of the
// decode product's SwiGLU output, which must agree (a product's SwiGLU replaces the kernel).
__device__ __forceinline__ float siluMul(float g, float u) {
    return g / (1.0f + expf(-g)) * u;
}

// Sum over aligned groups of `width` lanes (a power of two up to 32); every lane of the warp
// must call it.
__device__ __forceinline__ float groupSum(float v, int width) {
    for (int offset = width / 2; offset > 0; offset /= 2)
        v += __shfl_xor_sync(0xffffffffu, v, offset);
    return v;
}

// Sum over the block; every thread gets the result. `scratch` holds 32 floats and may be reused
// right after the call returns.
__device__ __forceinline__ float blockSum(float v, float* scratch) {
    const int lane = threadIdx.x % 32;
    const int warp = threadIdx.x / 32;
    const int warps = (blockDim.x + 31) / 32;
    v = groupSum(v, 32);
    __syncthreads(); // an earlier call may still be reading scratch
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    v = lane < warps ? scratch[lane] : 0.0f;
    return groupSum(v, 32);
}

// Host side: whether `p` suits accesses of `bytes` (capped like Pack's alignment).
inline bool alignedFor(const void* p, size_t bytes) {
    const size_t a = bytes < 16 ? bytes : 16;
    return reinterpret_cast<uintptr_t>(p) % a == 0;
}

// Largest V in {8, 4, 2, 1} (at most maxV) for which fits(V) holds, so a launcher can pick the
// widest access its pointers and strides allow.
template <typename Fits> int widestVec(int maxV, Fits fits) {
    for (int v = maxV; v > 1; v /= 2)
        if (fits(v)) return v;
    return 1;
}

// Calls f(std::integral_constant<int, V>{}) for the runtime vector width v.
template <typename F> cudaError_t withVec(int v, F f) {
    switch (v) {
    case 8:
        return f(std::integral_constant<int, 8>{});
    case 4:
        return f(std::integral_constant<int, 4>{});
    case 2:
        return f(std::integral_constant<int, 2>{});
    default:
        return f(std::integral_constant<int, 1>{});
    }
}

inline unsigned roundUpWarp(int64_t threads) {
    return static_cast<unsigned>((threads + 31) / 32 * 32);
}

} // namespace folio::kernels::detail
