#pragma once
// Device code shared by the two forms of the sparse decode attention
// (sparse_attention_decode.cu, sparse_attention_decode_cluster.cu); internal to kernels/.

#include "kernel_common.cuh"
#include "sparse_attention_warp.cuh"

#include <cmath>
#include <cstddef>
#include <cstdint>

namespace folio::kernels::attention_detail {

struct DecodeArgs {
    const bf16* q;
    int heads;
    int group;
    Position position;
    const bf16* keys;
    const bf16* values;
    int64_t kvHeadStride;
    const int32_t* blocks;
    int topk;
    int blockSize;
    float* workspace; // DecodePartials of topk slots, then the arrival words
    float scaleLog2;
};

constexpr int kPartialWarps = 4;

// The merge area of a partial block: per warp and query row, the accumulator's D columns, then
// the row's max and sum.
template <int D> struct WarpStates {
    static constexpr int kRow = D + 2;
    float* base;
    __device__ float* row(int warp, int r) const { return base + (warp * 16 + r) * kRow; }
};

// Warp w's state of its 16 query rows into the merge area.
template <int D>
__device__ __forceinline__ void publish(const WarpStates<D>& ws, const RowState<D>& st, int warp,
                                        int lane) {
    const int rA = lane / 4, rB = rA + 8, c2 = 2 * (lane & 3);
    float* a = ws.row(warp, rA);
    float* b = ws.row(warp, rB);
#pragma unroll
    for (int n = 0; n < D / 8; ++n) {
        a[n * 8 + c2] = st.o[n][0], a[n * 8 + c2 + 1] = st.o[n][1];
        b[n * 8 + c2] = st.o[n][2], b[n * 8 + c2 + 1] = st.o[n][3];
    }
    if ((lane & 3) == 0) {
        a[D] = st.m[0], a[D + 1] = st.l[0];
        b[D] = st.m[1], b[D + 1] = st.l[1];
    }
}

// Shared memory of a decode thread block: the K/V tile, and once every warp has folded its keys,
// the merge area (the warps' states, then per query row the warps' weights, max and sum).
template <int D> struct BlockBytes {
    static constexpr size_t kTile = 2 * size_t(kKeyTile) * (D + 8) * sizeof(bf16);
    static constexpr size_t kMerge =
        (size_t(kPartialWarps) * 16 * (D + 2) + 16 * (kPartialWarps + 2)) * sizeof(float);
    static constexpr size_t kAll = kTile > kMerge ? kTile : kMerge;
};

// The state of head rows m0 .. m0 + 15 of kv group g over the keys of chosen block `id` (visible
// or not): the block's keys are loaded by all four warps, and warp w folds the 16-key groups w,
// w + 4, ... of each tile into its own state. Called by the whole thread block.
template <int D>
__device__ __forceinline__ void foldBlock(const DecodeArgs& a, int g, int m0, int id,
                                          int64_t position, bf16* sK, bf16* sV, RowState<D>& st) {
    constexpr int kLd = D + 8;
    const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
    const int hA = m0 + lane / 4, hB = hA + 8;
    const bool validA = hA < a.group, validB = hB < a.group;
    uint32_t qf[D / 16][4];
    loadQuery<D>(qf, validA ? a.q + (g * a.group + hA) * D : nullptr,
                 validB ? a.q + (g * a.group + hB) * D : nullptr, lane);
    st.reset();
    const bool visible = id >= 0 && int64_t(id) * a.blockSize <= position;
    const bf16* kHead = a.keys + g * a.kvHeadStride;
    const bf16* vHead = a.values + g * a.kvHeadStride;
    for (int within = 0; visible && within < a.blockSize; within += kKeyTile) {
        const int64_t keyStart = int64_t(id) * a.blockSize + within;
        const int nKeys =
            static_cast<int>(min64(min(kKeyTile, a.blockSize - within), position - keyStart + 1));
        if (nKeys <= 0) break;
        __syncthreads(); // the previous tile or merge is no longer read
        loadTile<D>(sK, sV, kHead, vHead, keyStart, nKeys, threadIdx.x, kPartialWarps * 32);
        cpAsyncCommit();
        cpAsyncWait<0>();
        __syncthreads();
        for (int p = warp; p * 16 < nKeys; p += kPartialWarps) {
            const int last = min(nKeys - 1 - p * 16, 15);
            attendTile<D>(st, qf, sK + p * 16 * kLd, sV + p * 16 * kLd, 1, validA ? last : -1,
                          validB ? last : -1, a.scaleLog2, lane);
        }
    }
}

// Merges the four warps' states of the first `rows` query rows in `area` (the tile, no longer
// read) and hands each row's columns to emit(row, column, accumulator, max, sum). Each row's
// max and the warps' weights are computed once, not once per column.
template <int D, typename Emit>
__device__ __forceinline__ void mergeWarps(unsigned char* area, RowState<D>& st, int rows,
                                           Emit emit) {
    const WarpStates<D> states{reinterpret_cast<float*>(area)};
    constexpr int kScaleLd = kPartialWarps + 2;
    float* rowScale = states.row(kPartialWarps, 0); // [16][kScaleLd]: weights, max, sum
    const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
    reduceSums(st);
    __syncthreads(); // the tile is no longer read: it becomes the merge area
    publish<D>(states, st, warp, lane);
    __syncthreads();
    if (threadIdx.x < rows) {
        const int r = threadIdx.x;
        float best = -INFINITY;
#pragma unroll
        for (int w = 0; w < kPartialWarps; ++w) best = fmaxf(best, states.row(w, r)[D]);
        // A head that saw no key keeps max -inf with a zero sum and accumulator.
        const float base = best == -INFINITY ? 0.f : best;
        float sum = 0.f;
#pragma unroll
        for (int w = 0; w < kPartialWarps; ++w) {
            const float scale = fastExp2(states.row(w, r)[D] - base);
            rowScale[r * kScaleLd + w] = scale;
            sum += scale * states.row(w, r)[D + 1];
        }
        rowScale[r * kScaleLd + kPartialWarps] = best;
        rowScale[r * kScaleLd + kPartialWarps + 1] = sum;
    }
    __syncthreads();
    for (int i = threadIdx.x; i < rows * D; i += kPartialWarps * 32) {
        const int r = i / D, c = i % D;
        const float* scale = rowScale + r * kScaleLd;
        float acc = 0.f;
#pragma unroll
        for (int w = 0; w < kPartialWarps; ++w) acc += scale[w] * states.row(w, r)[c];
        emit(r, c, acc, scale[kPartialWarps], scale[kPartialWarps + 1]);
    }
}

// The decode workspace: for each of `slots` partials (a chosen block, or a cluster's) and each
// head, a max, a sum and dim accumulator columns; after them one arrival word per head. F is float
// or const float.
template <typename F> struct DecodePartials {
    F* max; // [slots][heads]
    F* sum; // [slots][heads]
    F* acc; // [slots][heads][dim]
};

template <typename F>
__host__ __device__ inline DecodePartials<F> partialsOf(F* workspace, int heads, int slots) {
    const size_t n = size_t(slots) * heads;
    return {workspace, workspace + n, workspace + 2 * n};
}

inline size_t partialFloats(int heads, int dim, int slots) {
    return size_t(slots) * heads * (dim + 2);
}

inline unsigned* arrivalsOf(float* workspace, int heads, int dim, int slots) {
    return reinterpret_cast<unsigned*>(workspace + partialFloats(heads, dim, slots));
}

// The clustered form (sparse_attention_decode_cluster.cu): whether it serves a shape and runs on
// the current device, and its launch. It needs one 16-row tile of heads per kv group.
inline bool clusteredDecodeServes(int group) {
    return group <= 16;
}
bool clusteredDecodeReady(int dim);
cudaError_t launchClusteredDecode(const DecodeArgs& a, int dim, int kvHeads, bf16* out,
                                  cudaStream_t stream);

} // namespace folio::kernels::attention_detail
