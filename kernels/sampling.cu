// Sampling in three launches (two when greedy):
//   prepare   (many blocks): NaN -> -inf, repetition penalty, per-block argmax;
//   histogram (many blocks): the weight of every candidate and a histogram over 2048 bins of
//             (max - logit) / T, each bin holding a count and two fixed-point weight sums;
//   finish    (one block):   top-k, top-p and the draw, each a search for the first candidate
//             whose running total reaches a threshold: the bins locate it, then only the
//             candidates of one bin are gathered into shared memory and sorted.
// A bin is a monotone function of the logit, so the bins partition the candidate order into
// consecutive runs and only the run holding the answer needs sorting. A bin too large for shared
// memory is narrowed by radix passes over its sort keys until it fits.

#include "kernel_common.cuh"
#include "sampling.cuh"

#include <cfloat>
#include <climits>

namespace folio::kernels {
namespace {

constexpr int kBins = 2048;
constexpr float kBinsPerUnit = 16.0f; // bins per unit of (max - logit) / T
constexpr float kFixedScale = 0x1p42f;
constexpr int kMaxVocab = 1 << 21; // keeps every fixed-point sum below 2^63
constexpr int kPrepareThreads = 256;
constexpr int kPrepareTile = kPrepareThreads * 4;
constexpr int kHistThreads = 512;
constexpr int kHistTile = kHistThreads * 8;
constexpr int kFinishThreads = 1024;
constexpr int kWarps = kFinishThreads / 32;
constexpr int kCap = 4096; // candidates one bin may hold to be sorted in shared memory
constexpr int kDigits = 256;
constexpr uint16_t kNoBin = 0xFFFF;
constexpr unsigned kFull = 0xFFFFFFFFu;

struct Best {
    float value;
    int id;
};

// Running totals of the three accumulators every search works with.
struct Contrib {
    uint64_t count; // candidates (top-k counts every logit above -inf, weight 0 or not)
    uint64_t all;   // fixed-point weight of every candidate (the top-p mass)
    uint64_t kept;  // fixed-point weight of those that pass min-p (what top-p and the draw walk)
};

enum class Acc { Count, All, Kept };

__device__ Contrib operator+(Contrib a, Contrib b) {
    return {a.count + b.count, a.all + b.all, a.kept + b.kept};
}

__device__ uint64_t pick(const Contrib& c, Acc acc) {
    return acc == Acc::Count ? c.count : acc == Acc::All ? c.all : c.kept;
}

__device__ Best better(Best a, Best b) {
    return (b.value > a.value || (b.value == a.value && b.id < a.id)) ? b : a;
}

__device__ Best warpBest(Best b) {
    for (int o = 16; o > 0; o >>= 1) {
        Best other{__shfl_xor_sync(kFull, b.value, o), __shfl_xor_sync(kFull, b.id, o)};
        b = better(b, other);
    }
    return b;
}

// Sort key: larger is better. The logit's bits are mapped so that unsigned order is float
// order, and the low half holds the complement of the id so that equal logits prefer low ids.
__device__ uint64_t keyOf(float logit, int id) {
    const uint32_t u = __float_as_uint(logit);
    const uint32_t ordered = (u & 0x80000000u) ? ~u : (u | 0x80000000u);
    return (static_cast<uint64_t>(ordered) << 32) | (0xFFFFFFFFu - static_cast<uint32_t>(id));
}

__device__ float logitOf(uint64_t key) {
    const uint32_t k = static_cast<uint32_t>(key >> 32);
    return __uint_as_float((k & 0x80000000u) ? (k & 0x7FFFFFFFu) : ~k);
}

__device__ int idOf(uint64_t key) {
    return static_cast<int>(0xFFFFFFFFu - static_cast<uint32_t>(key));
}

// The one place weights and bins are computed, so that the histogram and the finishing block
// agree bit for bit. The arithmetic is sala::Sampler's: exp((logit - max) / T) in float.
struct Weigher {
    float maxLogit;
    float temperature;
    float minP;

    __device__ bool weigh(float logit, float& w, int& bin) const {
        if (maxLogit == INFINITY) { // the softmax limit: only +inf logits, equally likely
            if (logit != INFINITY) return false;
            w = 1.0f;
            bin = 0;
            return true;
        }
        if (!(logit > -INFINITY)) return false;
        const float x = __fdiv_rn(__fsub_rn(logit, maxLogit), temperature);
        w = expf(x);
        bin = static_cast<int>(fminf(-x * kBinsPerUnit, static_cast<float>(kBins - 1)));
        return true;
    }

    __device__ Contrib contrib(float logit) const {
        float w;
        int bin;
        if (!weigh(logit, w, bin)) return {0, 0, 0};
        const uint64_t fixed = __float2ull_rn(w * kFixedScale);
        return {1, fixed, w >= minP ? fixed : 0};
    }
};

// ---------------------------------------------------------------------------------------------
// prepare: sanitised, penalised logits (padding = -inf) and the argmax of each block.

struct PrepareArgs {
    const float* logits;
    int vocab;
    int padded;
    float penalty;
    bool penalise;
    const int32_t* history;
    int historyCount;
    float* clean;
    Best* partials;
    uint32_t* binWords; // the global histogram, zeroed here for the next kernel
    int binWordCount;
};

__global__ void __launch_bounds__(kPrepareThreads) prepareKernel(PrepareArgs a) {
    __shared__ uint32_t seen[kPrepareTile / 32];
    __shared__ Best warpResults[kPrepareThreads / 32];
    const int tid = threadIdx.x;
    const int base = blockIdx.x * kPrepareTile;
    for (int i = blockIdx.x * blockDim.x + tid; i < a.binWordCount; i += gridDim.x * blockDim.x)
        a.binWords[i] = 0;
    if (a.penalise) {
        // A bitmap of the tile's tokens present in the history: each distinct token once.
        for (int i = tid; i < kPrepareTile / 32; i += blockDim.x) seen[i] = 0;
        __syncthreads();
        for (int j = tid; j < a.historyCount; j += blockDim.x) {
            const int t = a.history[j] - base;
            if (t >= 0 && t < kPrepareTile && base + t < a.vocab)
                atomicOr(&seen[t >> 5], 1u << (t & 31));
        }
        __syncthreads();
    }
    Best best{-INFINITY, INT_MAX};
#pragma unroll
    for (int k = 0; k < kPrepareTile / kPrepareThreads; ++k) {
        const int local = k * kPrepareThreads + tid;
        const int i = base + local;
        if (i >= a.padded) break;
        float l = -INFINITY;
        if (i < a.vocab) {
            l = a.logits[i];
            if (isnan(l)) l = -INFINITY;
            if (a.penalise && (seen[local >> 5] >> (local & 31) & 1u))
                l = l > 0.0f ? __fdiv_rn(l, a.penalty) : __fmul_rn(l, a.penalty);
            if (l == 0.0f) l = 0.0f; // -0 and +0 are one logit: give them one sort key
        }
        a.clean[i] = l;
        if (l > best.value) best = {l, i}; // ids rise with k, so ties keep the lowest
    }
    best = warpBest(best);
    if ((tid & 31) == 0) warpResults[tid >> 5] = best;
    __syncthreads();
    if (tid < 32) {
        best = tid < kPrepareThreads / 32 ? warpResults[tid] : Best{-INFINITY, INT_MAX};
        best = warpBest(best);
        if (tid == 0) a.partials[blockIdx.x] = best;
    }
}

__device__ Best reducePartials(const Best* partials, int count) {
    Best best{-INFINITY, INT_MAX};
    for (int i = threadIdx.x & 31; i < count; i += 32) best = better(best, partials[i]);
    return warpBest(best);
}

// ---------------------------------------------------------------------------------------------
// histogram: per element its bin (kNoBin when not a candidate); per bin count and weight sums.

struct HistogramArgs {
    const float* clean;
    int padded;
    const Best* partials;
    int partialCount;
    float temperature;
    float minP;
    uint16_t* bins;
    uint32_t* binCount;
    unsigned long long* binAll;
    unsigned long long* binKept;
};

__global__ void __launch_bounds__(kHistThreads) histogramKernel(HistogramArgs a) {
    __shared__ uint32_t count[kBins];
    __shared__ unsigned long long all[kBins];
    __shared__ unsigned long long kept[kBins];
    __shared__ float maxLogit;
    const int tid = threadIdx.x;
    for (int b = tid; b < kBins; b += blockDim.x) {
        count[b] = 0;
        all[b] = 0;
        kept[b] = 0;
    }
    if (tid < 32) {
        const Best best = reducePartials(a.partials, a.partialCount);
        if (tid == 0) maxLogit = best.value;
    }
    __syncthreads();
    const Weigher weigher{maxLogit, a.temperature, a.minP};
    const int base = blockIdx.x * kHistTile;
#pragma unroll
    for (int k = 0; k < kHistTile / kHistThreads; ++k) {
        const int i = base + k * kHistThreads + tid;
        if (i >= a.padded) break;
        float w;
        int bin;
        if (!weigher.weigh(a.clean[i], w, bin)) {
            a.bins[i] = kNoBin;
            continue;
        }
        a.bins[i] = static_cast<uint16_t>(bin);
        atomicAdd(&count[bin], 1u);
        const unsigned long long fixed = __float2ull_rn(w * kFixedScale);
        if (fixed == 0) continue;
        atomicAdd(&all[bin], fixed);
        if (w >= a.minP) atomicAdd(&kept[bin], fixed);
    }
    __syncthreads();
    for (int b = tid; b < kBins; b += blockDim.x) {
        if (count[b] == 0) continue;
        atomicAdd(&a.binCount[b], count[b]);
        if (all[b]) atomicAdd(&a.binAll[b], all[b]);
        if (kept[b]) atomicAdd(&a.binKept[b], kept[b]);
    }
}

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

// ---------------------------------------------------------------------------------------------
// Workspace layout, each part aligned to 256 bytes.

struct Layout {
    size_t clean, bins, partials, binCount, binAll, binKept, total;
    int padded, prepareBlocks, histBlocks;
};

size_t alignUp(size_t v) {
    return (v + 255) / 256 * 256;
}

Layout layoutFor(int vocab) {
    Layout l{};
    l.padded = (vocab + 7) / 8 * 8;
    l.prepareBlocks = static_cast<int>(ceilDiv(l.padded, kPrepareTile));
    l.histBlocks = static_cast<int>(ceilDiv(l.padded, kHistTile));
    size_t at = 0;
    const auto take = [&](size_t bytes) {
        const size_t here = at;
        at = alignUp(at + bytes);
        return here;
    };
    l.clean = take(sizeof(float) * l.padded);
    l.bins = take(sizeof(uint16_t) * l.padded);
    l.partials = take(sizeof(Best) * l.prepareBlocks);
    l.binCount = take(sizeof(uint32_t) * kBins);
    l.binAll = take(sizeof(unsigned long long) * kBins);
    l.binKept = take(sizeof(unsigned long long) * kBins);
    l.total = at;
    return l;
}

} // namespace

size_t sampleWorkspace(int vocab, int /*topK: the layout does not depend on it*/) {
    if (vocab <= 0 || vocab > kMaxVocab) return 0;
    return layoutFor(vocab).total;
}

cudaError_t launchSample(const float* logits, int vocab, const GpuSamplingParams& p,
                         const int32_t* history, int historyCount, float uniform,
                         const float* uniformDevice, int32_t* tokenOut, void* workspace,
                         size_t workspaceBytes, cudaStream_t stream) {
    if (!logits || !tokenOut || !workspace || vocab <= 0 || vocab > kMaxVocab || historyCount < 0 ||
        (historyCount > 0 && !history))
        return cudaErrorInvalidValue;
    const Layout l = layoutFor(vocab);
    if (workspaceBytes < l.total || reinterpret_cast<uintptr_t>(workspace) % 256 != 0)
        return cudaErrorInvalidValue;
    auto* ws = static_cast<unsigned char*>(workspace);
    auto* clean = reinterpret_cast<float*>(ws + l.clean);
    auto* bins = reinterpret_cast<uint16_t*>(ws + l.bins);
    auto* partials = reinterpret_cast<Best*>(ws + l.partials);
    auto* binCount = reinterpret_cast<uint32_t*>(ws + l.binCount);
    auto* binAll = reinterpret_cast<unsigned long long*>(ws + l.binAll);
    auto* binKept = reinterpret_cast<unsigned long long*>(ws + l.binKept);
    const bool greedy = !(p.temperature > 0.0f);
    const bool penalise = p.repetitionPenalty != 1.0f && historyCount > 0;
    const int binWords = greedy ? 0 : static_cast<int>((l.total - l.binCount) / 4);

    PrepareArgs pa{logits,   vocab,    l.padded,     p.repetitionPenalty,
                   penalise, history,  historyCount, clean,
                   partials, binCount, binWords};
    prepareKernel<<<l.prepareBlocks, kPrepareThreads, 0, stream>>>(pa);
    if (!greedy) {
        HistogramArgs ha{clean,  l.padded, partials, l.prepareBlocks, p.temperature,
                         p.minP, bins,     binCount, binAll,          binKept};
        histogramKernel<<<l.histBlocks, kHistThreads, 0, stream>>>(ha);
    }
    // Not a stream operation, so it is allowed while a stream is being captured.
    const cudaError_t attr = cudaFuncSetAttribute(
        finishKernel, cudaFuncAttributeMaxDynamicSharedMemorySize, sizeof(FinishShared));
    if (attr != cudaSuccess) return attr;
    FinishArgs fa{clean,   bins, l.padded, partials, l.prepareBlocks, binCount, binAll,
                  binKept, p,    greedy,   uniform,  uniformDevice,   tokenOut};
    finishKernel<<<1, kFinishThreads, sizeof(FinishShared), stream>>>(fa);
    return cudaGetLastError();
}

} // namespace folio::kernels
