#include "dependent_launch.cuh"
#include "sparse_attention_decode_common.cuh"

#include <cooperative_groups.h>

#include <cmath>

// The sparse decode attention in one launch, for Hopper builds. The split form
// (sparse_attention_decode.cu) writes a partial per chosen block and merges them in a second
// kernel; in a decode step that second kernel's hand-off and its loads of 96 partials per head
// sat on the chain of the sparse layer's kernels. Here clusters of 8 thread blocks merge their
// blocks' states through distributed shared memory, and the last cluster of a kv group to finish
// merges the group's cluster partials itself (12 at topk 96).

namespace folio::kernels::attention_detail {

namespace {

constexpr int kClusterBlocks = 8; // thread blocks (chosen blocks) merged through shared memory

// Two adjacent columns of a row merged over several states, with the row's max and sum.
struct Merged {
    float max, sum;
    float2 acc;
};

// Over N states whose loads are all issued before any is used; a state with max -inf adds
// nothing (a row that saw no key merges to max -inf, sum 0).
template <int N, typename Max, typename Sum, typename Acc>
__device__ __forceinline__ Merged mergeHeld(Max maxOf, Sum sumOf, Acc accOf) {
    float m[N], l[N];
    float2 v[N];
#pragma unroll
    for (int i = 0; i < N; ++i) m[i] = maxOf(i), l[i] = sumOf(i), v[i] = accOf(i);
    float best = -INFINITY;
#pragma unroll
    for (int i = 0; i < N; ++i) best = fmaxf(best, m[i]);
    const float base = best == -INFINITY ? 0.f : best;
    Merged out{best, 0.f, make_float2(0.f, 0.f)};
#pragma unroll
    for (int i = 0; i < N; ++i) {
        const float w = fastExp2(m[i] - base);
        out.sum += w * l[i];
        out.acc.x += w * v[i].x;
        out.acc.y += w * v[i].y;
    }
    return out;
}

// The same for any number of states, two passes.
template <typename Max, typename Sum, typename Acc>
__device__ Merged mergeLooped(int n, Max maxOf, Sum sumOf, Acc accOf) {
    float best = -INFINITY;
    for (int i = 0; i < n; ++i) best = fmaxf(best, maxOf(i));
    const float base = best == -INFINITY ? 0.f : best;
    Merged out{best, 0.f, make_float2(0.f, 0.f)};
    for (int i = 0; i < n; ++i) {
        const float w = fastExp2(maxOf(i) - base);
        const float2 v = accOf(i);
        out.sum += w * sumOf(i);
        out.acc.x += w * v.x;
        out.acc.y += w * v.y;
    }
    return out;
}

// Thread block: chosen block blockIdx.x of kv group blockIdx.y, one 16-row tile of heads. As in
// the split path it folds its block and merges its warps, into shared memory; then:
// 1. the cluster of 8 blocks merges its 8 states through distributed shared memory (block
//    `rank` takes head rows rank and rank + 8) into one partial per cluster in the workspace;
// 2. the cluster that completes a kv group's set (counted in the workspace's arrival words)
//    merges that group's partials and writes the output, and sets the count back to zero.
// At topk 96: 12 partials per group instead of 96, and no second launch to merge them.
template <int D>
__global__ void __launch_bounds__(kPartialWarps * 32)
    sparseDecodeClustered(const DecodeArgs a, unsigned* __restrict__ arrivals,
                          bf16* __restrict__ out) {
    waitForPrecedingKernel();
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
    namespace cg = cooperative_groups;
    constexpr int kHeldPartials = 16; // clusters' partials merged from registers (topk <= 128)
    const cg::cluster_group cluster = cg::this_cluster();
    // The thread block's state: per row D accumulator columns, max and sum.
    constexpr int kBlockState = 16 * (D + 2);
    __shared__ __align__(16) unsigned char raw[BlockBytes<D>::kAll];
    __shared__ __align__(16) float blockState[kBlockState];
    __shared__ int completes;
    bf16* sK = reinterpret_cast<bf16*>(raw);
    bf16* sV = sK + kKeyTile * (D + 8);
    const int rank = static_cast<int>(cluster.block_rank());
    const int entry = blockIdx.x;
    const int g = blockIdx.y;
    const int partials = gridDim.x / kClusterBlocks, part = entry / kClusterBlocks;
    const int id = entry < a.topk ? a.blocks[g * a.topk + entry] : -1;
    const int64_t position = a.position.get();

    RowState<D> st;
    foldBlock<D>(a, g, 0, id, position, sK, sV, st);
    mergeWarps<D>(raw, st, 16, [&](int r, int c, float acc, float best, float sum) {
        blockState[r * (D + 2) + c] = acc;
        if (c == 0) blockState[r * (D + 2) + D] = best, blockState[r * (D + 2) + D + 1] = sum;
    });
    cluster.sync(); // every block's state is complete and visible to the cluster

    // Cluster partials in the workspace's first slots (12 of its 96 at topk 96).
    const DecodePartials<float> ws = partialsOf(a.workspace, a.heads, a.topk);
    // Thread t takes head row rank + 8 * (t / 64) and column pairs 2 * (t % 64), + 128, ...
    const int r = rank + kClusterBlocks * (threadIdx.x / 64);
    const int c0 = 2 * (threadIdx.x % 64);
    const bool rowValid = r < a.group;
    const size_t head = size_t(g) * a.group + r;
    if (rowValid) {
        const float* peer[kClusterBlocks];
#pragma unroll
        for (int p = 0; p < kClusterBlocks; ++p)
            peer[p] = cluster.map_shared_rank(blockState + r * (D + 2), p);
        for (int c = c0; c < D; c += 128) {
            const Merged m = mergeHeld<kClusterBlocks>(
                [&](int p) { return peer[p][D]; }, [&](int p) { return peer[p][D + 1]; },
                [&](int p) { return *reinterpret_cast<const float2*>(peer[p] + c); });
            const size_t slot = size_t(part) * a.heads + head;
            *reinterpret_cast<float2*>(ws.acc + slot * D + c) = m.acc;
            if (c == 0) ws.max[slot] = m.max, ws.sum[slot] = m.sum;
        }
    }
    __threadfence(); // the partial is visible to the whole device before it is counted
    cluster.sync();
    if (rank == 0 && threadIdx.x == 0) {
        const bool last = atomicAdd(&arrivals[g], 1u) == unsigned(partials - 1);
        if (last) atomicExch(&arrivals[g], 0u); // every partial of this launch has arrived
        for (int p = 0; p < kClusterBlocks; ++p) *cluster.map_shared_rank(&completes, p) = last;
    }
    cluster.sync();
    if (!completes || !rowValid) return;
    __threadfence(); // the other clusters' partials, counted before this one's
    auto slot = [&](int i) { return size_t(i) * a.heads + head; };
    for (int c = c0; c < D; c += 128) {
        Merged m;
        auto maxOf = [&](int i) { return __ldcg(ws.max + slot(i)); };
        auto sumOf = [&](int i) { return __ldcg(ws.sum + slot(i)); };
        auto accOf = [&](int i) {
            return __ldcg(reinterpret_cast<const float2*>(ws.acc + slot(i) * D + c));
        };
        if (partials <= kHeldPartials)
            m = mergeHeld<kHeldPartials>(
                [&](int i) { return i < partials ? maxOf(i) : -INFINITY; },
                [&](int i) { return i < partials ? sumOf(i) : 0.f; },
                [&](int i) { return i < partials ? accOf(i) : make_float2(0.f, 0.f); });
        else
            m = mergeLooped(partials, maxOf, sumOf, accOf);
        const float inv = m.sum > 0.f ? 1.f / m.sum : 0.f;
        *reinterpret_cast<__nv_bfloat162*>(out + head * D + c) =
            __floats2bfloat162_rn(m.acc.x * inv, m.acc.y * inv);
    }
#endif
}

template <int D>
cudaError_t launchFor(const DecodeArgs& a, int kvHeads, bf16* out, cudaStream_t stream) {
    cudaLaunchAttribute attributes[2]{};
    attributes[0].id = cudaLaunchAttributeClusterDimension;
    attributes[0].val.clusterDim.x = kClusterBlocks;
    attributes[0].val.clusterDim.y = attributes[0].val.clusterDim.z = 1;
    attributes[1].id = cudaLaunchAttributeProgrammaticStreamSerialization;
    attributes[1].val.programmaticStreamSerializationAllowed = 1;
    cudaLaunchConfig_t config{};
    config.gridDim = dim3(ceilDiv(a.topk, kClusterBlocks) * kClusterBlocks, kvHeads);
    config.blockDim = dim3(kPartialWarps * 32);
    config.stream = stream;
    config.attrs = attributes;
    config.numAttrs = 2;
    return cudaLaunchKernelEx(&config, sparseDecodeClustered<D>, a,
                              arrivalsOf(a.workspace, a.heads, D, a.topk), out);
}

} // namespace

// Clusters and the dependent wait need sm_90 code, which a Hopper build runs and a build of PTX
// for older cards lacks (compiledWithDependentWait tells the two apart, once per kernel). A
// cluster of 8 is the portable size every sm_90 device places, so no placement query is needed.
bool clusteredDecodeReady(int dim) {
    auto built = [](auto kernel) {
        return compiledWithDependentWait(reinterpret_cast<const void*>(kernel));
    };
    switch (dim) {
    case 16:
        return built(sparseDecodeClustered<16>);
    case 32:
        return built(sparseDecodeClustered<32>);
    case 64:
        return built(sparseDecodeClustered<64>);
    case 128:
        return built(sparseDecodeClustered<128>);
    }
    return false;
}

cudaError_t launchClusteredDecode(const DecodeArgs& a, int dim, int kvHeads, bf16* out,
                                  cudaStream_t stream) {
    switch (dim) {
    case 16:
        return launchFor<16>(a, kvHeads, out, stream);
    case 32:
        return launchFor<32>(a, kvHeads, out, stream);
    case 64:
        return launchFor<64>(a, kvHeads, out, stream);
    case 128:
        return launchFor<128>(a, kvHeads, out, stream);
    }
    return cudaErrorInvalidValue;
}

} // namespace folio::kernels::attention_detail
