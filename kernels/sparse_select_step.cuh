#pragma once
// Device code of a decode step's stage-1 scoring (sparse_select.cu launches it); internal to
// kernels/.
//
// A decode step scores one query against every compressed key of its context. In the kernels of
// sparse_select_kernels.cuh a CTA works through a chain of shared-memory tiles, and with one
// query only one of its warps has work: at 1M the scoring ran 3.7x over its byte floor. Here
// every warp scores its own run of 16-key slices, loaded straight into mma fragments with
// 16-byte loads, two slices in flight, with no shared-memory staging and no CTA barrier inside
// the run:
// 1. stageOneLseStep: per head the log-sum-exp over the visible level-2 keys, one (max, sum)
//    pair per CTA. The kernel ahead (the compression of the step's windows) writes at most the
//    newest level-2 key, so slices below it are requested before the wait, with the query and
//    the position (written before that kernel began);
// 2. stageOneScoreStep: merges those pairs, then scores and pools the level-1 keys. Its first
//    slices are requested before it waits for the lse kernel: the keys, the query and the
//    position were written before the selection's first kernel, and that kernel waits for the
//    work before it, so they are complete before this one launches.
// Both kernels also request the rest of each warp's run into L2 before they wait (one bulk
// prefetch per warp), while the kernel ahead leaves DRAM idle: at 1M a run is about four slices.
// The top-k kernels are the general ones.
//
// Fragments: q·k sums over features, so any order of the features serves if the keys and the
// query use the same one. Lane (r = lane / 4, j = lane % 4) loads features [32c + 8j, 32c + 8j + 8)
// of rows r and r + 8 with one 16-byte load each; those 8 features fill the lane's k slots of
// the m16n8k16 steps 2c and 2c + 1. Logits come out in the accumulator layout of
// sparse_select_kernels.cuh (rows r and r + 8, heads nt * 8 + 2j and + 1).
//
// Served: dim a multiple of 32, at most 16 level-1 keys per block (a block's pooling window then
// reaches at most one slice back), and a level-2 key visible wherever scores are needed (no
// level-1 fallback). The launcher sends other shapes to the general kernels.

#include "l2_prefetch.cuh"
#include "sparse_select_kernels.cuh"

namespace folio::kernels::select_detail {

constexpr int kSliceKeys = 16;
constexpr int kStepRing = 2 * kSliceKeys; // a warp's key scores: its slice and the one before
constexpr int kMinSlicesPerWarp = 2;

template <int D> struct KeySlice {
    uint4 row[2][D / 32]; // rows r and r + 8
};

// Starts loading rows [row0, row0 + 16) of one head's keys; rows outside [rowFrom, rowsValid)
// are zeros and cost no load. Keys are read once per step: streamed past the caches.
template <int D>
__device__ __forceinline__ void loadSlice(KeySlice<D>& k, const bf16* head, int64_t row0,
                                          int64_t rowFrom, int64_t rowsValid) {
    const int lane = threadIdx.x & 31;
    const int r = lane >> 2, j = lane & 3;
#pragma unroll
    for (int h = 0; h < 2; ++h) {
        const int64_t row = row0 + r + h * 8;
        const bool ok = row >= rowFrom && row < rowsValid;
#pragma unroll
        for (int c = 0; c < D / 32; ++c)
            k.row[h][c] =
                ok ? __ldcs(reinterpret_cast<const uint4*>(head + row * D + c * 32 + j * 8))
                   : make_uint4(0u, 0u, 0u, 0u);
    }
}

// The query's B fragments in the same feature order; qGroup: the group's first head.
template <int D, int NT>
__device__ __forceinline__ void loadStepQuery(uint32_t (&qf)[NT][D / 16][2], const bf16* qGroup) {
    const int lane = threadIdx.x & 31;
    const int r = lane >> 2, j = lane & 3;
#pragma unroll
    for (int nt = 0; nt < NT; ++nt)
#pragma unroll
        for (int c = 0; c < D / 32; ++c) {
            const uint4 u =
                *reinterpret_cast<const uint4*>(qGroup + (nt * 8 + r) * D + c * 32 + j * 8);
            qf[nt][2 * c][0] = u.x, qf[nt][2 * c][1] = u.y;
            qf[nt][2 * c + 1][0] = u.z, qf[nt][2 * c + 1][1] = u.w;
        }
}

// acc[nt][.] = q·k for rows r, r + 8 of the slice and the lane's heads of head tile nt.
template <int D, int NT>
__device__ __forceinline__ void
stepLogits(const KeySlice<D>& k, const uint32_t (&qf)[NT][D / 16][2], float (&acc)[NT][4]) {
#pragma unroll
    for (int c = 0; c < D / 32; ++c) {
        const uint32_t a0[4] = {k.row[0][c].x, k.row[1][c].x, k.row[0][c].y, k.row[1][c].y};
        const uint32_t a1[4] = {k.row[0][c].z, k.row[1][c].z, k.row[0][c].w, k.row[1][c].w};
#pragma unroll
        for (int nt = 0; nt < NT; ++nt) {
            if (c == 0)
                mma16816First(acc[nt], a0, qf[nt][0]);
            else
                mma16816(acc[nt], a0, qf[nt][2 * c]);
            mma16816(acc[nt], a1, qf[nt][2 * c + 1]);
        }
    }
}

// The run of slices of one warp: [begin, end) of `slices`, at least kMinSlicesPerWarp each, the
// grid's warps in order.
struct WarpRun {
    int begin, end;
};

__device__ __forceinline__ WarpRun warpRun(int slices) {
    const int warps = gridDim.x * kWarps;
    const int each = max(kMinSlicesPerWarp, (slices + warps - 1) / warps);
    const int w = blockIdx.x * kWarps + (threadIdx.x >> 5);
    const int begin = min(w * each, slices);
    return {begin, min(begin + each, slices)};
}

// Runs body(slice, k) over slices [first, end) with the next slice's loads in flight; load(k, i)
// starts slice i. The two buffers are named, not indexed, so they stay in registers.
template <int D, typename Load, typename Body>
__device__ __forceinline__ void forSlices(KeySlice<D> (&buf)[2], int first, int end, Load load,
                                          Body body) {
    for (int i = first; i < end; i += 2) {
        body(i, buf[0]);
        if (i + 2 < end) load(buf[0], i + 2);
        if (i + 1 >= end) break;
        body(i + 1, buf[1]);
        if (i + 3 < end) load(buf[1], i + 3);
    }
}

// The rest of a warp's run beyond the two slices it loads first, [from, end) of `slices` but
// no row at or past rowsValid, towards L2 before the wait: the kernel ahead leaves DRAM idle.
template <int D>
__device__ __forceinline__ void prefetchRunRest(const bf16* head, int from, int end,
                                                int64_t rowsValid) {
    const int64_t lo = int64_t(from) * kSliceKeys;
    const int64_t hi = min(int64_t(end) * kSliceKeys, rowsValid);
    if (hi > lo) prefetchL2Warp(head + lo * D, static_cast<int>((hi - lo) * D * sizeof(bf16)));
}

template <int D, int NT>
__global__ void __launch_bounds__(kThreads, 2)
    stageOneLseStepKernel(Shape s, const bf16* __restrict__ q, const int64_t* __restrict__ position,
                          const bf16* __restrict__ k2, int64_t k2HeadStride,
                          float2* __restrict__ partial, L2Range next) {
    __shared__ float2 warpState[kWarps][16];
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    const int g = blockIdx.y;
    const int64_t pos = *position;
    const bool scored = needsScores(s, pos);
    const int n2 = static_cast<int>(visibleCount(pos, s.kernel2, s.stride2));
    const WarpRun run = warpRun((n2 + kSliceKeys - 1) / kSliceKeys);
    const bf16* keys = k2 + g * k2HeadStride;

    KeySlice<D> buf[2];
    auto load = [&](KeySlice<D>& k, int i) {
        loadSlice<D>(k, keys, int64_t(i) * kSliceKeys, 0, n2);
    };
    auto loadFirst = [&] {
        if (run.begin < run.end) load(buf[0], run.begin);
        if (run.begin + 1 < run.end) load(buf[1], run.begin + 1);
    };
    const bool early = scored && (run.begin + 2) * kSliceKeys <= n2 - 1;
    if (early) loadFirst();
    if (scored) prefetchRunRest<D>(keys, run.begin + 2, run.end, n2);
    uint32_t qf[NT][D / 16][2];
    if (scored) loadStepQuery<D, NT>(qf, q + int64_t(g) * s.group * D);
    waitForPrecedingKernel();
    // By the last warp, after the wait (before it, the product ahead still streams its weights).
    if (next.p && warp == kWarps - 1) prefetchL2BlockShare(next);
    if (!scored) return;
    if (!early) loadFirst();
    LseState<NT, 1> st;
#pragma unroll
    for (int nt = 0; nt < NT; ++nt)
#pragma unroll
        for (int e = 0; e < 2; ++e) st.m[0][nt][e] = -INFINITY, st.s[0][nt][e] = 0.0f;
    forSlices<D>(buf, run.begin, run.end, load, [&](int i, const KeySlice<D>& k) {
        Logits<NT, 1> acc;
        stepLogits<D, NT>(k, qf, acc[0]);
        const int left[1] = {n2 - (i * kSliceKeys + (lane >> 2))};
        lseSlice<NT, 1>(st, acc, s.scaleLog2, left);
    });
    // Lanes 0-3 gather their heads over the slice rows, then warp 0 merges the CTA's warps.
#pragma unroll
    for (int nt = 0; nt < NT; ++nt)
#pragma unroll
        for (int e = 0; e < 2; ++e) {
            float& m = st.m[0][nt][e];
            float& sum = st.s[0][nt][e];
            for (int x = 4; x < 32; x <<= 1)
                lseMerge(m, sum, __shfl_xor_sync(0xffffffffu, m, x),
                         __shfl_xor_sync(0xffffffffu, sum, x));
            if (lane < 4) warpState[warp][nt * 8 + lane * 2 + e] = make_float2(m, sum);
        }
    __syncthreads();
    if (threadIdx.x < s.group) {
        float m = -INFINITY, sum = 0.0f;
        for (int w = 0; w < kWarps; ++w)
            lseMerge(m, sum, warpState[w][threadIdx.x].x, warpState[w][threadIdx.x].y);
        partial[int64_t(blockIdx.x) * s.heads + g * s.group + threadIdx.x] = make_float2(m, sum);
    }
}

// The group's log-sum-exp per head from the lse kernel's `splits` pairs per head, into lse[head]:
// 16 threads per head, each merging every 16th pair. A thread's pairs (4 at 1M) are requested
// together: one round trip after the wait instead of one per pair.
constexpr int kLsePairsHeld = 4;
__device__ __forceinline__ void mergeLse(const Shape& s, const float2* __restrict__ partial,
                                         int splits, int g, float* lse) {
    if (threadIdx.x < s.group * 16) {
        const int head = threadIdx.x >> 4, i = threadIdx.x & 15;
        float m = -INFINITY, sum = 0.0f;
        for (int z0 = i; z0 < splits; z0 += 16 * kLsePairsHeld) {
            float2 v[kLsePairsHeld];
#pragma unroll
            for (int u = 0; u < kLsePairsHeld; ++u) {
                const int z = z0 + 16 * u;
                v[u] = z < splits ? partial[int64_t(z) * s.heads + g * s.group + head]
                                  : make_float2(-INFINITY, 0.0f);
            }
#pragma unroll
            for (int u = 0; u < kLsePairsHeld; ++u) lseMerge(m, sum, v[u].x, v[u].y);
        }
        for (int x = 1; x < 16; x <<= 1)
            lseMerge(m, sum, __shfl_xor_sync(0xffffffffu, m, x),
                     __shfl_xor_sync(0xffffffffu, sum, x));
        if (i == 0) lse[head] = m + log2f(sum);
    }
    __syncthreads();
}

template <int D, int NT>
__global__ void __launch_bounds__(kThreads, 2)
    stageOneScoreStepKernel(Shape s, const bf16* __restrict__ q,
                            const int64_t* __restrict__ position, const bf16* __restrict__ k1,
                            int64_t k1HeadStride, const float2* __restrict__ partial, int splits2,
                            uint32_t* __restrict__ keysOut, int64_t nbStride) {
    __shared__ float lse[16];
    __shared__ float rings[kWarps][kStepRing];
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    const int g = blockIdx.y;
    const int64_t pos = *position;
    const int qb = static_cast<int>(pos / s.blockSize);
    const int n1 = static_cast<int>(visibleCount(pos, s.kernel1, s.stride1));
    const WarpRun run = warpRun(((qb + 1) * s.per + kSliceKeys - 1) / kSliceKeys);
    // The first block pooled in the run needs the scores of keys from its window's start on,
    // which lie in the slice before the run.
    const int windowStart = max(run.begin * kSliceKeys / s.per * s.per - 1, 0);
    const int first = windowStart < run.begin * kSliceKeys ? run.begin - 1 : run.begin;
    const bf16* keys = k1 + g * k1HeadStride;
    KeySlice<D> buf[2];
    auto load = [&](KeySlice<D>& k, int i) {
        loadSlice<D>(k, keys, int64_t(i) * kSliceKeys, windowStart, n1);
    };
    const bool work = needsScores(s, pos) && run.begin < run.end;
    if (work) load(buf[0], first);
    if (work && first + 1 < run.end) load(buf[1], first + 1);
    if (work) prefetchRunRest<D>(keys, first + 2, run.end, n1);
    uint32_t qf[NT][D / 16][2];
    if (work) loadStepQuery<D, NT>(qf, q + int64_t(g) * s.group * D);

    waitForPrecedingKernel();
    if (!needsScores(s, pos)) return;
    mergeLse(s, partial, splits2, g, lse);
    if (!work) return;
    float lseLane[NT][2];
#pragma unroll
    for (int nt = 0; nt < NT; ++nt)
#pragma unroll
        for (int e = 0; e < 2; ++e) lseLane[nt][e] = lse[nt * 8 + (lane & 3) * 2 + e];
    float* ring = rings[warp];
    uint32_t* out = keysOut + int64_t(g) * nbStride;
    forSlices<D>(buf, first, run.end, load, [&](int i, const KeySlice<D>& k) {
        float acc[NT][4];
        stepLogits<D, NT>(k, qf, acc);
#pragma unroll
        for (int hi = 0; hi < 2; ++hi) {
            float sum = 0.0f;
#pragma unroll
            for (int nt = 0; nt < NT; ++nt)
#pragma unroll
                for (int e = 0; e < 2; ++e)
                    sum += fastExp2(acc[nt][hi * 2 + e] * s.scaleLog2 - lseLane[nt][e]);
            sum += __shfl_xor_sync(0xffffffffu, sum, 1);
            sum += __shfl_xor_sync(0xffffffffu, sum, 2);
            if ((lane & 3) == 0)
                ring[(i * kSliceKeys + hi * 8 + (lane >> 2)) & (kStepRing - 1)] = sum;
        }
        __syncwarp();
        if (i >= run.begin) poolTile<1, kSliceKeys, kStepRing>(s, ring, i, {n1}, {qb}, out, 0);
        __syncwarp();
    });
}

} // namespace folio::kernels::select_detail
