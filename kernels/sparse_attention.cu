#include "dependent_launch.cuh"
#include "sparse_attention.cuh"
#include "sparse_attention_checks.cuh"
#include "sparse_attention_warp.cuh"

#include <algorithm>
#include <cmath>

// Both kernels run the same warp routine: a warp owns 16 query rows (the heads of one kv
// group for a token) held as bf16 tensor-core fragments, and folds tiles of up to 64 keys
// from shared memory into flash-attention state (fp32 running max, sum and accumulator)
// with mma.sync m16n8k16 for q·K and P·V.
//
// Prefill: a thread block covers 16 * WARPS consecutive (token, head) rows of one kv group,
// i.e. a few consecutive tokens. It builds the union of their block lists in shared memory
// and streams each union block's keys/values once, in ascending block order, through a ring
// of STAGES tiles; each warp folds in only the blocks its own tokens chose. The ring has no
// block-wide barrier: a warp waits only for the tiles it reads and for the slowest warp when
// it gets STAGES tiles ahead. With a trained model neighbouring tokens choose nearly the same
// blocks and every warp uses nearly every tile; with random scores (the benchmark's random
// weights) they share only the forced blocks, and a barrier per tile made three warps wait
// while the fourth folded in its own block. On an H100, 8,192 queries x 96 blocks at 128K:
// 11.6 -> 9.2 ms with the selection's lists on random scores, 5.3 -> 5.5 ms with shared
// lists. Four warps and three stages: two blocks per SM; four stages leave room for one.
//
// Decode: sparse_attention_decode.cu.

namespace folio::kernels {

using namespace attention_detail;

namespace {

// ---- prefill ------------------------------------------------------------------------------

struct PrefillArgs {
    const bf16* q;
    int64_t qRowStride;
    int64_t tokens;
    int64_t start;
    int group;
    int kvHeads;
    const bf16* keys;
    const bf16* values;
    int64_t kvHeadStride;
    const int32_t* blocks;
    int topk;
    int blockSize;
    bf16* out;
    int64_t outRowStride;
    int slots; // most tokens one thread block can touch
    float scaleLog2;
};

// Shared memory of the prefill, in bytes from the start: `stages` K/V tiles, per tile the
// barrier of its load and the count of warps done with it, then the per-token block lists
// and their union with, per union entry, the mask of tokens that chose it.
struct PrefillSmem {
    size_t loaded, released, mask, unionIds, lists, counts, fresh, bases, total, first, bytes;

    __host__ __device__ PrefillSmem(int dim, int slots, int topk, int stages) {
        const size_t entries = size_t(slots) * topk;
        loaded = size_t(2 * stages) * kKeyTile * (dim + 8) * sizeof(bf16);
        released = loaded + stages * sizeof(uint64_t);
        mask = (released + stages * sizeof(int) + 7) / 8 * 8;
        unionIds = mask + entries * sizeof(unsigned long long);
        lists = unionIds + entries * sizeof(int);
        counts = lists + entries * sizeof(int);
        fresh = counts + slots * sizeof(int);
        bases = fresh + slots * sizeof(int);
        total = bases + slots * sizeof(int);
        first = total + sizeof(int);
        bytes = (first + entries + 15) / 16 * 16;
    }
};

// The number of entries of the ascending run [first, first + n) below `id`.
__device__ int lowerBound(const int* first, int n, int id) {
    int lo = 0, hi = n;
    while (lo < hi) {
        const int mid = (lo + hi) >> 1;
        if (first[mid] < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

struct UnionView {
    unsigned long long* mask;
    int* ids;
    int* lists; // per token while the union is built, then `order`
    int* order; // union entries by ascending block id
    int* counts;
    int* fresh;
    int* bases;
    int* total;
    unsigned char* first;
    int topk;

    __device__ bool contains(int t, int id) const {
        const int* l = lists + t * topk;
        const int at = lowerBound(l, counts[t], id);
        return at < counts[t] && l[at] == id;
    }
};

// Fills the union of the block lists of tokens tok0 .. tok0 + nT - 1 (kv group g): first
// token 0's ids, then each later token's new ones, in list order, so the result (and the
// summation order) is deterministic. Ids whose block starts after the token are dropped.
template <int WARPS>
__device__ int buildUnion(const PrefillArgs& a, const UnionView& u, int g, int64_t tok0, int nT,
                          int warp, int lane) {
    const int topk = a.topk;
    const unsigned below = (1u << lane) - 1;
    for (int t = warp; t < nT; t += WARPS) {
        const int64_t pos = a.start + tok0 + t;
        const int32_t* src = a.blocks + ((tok0 + t) * a.kvHeads + g) * int64_t(topk);
        int count = 0;
        for (int k0 = 0; k0 < topk; k0 += 32) {
            const int id = k0 + lane < topk ? src[k0 + lane] : -1;
            const bool keep = id >= 0 && int64_t(id) * a.blockSize <= pos;
            const unsigned ballot = __ballot_sync(kFullMask, keep);
            if (keep) u.lists[t * topk + count + __popc(ballot & below)] = id;
            count += __popc(ballot);
        }
        if (lane == 0) u.counts[t] = count;
    }
    __syncthreads();
    for (int i = threadIdx.x; i < nT * topk; i += blockDim.x) {
        const int t = i / topk;
        bool isNew = i % topk < u.counts[t];
        for (int e = 0; isNew && e < t; ++e) isNew = !u.contains(e, u.lists[i]);
        u.first[i] = isNew;
    }
    __syncthreads();
    for (int t = warp; t < nT; t += WARPS) {
        int count = 0;
        for (int k0 = 0; k0 < topk; k0 += 32)
            count +=
                __popc(__ballot_sync(kFullMask, k0 + lane < topk && u.first[t * topk + k0 + lane]));
        if (lane == 0) u.fresh[t] = count;
    }
    __syncthreads();
    if (threadIdx.x == 0) {
        int sum = 0;
        for (int t = 0; t < nT; ++t) {
            u.bases[t] = sum;
            sum += u.fresh[t];
        }
        *u.total = sum;
    }
    __syncthreads();
    for (int t = warp; t < nT; t += WARPS) {
        int slot = u.bases[t];
        for (int k0 = 0; k0 < topk; k0 += 32) {
            const int i = t * topk + k0 + lane;
            const bool isNew = k0 + lane < topk && u.first[i];
            const unsigned ballot = __ballot_sync(kFullMask, isNew);
            if (isNew) {
                const int id = u.lists[i];
                unsigned long long m = 1ull << t;
                for (int e = t + 1; e < nT; ++e)
                    if (u.contains(e, id)) m |= 1ull << e;
                u.ids[slot + __popc(ballot & below)] = id;
                u.mask[slot + __popc(ballot & below)] = m;
            }
            slot += __popc(ballot);
        }
    }
    __syncthreads();
    const int total = *u.total;
    // The pipeline below lets warps run a few entries apart; in ascending order the entries
    // of the different tokens interleave, so each warp finds work of its own within that
    // window instead of waiting while one token's run passes. Each token's list is sorted,
    // hence so is its run of fresh entries, and an entry's rank is the number of smaller ids
    // over all runs. The order replaces the per-token lists, which are no longer needed.
    for (int i = threadIdx.x; i < total; i += blockDim.x) {
        const int id = u.ids[i];
        int rank = 0;
        for (int t = 0; t < nT; ++t) rank += lowerBound(u.ids + u.bases[t], u.fresh[t], id);
        u.order[rank] = i;
    }
    __syncthreads();
    return total;
}

// One (token, head) row of the thread block as a lane sees it.
struct PrefillRow {
    bool valid;
    int local; // token index inside the thread block
    int64_t pos;
    int64_t token;
    int head;
};

__device__ __forceinline__ PrefillRow prefillRow(const PrefillArgs& a, int64_t row, int64_t tok0,
                                                 int g) {
    PrefillRow r;
    r.valid = row < a.tokens * a.group;
    r.token = r.valid ? row / a.group : tok0;
    r.head = g * a.group + static_cast<int>(row % a.group);
    r.local = static_cast<int>(r.token - tok0);
    r.pos = a.start + r.token;
    return r;
}

template <int D, int WARPS, int STAGES>
__global__ void __launch_bounds__(WARPS * 32) sparsePrefillKernel(const PrefillArgs a) {
    static_assert(STAGES >= 2, "the pipeline needs a tile in use and one loading");
    constexpr int kRows = WARPS * 16;
    constexpr int kTile = kKeyTile * (D + 8);
    extern __shared__ __align__(16) unsigned char smem[];
    const int warp = threadIdx.x / 32;
    const int lane = threadIdx.x % 32;
    const int g = blockIdx.y;
    const int64_t r0 = int64_t(blockIdx.x) * kRows;
    const int64_t tok0 = r0 / a.group;
    const int64_t tokLast = min(a.tokens - 1, (r0 + kRows - 1) / a.group);
    const int nT = static_cast<int>(tokLast - tok0 + 1);
    const int64_t tileMaxPos = a.start + tokLast;

    const PrefillSmem lay(D, a.slots, a.topk, STAGES);
    bf16* sK = reinterpret_cast<bf16*>(smem);
    bf16* sV = sK + STAGES * kTile;
    const UnionView u{reinterpret_cast<unsigned long long*>(smem + lay.mask),
                      reinterpret_cast<int*>(smem + lay.unionIds),
                      reinterpret_cast<int*>(smem + lay.lists),
                      reinterpret_cast<int*>(smem + lay.lists),
                      reinterpret_cast<int*>(smem + lay.counts),
                      reinterpret_cast<int*>(smem + lay.fresh),
                      reinterpret_cast<int*>(smem + lay.bases),
                      reinterpret_cast<int*>(smem + lay.total),
                      smem + lay.first,
                      a.topk};
    const int unionSize = buildUnion<WARPS>(a, u, g, tok0, nT, warp, lane);

    const int64_t rowBase = r0 + warp * 16 + lane / 4;
    const PrefillRow ra = prefillRow(a, rowBase, tok0, g);
    const PrefillRow rb = prefillRow(a, rowBase + 8, tok0, g);
    uint32_t qf[D / 16][4];
    loadQuery<D>(qf, ra.valid ? a.q + ra.token * a.qRowStride + ra.head * D : nullptr,
                 rb.valid ? a.q + rb.token * a.qRowStride + rb.head * D : nullptr, lane);
    unsigned long long warpTokens =
        (ra.valid ? 1ull << ra.local : 0) | (rb.valid ? 1ull << rb.local : 0);
    int64_t warpMaxPos = max(ra.valid ? ra.pos : -1, rb.valid ? rb.pos : -1);
    for (int off = 16; off > 0; off >>= 1) {
        warpTokens |= __shfl_xor_sync(kFullMask, warpTokens, off);
        warpMaxPos = max(warpMaxPos, __shfl_xor_sync(kFullMask, warpMaxPos, off));
    }

    const bf16* kHead = a.keys + g * a.kvHeadStride;
    const bf16* vHead = a.values + g * a.kvHeadStride;
    const int tilesPerBlock = (a.blockSize + kKeyTile - 1) / kKeyTile;
    const int items = unionSize * tilesPerBlock;
    auto itemKeys = [&](int item, int64_t& keyStart) {
        const int within = (item % tilesPerBlock) * kKeyTile;
        keyStart = int64_t(u.ids[u.order[item / tilesPerBlock]]) * a.blockSize + within;
        const int64_t n = min64(min(kKeyTile, a.blockSize - within), tileMaxPos - keyStart + 1);
        return static_cast<int>(max64(n, 0));
    };

    // Tile `stage` holds entry `item` while item % STAGES == stage. Its load is issued by
    // one warp, whose 32 lanes arrive on loaded[stage] when their copies have landed; every
    // warp waits for that, uses the tile or not, and counts itself in released[stage]. The
    // warp that counts last issues the load of item + STAGES into the same tile. So a warp
    // never waits for the others at a tile it does not use, only when it runs STAGES
    // entries ahead of the slowest.
    uint64_t* loaded = reinterpret_cast<uint64_t*>(smem + lay.loaded);
    int* released = reinterpret_cast<int*>(smem + lay.released);
    auto load = [&](int item) { // by all lanes of one warp
        int64_t keyStart;
        const int n = itemKeys(item, keyStart);
        const int stage = item % STAGES;
        loadTileAsync<D>(sK + stage * kTile, sV + stage * kTile, kHead, vHead, keyStart, n,
                         &loaded[stage], lane);
    };
    if (threadIdx.x < STAGES) {
        mbarrierInit(&loaded[threadIdx.x], 32);
        released[threadIdx.x] = 0;
    }
    __syncthreads();
    if (warp == 0)
        for (int item = 0; item < min(STAGES, items); ++item) load(item);

    RowState<D> st;
    st.reset();
    for (int item = 0; item < items; ++item) {
        const int stage = item % STAGES;
        const int round = item / STAGES;
        mbarrierWait(&loaded[stage], round & 1);
        int64_t keyStart;
        const int nKeys = itemKeys(item, keyStart);
        const unsigned long long mask = u.mask[u.order[item / tilesPerBlock]];
        if ((mask & warpTokens) && nKeys > 0 && keyStart <= warpMaxPos) {
            const int warpKeys = clampLimit(warpMaxPos - keyStart, nKeys) + 1;
            const int limA =
                ra.valid && (mask >> ra.local & 1) ? clampLimit(ra.pos - keyStart, nKeys) : -1;
            const int limB =
                rb.valid && (mask >> rb.local & 1) ? clampLimit(rb.pos - keyStart, nKeys) : -1;
            attendTile<D>(st, qf, sK + stage * kTile, sV + stage * kTile, (warpKeys + 15) / 16,
                          limA, limB, a.scaleLog2, lane);
        }
        // The count only grows: after round r, (r + 1) * WARPS warps have released the tile.
        __syncwarp();
        int before = 0;
        if (lane == 0) {
            __threadfence_block(); // this warp's reads of the tile come before the count
            before = atomicAdd(&released[stage], 1);
        }
        before = __shfl_sync(kFullMask, before, 0);
        if (before == (round + 1) * WARPS - 1 && item + STAGES < items) {
            __threadfence_block();
            load(item + STAGES);
        }
    }

    reduceSums(st);
    const int c2 = 2 * (lane & 3);
    const float inv[2] = {st.l[0] > 0.f ? 1.f / st.l[0] : 0.f, st.l[1] > 0.f ? 1.f / st.l[1] : 0.f};
    bf16* outA = ra.valid ? a.out + ra.token * a.outRowStride + ra.head * D : nullptr;
    bf16* outB = rb.valid ? a.out + rb.token * a.outRowStride + rb.head * D : nullptr;
#pragma unroll
    for (int n = 0; n < D / 8; ++n) {
        if (outA)
            *reinterpret_cast<__nv_bfloat162*>(outA + n * 8 + c2) =
                __floats2bfloat162_rn(st.o[n][0] * inv[0], st.o[n][1] * inv[0]);
        if (outB)
            *reinterpret_cast<__nv_bfloat162*>(outB + n * 8 + c2) =
                __floats2bfloat162_rn(st.o[n][2] * inv[1], st.o[n][3] * inv[1]);
    }
}

// ---- host side ------------------------------------------------------------------------------

template <int D, int WARPS, int STAGES>
cudaError_t launchPrefill(PrefillArgs a, unsigned gridX, cudaStream_t stream) {
    const PrefillSmem lay(D, a.slots, a.topk, STAGES);
    int device = 0, maxSmem = 0;
    cudaError_t e = cudaGetDevice(&device);
    if (e == cudaSuccess)
        e = cudaDeviceGetAttribute(&maxSmem, cudaDevAttrMaxSharedMemoryPerBlockOptin, device);
    if (e != cudaSuccess) return e;
    if (lay.bytes > size_t(maxSmem)) {
        // Long block lists leave no room for the deeper ring; two stages may still fit.
        if constexpr (STAGES > 2) return launchPrefill<D, WARPS, 2>(a, gridX, stream);
        return cudaErrorInvalidValue;
    }
    e = cudaFuncSetAttribute(sparsePrefillKernel<D, WARPS, STAGES>,
                             cudaFuncAttributeMaxDynamicSharedMemorySize,
                             static_cast<int>(lay.bytes));
    if (e != cudaSuccess) return e;
    const dim3 grid(gridX, a.kvHeads);
    sparsePrefillKernel<D, WARPS, STAGES><<<grid, WARPS * 32, lay.bytes, stream>>>(a);
    return cudaGetLastError();
}

template <int WARPS, int STAGES>
cudaError_t dispatchPrefill(int dim, const PrefillArgs& a, unsigned gridX, cudaStream_t s) {
    switch (dim) {
    case 16:
        return launchPrefill<16, WARPS, STAGES>(a, gridX, s);
    case 32:
        return launchPrefill<32, WARPS, STAGES>(a, gridX, s);
    case 64:
        return launchPrefill<64, WARPS, STAGES>(a, gridX, s);
    default:
        return launchPrefill<128, WARPS, STAGES>(a, gridX, s);
    }
}

template <int WARPS>
cudaError_t dispatchStages(int stages, int dim, const PrefillArgs& a, unsigned gridX,
                           cudaStream_t s) {
    switch (stages) {
    case 4:
        return dispatchPrefill<WARPS, 4>(dim, a, gridX, s);
    case 3:
        return dispatchPrefill<WARPS, 3>(dim, a, gridX, s);
    default:
        return dispatchPrefill<WARPS, 2>(dim, a, gridX, s);
    }
}

// The prefill's shape for the engine (see timingRealShape in the GPU suite for the others).
constexpr int kPrefillWarps = 4;
constexpr int kPrefillStages = 3;

} // namespace

namespace detail {

cudaError_t launchSparseAttentionPrefillWarps(const bf16* q, int64_t qRowStride, int64_t tokens,
                                              int64_t startPosition, int heads, int kvHeads,
                                              int dim, const bf16* keys, const bf16* values,
                                              int64_t kvHeadStride, const int32_t* blocks,
                                              int topkTotal, int blockSize, bf16* out,
                                              int64_t outRowStride, int warps, int stages,
                                              cudaStream_t stream) {
    if (!validCommon(q, heads, kvHeads, dim, keys, values, kvHeadStride, blocks, topkTotal,
                     blockSize, out))
        return cudaErrorInvalidValue;
    if (tokens < 0 || startPosition < 0 || qRowStride % 2 != 0 || outRowStride % 2 != 0 ||
        qRowStride < int64_t(heads) * dim || outRowStride < int64_t(heads) * dim)
        return cudaErrorInvalidValue;
    if ((warps != 4 && warps != 8) || stages < 2 || stages > 4) return cudaErrorInvalidValue;
    if (tokens == 0) return cudaSuccess;
    const int group = heads / kvHeads;
    const int rows = warps * 16;
    // A thread block's token masks are 64-bit; fall back to the smaller tile if needed.
    if ((rows - 1) / group + 2 > 64) warps = 4;
    const int64_t tiles = (tokens * group + warps * 16 - 1) / (warps * 16);
    if (tiles > 0x7fffffff) return cudaErrorInvalidValue;
    PrefillArgs a{q,      qRowStride,    tokens, startPosition, group,     kvHeads, keys,
                  values, kvHeadStride,  blocks, topkTotal,     blockSize, out,     outRowStride,
                  0,      scaleLog2(dim)};
    a.slots = std::min((warps * 16 - 1) / group + 2, warps * 16);
    const unsigned gridX = static_cast<unsigned>(tiles);
    return warps == 8 ? dispatchStages<8>(stages, dim, a, gridX, stream)
                      : dispatchStages<4>(stages, dim, a, gridX, stream);
}

} // namespace detail

cudaError_t launchSparseAttentionPrefill(const bf16* q, int64_t qRowStride, int64_t tokens,
                                         int64_t startPosition, int heads, int kvHeads, int dim,
                                         const bf16* keys, const bf16* values, int64_t kvHeadStride,
                                         const int32_t* blocks, int topkTotal, int blockSize,
                                         bf16* out, int64_t outRowStride, cudaStream_t stream) {
    return detail::launchSparseAttentionPrefillWarps(
        q, qRowStride, tokens, startPosition, heads, kvHeads, dim, keys, values, kvHeadStride,
        blocks, topkTotal, blockSize, out, outRowStride, kPrefillWarps, kPrefillStages, stream);
}

} // namespace folio::kernels
