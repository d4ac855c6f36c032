#pragma once
// Device code of the block selection's last step (sparse_select.cu launches it): the forced
// blocks plus a radix select of the best stage-1 candidates per (query, kv group).

#include "sparse_select_kernels.cuh"

namespace folio::kernels::select_detail {

// Inclusive prefix sum over the CTA (kThreads threads), in thread order.
__device__ int blockInclusiveScan(int v, int* warpSums) {
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    for (int d = 1; d < 32; d <<= 1) {
        const int o = __shfl_up_sync(0xffffffffu, v, d);
        if (lane >= d) v += o;
    }
    if (lane == 31) warpSums[warp] = v;
    __syncthreads();
    int before = 0;
    for (int w = 0; w < warp; ++w) before += warpSums[w];
    __syncthreads();
    return v + before;
}

struct Cut {
    uint32_t prefix, mask; // candidates with (key & mask) > prefix are taken
    int ties;              // and the `ties` lowest ids among those with (key & mask) == prefix
};

// Radix select, 8 bits a pass from the top, of the `take` largest candidate keys.
template <typename Forced>
__device__ Cut radixCut(const uint32_t* keys, int64_t nb, int take, Forced forced) {
    __shared__ int hist[256];
    __shared__ int warpSums[kWarps];
    __shared__ int digitFound, tiesLeft, binCount;
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    Cut cut{0u, 0u, take};
    for (int shift = 24; shift >= 0; shift -= 8) {
        hist[threadIdx.x] = 0;
        __syncthreads();
        for (int64_t base = warp * 32; base < nb; base += kThreads) {
            const int64_t b = base + lane;
            int digit = 256;
            if (b < nb && !forced(b)) {
                const uint32_t k = keys[b];
                if ((k & cut.mask) == cut.prefix) digit = (k >> shift) & 255;
            }
            const unsigned peers = __match_any_sync(0xffffffffu, digit);
            if (digit < 256 && lane == __ffs(peers) - 1) atomicAdd(&hist[digit], __popc(peers));
        }
        __syncthreads();
        // Thread i looks at digit 255 - i, so the scan counts keys from the top down.
        const int c = hist[255 - threadIdx.x];
        const int above = blockInclusiveScan(c, warpSums) - c;
        if (above < cut.ties && above + c >= cut.ties) {
            digitFound = 255 - threadIdx.x;
            tiesLeft = cut.ties - above;
            binCount = c;
        }
        __syncthreads();
        cut.prefix |= uint32_t(digitFound) << shift;
        cut.mask |= 255u << shift;
        cut.ties = tiesLeft;
        const bool whole = binCount == cut.ties;
        __syncthreads();
        if (whole) break;
    }
    return cut;
}

__global__ void __launch_bounds__(kThreads)
    selectTopkKernel(Shape s, int64_t tokens, Position start, const uint32_t* keysIn,
                     int64_t nbStride, bool cacheRow, int32_t* __restrict__ blocks) {
    extern __shared__ uint32_t rowCache[];
    __shared__ int eqCount[kWarps], selCount[kWarps];
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    const int64_t row = blockIdx.x;
    const int64_t pos = start.get() + row / s.kvHeads;
    const int64_t qb = pos / s.blockSize, nb = qb + 1;
    int32_t* out = blocks + row * s.topkTotal;
    if (nb <= s.topkTotal) {
        for (int i = threadIdx.x; i < s.topkTotal; i += kThreads) out[i] = i < nb ? i : -1;
        return;
    }
    auto forced = [&](int64_t b) { return b < s.initBlocks || b >= qb - s.localBlocks; };
    const int64_t nForced =
        min(int64_t(s.initBlocks), nb) +
        max(int64_t(0), qb - max(int64_t(s.initBlocks), qb - s.localBlocks) + 1);
    const int take = s.topkTotal - static_cast<int>(nForced); // < the number of candidates
    const uint32_t* keys = keysIn + row * nbStride;
    if (cacheRow) {
        for (int64_t b = threadIdx.x; b < nb; b += kThreads) rowCache[b] = keys[b];
        __syncthreads();
        keys = rowCache;
    }
    // With no room left only the forced blocks remain: a cut nothing passes.
    const Cut cut = take > 0 ? radixCut(keys, nb, take, forced) : Cut{~0u, ~0u, 0};

    // Each warp owns a contiguous run of ids, so ranks follow block ids.
    const int64_t span = (nb + kWarps * 32 - 1) / (kWarps * 32) * 32;
    const int64_t lo = warp * span, hi = min(nb, lo + span);
    const unsigned below = (1u << lane) - 1u;
    auto classify = [&](int64_t b, bool& sure, bool& tie) {
        sure = false, tie = false;
        if (b >= hi) return;
        if (forced(b)) {
            sure = true;
            return;
        }
        const uint32_t k = keys[b] & cut.mask;
        sure = k > cut.prefix;
        tie = k == cut.prefix;
    };
    int eq = 0, sel = 0;
    for (int64_t base = lo; base < hi; base += 32) {
        bool sure, tie;
        classify(base + lane, sure, tie);
        eq += __popc(__ballot_sync(0xffffffffu, tie));
        sel += __popc(__ballot_sync(0xffffffffu, sure));
    }
    if (lane == 0) eqCount[warp] = eq, selCount[warp] = sel;
    __syncthreads();
    int eqBefore = 0, outPos = 0;
    for (int w = 0; w < warp; ++w) eqBefore += eqCount[w], outPos += selCount[w];
    outPos += min(eqBefore, cut.ties);
    for (int64_t base = lo; base < hi; base += 32) {
        bool sure, tie;
        classify(base + lane, sure, tie);
        const unsigned tieMask = __ballot_sync(0xffffffffu, tie);
        const bool pick = sure || (tie && eqBefore + __popc(tieMask & below) < cut.ties);
        const unsigned pickMask = __ballot_sync(0xffffffffu, pick);
        if (pick) out[outPos + __popc(pickMask & below)] = static_cast<int32_t>(base + lane);
        eqBefore += __popc(tieMask);
        outPos += __popc(pickMask);
    }
    const int total = static_cast<int>(nForced) + take;
    for (int i = total + threadIdx.x; i < s.topkTotal; i += kThreads) out[i] = -1;
}

} // namespace folio::kernels::select_detail
