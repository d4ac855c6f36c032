#pragma once
// Device code of the GPU sampling (sampling.cu launches it, sampling_finish.cuh holds the
// finishing block); internal to kernels/.
//
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

namespace folio::kernels::sampling_detail {

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

} // namespace folio::kernels::sampling_detail
