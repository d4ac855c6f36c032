#pragma once
// Device code of the block selection's last step (sparse_select.cu launches it): the forced
// blocks plus a radix select of the best stage-1 candidates per (query, kv group), by one CTA
// per row (a wide one for the few short rows of a decode step), or split over segments of the
// row and merged when rows are few and long.

#include "sparse_select_kernels.cuh"

namespace folio::kernels::select_detail {

// The split form's candidates (see selectTopkPartialKernel), in the slice's workspace.
constexpr int kMaxTopkSegments = 32;
// The split form's CTAs are few (at 1M, 64 partial and 2 merging ones for a step's 2 rows), so
// they are wide: a radix pass then reads one or two keys per thread.
constexpr int kPartialThreads = 512;
constexpr int kMergeThreads = 1024;
struct TopkSplit {
    int segments = 0;
    int segmentBlocks = 0;
    int32_t* ids = nullptr;   // [row][segment][topkTotal]
    uint32_t* keys = nullptr; // [row][segment][topkTotal]
    int* counts = nullptr;    // [row][segment]
};

struct Cut {
    uint32_t prefix, mask; // candidates with (key & mask) > prefix are taken
    int ties;              // and the `ties` lowest ids among those with (key & mask) == prefix
};

// One radix pass's outcome: the digit of the cut, how many of its keys are still to take, and
// how many keys carry it.
struct CutDigit {
    int digit, tiesLeft, binCount;
};

// By warp 0, over a pass's 256-bin histogram: lane l owns the digits 255 - 8l down to
// 248 - 8l, so one warp scan counts keys from the top down without a CTA barrier.
__device__ inline void findCutDigit(const int* hist, int ties, CutDigit* out) {
    const int lane = threadIdx.x & 31;
    const int4 high = reinterpret_cast<const int4*>(hist)[63 - 2 * lane]; // 252-8l .. 255-8l
    const int4 low = reinterpret_cast<const int4*>(hist)[62 - 2 * lane];  // 248-8l .. 251-8l
    const int c[8] = {high.w, high.z, high.y, high.x, low.w, low.z, low.y, low.x};
    int own = 0;
    for (int j = 0; j < 8; ++j) own += c[j];
    int upTo = own;
    for (int d = 1; d < 32; d <<= 1) {
        const int o = __shfl_up_sync(0xffffffffu, upTo, d);
        if (lane >= d) upTo += o;
    }
    int above = upTo - own;
    if (above >= ties || upTo < ties) return;
    for (int j = 0; j < 8; ++j) {
        if (above + c[j] >= ties) {
            *out = CutDigit{255 - 8 * lane - j, ties - above, c[j]};
            return;
        }
        above += c[j];
    }
}

// Radix select, 8 bits a pass from the top, of the `take` largest of keys[0, n), by a CTA of
// Threads threads. Three barriers a pass: the histogram cleared, filled, and its cut found.
// Indices are 32-bit: a row holds one key per block of 64+ tokens.
template <int Threads> __device__ Cut radixCut(const uint32_t* keys, int n, int take) {
    static_assert(Threads >= 256 && Threads % 32 == 0);
    __shared__ __align__(16) int hist[256];
    __shared__ CutDigit found;
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    Cut cut{0u, 0u, take};
    for (int shift = 24; shift >= 0; shift -= 8) {
        if (threadIdx.x < 256) hist[threadIdx.x] = 0;
        __syncthreads();
        for (int b = warp * 32 + lane; b - lane < n; b += Threads) {
            int digit = 256;
            if (b < n) {
                const uint32_t k = keys[b];
                if ((k & cut.mask) == cut.prefix) digit = (k >> shift) & 255;
            }
            const unsigned peers = __match_any_sync(0xffffffffu, digit);
            if (digit < 256 && lane == __ffs(peers) - 1) atomicAdd(&hist[digit], __popc(peers));
        }
        __syncthreads();
        if (warp == 0) findCutDigit(hist, cut.ties, &found);
        __syncthreads();
        // Every thread reads `found` before the next pass's first barrier, and warp 0 writes
        // it again only after the second.
        const CutDigit r = found;
        cut.prefix |= uint32_t(r.digit) << shift;
        cut.mask |= 255u << shift;
        cut.ties = r.tiesLeft;
        if (r.binCount == r.tiesLeft) break;
    }
    return cut;
}

// The forced blocks of a query in block qb (nb = qb + 1 > topkTotal): [0, initEnd) and
// [firstLocal, nb). The candidates are the blocks between, one contiguous range, so the kernels
// below never test a block for being forced.
struct Forcing {
    int initEnd, firstLocal;
    int take; // candidates to choose

    __device__ Forcing(const Shape& s, int qb) {
        const int nb = qb + 1;
        initEnd = min(s.initBlocks, nb);
        firstLocal = max(s.initBlocks, qb - s.localBlocks);
        take = s.topkTotal - (initEnd + (nb - firstLocal));
    }
};

// The key block holding the query of (query, group) row `row`.
__device__ inline int queryBlock(const Shape& s, Position start, int64_t row) {
    return static_cast<int>((start.get() + row / s.kvHeads) / s.blockSize);
}

template <int Threads> __device__ void denseRow(const Shape& s, int nb, int32_t* out) {
    for (int i = threadIdx.x; i < s.topkTotal; i += Threads) out[i] = i < nb ? i : -1;
}

// A row's forced blocks into out: the initial ones first, the local ones after the `take` slots
// of the chosen ones, so that the list ascends.
template <int Threads> __device__ void emitForced(const Forcing& forced, int nb, int32_t* out) {
    for (int b = threadIdx.x; b < forced.initEnd; b += Threads) out[b] = b;
    const int localAt = forced.initEnd + forced.take;
    for (int b = forced.firstLocal + threadIdx.x; b < nb; b += Threads)
        out[localAt + b - forced.firstLocal] = b;
}

// An exclusive prefix over the CTA's warps of one count per warp, by each warp's own scan of
// the published counts (no second barrier, no loop over the warps before it).
template <int Threads> __device__ int warpsBefore(const int* perWarp) {
    constexpr int warps = Threads / 32;
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    int v = lane < warps ? perWarp[lane] : 0;
    for (int d = 1; d < warps; d <<= 1) {
        const int o = __shfl_up_sync(0xffffffffu, v, d);
        if (lane >= d) v += o;
    }
    const int upTo = __shfl_sync(0xffffffffu, v, max(warp - 1, 0));
    return warp > 0 ? upTo : 0;
}

// Calls emit(rank, i) for every i in [0, n) that passes the cut (of the ties, the cut.ties
// lowest i): ranks follow i, because each warp owns a contiguous run of it.
template <int Threads, typename Emit>
__device__ void emitInOrder(const uint32_t* keys, int n, const Cut& cut, Emit emit) {
    constexpr int warps = Threads / 32;
    __shared__ int eqCount[warps], selCount[warps];
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    const int span = (n + Threads - 1) / Threads * 32;
    const int wlo = warp * span, whi = min(n, wlo + span);
    const unsigned below = (1u << lane) - 1u;
    auto classify = [&](int b, bool& sure, bool& tie) {
        const uint32_t k = b < whi ? keys[b] & cut.mask : 0u;
        sure = b < whi && k > cut.prefix;
        tie = b < whi && k == cut.prefix;
    };
    int eq = 0, sel = 0;
    for (int base = wlo; base < whi; base += 32) {
        bool sure, tie;
        classify(base + lane, sure, tie);
        eq += __popc(__ballot_sync(0xffffffffu, tie));
        sel += __popc(__ballot_sync(0xffffffffu, sure));
    }
    if (lane == 0) eqCount[warp] = eq, selCount[warp] = sel;
    __syncthreads();
    int eqBefore = warpsBefore<Threads>(eqCount);
    int outPos = warpsBefore<Threads>(selCount) + min(eqBefore, cut.ties);
    for (int base = wlo; base < whi; base += 32) {
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

// The block ids (idOf(i) for keys[i]) of the `take` best of n candidate keys, in the order of
// i, into out[0, take).
template <int Threads, typename IdOf>
__device__ void chooseCandidates(const uint32_t* keys, int n, int take, IdOf idOf, int32_t* out) {
    if (take <= 0) return;
    const Cut cut = n <= take ? takeAll(n) : radixCut<Threads>(keys, n, take);
    emitInOrder<Threads>(keys, n, cut, [&](int rank, int i) { out[rank] = idOf(i); });
}

// One CTA per row: Threads = kThreads for the many rows of a prefill slice, kMergeThreads for
// the few of a decode step whose rows are short enough for one CTA (see sparse_select.cu).
template <int Threads>
__global__ void __launch_bounds__(Threads)
    selectTopkKernel(Shape s, int64_t tokens, Position start, const uint32_t* keysIn,
                     int64_t nbStride, bool cacheRow, int32_t* __restrict__ blocks) {
    extern __shared__ uint32_t rowCache[];
    const int64_t row = blockIdx.x;
    // A decode step's position was copied in before the step's first kernel: read before the
    // wait, as the split form's kernels do.
    const int qb = queryBlock(s, start, row), nb = qb + 1;
    waitForPrecedingKernel();
    int32_t* out = blocks + row * s.topkTotal;
    if (nb <= s.topkTotal) return denseRow<Threads>(s, nb, out);
    const Forcing forced(s, qb);
    emitForced<Threads>(forced, nb, out);
    const int n = forced.firstLocal - forced.initEnd;
    const uint32_t* keys = keysIn + row * nbStride + forced.initEnd;
    if (cacheRow) {
        for (int b = threadIdx.x; b < n; b += Threads) rowCache[b] = keys[b];
        __syncthreads();
        keys = rowCache;
    }
    chooseCandidates<Threads>(
        keys, n, forced.take, [&](int i) { return forced.initEnd + i; }, out + forced.initEnd);
}

// ---- the split form, for a few rows of many blocks (a decode step) -------------------------
// One CTA per row scanned all of a row's blocks alone: 44 us of a 1M decode step's 88 us of
// selection on an H100. Here CTA (segment, row) keeps the best `take` candidates of its
// segment (every member of the row's best `take` is among its segment's best), and one CTA
// per row then chooses among at most segments * take of them. Ties keep the lowest ids in
// both steps, so the choice is the one-CTA kernel's exactly.

// The segment's candidates are copied to shared memory first (dynamic, segmentBlocks of them):
// the radix passes and the emit then read them there instead of from L2, one round trip each.
__global__ void __launch_bounds__(kPartialThreads)
    selectTopkPartialKernel(Shape s, Position start, const uint32_t* keysIn, int64_t nbStride,
                            TopkSplit split) {
    extern __shared__ uint32_t segmentKeys[];
    const int64_t row = blockIdx.y;
    const int segment = blockIdx.x;
    // A decode step's position was copied in before the step's first kernel: read it before the
    // wait, so that only the block scores cost a round trip after it.
    const int qb = queryBlock(s, start, row), nb = qb + 1;
    waitForPrecedingKernel();
    const int64_t slot = row * split.segments + segment;
    const Forcing forced(s, qb);
    const int lo = max(segment * split.segmentBlocks, forced.initEnd);
    const int hi = min(min(nb, (segment + 1) * split.segmentBlocks), forced.firstLocal);
    if (nb <= s.topkTotal || forced.take <= 0 || lo >= hi) {
        if (threadIdx.x == 0) split.counts[slot] = 0;
        return;
    }
    const int n = hi - lo;
    const uint32_t* keys = keysIn + row * nbStride + lo;
    for (int i = threadIdx.x; i < n; i += kPartialThreads) segmentKeys[i] = keys[i];
    __syncthreads();
    const Cut cut =
        n <= forced.take ? takeAll(n) : radixCut<kPartialThreads>(segmentKeys, n, forced.take);
    int32_t* ids = split.ids + slot * s.topkTotal;
    uint32_t* kept = split.keys + slot * s.topkTotal;
    emitInOrder<kPartialThreads>(segmentKeys, n, cut, [&](int rank, int i) {
        ids[rank] = lo + i;
        kept[rank] = segmentKeys[i];
    });
    if (threadIdx.x == 0) split.counts[slot] = min(n, forced.take);
}

__global__ void __launch_bounds__(kMergeThreads)
    selectTopkMergeKernel(Shape s, Position start, TopkSplit split, int32_t* __restrict__ blocks) {
    extern __shared__ uint32_t merged[]; // keys [capacity], then ids [capacity]
    __shared__ int offsets[kMaxTopkSegments + 1];
    const int64_t row = blockIdx.x;
    const int qb = queryBlock(s, start, row), nb = qb + 1; // before the wait, as above
    waitForPrecedingKernel();
    int32_t* out = blocks + row * s.topkTotal;
    if (nb <= s.topkTotal) return denseRow<kMergeThreads>(s, nb, out);
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
    // Segments in order and ids ascending inside each: the merged list is in id order. The
    // row's slots are contiguous, so thread i copies the i-th of them, whatever its segment.
    const int64_t rowSlots = row * capacity;
    for (int i = threadIdx.x; i < capacity; i += kMergeThreads) {
        const int g = i / s.topkTotal, j = i - g * s.topkTotal;
        if (j < offsets[g + 1] - offsets[g]) {
            keys[offsets[g] + j] = split.keys[rowSlots + i];
            ids[offsets[g] + j] = split.ids[rowSlots + i];
        }
    }
    __syncthreads();
    const int count = offsets[split.segments];
    emitForced<kMergeThreads>(forced, nb, out);
    chooseCandidates<kMergeThreads>(
        keys, count, forced.take, [&](int i) { return ids[i]; }, out + forced.initEnd);
}

} // namespace folio::kernels::select_detail
