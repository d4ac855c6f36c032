#pragma once
// Device code of the block selection (sparse_select.cu launches it); internal to kernels/.
//
// Three kernels per slice of queries:
// 1. stageOneLse: per (query, head) the log-sum-exp over the visible level-2 keys, as
//    partial (max, sum) pairs when the key range is split over several CTAs;
// 2. stageOneScore: stage-1 scores of the visible level-1 keys summed over the heads of the
//    group, max-pooled per key block, written as order-preserving uint32 keys;
// 3. selectTopk: forced blocks plus a radix select of the best candidates per (query, group).
// The q·k products run on tensor cores (mma.sync m16n8k16, bf16 in, fp32 out): the M side
// is 16 compressed keys, the N side the query heads of one group, so each warp owns one
// query and the head sum stays inside a quad of lanes.

#include "sparse_select.cuh"

#include <cmath>

namespace folio::kernels::select_detail {

constexpr int kWarps = 8; // queries per CTA, one per warp
constexpr int kThreads = kWarps * 32;
constexpr int kTileKeys = 64; // compressed keys per shared-memory tile
constexpr int kRing = 2 * kTileKeys;
constexpr float kLog2e = 1.4426950408889634f;
constexpr int kTargetCtas = 264;     // about two CTAs per SM on an H100
constexpr int kMinTilesPerSplit = 8; // keeps the halo tile of a split a small overhead

// Device-side copy of the parameters plus derived constants.
struct Shape {
    int heads, kvHeads, group, blockSize, initBlocks, localBlocks, topkTotal;
    int kernel1, stride1, kernel2, stride2, per;
    float scaleLog2; // softmax scale times log2(e): logits live in the log2 domain
};

__device__ __forceinline__ int64_t visibleCount(int64_t pos, int kernel, int stride) {
    const int64_t n = pos + 1;
    return n >= kernel ? (n - kernel) / stride + 1 : 0;
}

__device__ __forceinline__ bool needsScores(const Shape& s, int64_t pos) {
    return pos / s.blockSize + 1 > s.topkTotal;
}

// Tiles per split of a key range. The host picks it when it knows the position; a decode
// graph's launch shape is fixed before the position is known (fixed == 0), so the kernel
// spreads the tiles over as few of the grid's splits as keeps kMinTilesPerSplit each.
__device__ __forceinline__ int tilesPerSplit(int fixed, int64_t tiles) {
    if (fixed > 0) return fixed;
    const int64_t n = max(
        int64_t(1), min(int64_t(gridDim.z), (tiles + kMinTilesPerSplit - 1) / kMinTilesPerSplit));
    return static_cast<int>((tiles + n - 1) / n);
}

__device__ __forceinline__ float fastExp2(float x) {
    float y;
    asm("ex2.approx.ftz.f32 %0, %1;" : "=f"(y) : "f"(x));
    return y;
}

// Monotone map of floats to unsigned ints, so the radix select can work on bits.
__device__ __forceinline__ uint32_t orderKey(float f) {
    const uint32_t u = __float_as_uint(f);
    return (u & 0x80000000u) ? ~u : (u | 0x80000000u);
}

__device__ __forceinline__ uint32_t smemAddr(const void* p) {
    return static_cast<uint32_t>(__cvta_generic_to_shared(p));
}

__device__ __forceinline__ void cpAsync16(void* dst, const void* src, int bytes) {
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(smemAddr(dst)), "l"(src),
                 "r"(bytes));
}

__device__ __forceinline__ void cpAsyncCommit() {
    asm volatile("cp.async.commit_group;\n");
}

__device__ __forceinline__ void cpAsyncWaitOne() {
    asm volatile("cp.async.wait_group 1;\n");
}

__device__ __forceinline__ void ldmatrixX4(uint32_t (&r)[4], const void* p) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                 : "r"(smemAddr(p)));
}

__device__ __forceinline__ void mma16816(float (&c)[4], const uint32_t (&a)[4],
                                         const uint32_t (&b)[2]) {
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, "
                 "{%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
                 : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
}

// Row pitch of a shared tile: 16 extra bytes put the 8 rows an ldmatrix reads in 8
// different bank groups.
template <int D> constexpr int tilePitch() {
    return D + 8;
}

template <int D> struct alignas(16) TileBuffers { bf16 tile[2][kTileKeys * tilePitch<D>()]; };

// Starts the copy of compressed keys [row0, row0 + 64) of one head into `dst`; rows at or
// past `rowsValid` are zero-filled without touching global memory.
template <int D>
__device__ void loadTile(bf16* dst, const bf16* head, int64_t row0, int64_t rowsValid) {
    constexpr int chunks = D / 8;
    for (int c = threadIdx.x; c < kTileKeys * chunks; c += kThreads) {
        const int r = c / chunks, col = (c % chunks) * 8;
        const bool ok = row0 + r < rowsValid;
        cpAsync16(dst + r * tilePitch<D>() + col, ok ? head + (row0 + r) * D + col : head,
                  ok ? 16 : 0);
    }
    cpAsyncCommit();
}

// The B operand (k = feature, n = head) of the warp's query, kept in registers throughout.
template <int D, int NT>
__device__ void loadQuery(uint32_t (&qf)[NT][D / 16][2], const bf16* qGroup, bool active) {
    const int lane = threadIdx.x & 31;
    const int n = lane >> 2, k = (lane & 3) * 2;
#pragma unroll
    for (int nt = 0; nt < NT; ++nt)
#pragma unroll
        for (int ks = 0; ks < D / 16; ++ks)
#pragma unroll
            for (int half = 0; half < 2; ++half) {
                __nv_bfloat162 v = __floats2bfloat162_rn(0.0f, 0.0f);
                if (active) {
                    const bf16* p = qGroup + (nt * 8 + n) * D + ks * 16 + half * 8 + k;
                    v = __halves2bfloat162(p[0], p[1]);
                }
                qf[nt][ks][half] = *reinterpret_cast<uint32_t*>(&v);
            }
}

// acc[mi][nt][.] = q·k for keys mi*16 + lane/4 (+8) of the tile and heads nt*8 + (lane%4)*2
// (+1): the mma accumulator layout.
template <int D, int NT>
__device__ void tileLogits(const bf16* tile, const uint32_t (&qf)[NT][D / 16][2],
                           float (&acc)[4][NT][4]) {
    const int lane = threadIdx.x & 31;
    const int row = (lane & 7) + ((lane >> 3) & 1) * 8, col = (lane >> 4) * 8;
#pragma unroll
    for (int mi = 0; mi < 4; ++mi)
#pragma unroll
        for (int nt = 0; nt < NT; ++nt)
#pragma unroll
            for (int e = 0; e < 4; ++e) acc[mi][nt][e] = 0.0f;
#pragma unroll
    for (int mi = 0; mi < 4; ++mi) {
#pragma unroll
        for (int ks = 0; ks < D / 16; ++ks) {
            uint32_t a[4];
            ldmatrixX4(a, tile + (mi * 16 + row) * tilePitch<D>() + ks * 16 + col);
#pragma unroll
            for (int nt = 0; nt < NT; ++nt) mma16816(acc[mi][nt], a, qf[nt][ks]);
        }
    }
}

// Online log-sum-exp state of the 2*NT heads a lane sees, in the log2 domain.
template <int NT> struct LseState { float m[NT][2], s[NT][2]; };

__device__ __forceinline__ void lseMerge(float& m, float& s, float m2, float s2) {
    const float mm = fmaxf(m, m2);
    if (mm == -INFINITY) return;
    s = s * fastExp2(m - mm) + s2 * fastExp2(m2 - mm);
    m = mm;
}

template <int NT>
__device__ void lseTile(LseState<NT>& st, const float (&acc)[4][NT][4], float scale, int64_t row0,
                        int64_t valid) {
    const int lane = threadIdx.x & 31;
#pragma unroll
    for (int nt = 0; nt < NT; ++nt)
#pragma unroll
        for (int e = 0; e < 2; ++e) {
            float tmax = -INFINITY;
#pragma unroll
            for (int mi = 0; mi < 4; ++mi)
#pragma unroll
                for (int hi = 0; hi < 2; ++hi)
                    if (row0 + mi * 16 + hi * 8 + (lane >> 2) < valid)
                        tmax = fmaxf(tmax, acc[mi][nt][hi * 2 + e] * scale);
            if (tmax == -INFINITY) continue;
            float sum = 0.0f;
#pragma unroll
            for (int mi = 0; mi < 4; ++mi)
#pragma unroll
                for (int hi = 0; hi < 2; ++hi)
                    if (row0 + mi * 16 + hi * 8 + (lane >> 2) < valid)
                        sum += fastExp2(acc[mi][nt][hi * 2 + e] * scale - tmax);
            lseMerge(st.m[nt][e], st.s[nt][e], tmax, sum);
        }
}

// Accumulates tiles [begin, end) of `keys` (one head) into the lane's state; `valid` is the
// number of keys the warp's query may see (0 for a warp without work).
template <int D, int NT>
__device__ void lsePass(LseState<NT>& st, TileBuffers<D>& buf, const bf16* keys, int64_t ctaValid,
                        int begin, int end, int64_t valid, const uint32_t (&qf)[NT][D / 16][2],
                        float scale) {
    if (begin >= end) return;
    loadTile<D>(buf.tile[0], keys, int64_t(begin) * kTileKeys, ctaValid);
    for (int i = begin; i < end; ++i) {
        if (i + 1 < end)
            loadTile<D>(buf.tile[(i + 1 - begin) & 1], keys, int64_t(i + 1) * kTileKeys, ctaValid);
        else
            cpAsyncCommit();
        cpAsyncWaitOne();
        __syncthreads();
        const int64_t row0 = int64_t(i) * kTileKeys;
        if (row0 < valid) {
            float acc[4][NT][4];
            tileLogits<D, NT>(buf.tile[(i - begin) & 1], qf, acc);
            lseTile<NT>(st, acc, scale, row0, valid);
        }
        __syncthreads();
    }
}

template <int D, int NT>
__global__ void __launch_bounds__(kThreads)
    stageOneLseKernel(Shape s, const bf16* __restrict__ q, int64_t qRowStride, int64_t tokens,
                      Position start, const bf16* __restrict__ k1, int64_t k1HeadStride,
                      const bf16* __restrict__ k2, int64_t k2HeadStride, int fixedTilesPerSplit,
                      float2* __restrict__ partial) {
    __shared__ TileBuffers<D> buf;
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    const int g = blockIdx.y, z = blockIdx.z;
    const int64_t startPos = start.get();
    const int64_t t = int64_t(blockIdx.x) * kWarps + warp;
    const int64_t pos = startPos + t;
    const bool active = t < tokens && needsScores(s, pos);
    const int64_t lastPos = startPos + min(int64_t(blockIdx.x) * kWarps + kWarps, tokens) - 1;
    if (!needsScores(s, lastPos)) return;

    uint32_t qf[NT][D / 16][2];
    loadQuery<D, NT>(qf, q + t * qRowStride + int64_t(g) * s.group * D, active);
    LseState<NT> st;
#pragma unroll
    for (int nt = 0; nt < NT; ++nt)
#pragma unroll
        for (int e = 0; e < 2; ++e) st.m[nt][e] = -INFINITY, st.s[nt][e] = 0.0f;

    const int64_t n2 = active ? visibleCount(pos, s.kernel2, s.stride2) : 0;
    const int64_t n2Cta = visibleCount(lastPos, s.kernel2, s.stride2);
    const int tiles2 = static_cast<int>((n2Cta + kTileKeys - 1) / kTileKeys);
    const int per = tilesPerSplit(fixedTilesPerSplit, tiles2);
    lsePass<D, NT>(st, buf, k2 + g * k2HeadStride, n2Cta, z * per, min((z + 1) * per, tiles2), n2,
                   qf, s.scaleLog2);
    // No level-2 key visible yet: the exact normaliser over the visible level-1 keys.
    const bool fallback = active && n2 == 0;
    if (__syncthreads_or(fallback) && z == 0) {
        const int64_t n1Cta = visibleCount(lastPos, s.kernel1, s.stride1);
        const int64_t n1 = fallback ? visibleCount(pos, s.kernel1, s.stride1) : 0;
        const int tiles1 = static_cast<int>((n1Cta + kTileKeys - 1) / kTileKeys);
        lsePass<D, NT>(st, buf, k1 + g * k1HeadStride, n1Cta, 0, tiles1, n1, qf, s.scaleLog2);
    }
    if (!active) return;
#pragma unroll
    for (int nt = 0; nt < NT; ++nt)
#pragma unroll
        for (int e = 0; e < 2; ++e)
            for (int x = 4; x < 32; x <<= 1) {
                const float m2 = __shfl_xor_sync(0xffffffffu, st.m[nt][e], x);
                const float s2 = __shfl_xor_sync(0xffffffffu, st.s[nt][e], x);
                lseMerge(st.m[nt][e], st.s[nt][e], m2, s2);
            }
    if (lane < 4)
#pragma unroll
        for (int nt = 0; nt < NT; ++nt)
#pragma unroll
            for (int e = 0; e < 2; ++e)
                partial[(int64_t(z) * tokens + t) * s.heads + g * s.group + nt * 8 + lane * 2 + e] =
                    make_float2(st.m[nt][e], st.s[nt][e]);
}

// Writes the pooled scores of the blocks whose last pooling index falls in tile i.
__device__ void poolTile(const Shape& s, const float* ring, int i, int64_t n1, int64_t qb,
                         uint32_t* out) {
    const int lane = threadIdx.x & 31;
    const int64_t bLo = int64_t(i) * kTileKeys / s.per;
    const int64_t bHi = min((int64_t(i) * kTileKeys + kTileKeys) / s.per - 1, qb);
    for (int64_t b = bLo + lane; b <= bHi; b += 32) {
        const int64_t jLo = max(b * s.per - 1, int64_t(0));
        const int64_t jHi = min((b + 1) * s.per - 1, n1 - 1);
        float best = -INFINITY;
        for (int64_t j = jLo; j <= jHi; ++j) best = fmaxf(best, ring[j & (kRing - 1)]);
        out[b] = orderKey(best);
    }
}

template <int D, int NT>
__global__ void __launch_bounds__(kThreads)
    stageOneScoreKernel(Shape s, const bf16* __restrict__ q, int64_t qRowStride, int64_t tokens,
                        Position start, const bf16* __restrict__ k1, int64_t k1HeadStride,
                        const float2* __restrict__ partial, int splits2, int fixedTilesPerSplit,
                        uint32_t* __restrict__ keysOut, int64_t nbStride) {
    __shared__ TileBuffers<D> buf;
    __shared__ float rings[kWarps][kRing];
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    const int g = blockIdx.y, z = blockIdx.z;
    const int64_t startPos = start.get();
    const int64_t t = int64_t(blockIdx.x) * kWarps + warp;
    const int64_t pos = startPos + t;
    const bool active = t < tokens && needsScores(s, pos);
    const int64_t lastPos = startPos + min(int64_t(blockIdx.x) * kWarps + kWarps, tokens) - 1;
    if (!needsScores(s, lastPos)) return;
    const int64_t tilesCta = ((lastPos / s.blockSize + 1) * s.per + kTileKeys - 1) / kTileKeys;
    const int per = tilesPerSplit(fixedTilesPerSplit, tilesCta);
    const int begin = z * per;
    const int end = static_cast<int>(min(int64_t(begin) + per, tilesCta));
    if (begin >= end) return;

    uint32_t qf[NT][D / 16][2];
    loadQuery<D, NT>(qf, q + t * qRowStride + int64_t(g) * s.group * D, active);
    float lse[NT][2];
#pragma unroll
    for (int nt = 0; nt < NT; ++nt)
#pragma unroll
        for (int e = 0; e < 2; ++e) {
            float m = -INFINITY, sum = 0.0f;
            if (active)
                for (int zz = 0; zz < splits2; ++zz) {
                    const float2 v = partial[(int64_t(zz) * tokens + t) * s.heads + g * s.group +
                                             nt * 8 + (lane & 3) * 2 + e];
                    lseMerge(m, sum, v.x, v.y);
                }
            lse[nt][e] = m + log2f(sum);
        }

    const int64_t n1 = active ? visibleCount(pos, s.kernel1, s.stride1) : 0;
    const int64_t n1Cta = visibleCount(lastPos, s.kernel1, s.stride1);
    const int64_t qb = pos / s.blockSize;
    uint32_t* out = keysOut + (t * s.kvHeads + g) * nbStride;
    float* ring = rings[warp];
    // One tile before the split's range feeds the pooling windows that straddle its start.
    const int first = begin > 0 ? begin - 1 : 0;
    const bf16* keys = k1 + g * k1HeadStride;
    loadTile<D>(buf.tile[0], keys, int64_t(first) * kTileKeys, n1Cta);
    for (int i = first; i < end; ++i) {
        if (i + 1 < end)
            loadTile<D>(buf.tile[(i + 1 - first) & 1], keys, int64_t(i + 1) * kTileKeys, n1Cta);
        else
            cpAsyncCommit();
        cpAsyncWaitOne();
        __syncthreads();
        const int64_t row0 = int64_t(i) * kTileKeys;
        if (row0 < n1) {
            float acc[4][NT][4];
            tileLogits<D, NT>(buf.tile[(i - first) & 1], qf, acc);
#pragma unroll
            for (int mi = 0; mi < 4; ++mi)
#pragma unroll
                for (int hi = 0; hi < 2; ++hi) {
                    float sum = 0.0f;
#pragma unroll
                    for (int nt = 0; nt < NT; ++nt)
#pragma unroll
                        for (int e = 0; e < 2; ++e)
                            sum += fastExp2(acc[mi][nt][hi * 2 + e] * s.scaleLog2 - lse[nt][e]);
                    sum += __shfl_xor_sync(0xffffffffu, sum, 1);
                    sum += __shfl_xor_sync(0xffffffffu, sum, 2);
                    const int64_t j = row0 + mi * 16 + hi * 8 + (lane >> 2);
                    if ((lane & 3) == 0) ring[j & (kRing - 1)] = sum;
                }
        }
        __syncwarp();
        if (active && i >= begin) poolTile(s, ring, i, n1, qb, out);
        __syncwarp();
        __syncthreads();
    }
}

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
