#include "dependent_launch.cuh"
#include "sparse_attention.cuh"
#include "sparse_attention_checks.cuh"
#include "sparse_attention_decode_common.cuh"

#include <cmath>

// Decode, two ways:
// - split (every build): one thread block per (chosen block, kv group) folds that block's keys
//   into the heads of the group with the warp routine of sparse_attention_warp.cuh and writes a
//   partial (max, sum, accumulator) per head to the workspace; a second kernel merges them.
// - clustered (Hopper builds, sparse_attention_decode_cluster.cu): the same thread blocks, whose
//   partials are merged in the same launch; taken wherever it runs.

namespace folio::kernels {

using namespace attention_detail;
using detail::DecodePath;

namespace {

// Thread block: chosen block blockIdx.x of kv group blockIdx.y, every head of the group; writes
// the block's partial (max, sum, accumulator) per head. One warp per block did all of it before,
// with the load and the products of the whole block on one warp's latency.
template <int D>
__global__ void __launch_bounds__(kPartialWarps * 32) sparseDecodePartial(const DecodeArgs a) {
    waitForPrecedingKernel();
    __shared__ __align__(16) unsigned char raw[BlockBytes<D>::kAll];
    bf16* sK = reinterpret_cast<bf16*>(raw);
    bf16* sV = sK + kKeyTile * (D + 8);
    const int entry = blockIdx.x;
    const int g = blockIdx.y;
    const int id = a.blocks[g * a.topk + entry];
    const int64_t position = a.position.get();
    const DecodePartials<float> ws = partialsOf(a.workspace, a.heads, a.topk);

    for (int m0 = 0; m0 < a.group; m0 += 16) {
        RowState<D> st;
        foldBlock<D>(a, g, m0, id, position, sK, sV, st);
        mergeWarps<D>(raw, st, min(16, a.group - m0),
                      [&](int r, int c, float acc, float best, float sum) {
                          const size_t slot = size_t(entry) * a.heads + g * a.group + m0 + r;
                          ws.acc[slot * D + c] = acc;
                          if (c == 0) ws.max[slot] = best, ws.sum[slot] = sum;
                      });
        __syncthreads(); // the merge area is read before the next rows' first tile
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
    const DecodePartials<const float> ws = partialsOf(workspace, heads, topk);
    auto slot = [&](int s) { return size_t(s) * heads + h; };
    auto accAt = [&](int s) { return col < dim ? ws.acc[slot(s) * dim + col] : 0.f; };

    float m[kCombineHeld], l[kCombineHeld], a[kCombineHeld];
#pragma unroll
    for (int i = 0; i < kCombineHeld; ++i) {
        const int s = warp + i * kCombineWarps;
        const bool held = s < topk;
        m[i] = held ? ws.max[slot(s)] : -INFINITY;
        l[i] = held ? ws.sum[slot(s)] : 0.f;
        a[i] = held ? accAt(s) : 0.f;
    }
    constexpr int kRest = kCombineHeld * kCombineWarps;
    float best = -INFINITY;
#pragma unroll
    for (int i = 0; i < kCombineHeld; ++i) best = fmaxf(best, m[i]);
    for (int s = kRest + warp; s < topk; s += kCombineWarps) best = fmaxf(best, ws.max[slot(s)]);
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
        const float w = fastExp2(ws.max[slot(s)] - base);
        sum += w * ws.sum[slot(s)];
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

template <int D>
cudaError_t launchDecode(const DecodeArgs& a, int kvHeads, bf16* out, DecodePath path,
                         cudaStream_t stream) {
    const bool clustered =
        path != DecodePath::Split && clusteredDecodeServes(a.group) && clusteredDecodeReady(D);
    if (path == DecodePath::Clustered && !clustered) return cudaErrorNotSupported;
    if (clustered) return launchClusteredDecode(a, D, kvHeads, out, stream);
    const dim3 grid(a.topk, kvHeads);
    cudaError_t e = launchDependent(sparseDecodePartial<D>, grid, kPartialWarps * 32, 0, stream, a);
    if (e != cudaSuccess) return e;
    const dim3 combineGrid(a.heads, ceilDiv(D, 32));
    return launchDependent(sparseDecodeCombine, combineGrid, kCombineWarps * 32, 0, stream,
                           a.workspace, a.heads, D, a.topk, out);
}

} // namespace

size_t sparseDecodeWorkspace(int heads, int dim, int topkTotal) {
    if (heads <= 0 || dim <= 0 || topkTotal <= 0) return 0;
    // The partials, then one arrival word per head (at least one per kv group).
    return partialFloats(heads, dim, topkTotal) * sizeof(float) + size_t(heads) * sizeof(unsigned);
}

cudaError_t resetSparseDecodeWorkspace(float* workspace, int heads, int dim, int topkTotal,
                                       cudaStream_t stream) {
    if (!workspace || heads <= 0 || dim <= 0 || topkTotal <= 0) return cudaErrorInvalidValue;
    return cudaMemsetAsync(arrivalsOf(workspace, heads, dim, topkTotal), 0,
                           size_t(heads) * sizeof(unsigned), stream);
}

namespace detail {

cudaError_t launchSparseAttentionDecodePath(const bf16* q, int heads, int kvHeads, int dim,
                                            Position position, const bf16* keys, const bf16* values,
                                            int64_t kvHeadStride, const int32_t* blocks,
                                            int topkTotal, int blockSize, bf16* out,
                                            float* workspace, size_t workspaceBytes,
                                            DecodePath path, cudaStream_t stream) {
    if (!validCommon(q, heads, kvHeads, dim, keys, values, kvHeadStride, blocks, topkTotal,
                     blockSize, out))
        return cudaErrorInvalidValue;
    if (!position.valid() || !workspace || !aligned(workspace, 8) ||
        workspaceBytes < sparseDecodeWorkspace(heads, dim, topkTotal))
        return cudaErrorInvalidValue;
    const DecodeArgs a{q,         heads,     heads / kvHeads, position,
                       keys,      values,    kvHeadStride,    blocks,
                       topkTotal, blockSize, workspace,       scaleLog2(dim)};
    switch (dim) {
    case 16:
        return launchDecode<16>(a, kvHeads, out, path, stream);
    case 32:
        return launchDecode<32>(a, kvHeads, out, path, stream);
    case 64:
        return launchDecode<64>(a, kvHeads, out, path, stream);
    default:
        return launchDecode<128>(a, kvHeads, out, path, stream);
    }
}

} // namespace detail

cudaError_t launchSparseAttentionDecode(const bf16* q, int heads, int kvHeads, int dim,
                                        Position position, const bf16* keys, const bf16* values,
                                        int64_t kvHeadStride, const int32_t* blocks, int topkTotal,
                                        int blockSize, bf16* out, float* workspace,
                                        size_t workspaceBytes, cudaStream_t stream) {
    return detail::launchSparseAttentionDecodePath(
        q, heads, kvHeads, dim, position, keys, values, kvHeadStride, blocks, topkTotal, blockSize,
        out, workspace, workspaceBytes, DecodePath::Fastest, stream);
}

} // namespace folio::kernels
