#pragma once
// The finishing block of the GPU sampling (sampling_kernels.cuh has the overview; sampling.cu
// launches it); internal to kernels/.

#include "sampling_kernels.cuh"

#include <climits>

namespace folio::kernels::sampling_detail {

// ---------------------------------------------------------------------------------------------
// finish: one block of kFinishThreads.

struct FinishArgs {
    const float* clean;
    const uint16_t* bins;
    int padded;
    const Best* partials;
    int partialCount;
    const uint32_t* binCount;
    const unsigned long long* binAll;
    const unsigned long long* binKept;
    GpuSamplingParams params;
    bool greedy;
    float uniform;
    const float* uniformDevice;
    int32_t* tokenOut;
};

struct FinishShared {
    unsigned long long list[kCap]; // sort keys of the bin being resolved
    unsigned long long binAll[kBins];
    unsigned long long binKept[kBins];
    uint32_t binCount[kBins];
    unsigned long long digitAll[kDigits];
    unsigned long long digitKept[kDigits];
    uint32_t digitCount[kDigits];
    unsigned long long warpTotals[kWarps];
    Contrib warpContribs[kWarps];
    Contrib sum;
    unsigned long long minKey;
    unsigned long long maxKey;
    unsigned long long cacheCut;
    int listCount;
    int cacheBin; // the bin whose candidates (key >= cacheCut) the sorted list holds, or -1
    int found;
    Best best;
};

// The candidates of one search: bins after `lastBin` are out, and within `lastBin` only keys
// >= cut count, with `lastPart` their total.
struct Region {
    int lastBin;
    Contrib lastPart;
    uint64_t cut;
};

struct Pick {
    uint64_t key;
    Contrib through; // totals from the start of the bin's part of the region, this one included
};

__device__ uint64_t warpInclusiveScan(uint64_t v) {
    const int lane = threadIdx.x & 31;
    for (int o = 1; o < 32; o <<= 1) {
        const uint64_t n = __shfl_up_sync(kFull, v, o);
        if (lane >= o) v += n;
    }
    return v;
}

__device__ uint64_t blockExclusiveScan(uint64_t v, FinishShared& s) {
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    const uint64_t inclusive = warpInclusiveScan(v);
    if (lane == 31) s.warpTotals[warp] = inclusive;
    __syncthreads();
    if (warp == 0) {
        const uint64_t t = s.warpTotals[lane];
        s.warpTotals[lane] = warpInclusiveScan(t) - t;
    }
    __syncthreads();
    const uint64_t result = s.warpTotals[warp] + inclusive - v;
    __syncthreads();
    return result;
}

__device__ Contrib warpSum(Contrib c) {
    for (int o = 16; o > 0; o >>= 1) {
        c.count += __shfl_xor_sync(kFull, c.count, o);
        c.all += __shfl_xor_sync(kFull, c.all, o);
        c.kept += __shfl_xor_sync(kFull, c.kept, o);
    }
    return c;
}

__device__ Contrib blockSum(Contrib c, FinishShared& s) {
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    c = warpSum(c);
    if (lane == 0) s.warpContribs[warp] = c;
    __syncthreads();
    if (warp == 0) {
        c = warpSum(s.warpContribs[lane]);
        if (lane == 0) s.sum = c;
    }
    __syncthreads();
    const Contrib result = s.sum;
    __syncthreads();
    return result;
}

// Index of the first of `n` items whose running total of `acc` reaches h (h >= 1), or -1 when
// the total stays below h; `before` gets the totals of the items ahead of it. Each thread walks
// a contiguous run of items, so thread order is item order.
template <class Get>
__device__ int findFirstReach(int n, Get get, Acc acc, uint64_t h, Contrib& before,
                              FinishShared& s) {
    const int per = (n + kFinishThreads - 1) / kFinishThreads;
    const int begin = min(n, static_cast<int>(threadIdx.x) * per);
    const int end = min(n, begin + per);
    uint64_t local = 0;
    for (int i = begin; i < end; ++i) local += pick(get(i), acc);
    if (threadIdx.x == 0) s.found = -1;
    uint64_t run = blockExclusiveScan(local, s);
    if (run < h && run + local >= h) {
        for (int i = begin; i < end; ++i) {
            run += pick(get(i), acc);
            if (run >= h) {
                s.found = i;
                break;
            }
        }
    }
    __syncthreads();
    const int found = s.found;
    Contrib mine{0, 0, 0};
    for (int i = begin; i < min(end, found); ++i) mine = mine + get(i);
    before = blockSum(mine, s);
    return found;
}

// Calls f(key) for every candidate of `bin`. The bins array is read 8 ids per load and 8 loads
// at a time; matches are rare, so they are collected into one mask and handled one by one.
template <class F> __device__ void forEachInBin(const FinishArgs& a, int bin, F f) {
    constexpr int kBatch = 8;
    const uint4* bins4 = reinterpret_cast<const uint4*>(a.bins);
    const int n4 = a.padded / 8;
    const uint32_t pattern = static_cast<uint32_t>(bin) * 0x10001u;
    for (int j0 = threadIdx.x; j0 < n4; j0 += kBatch * kFinishThreads) {
        uint64_t matches = 0;
#pragma unroll
        for (int u = 0; u < kBatch; ++u) {
            const int j = j0 + u * kFinishThreads;
            const uint4 v = j < n4 ? bins4[j] : make_uint4(kFull, kFull, kFull, kFull);
            const uint32_t words[4] = {v.x, v.y, v.z, v.w};
#pragma unroll
            for (int w = 0; w < 4; ++w) {
                const uint32_t eq = __vcmpeq2(words[w], pattern); // 0xFFFF per equal half
                const uint64_t two = (eq & 1u) | ((eq >> 15) & 2u);
                matches |= two << (u * 8 + w * 2);
            }
        }
        while (matches) {
            const int bit = __ffsll(static_cast<long long>(matches)) - 1;
            matches &= matches - 1;
            const int i = (j0 + (bit >> 3) * kFinishThreads) * 8 + (bit & 7);
            f(keyOf(a.clean[i], i));
        }
    }
}

__device__ void sortDescending(FinishShared& s, int n) {
    int size = 1;
    while (size < n) size <<= 1;
    for (int i = n + threadIdx.x; i < size; i += kFinishThreads) s.list[i] = 0; // sinks to the end
    __syncthreads();
    for (int k = 2; k <= size; k <<= 1) {
        for (int j = k >> 1; j > 0; j >>= 1) {
            for (int i = threadIdx.x; i < size; i += kFinishThreads) {
                const int partner = i ^ j;
                if (partner <= i) continue;
                const unsigned long long x = s.list[i], y = s.list[partner];
                const bool descending = (i & k) == 0;
                if (descending ? x < y : x > y) {
                    s.list[i] = y;
                    s.list[partner] = x;
                }
            }
            __syncthreads();
        }
    }
}

struct Narrowing {
    int shift = 64; // keys must satisfy key >> shift == prefix (64: no constraint)
    uint64_t prefix = 0;
    __device__ bool admits(uint64_t key) const { return shift >= 64 || (key >> shift) == prefix; }
};

// Gathers the candidates of the bin (key >= cut, within the narrowing) into s.list, up to kCap
// of them; s.listCount gets how many there are, s.minKey/maxKey their range.
__device__ int gather(const FinishArgs& a, FinishShared& s, int bin, uint64_t cut,
                      const Narrowing& nw) {
    if (threadIdx.x == 0) {
        s.listCount = 0;
        s.minKey = ~0ull;
        s.maxKey = 0;
        s.cacheBin = -1;
    }
    __syncthreads();
    forEachInBin(a, bin, [&](uint64_t key) {
        if (key < cut || !nw.admits(key)) return;
        const int pos = atomicAdd(&s.listCount, 1);
        if (pos < kCap) s.list[pos] = key;
        atomicMin(&s.minKey, key);
        atomicMax(&s.maxKey, key);
    });
    __syncthreads();
    return s.listCount;
}

// One radix pass over a bin too large for shared memory: splits it on the 8 bits below the
// highest bit where its keys differ and keeps the digit where the running total reaches h.
__device__ __noinline__ void narrow(const FinishArgs& a, FinishShared& s, const Weigher& wg,
                                    int bin, uint64_t cut, Acc acc, uint64_t& h, Contrib& base,
                                    Narrowing& nw) {
    const uint64_t lo = s.minKey, hi = s.maxKey;
    const int high = 63 - __clzll(static_cast<long long>(lo ^ hi));
    const int shift = max(0, high - 7);
    for (int d = threadIdx.x; d < kDigits; d += kFinishThreads) {
        s.digitCount[d] = 0;
        s.digitAll[d] = 0;
        s.digitKept[d] = 0;
    }
    __syncthreads();
    forEachInBin(a, bin, [&](uint64_t key) {
        if (key < cut || !nw.admits(key)) return;
        const int d = static_cast<int>((key >> shift) & 0xFF);
        const Contrib c = wg.contrib(logitOf(key));
        atomicAdd(&s.digitCount[d], 1u);
        if (c.all) atomicAdd(&s.digitAll[d], c.all);
        if (c.kept) atomicAdd(&s.digitKept[d], c.kept);
    });
    __syncthreads();
    Contrib before;
    const auto digit = [&](int i) {
        const int d = kDigits - 1 - i; // high digits first: larger keys are better
        return Contrib{s.digitCount[d], s.digitAll[d], s.digitKept[d]};
    };
    const int found = max(0, findFirstReach(kDigits, digit, acc, h, before, s));
    const uint64_t d = static_cast<uint64_t>(kDigits - 1 - found);
    h -= pick(before, acc);
    base = base + before;
    nw.prefix = shift + 8 >= 64 ? d : (((hi >> (shift + 8)) << 8) | d);
    nw.shift = shift;
}

// Finds, among the candidates of `bin` with key >= cut, the first whose running total of `acc`
// (counted from the start of the bin) reaches h. The caller guarantees the bin's total does.
__device__ __noinline__ Pick resolve(const FinishArgs& a, FinishShared& s, const Weigher& wg,
                                     int bin, uint64_t cut, Acc acc, uint64_t h) {
    Contrib base{0, 0, 0};
    // A list sorted for this bin with a cut no stricter holds every candidate needed.
    const bool reuse = s.cacheBin == bin && s.cacheCut <= cut;
    __syncthreads(); // everyone has read the cache tag before gather() may clear it
    if (!reuse) {
        Narrowing nw;
        while (gather(a, s, bin, cut, nw) > kCap) narrow(a, s, wg, bin, cut, acc, h, base, nw);
        sortDescending(s, s.listCount);
        if (threadIdx.x == 0 && nw.shift >= 64) {
            s.cacheBin = bin;
            s.cacheCut = cut;
        }
    }
    const auto item = [&](int i) {
        const uint64_t key = s.list[i];
        return key < cut ? Contrib{0, 0, 0} : wg.contrib(logitOf(key));
    };
    Contrib before;
    const int found = findFirstReach(s.listCount, item, acc, h, before, s);
    if (found < 0) return {0, base}; // cannot happen when the caller's guarantee holds: id -1
    return {s.list[found], base + before + item(found)};
}

// The search over the whole order: first the bin, then the candidate within it.
__device__ __noinline__ Pick search(const FinishArgs& a, FinishShared& s, const Weigher& wg,
                                    const Region& r, Acc acc, uint64_t h, Contrib& beforeBin,
                                    int& bin) {
    const auto binTotal = [&](int b) {
        if (b > r.lastBin) return Contrib{0, 0, 0};
        if (b == r.lastBin) return r.lastPart;
        return Contrib{s.binCount[b], s.binAll[b], s.binKept[b]};
    };
    bin = findFirstReach(kBins, binTotal, acc, h, beforeBin, s);
    if (bin < 0) return {0, beforeBin};
    return resolve(a, s, wg, bin, r.cut, acc, h - pick(beforeBin, acc));
}

__device__ void loadBins(const FinishArgs& a, FinishShared& s) {
    for (int b = threadIdx.x; b < kBins; b += kFinishThreads) {
        s.binCount[b] = a.binCount[b];
        s.binAll[b] = a.binAll[b];
        s.binKept[b] = a.binKept[b];
    }
    if (threadIdx.x == 0) s.cacheBin = -1;
    __syncthreads();
}

__device__ Contrib binTotals(FinishShared& s) {
    Contrib mine{0, 0, 0};
    for (int b = threadIdx.x; b < kBins; b += kFinishThreads)
        mine = mine + Contrib{s.binCount[b], s.binAll[b], s.binKept[b]};
    return blockSum(mine, s);
}

__global__ void __launch_bounds__(kFinishThreads, 1) finishKernel(FinishArgs a) {
    extern __shared__ __align__(16) unsigned char raw[];
    FinishShared& s = *reinterpret_cast<FinishShared*>(raw);
    if (threadIdx.x < 32) {
        const Best best = reducePartials(a.partials, a.partialCount);
        if (threadIdx.x == 0) s.best = best;
    }
    __syncthreads();
    const Best best = s.best;
    if (best.id == INT_MAX || a.greedy) {
        if (threadIdx.x == 0) *a.tokenOut = best.id == INT_MAX ? -1 : best.id;
        return;
    }
    loadBins(a, s);
    const GpuSamplingParams& p = a.params;
    const Weigher wg{best.value, p.temperature, p.minP};
    // `upto`: totals of the candidates still in play; `region`: where they end.
    Contrib upto = binTotals(s);
    Region region{kBins, {0, 0, 0}, 0};
    Contrib before;
    int bin;
    if (p.topK > 0 && static_cast<uint64_t>(p.topK) < upto.count) {
        const Pick k = search(a, s, wg, region, Acc::Count, p.topK, before, bin);
        upto = before + k.through;
        region = {bin, k.through, k.key};
    }
    if (p.topP < 1.0f) {
        // Hugging Face's nucleus: the shortest prefix of the min-p survivors whose weight
        // reaches topP times the mass before min-p.
        const double target = ceil(static_cast<double>(p.topP) * static_cast<double>(upto.all));
        const uint64_t h = p.topP > 0.0f ? max(uint64_t{1}, static_cast<uint64_t>(target)) : 1;
        if (h <= upto.kept) {
            const Pick n = search(a, s, wg, region, Acc::Kept, h, before, bin);
            upto = before + n.through;
            region = {bin, n.through, n.key};
        }
    }
    if (upto.kept == 0) { // only with parameters sala::validate rejects (minP >= 1)
        if (threadIdx.x == 0) *a.tokenOut = best.id;
        return;
    }
    float u = a.uniformDevice ? *a.uniformDevice : a.uniform;
    u = fminf(fmaxf(u, 0.0f), 1.0f); // NaN -> 0
    // The first candidate whose running total exceeds u * total, i.e. reaches floor(.) + 1.
    const uint64_t floorTarget = static_cast<uint64_t>(static_cast<double>(u) * upto.kept);
    const uint64_t h = min(floorTarget, upto.kept - 1) + 1;
    const Pick d = search(a, s, wg, region, Acc::Kept, h, before, bin);
    if (threadIdx.x == 0) *a.tokenOut = idOf(d.key);
}

} // namespace folio::kernels::sampling_detail
