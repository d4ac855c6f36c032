#include "dependent_launch.cuh"
#include "sparse_attention.cuh"
#include "sparse_attention_checks.cuh"
#include "sparse_attention_warp.cuh"

#include <cmath>

// Decode: one thread block per (chosen block, kv group) folds that block's keys into the heads of
// the group with the warp routine of sparse_attention_warp.cuh and writes a partial (max, sum,
// accumulator) per head to the workspace; a second kernel merges the partials of all blocks.

namespace folio::kernels {

using namespace attention_detail;

namespace {

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
    float* workspace; // max [topk][heads], sum [topk][heads], acc [topk][heads][dim]
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

// Thread block: chosen block blockIdx.x of kv group blockIdx.y, every head of the group. The
// block's keys are loaded by all four warps; warp w folds the 16-key groups w, w + 4, ... of
// each tile into its own state, and the four states are merged into the block's partial (max,
// sum, accumulator) per head. One warp per block did all of it before, with the load and the
// products of the whole block on one warp's latency.
template <int D>
__global__ void __launch_bounds__(kPartialWarps * 32) sparseDecodePartial(const DecodeArgs a) {
    waitForPrecedingKernel();
    constexpr int kLd = D + 8;
    constexpr int kTile = kKeyTile * kLd;
    constexpr size_t kTileBytes = 2 * size_t(kTile) * sizeof(bf16);
    constexpr size_t kMergeBytes = size_t(kPartialWarps) * 16 * (D + 2) * sizeof(float);
    // The K/V tile, and once every warp has folded its keys, the warps' states.
    __shared__ __align__(16) unsigned char raw[kTileBytes > kMergeBytes ? kTileBytes : kMergeBytes];
    bf16* sK = reinterpret_cast<bf16*>(raw);
    bf16* sV = sK + kTile;
    const WarpStates<D> states{reinterpret_cast<float*>(raw)};
    const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
    const int entry = blockIdx.x;
    const int g = blockIdx.y;
    const int id = a.blocks[g * a.topk + entry];
    const int64_t position = a.position.get();
    const bool visible = id >= 0 && int64_t(id) * a.blockSize <= position;
    const bf16* kHead = a.keys + g * a.kvHeadStride;
    const bf16* vHead = a.values + g * a.kvHeadStride;
    float* wsMax = a.workspace;
    float* wsSum = wsMax + size_t(a.topk) * a.heads;
    float* wsAcc = wsSum + size_t(a.topk) * a.heads;

    for (int m0 = 0; m0 < a.group; m0 += 16) {
        const int hA = m0 + lane / 4, hB = hA + 8;
        const bool validA = hA < a.group, validB = hB < a.group;
        uint32_t qf[D / 16][4];
        loadQuery<D>(qf, validA ? a.q + (g * a.group + hA) * D : nullptr,
                     validB ? a.q + (g * a.group + hB) * D : nullptr, lane);
        RowState<D> st;
        st.reset();
        for (int within = 0; visible && within < a.blockSize; within += kKeyTile) {
            const int64_t keyStart = int64_t(id) * a.blockSize + within;
            const int nKeys = static_cast<int>(
                min64(min(kKeyTile, a.blockSize - within), position - keyStart + 1));
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
        reduceSums(st);
        __syncthreads(); // the tile is no longer read: it becomes the merge area
        publish<D>(states, st, warp, lane);
        __syncthreads();
        const int rows = min(16, a.group - m0);
        for (int i = threadIdx.x; i < rows * D; i += kPartialWarps * 32) {
            const int r = i / D, c = i % D;
            float best = -INFINITY;
#pragma unroll
            for (int w = 0; w < kPartialWarps; ++w) best = fmaxf(best, states.row(w, r)[D]);
            // A head that saw no key keeps max -inf with a zero sum and accumulator.
            const float base = best == -INFINITY ? 0.f : best;
            float acc = 0.f, sum = 0.f;
#pragma unroll
            for (int w = 0; w < kPartialWarps; ++w) {
                const float* s = states.row(w, r);
                const float scale = fastExp2(s[D] - base);
                acc += scale * s[c];
                sum += scale * s[D + 1];
            }
            const size_t slot = size_t(entry) * a.heads + g * a.group + m0 + r;
            wsAcc[slot * D + c] = acc;
            if (c == 0) wsMax[slot] = best, wsSum[slot] = sum;
        }
    }
}

constexpr int kCombineWarps = 4;

// Max of `v` over the thread block, returned to every thread.
__device__ float blockMax(float v, float* scratch) {
    for (int off = 16; off > 0; off >>= 1) v = fmaxf(v, __shfl_xor_sync(kFullMask, v, off));
    if (threadIdx.x % 32 == 0) scratch[threadIdx.x / 32] = v;
    __syncthreads();
    v = scratch[0];
    for (int w = 1; w < kCombineWarps; ++w) v = fmaxf(v, scratch[w]);
    return v;
}

// Chosen blocks per thread whose partial results the combine loads before it reduces anything.
constexpr int kCombineHeld = 24;

// Thread block (head, 32 output columns); warp w takes chosen blocks w, w + kCombineWarps, ...
// The max, sum and accumulator of a thread's first kCombineHeld blocks are loaded together, one
// round trip to L2 where a load per reduction step took five; more blocks than that (topk above
// kCombineWarps * kCombineHeld) are read in a second pass. A block that contributed nothing has
// max -inf, weight 0 and a zero accumulator.
__global__ void __launch_bounds__(kCombineWarps * 32)
    sparseDecodeCombine(const float* workspace, int heads, int dim, int topk, bf16* out) {
    waitForPrecedingKernel();
    __shared__ float sScratch[kCombineWarps];
    __shared__ float sAcc[kCombineWarps][32];
    __shared__ float sSum[kCombineWarps];
    const int h = blockIdx.x;
    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    const int col = blockIdx.y * 32 + lane;
    const float* wsMax = workspace;
    const float* wsSum = wsMax + size_t(topk) * heads;
    const float* wsAcc = wsSum + size_t(topk) * heads;
    auto slot = [&](int s) { return size_t(s) * heads + h; };
    auto accAt = [&](int s) { return col < dim ? wsAcc[slot(s) * dim + col] : 0.f; };

    float m[kCombineHeld], l[kCombineHeld], a[kCombineHeld];
#pragma unroll
    for (int i = 0; i < kCombineHeld; ++i) {
        const int s = warp + i * kCombineWarps;
        const bool held = s < topk;
        m[i] = held ? wsMax[slot(s)] : -INFINITY;
        l[i] = held ? wsSum[slot(s)] : 0.f;
        a[i] = held ? accAt(s) : 0.f;
    }
    constexpr int kRest = kCombineHeld * kCombineWarps;
    float best = -INFINITY;
#pragma unroll
    for (int i = 0; i < kCombineHeld; ++i) best = fmaxf(best, m[i]);
    for (int s = kRest + warp; s < topk; s += kCombineWarps) best = fmaxf(best, wsMax[slot(s)]);
    best = blockMax(best, sScratch);
    const float base = best == -INFINITY ? 0.f : best;
    float sum = 0.f, acc = 0.f;
#pragma unroll
    for (int i = 0; i < kCombineHeld; ++i) {
        const float w = fastExp2(m[i] - base);
        sum += w * l[i];
        acc += w * a[i];
    }
    for (int s = kRest + warp; s < topk; s += kCombineWarps) {
        const float w = fastExp2(wsMax[slot(s)] - base);
        sum += w * wsSum[slot(s)];
        acc += w * accAt(s);
    }
    sAcc[warp][lane] = acc;
    if (lane == 0) sSum[warp] = sum; // the same in every lane: the warp's blocks are shared
    __syncthreads();
    if (warp == 0 && col < dim) {
        for (int w = 1; w < kCombineWarps; ++w) acc += sAcc[w][lane], sum += sSum[w];
        out[size_t(h) * dim + col] = __float2bfloat16(sum > 0.f ? acc / sum : 0.f);
    }
}

} // namespace

size_t sparseDecodeWorkspace(int heads, int dim, int topkTotal) {
    if (heads <= 0 || dim <= 0 || topkTotal <= 0) return 0;
    return size_t(topkTotal) * heads * (dim + 2) * sizeof(float);
}

cudaError_t launchSparseAttentionDecode(const bf16* q, int heads, int kvHeads, int dim,
                                        Position position, const bf16* keys, const bf16* values,
                                        int64_t kvHeadStride, const int32_t* blocks, int topkTotal,
                                        int blockSize, bf16* out, float* workspace,
                                        size_t workspaceBytes, cudaStream_t stream) {
    if (!validCommon(q, heads, kvHeads, dim, keys, values, kvHeadStride, blocks, topkTotal,
                     blockSize, out))
        return cudaErrorInvalidValue;
    if (!position.valid() || !workspace || !aligned(workspace, 8) ||
        workspaceBytes < sparseDecodeWorkspace(heads, dim, topkTotal))
        return cudaErrorInvalidValue;
    const DecodeArgs a{q,         heads,     heads / kvHeads, position,
                       keys,      values,    kvHeadStride,    blocks,
                       topkTotal, blockSize, workspace,       scaleLog2(dim)};
    const dim3 grid(topkTotal, kvHeads);
    auto partial = [&](auto kernel) {
        return launchDependent(kernel, grid, kPartialWarps * 32, 0, stream, a);
    };
    cudaError_t e = dim == 16   ? partial(sparseDecodePartial<16>)
                    : dim == 32 ? partial(sparseDecodePartial<32>)
                    : dim == 64 ? partial(sparseDecodePartial<64>)
                                : partial(sparseDecodePartial<128>);
    if (e != cudaSuccess) return e;
    const dim3 combineGrid(heads, ceilDiv(dim, 32));
    return launchDependent(sparseDecodeCombine, combineGrid, kCombineWarps * 32, 0, stream,
                           workspace, heads, dim, topkTotal, out);
}

} // namespace folio::kernels
