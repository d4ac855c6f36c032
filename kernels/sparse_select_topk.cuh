#pragma once
// Device code of the block selection's last step (sparse_select.cu launches it): the forced
// blocks plus a radix select of the best stage-1 candidates per (query, kv group), by one CTA
// per row, or split over segments of the row and merged when rows are few and long.

#include "sparse_select_kernels.cuh"

namespace folio::kernels::select_detail {

// The split form's candidates (see selectTopkPartialKernel), in the slice's workspace.
constexpr int kMaxTopkSegments = 32;
struct TopkSplit {
    int segments = 0;
    int64_t segmentBlocks = 0;
    int32_t* ids = nullptr;   // [row][segment][topkTotal]
    uint32_t* keys = nullptr; // [row][segment][topkTotal]
    int* counts = nullptr;    // [row][segment]
};

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

// Which blocks of a query in block qb (nb = qb + 1 > topkTotal) are forced, and how many are
// left to choose by score.
struct Forcing {
    int64_t initEnd;    // blocks [0, initEnd) are forced
    int64_t firstLocal; // and [firstLocal, nb)
    int take;           // candidates to choose

    __device__ Forcing(const Shape& s, int64_t qb) {
        const int64_t nb = qb + 1;
        initEnd = min(int64_t(s.initBlocks), nb);
        firstLocal = max(int64_t(s.initBlocks), qb - s.localBlocks);
        take = s.topkTotal - static_cast<int>(initEnd + (nb - firstLocal));
    }
    __device__ bool operator()(int64_t b) const { return b < initEnd || b >= firstLocal; }
};

// The key block holding the query of (query, group) row `row`.
__device__ inline int64_t queryBlock(const Shape& s, Position start, int64_t row) {
    return (start.get() + row / s.kvHeads) / s.blockSize;
}

// A block predicate that holds for no block.
struct NoBlock {
    __device__ bool operator()(int64_t) const { return false; }
};

__device__ inline void denseRow(const Shape& s, int64_t nb, int32_t* out) {
    for (int i = threadIdx.x; i < s.topkTotal; i += kThreads) out[i] = i < nb ? i : -1;
}

// Calls emit(rank, i) for every i in [lo, hi) that is forced, or is not skipped and passes the
// cut (of the ties, the cut.ties lowest i): ranks follow i, because each warp owns a contiguous
// run of it.
template <typename Skip, typename Forced, typename Emit>
__device__ void emitInOrder(const uint32_t* keys, int64_t lo, int64_t hi, const Cut& cut, Skip skip,
                            Forced forced, Emit emit) {
    __shared__ int eqCount[kWarps], selCount[kWarps];
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    const int64_t span = (hi - lo + kWarps * 32 - 1) / (kWarps * 32) * 32;
    const int64_t wlo = lo + warp * span, whi = min(hi, wlo + span);
    const unsigned below = (1u << lane) - 1u;
    auto classify = [&](int64_t b, bool& sure, bool& tie) {
        sure = false, tie = false;
        if (b >= whi || skip(b)) return;
        if (forced(b)) {
            sure = true;
            return;
        }
        const uint32_t k = keys[b] & cut.mask;
        sure = k > cut.prefix;
        tie = k == cut.prefix;
    };
    int eq = 0, sel = 0;
    for (int64_t base = wlo; base < whi; base += 32) {
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
    for (int64_t base = wlo; base < whi; base += 32) {
        bool sure, tie;
        classify(base + lane, sure, tie);
        const unsigned tieMask = __ballot_sync(0xffffffffu, tie);
        const bool pick = sure || (tie && eqBefore + __popc(tieMask & below) < cut.ties);
        const unsigned pickMask = __ballot_sync(0xffffffffu, pick);
        if (pick) emit(outPos + __popc(pickMask & below), base + lane);
        eqBefore += __popc(tieMask);
        outPos += __popc(pickMask);
    }
}

// Takes all `count` candidates: every key ties with the empty prefix.
__device__ inline Cut takeAll(int count) {
    return Cut{0u, 0u, count};
}

__global__ void __launch_bounds__(kThreads)
    selectTopkKernel(Shape s, int64_t tokens, Position start, const uint32_t* keysIn,
                     int64_t nbStride, bool cacheRow, int32_t* __restrict__ blocks) {
    waitForPrecedingKernel();
    extern __shared__ uint32_t rowCache[];
    const int64_t row = blockIdx.x;
    const int64_t qb = queryBlock(s, start, row), nb = qb + 1;
    int32_t* out = blocks + row * s.topkTotal;
    if (nb <= s.topkTotal) return denseRow(s, nb, out);
    const Forcing forced(s, qb);
    const uint32_t* keys = keysIn + row * nbStride;
    if (cacheRow) {
        for (int64_t b = threadIdx.x; b < nb; b += kThreads) rowCache[b] = keys[b];
        __syncthreads();
        keys = rowCache;
    }
    // With no room left only the forced blocks remain: a cut nothing passes.
    const Cut cut = forced.take > 0 ? radixCut(keys, nb, forced.take, forced) : Cut{~0u, ~0u, 0};
    emitInOrder(keys, 0, nb, cut, NoBlock{}, forced,
                [&](int rank, int64_t b) { out[rank] = static_cast<int32_t>(b); });
}

// ---- the split form, for a few rows of many blocks (a decode step) -------------------------
// One CTA per row scanned all of a row's blocks alone: 44 us of a 1M decode step's 88 us of
// selection on an H100. Here CTA (segment, row) keeps the best `take` candidates of its
// segment (every member of the row's best `take` is among its segment's best), and one CTA
// per row then chooses among at most segments * take of them. Ties keep the lowest ids in
// both steps, so the choice is the one-CTA kernel's exactly.

// The segment's keys are copied to shared memory first (dynamic, segmentBlocks of them): the
// radix passes and the emit then read them there instead of from L2, one round trip each.
__global__ void __launch_bounds__(kThreads)
    selectTopkPartialKernel(Shape s, Position start, const uint32_t* keysIn, int64_t nbStride,
                            TopkSplit split) {
    waitForPrecedingKernel();
    extern __shared__ uint32_t segmentKeys[];
    const int64_t row = blockIdx.y;
    const int segment = blockIdx.x;
    const int64_t qb = queryBlock(s, start, row), nb = qb + 1;
    const int64_t slot = row * split.segments + segment;
    const Forcing forced(s, qb);
    const int64_t lo = segment * split.segmentBlocks, hi = min(nb, lo + split.segmentBlocks);
    if (nb <= s.topkTotal || forced.take <= 0 || lo >= hi) {
        if (threadIdx.x == 0) split.counts[slot] = 0;
        return;
    }
    auto overlap = [&](int64_t a, int64_t b) { return max(int64_t(0), min(hi, b) - max(lo, a)); };
    const int64_t candidates =
        (hi - lo) - overlap(0, forced.initEnd) - overlap(forced.firstLocal, nb);
    const uint32_t* keys = keysIn + row * nbStride + lo;
    for (int64_t i = threadIdx.x; i < hi - lo; i += kThreads) segmentKeys[i] = keys[i];
    __syncthreads();
    auto forcedHere = [&](int64_t i) { return forced(lo + i); };
    const Cut cut = candidates <= forced.take
                        ? takeAll(static_cast<int>(candidates))
                        : radixCut(segmentKeys, hi - lo, forced.take, forcedHere);
    int32_t* ids = split.ids + slot * s.topkTotal;
    uint32_t* kept = split.keys + slot * s.topkTotal;
    emitInOrder(segmentKeys, 0, hi - lo, cut, forcedHere, NoBlock{}, [&](int rank, int64_t i) {
        ids[rank] = static_cast<int32_t>(lo + i);
        kept[rank] = segmentKeys[i];
    });
    if (threadIdx.x == 0)
        split.counts[slot] = static_cast<int>(min(candidates, int64_t(forced.take)));
}

__global__ void __launch_bounds__(kThreads)
    selectTopkMergeKernel(Shape s, Position start, TopkSplit split, int32_t* __restrict__ blocks) {
    waitForPrecedingKernel();
    extern __shared__ uint32_t merged[]; // keys [capacity], then ids [capacity]
    __shared__ int offsets[kMaxTopkSegments + 1];
    const int64_t row = blockIdx.x;
    const int64_t qb = queryBlock(s, start, row), nb = qb + 1;
    int32_t* out = blocks + row * s.topkTotal;
    if (nb <= s.topkTotal) return denseRow(s, nb, out);
    const Forcing forced(s, qb);
    const int capacity = split.segments * s.topkTotal;
    uint32_t* keys = merged;
    int32_t* ids = reinterpret_cast<int32_t*>(merged + capacity);
    // The segments' counts by one warp, loaded together and summed by a scan.
    static_assert(kMaxTopkSegments <= 32);
    if (threadIdx.x < 32) {
        const int lane = threadIdx.x;
        int v = lane < split.segments ? split.counts[row * split.segments + lane] : 0;
        for (int d = 1; d < 32; d <<= 1) {
            const int o = __shfl_up_sync(0xffffffffu, v, d);
            if (lane >= d) v += o;
        }
        if (lane < split.segments) offsets[lane + 1] = v;
        if (lane == 0) offsets[0] = 0;
    }
    __syncthreads();
    // Segments in order and ids ascending inside each: the merged list is in id order.
    for (int g = threadIdx.x >> 5; g < split.segments; g += kWarps) {
        const int64_t slot = row * split.segments + g;
        for (int i = threadIdx.x & 31; i < offsets[g + 1] - offsets[g]; i += 32) {
            keys[offsets[g] + i] = split.keys[slot * s.topkTotal + i];
            ids[offsets[g] + i] = split.ids[slot * s.topkTotal + i];
        }
    }
    __syncthreads();
    const int count = offsets[split.segments];
    for (int64_t b = threadIdx.x; b < forced.initEnd; b += kThreads) out[b] = int32_t(b);
    const int64_t localAt = forced.initEnd + forced.take;
    for (int64_t b = forced.firstLocal + threadIdx.x; b < nb; b += kThreads)
        out[localAt + b - forced.firstLocal] = int32_t(b);
    if (forced.take > 0) {
        const Cut cut =
            count <= forced.take ? takeAll(count) : radixCut(keys, count, forced.take, NoBlock{});
        emitInOrder(keys, 0, count, cut, NoBlock{}, NoBlock{},
                    [&](int rank, int64_t i) { out[forced.initEnd + rank] = ids[i]; });
    }
}

} // namespace folio::kernels::select_detail
