#pragma once
// Requests a range of global memory into L2 without waiting for it or holding registers.
//
// A programmatic dependent (dependent_launch.cuh) may load into registers only what the kernels
// ahead of it do not write; what it will read once it has waited can already be on its way to
// L2 meanwhile. L2 is where the GPU's global memory is coherent, so even a line the kernel ahead
// writes later is not read stale: the write lands in L2.

#include "kernel_common.cuh"

#include <cstdint>

namespace folio::kernels {

// Called by every lane of a warp with the same arguments: [p, p + bytes) towards L2. p and bytes
// multiples of 16. On Hopper one lane hands the whole range to the copy engine in one
// instruction; elsewhere the lanes request one 128-byte line each in turn.
__device__ __forceinline__ void prefetchL2Warp(const void* p, int bytes) {
    if (bytes <= 0) return;
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
    if ((threadIdx.x & 31) == 0)
        asm volatile("cp.async.bulk.prefetch.L2.global [%0], %1;\n" ::"l"(p), "r"(bytes));
#else
    const char* c = static_cast<const char*>(p);
    for (int at = (threadIdx.x & 31) * 128; at < bytes; at += 32 * 128)
        asm volatile("prefetch.global.L2 [%0];\n" ::"l"(c + at));
#endif
}

// This thread block's equal share of a prefetchable range towards L2 (the grid's blocks, x then
// y, each take one), by the calling warp (every lane with the same arguments).
__device__ __forceinline__ void prefetchL2BlockShare(const L2Range& r) {
    constexpr int64_t kPiece = int64_t(1) << 20; // one instruction's request at most
    const int64_t part = int64_t(blockIdx.y) * gridDim.x + blockIdx.x;
    const int64_t parts = int64_t(gridDim.x) * gridDim.y;
    const int64_t share = (r.bytes / parts + 127) / 128 * 128;
    const int64_t lo = part * share;
    const int64_t hi = lo + share < r.bytes ? lo + share : r.bytes;
    const char* base = static_cast<const char*>(r.p);
    for (int64_t at = lo; at < hi; at += kPiece)
        prefetchL2Warp(base + at, static_cast<int>(hi - at < kPiece ? hi - at : kPiece));
}

} // namespace folio::kernels
