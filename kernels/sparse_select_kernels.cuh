#pragma once
// Device code of the block selection (sparse_select.cu launches it); internal to kernels/.
//
// Three kernels per slice of queries:
// 1. stageOneLse: per (query, head) the log-sum-exp over the visible level-2 keys, as
//    partial (max, sum) pairs when the key range is split over several CTAs;
// 2. stageOneScore: stage-1 scores of the visible level-1 keys summed over the heads of the
//    group, max-pooled per key block, written as order-preserving uint32 keys;
// 3. selectTopk (sparse_select_topk.cuh): forced blocks plus a radix select of the best
//    candidates per (query, group); for a decode step split into selectTopkPartial over
//    segments of the blocks and selectTopkMerge.
// The q·k products run on tensor cores (mma.sync m16n8k16, bf16 in, fp32 out): the M side
// is 16 compressed keys, the N side the query heads of one group, so the head sum stays
// inside a quad of lanes. In the scoring kernel each warp owns kQueriesPerWarp queries, so
// every key fragment it loads from shared memory feeds the mma of all of them: with one
// query per warp those loads were the busiest pipe. The lse kernel keeps one query per warp
// (kLseQueriesPerWarp): two need more registers than two CTAs per SM allow, and one CTA per
// SM measured slower (1.31 against 1.18 ms for 2,048 queries at 1M on an H100).

#include "dependent_launch.cuh"
#include "fast_exp.cuh"
#include "shared_memory_ops.cuh"
#include "sparse_select.cuh"

#include <cmath>

namespace folio::kernels::select_detail {

constexpr int kWarps = 8;
constexpr int kThreads = kWarps * 32;
constexpr int kQueriesPerWarp = 2; // 4 would hold 128 registers of query fragments alone
constexpr int kLseQueriesPerWarp = 1;
constexpr int kTileKeys = 64; // compressed keys per shared-memory tile
constexpr int kRing = 2 * kTileKeys;
constexpr int kTargetCtas = 264; // about two CTAs per SM on an H100
// A split also loads the tile before its range (the pooling halo), so short splits cost extra
// loads; a decode step still gains from them: at 128K its 128 tiles go to 64 CTAs per kv group
// instead of 16, each a shorter chain of tiles (+1 % decode at 128K on an H100; the 1M step is
// capped by kTargetCtas either way).
constexpr int kMinTilesPerSplit = 2;

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

// Monotone map of floats to unsigned ints, so the radix select can work on bits.
__device__ __forceinline__ uint32_t orderKey(float f) {
    const uint32_t u = __float_as_uint(f);
    return (u & 0x80000000u) ? ~u : (u | 0x80000000u);
}

// c = a·b with no accumulator input: saves zeroing the accumulators of every key slice.
__device__ __forceinline__ void mma16816First(float (&c)[4], const uint32_t (&a)[4],
                                              const uint32_t (&b)[2]) {
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, "
                 "{%4,%5,%6,%7}, {%8,%9}, {%10,%10,%10,%10};\n"
                 : "=f"(c[0]), "=f"(c[1]), "=f"(c[2]), "=f"(c[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]), "f"(0.0f));
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
        cpAsync16(dst + r * tilePitch<D>() + col, ok ? head + (row0 + r) * D + col : head, ok);
    }
    cpAsyncCommit();
}

// The B operand (k = feature, n = head) of one of the warp's queries, kept in registers
// throughout.
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

template <int D, int NT, int Q> using QueryFrags = uint32_t[Q][NT][D / 16][2];
template <int NT, int Q> using Logits = float[Q][NT][4];

// acc[qi][nt][.] = q·k of the warp's query qi for keys mi*16 + lane/4 (+8) of the tile and
// heads nt*8 + (lane%4)*2 (+1): the mma accumulator layout. One 16-key slice at a time keeps
// the accumulators few next to the query fragments.
template <int D, int NT, int Q>
__device__ void sliceLogits(const bf16* tile, int mi, const QueryFrags<D, NT, Q>& qf,
                            Logits<NT, Q>& acc) {
    const int lane = threadIdx.x & 31;
    const int row = (lane & 7) + ((lane >> 3) & 1) * 8, col = (lane >> 4) * 8;
#pragma unroll
    for (int ks = 0; ks < D / 16; ++ks) {
        uint32_t a[4];
        ldmatrixX4(a, tile + (mi * 16 + row) * tilePitch<D>() + ks * 16 + col);
#pragma unroll
        for (int qi = 0; qi < Q; ++qi)
#pragma unroll
            for (int nt = 0; nt < NT; ++nt) {
                if (ks == 0)
                    mma16816First(acc[qi][nt], a, qf[qi][nt][ks]);
                else
                    mma16816(acc[qi][nt], a, qf[qi][nt][ks]);
            }
    }
}

// Online log-sum-exp state of the 2*NT heads a lane sees of each of the warp's queries, in
// the log2 domain.
template <int NT, int Q> struct LseState { float m[Q][NT][2], s[Q][NT][2]; };

__device__ __forceinline__ void lseMerge(float& m, float& s, float m2, float s2) {
    const float mm = fmaxf(m, m2);
    if (mm == -INFINITY) return;
    s = s * fastExp2(m - mm) + s2 * fastExp2(m2 - mm);
    m = mm;
}

// Folds one 16-key slice into the state; `left[qi]` = keys query qi may still see from the
// lane's first row of the slice on. The running maximum only grows now and then, so the
// rescale sits behind a warp vote and each logit costs one exp.
template <int NT, int Q>
__device__ void lseSlice(LseState<NT, Q>& st, Logits<NT, Q>& v, float scale, const int (&left)[Q]) {
    bool grows = false;
#pragma unroll
    for (int qi = 0; qi < Q; ++qi)
#pragma unroll
        for (int nt = 0; nt < NT; ++nt)
#pragma unroll
            for (int e = 0; e < 4; ++e) {
                v[qi][nt][e] = left[qi] > (e >> 1) * 8 ? v[qi][nt][e] * scale : -INFINITY;
                if (e >= 2) grows |= fmaxf(v[qi][nt][e - 2], v[qi][nt][e]) > st.m[qi][nt][e - 2];
            }
    if (__any_sync(0xffffffffu, grows)) {
#pragma unroll
        for (int qi = 0; qi < Q; ++qi)
#pragma unroll
            for (int nt = 0; nt < NT; ++nt)
#pragma unroll
                for (int e = 0; e < 2; ++e) {
                    const float mx = fmaxf(v[qi][nt][e], v[qi][nt][e + 2]);
                    float& m = st.m[qi][nt][e];
                    if (mx > m) st.s[qi][nt][e] *= fastExp2(m - mx), m = mx;
                }
    }
#pragma unroll
    for (int qi = 0; qi < Q; ++qi)
#pragma unroll
        for (int nt = 0; nt < NT; ++nt)
#pragma unroll
            for (int e = 0; e < 4; ++e)
                if (v[qi][nt][e] != -INFINITY)
                    st.s[qi][nt][e & 1] += fastExp2(v[qi][nt][e] - st.m[qi][nt][e & 1]);
}

// Accumulates tiles [begin, end) of `keys` (one head) into the lane's state; `valid[qi]` is
// the number of keys query qi may see (0 for a query without work).
template <int D, int NT, int Q>
__device__ void lsePass(LseState<NT, Q>& st, TileBuffers<D>& buf, const bf16* keys,
                        int64_t ctaValid, int begin, int end, const int (&valid)[Q],
                        const QueryFrags<D, NT, Q>& qf, float scale) {
    const int lane = threadIdx.x & 31;
    int most = 0;
#pragma unroll
    for (int qi = 0; qi < Q; ++qi) most = max(most, valid[qi]);
    if (begin >= end) return;
    loadTile<D>(buf.tile[0], keys, int64_t(begin) * kTileKeys, ctaValid);
    for (int i = begin; i < end; ++i) {
        if (i + 1 < end)
            loadTile<D>(buf.tile[(i + 1 - begin) & 1], keys, int64_t(i + 1) * kTileKeys, ctaValid);
        else
            cpAsyncCommit();
        cpAsyncWait<1>();
        __syncthreads();
        // Key counts and block ids fit 32 bits (2^31 compressed keys is far past any context);
        // 64-bit copies of them would cost registers the query fragments need.
        const int row0 = i * kTileKeys;
        if (row0 < most) {
#pragma unroll
            for (int mi = 0; mi < 4; ++mi) {
                Logits<NT, Q> acc;
                sliceLogits<D, NT, Q>(buf.tile[(i - begin) & 1], mi, qf, acc);
                int left[Q];
#pragma unroll
                for (int qi = 0; qi < Q; ++qi)
                    left[qi] = valid[qi] - (row0 + mi * 16 + (lane >> 2));
                lseSlice<NT, Q>(st, acc, scale, left);
            }
        }
        __syncthreads();
    }
}

// The warp's queries are t0 + qi of the slice; one that is past the slice's end or still
// dense has no work but keeps its lanes in the warp's collective steps.
template <int Q> struct WarpQueries {
    int64_t t0;
    bool active[Q];
    int64_t pos[Q];
};

template <int Q>
__device__ __forceinline__ WarpQueries<Q> warpQueries(const Shape& s, int64_t startPos,
                                                      int64_t tokens) {
    WarpQueries<Q> w;
    w.t0 = int64_t(blockIdx.x) * kWarps * Q + (threadIdx.x >> 5) * Q;
#pragma unroll
    for (int qi = 0; qi < Q; ++qi) {
        w.pos[qi] = startPos + w.t0 + qi;
        w.active[qi] = w.t0 + qi < tokens && needsScores(s, w.pos[qi]);
    }
    return w;
}

// Register arrays indexed by a run-time query index would go to local memory.
template <int Q, typename T> __device__ __forceinline__ T pick(const T (&v)[Q], int qi) {
    T r = v[0];
#pragma unroll
    for (int k = 1; k < Q; ++k)
        if (qi == k) r = v[k];
    return r;
}

template <int D, int NT, int Q>
__global__ void __launch_bounds__(kThreads, 2)
    stageOneLseKernel(Shape s, const bf16* __restrict__ q, int64_t qRowStride, int64_t tokens,
                      Position start, const bf16* __restrict__ k1, int64_t k1HeadStride,
                      const bf16* __restrict__ k2, int64_t k2HeadStride, int fixedTilesPerSplit,
                      float2* __restrict__ partial) {
    waitForPrecedingKernel();
    __shared__ TileBuffers<D> buf;
    const int lane = threadIdx.x & 31;
    const int g = blockIdx.y, z = blockIdx.z;
    const int64_t startPos = start.get();
    const int64_t lastPos =
        startPos + min(int64_t(blockIdx.x) * kWarps * Q + kWarps * Q, tokens) - 1;
    if (!needsScores(s, lastPos)) return;
    const WarpQueries<Q> w = warpQueries<Q>(s, startPos, tokens);

    QueryFrags<D, NT, Q> qf;
    LseState<NT, Q> st;
    int n2[Q];
    bool fallback[Q], anyFallback = false;
#pragma unroll
    for (int qi = 0; qi < Q; ++qi) {
        loadQuery<D, NT>(qf[qi], q + (w.t0 + qi) * qRowStride + int64_t(g) * s.group * D,
                         w.active[qi]);
#pragma unroll
        for (int nt = 0; nt < NT; ++nt)
#pragma unroll
            for (int e = 0; e < 2; ++e) st.m[qi][nt][e] = -INFINITY, st.s[qi][nt][e] = 0.0f;
        n2[qi] = w.active[qi] ? static_cast<int>(visibleCount(w.pos[qi], s.kernel2, s.stride2)) : 0;
        fallback[qi] = w.active[qi] && n2[qi] == 0;
        anyFallback |= fallback[qi];
    }

    const int64_t n2Cta = visibleCount(lastPos, s.kernel2, s.stride2);
    const int tiles2 = static_cast<int>((n2Cta + kTileKeys - 1) / kTileKeys);
    const int per = tilesPerSplit(fixedTilesPerSplit, tiles2);
    lsePass<D, NT, Q>(st, buf, k2 + g * k2HeadStride, n2Cta, z * per, min((z + 1) * per, tiles2),
                      n2, qf, s.scaleLog2);
    // No level-2 key visible yet: the exact normaliser over the visible level-1 keys.
    if (__syncthreads_or(anyFallback) && z == 0) {
        const int64_t n1Cta = visibleCount(lastPos, s.kernel1, s.stride1);
        int n1[Q];
#pragma unroll
        for (int qi = 0; qi < Q; ++qi)
            n1[qi] =
                fallback[qi] ? static_cast<int>(visibleCount(w.pos[qi], s.kernel1, s.stride1)) : 0;
        const int tiles1 = static_cast<int>((n1Cta + kTileKeys - 1) / kTileKeys);
        lsePass<D, NT, Q>(st, buf, k1 + g * k1HeadStride, n1Cta, 0, tiles1, n1, qf, s.scaleLog2);
    }
#pragma unroll
    for (int qi = 0; qi < Q; ++qi) {
        if (!w.active[qi]) continue;
#pragma unroll
        for (int nt = 0; nt < NT; ++nt)
#pragma unroll
            for (int e = 0; e < 2; ++e)
                for (int x = 4; x < 32; x <<= 1) {
                    const float m2 = __shfl_xor_sync(0xffffffffu, st.m[qi][nt][e], x);
                    const float s2 = __shfl_xor_sync(0xffffffffu, st.s[qi][nt][e], x);
                    lseMerge(st.m[qi][nt][e], st.s[qi][nt][e], m2, s2);
                }
        if (lane < 4)
#pragma unroll
            for (int nt = 0; nt < NT; ++nt)
#pragma unroll
                for (int e = 0; e < 2; ++e)
                    partial[(int64_t(z) * tokens + w.t0 + qi) * s.heads + g * s.group + nt * 8 +
                            lane * 2 + e] = make_float2(st.m[qi][nt][e], st.s[qi][nt][e]);
    }
}

// Writes the pooled scores of the blocks whose last pooling index falls in tile i (of Keys
// level-1 keys), for each of the warp's queries with work (qb < 0 for the others): block b
// pools keys [b * per - 1, (b + 1) * per - 1] from the query's ring of RingLen scores. The
// lanes share out the blocks of all queries, since one query has fewer blocks in a tile than a
// warp has lanes.
template <int Q, int Keys = kTileKeys, int RingLen = kRing>
__device__ void poolTile(const Shape& s, const float* rings, int i, const int (&n1)[Q],
                         const int (&qb)[Q], uint32_t* out, int64_t outStride) {
    const int lane = threadIdx.x & 31;
    const int bLo = i * Keys / s.per;
    const int span = (i * Keys + Keys) / s.per - bLo;
    for (int k = lane; k < Q * span; k += 32) {
        int qi = 0, r = k; // k / span without a division: qi < Q
        if constexpr (Q > 1)
            while (r >= span) r -= span, ++qi;
        const int b = bLo + r;
        if (b > pick<Q>(qb, qi)) continue;
        const float* ring = rings + qi * RingLen;
        const int jLo = max(b * s.per - 1, 0);
        const int jHi = min((b + 1) * s.per - 1, pick<Q>(n1, qi) - 1);
        float best = -INFINITY;
        for (int j = jLo; j <= jHi; ++j) best = fmaxf(best, ring[j & (RingLen - 1)]);
        out[qi * outStride + b] = orderKey(best);
    }
}

template <int D, int NT, int Q>
__global__ void __launch_bounds__(kThreads, 2)
    stageOneScoreKernel(Shape s, const bf16* __restrict__ q, int64_t qRowStride, int64_t tokens,
                        Position start, const bf16* __restrict__ k1, int64_t k1HeadStride,
                        const float2* __restrict__ partial, int splits2, int fixedTilesPerSplit,
                        uint32_t* __restrict__ keysOut, int64_t nbStride) {
    waitForPrecedingKernel();
    __shared__ TileBuffers<D> buf;
    __shared__ float rings[kWarps * Q][kRing];
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    const int g = blockIdx.y, z = blockIdx.z;
    const int64_t startPos = start.get();
    const int64_t lastPos =
        startPos + min(int64_t(blockIdx.x) * kWarps * Q + kWarps * Q, tokens) - 1;
    if (!needsScores(s, lastPos)) return;
    const int64_t tilesCta = ((lastPos / s.blockSize + 1) * s.per + kTileKeys - 1) / kTileKeys;
    const int per = tilesPerSplit(fixedTilesPerSplit, tilesCta);
    const int begin = z * per;
    const int end = static_cast<int>(min(int64_t(begin) + per, tilesCta));
    if (begin >= end) return;
    const WarpQueries<Q> w = warpQueries<Q>(s, startPos, tokens);

    QueryFrags<D, NT, Q> qf;
    float lse[Q][NT][2];
    int n1[Q], qb[Q], n1Most = 0;
#pragma unroll
    for (int qi = 0; qi < Q; ++qi) {
        const int64_t t = w.t0 + qi;
        loadQuery<D, NT>(qf[qi], q + t * qRowStride + int64_t(g) * s.group * D, w.active[qi]);
#pragma unroll
        for (int nt = 0; nt < NT; ++nt)
#pragma unroll
            for (int e = 0; e < 2; ++e) {
                float m = -INFINITY, sum = 0.0f;
                if (w.active[qi])
                    for (int zz = 0; zz < splits2; ++zz) {
                        const float2 v = partial[(int64_t(zz) * tokens + t) * s.heads +
                                                 g * s.group + nt * 8 + (lane & 3) * 2 + e];
                        lseMerge(m, sum, v.x, v.y);
                    }
                // A query without work gets finite scores that nothing reads.
                lse[qi][nt][e] = w.active[qi] ? m + log2f(sum) : 0.0f;
            }
        n1[qi] = w.active[qi] ? static_cast<int>(visibleCount(w.pos[qi], s.kernel1, s.stride1)) : 0;
        qb[qi] = w.active[qi] ? static_cast<int>(w.pos[qi] / s.blockSize) : -1;
        n1Most = max(n1Most, n1[qi]);
    }

    const int64_t n1Cta = visibleCount(lastPos, s.kernel1, s.stride1);
    uint32_t* out = keysOut + (w.t0 * s.kvHeads + g) * nbStride;
    float* ring = rings[warp * Q];
    // One tile before the split's range feeds the pooling windows that straddle its start.
    const int first = begin > 0 ? begin - 1 : 0;
    const bf16* keys = k1 + g * k1HeadStride;
    loadTile<D>(buf.tile[0], keys, int64_t(first) * kTileKeys, n1Cta);
    for (int i = first; i < end; ++i) {
        if (i + 1 < end)
            loadTile<D>(buf.tile[(i + 1 - first) & 1], keys, int64_t(i + 1) * kTileKeys, n1Cta);
        else
            cpAsyncCommit();
        cpAsyncWait<1>();
        __syncthreads();
        const int row0 = i * kTileKeys;
        if (row0 < n1Most) {
#pragma unroll
            for (int mi = 0; mi < 4; ++mi) {
                Logits<NT, Q> acc;
                sliceLogits<D, NT, Q>(buf.tile[(i - first) & 1], mi, qf, acc);
#pragma unroll
                for (int hi = 0; hi < 2; ++hi) {
                    const int j = (row0 + mi * 16 + hi * 8 + (lane >> 2)) & (kRing - 1);
#pragma unroll
                    for (int qi = 0; qi < Q; ++qi) {
                        float sum = 0.0f;
#pragma unroll
                        for (int nt = 0; nt < NT; ++nt)
#pragma unroll
                            for (int e = 0; e < 2; ++e)
                                sum += fastExp2(acc[qi][nt][hi * 2 + e] * s.scaleLog2 -
                                                lse[qi][nt][e]);
                        sum += __shfl_xor_sync(0xffffffffu, sum, 1);
                        sum += __shfl_xor_sync(0xffffffffu, sum, 2);
                        if ((lane & 3) == 0) ring[qi * kRing + j] = sum;
                    }
                }
            }
        }
        __syncwarp();
        if (i >= begin) poolTile<Q>(s, ring, i, n1, qb, out, s.kvHeads * nbStride);
        __syncwarp();
        __syncthreads();
    }
}

} // namespace folio::kernels::select_detail
