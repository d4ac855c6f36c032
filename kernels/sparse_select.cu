#include "sparse_select.cuh"
#include "sparse_select_kernels.cuh"
#include "sparse_select_step.cuh"
#include "sparse_select_topk.cuh"

#include <algorithm>
#include <cmath>
#include <optional>

namespace folio::kernels {

using namespace select_detail;

namespace {

constexpr size_t kSliceBytes = size_t(256) << 20;
constexpr int64_t kLseSpare = 1024; // partial (max, sum) rows beyond one per query
// Slices of at most this many (query, group) rows choose their blocks with the split top-k,
// in segments of about kSegmentBlocks blocks.
constexpr int64_t kSplitMaxRows = 16;
constexpr int64_t kSegmentBlocks = 256;
// Rows of up to this many blocks (a context of 256K tokens) are chosen by one wide CTA each
// instead: one launch where the split form takes two, for a row that one CTA's radix passes
// cover in one or two keys per thread.
constexpr int64_t kWideRowBlocks = 4096;
// The top-k kernels index a row's blocks with 32-bit integers.
constexpr int64_t kMaxBlocks = 0x7fffffff;

bool supported(const SparseSelectParams& p) {
    if (p.heads <= 0 || p.kvHeads <= 0 || p.kvHeads > 65535 || p.heads % p.kvHeads != 0)
        return false;
    const int group = p.heads / p.kvHeads;
    if (group != 8 && group != 16) return false;
    if (p.dim != 16 && p.dim != 64 && p.dim != 128) return false;
    if (p.blockSize <= 0 || p.stride1 <= 0 || p.kernel1 <= 0 || p.stride2 <= 0 || p.kernel2 <= 0)
        return false;
    if (p.blockSize % p.stride1 != 0 || p.blockSize / p.stride1 > kTileKeys) return false;
    if (p.initBlocks < 0 || p.localBlocks < 0) return false;
    return int64_t(p.initBlocks) + p.localBlocks + 1 <= p.topkTotal;
}

Shape shapeOf(const SparseSelectParams& p) {
    Shape s{};
    s.heads = p.heads, s.kvHeads = p.kvHeads, s.group = p.heads / p.kvHeads;
    s.blockSize = p.blockSize, s.initBlocks = p.initBlocks, s.localBlocks = p.localBlocks;
    s.topkTotal = p.topkTotal;
    s.kernel1 = p.kernel1, s.stride1 = p.stride1, s.kernel2 = p.kernel2, s.stride2 = p.stride2;
    s.per = p.blockSize / p.stride1;
    s.scaleLog2 = static_cast<float>(kLog2e / std::sqrt(double(p.dim)));
    return s;
}

int64_t hostVisible(int64_t pos, int kernel, int stride) {
    const int64_t n = pos + 1;
    return n >= kernel ? (n - kernel) / stride + 1 : 0;
}

size_t alignUp(size_t v) {
    return (v + 255) & ~size_t(255);
}

// Workspace of a slice: pooled keys [slice][kvHeads][nbStride], partial lse pairs, then the
// split top-k's candidates.
struct Layout {
    int64_t nbStride = 0;
    int topkTotal = 0;
    size_t keysPerToken = 0, lsePerToken = 0;
    size_t lseOffset(int64_t slice) const { return alignUp(size_t(slice) * keysPerToken); }
    size_t splitOffset(int64_t slice) const {
        return lseOffset(slice) + alignUp(size_t(slice + kLseSpare) * lsePerToken);
    }
    size_t splitSlots() const { return size_t(kSplitMaxRows) * kMaxTopkSegments; }
    size_t bytes(int64_t slice) const {
        return splitOffset(slice) + splitSlots() * (size_t(topkTotal) * 8 + sizeof(int));
    }
    TopkSplit split(char* workspace, int64_t slice) const {
        char* at = workspace + splitOffset(slice);
        const size_t listBytes = splitSlots() * size_t(topkTotal) * 4;
        TopkSplit t;
        t.ids = reinterpret_cast<int32_t*>(at);
        t.keys = reinterpret_cast<uint32_t*>(at + listBytes);
        t.counts = reinterpret_cast<int*>(at + 2 * listBytes);
        return t;
    }
};

Layout layoutFor(const SparseSelectParams& p, int64_t lastPos) {
    Layout l;
    l.nbStride = lastPos / p.blockSize + 1;
    l.topkTotal = p.topkTotal;
    l.keysPerToken = size_t(p.kvHeads) * size_t(l.nbStride) * sizeof(uint32_t);
    l.lsePerToken = size_t(p.heads) * sizeof(float2);
    return l;
}

int64_t divUp(int64_t a, int64_t b) {
    return (a + b - 1) / b;
}

// Splits the key range over several CTAs when the queries alone give too few of them.
struct Splits {
    int count = 1, tilesPer = 1;
};

Splits splitKeys(int64_t tiles, int64_t want, int64_t cap) {
    Splits sp;
    if (tiles <= 0) return sp;
    const int64_t n = std::max<int64_t>(1, std::min({want, divUp(tiles, kMinTilesPerSplit), cap}));
    sp.tilesPer = static_cast<int>(divUp(tiles, n));
    sp.count = static_cast<int>(divUp(tiles, sp.tilesPer));
    return sp;
}

struct SliceArgs {
    const bf16* q;
    int64_t qRowStride, tokens;
    Position startPos;
    int64_t lastPos; // of the slice, or the largest the graph of a decode step may see
    bool fixedShape; // a decode step: the kernels read the position and split by themselves
    const bf16 *k1, *k2;
    int64_t k1HeadStride, k2HeadStride;
    int32_t* blocks;
    uint32_t* keys;
    float2* partial;
    TopkSplit split; // lists only; launchTopk picks the segments
    int64_t nbStride;
    L2Range next; // a decode step's: see launchSparseSelectStep
};

// The top-k of a slice of few rows (a decode step): split over segments, or one wide CTA per
// row where rows are short; the launches' error, or nothing where neither applies.
std::optional<cudaError_t> launchFewRowsTopk(const Shape& s, const SliceArgs& a,
                                             cudaStream_t stream) {
    const int64_t rows = a.tokens * s.kvHeads;
    if (!a.keys || !a.split.ids || rows > kSplitMaxRows) return std::nullopt;
    if (a.nbStride <= kWideRowBlocks)
        return launchDependent(selectTopkKernel<kMergeThreads>, static_cast<unsigned>(rows),
                               kMergeThreads, size_t(a.nbStride) * sizeof(uint32_t), stream, s,
                               a.tokens, a.startPos, a.keys, a.nbStride, true, a.blocks);
    TopkSplit sp = a.split;
    sp.segments = static_cast<int>(
        std::clamp<int64_t>(divUp(a.nbStride, kSegmentBlocks), 1, kMaxTopkSegments));
    sp.segmentBlocks = static_cast<int>(divUp(a.nbStride, sp.segments));
    const size_t mergeBytes = size_t(sp.segments) * s.topkTotal * 8;
    const size_t segmentBytes = size_t(sp.segmentBlocks) * sizeof(uint32_t);
    // The one-CTA kernel serves shapes whose lists outgrow default-sized shared memory.
    if (mergeBytes > 40 * 1024 || segmentBytes > 40 * 1024) return std::nullopt;
    const cudaError_t e = launchDependent(
        selectTopkPartialKernel, dim3(sp.segments, static_cast<unsigned>(rows)), kPartialThreads,
        segmentBytes, stream, s, a.startPos, a.keys, a.nbStride, sp);
    if (e != cudaSuccess) return e;
    return launchDependent(selectTopkMergeKernel, static_cast<unsigned>(rows), kMergeThreads,
                           mergeBytes, stream, s, a.startPos, sp, a.blocks);
}

cudaError_t launchTopk(const Shape& s, const SliceArgs& a, cudaStream_t stream) {
    if (const std::optional<cudaError_t> few = launchFewRowsTopk(s, a, stream)) return *few;
    const size_t rowBytes = size_t(a.nbStride) * sizeof(uint32_t);
    int device = 0, optin = 0;
    cudaError_t e = cudaGetDevice(&device);
    if (e == cudaSuccess)
        e = cudaDeviceGetAttribute(&optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, device);
    if (e != cudaSuccess) return e;
    // Keep the row in shared memory when it fits next to the kernel's own few KiB.
    const bool cache = a.keys && rowBytes + 4096 <= size_t(optin);
    const size_t dyn = cache ? rowBytes : 0;
    // The opt-in covers static plus dynamic shared memory: with the kernel's own few KiB, a
    // row just under 48 KiB already needs it.
    if (dyn > 40 * 1024) {
        e = cudaFuncSetAttribute(selectTopkKernel<kThreads>,
                                 cudaFuncAttributeMaxDynamicSharedMemorySize,
                                 static_cast<int>(dyn));
        if (e != cudaSuccess) return e;
    }
    const int64_t rows = a.tokens * s.kvHeads;
    if (rows > 0x7fffffff) return cudaErrorInvalidValue;
    return launchDependent(selectTopkKernel<kThreads>, static_cast<unsigned>(rows), kThreads, dyn,
                           stream, s, a.tokens, a.startPos, a.keys, a.nbStride, cache, a.blocks);
}

bool aligned16(const void* p) {
    return (reinterpret_cast<uintptr_t>(p) & 15) == 0;
}

// A decode step's scoring by sparse_select_step.cuh, for the shapes it serves.
bool stepKernelsServe(const Shape& s, int dim, const SliceArgs& a) {
    return a.fixedShape && a.tokens == 1 && dim % 32 == 0 && s.per <= kSliceKeys &&
           aligned16(a.q) && int64_t(s.topkTotal) * s.blockSize + 1 >= s.kernel2;
}

// CTAs per kv group for `slices` slices at most: every warp at least kMinSlicesPerWarp of them,
// about kTargetCtas in all.
unsigned stepCtas(const Shape& s, int64_t slices, int64_t cap) {
    const int64_t want = divUp(slices, kWarps * kMinSlicesPerWarp);
    return static_cast<unsigned>(
        std::clamp<int64_t>(want, 1, std::min<int64_t>(cap, std::max(1, kTargetCtas / s.kvHeads))));
}

template <int D, int NT>
cudaError_t launchStepScoring(const Shape& s, const SliceArgs& a, cudaStream_t stream) {
    const int64_t slices1 = divUp((a.lastPos / s.blockSize + 1) * s.per, kSliceKeys);
    const int64_t slices2 = divUp(hostVisible(a.lastPos, s.kernel2, s.stride2), kSliceKeys);
    const unsigned ctas2 = stepCtas(s, slices2, 1 + kLseSpare);
    cudaError_t e =
        launchDependent(stageOneLseStepKernel<D, NT>, dim3(ctas2, s.kvHeads), kThreads, 0, stream,
                        s, a.q, a.startPos.device, a.k2, a.k2HeadStride, a.partial, a.next);
    if (e != cudaSuccess) return e;
    e = launchDependent(stageOneScoreStepKernel<D, NT>,
                        dim3(stepCtas(s, slices1, 65535), s.kvHeads), kThreads, 0, stream, s, a.q,
                        a.startPos.device, a.k1, a.k1HeadStride, a.partial, static_cast<int>(ctas2),
                        a.keys, a.nbStride);
    if (e != cudaSuccess) return e;
    return launchTopk(s, a, stream);
}

template <int D, int NT>
cudaError_t launchSlice(const Shape& s, const SliceArgs& a, cudaStream_t stream) {
    if constexpr (D % 32 == 0)
        if (stepKernelsServe(s, D, a)) return launchStepScoring<D, NT>(s, a, stream);
    const int64_t lastPos = a.lastPos;
    // A decode step (or any slice of at most one query per warp) scores one query per warp:
    // with two, the warp holding the step's query would also run the mma of an empty one.
    const bool pairs = a.tokens > kWarps;
    const int64_t qTiles = divUp(a.tokens, kWarps * (pairs ? kQueriesPerWarp : 1));
    const int64_t qTiles2 = divUp(a.tokens, kWarps * kLseQueriesPerWarp);
    // Both become grid.x, whichever of the two kernels packs fewer queries per warp.
    if (std::max(qTiles, qTiles2) > 0x7fffffff) return cudaErrorInvalidValue;
    auto wantFor = [&](int64_t tiles) {
        const int64_t ctas = tiles * s.kvHeads;
        return ctas >= kTargetCtas ? int64_t(1) : divUp(kTargetCtas, ctas);
    };
    const int64_t tiles1 = divUp((lastPos / s.blockSize + 1) * s.per, kTileKeys);
    const int64_t tiles2 = divUp(hostVisible(lastPos, s.kernel2, s.stride2), kTileKeys);
    const Splits sp1 = splitKeys(tiles1, wantFor(qTiles), 65535);
    const Splits sp2 = splitKeys(tiles2, wantFor(qTiles2), 1 + kLseSpare / a.tokens);

    const dim3 grid2(static_cast<unsigned>(qTiles2), s.kvHeads, sp2.count);
    cudaError_t e =
        launchDependent(stageOneLseKernel<D, NT, kLseQueriesPerWarp>, grid2, kThreads, 0, stream, s,
                        a.q, a.qRowStride, a.tokens, a.startPos, a.k1, a.k1HeadStride, a.k2,
                        a.k2HeadStride, a.fixedShape ? 0 : sp2.tilesPer, a.partial);
    if (e != cudaSuccess) return e;
    const dim3 grid1(static_cast<unsigned>(qTiles), s.kvHeads, sp1.count);
    const int fixed1 = a.fixedShape ? 0 : sp1.tilesPer;
    e = launchDependent(pairs ? stageOneScoreKernel<D, NT, kQueriesPerWarp>
                              : stageOneScoreKernel<D, NT, 1>,
                        grid1, kThreads, 0, stream, s, a.q, a.qRowStride, a.tokens, a.startPos,
                        a.k1, a.k1HeadStride, a.partial, sp2.count, fixed1, a.keys, a.nbStride);
    if (e != cudaSuccess) return e;
    return launchTopk(s, a, stream);
}

using SliceLauncher = cudaError_t (*)(const Shape&, const SliceArgs&, cudaStream_t);

SliceLauncher sliceLauncher(int dim, int group) {
    const bool g16 = group == 16;
    switch (dim) {
    case 16:
        return g16 ? launchSlice<16, 2> : launchSlice<16, 1>;
    case 64:
        return g16 ? launchSlice<64, 2> : launchSlice<64, 1>;
    case 128:
        return g16 ? launchSlice<128, 2> : launchSlice<128, 1>;
    default:
        return nullptr;
    }
}

SliceArgs sliceArgs(const bf16* q, int64_t qRowStride, int64_t tokens, Position start,
                    int64_t lastPos, bool fixedShape, const bf16* k1, int64_t k1HeadStride,
                    const bf16* k2, int64_t k2HeadStride, int32_t* blocks, int blockSize) {
    SliceArgs a{};
    a.q = q, a.qRowStride = qRowStride, a.tokens = tokens;
    a.startPos = start, a.lastPos = lastPos, a.fixedShape = fixedShape;
    a.k1 = k1, a.k2 = k2, a.k1HeadStride = k1HeadStride, a.k2HeadStride = k2HeadStride;
    a.blocks = blocks;
    a.nbStride = lastPos / blockSize + 1;
    return a;
}

bool scoringInputsValid(const SliceArgs& a, const void* workspace) {
    return a.q && a.k1 && a.k2 && workspace && aligned16(a.k1) && aligned16(a.k2) &&
           aligned16(workspace) && a.k1HeadStride % 8 == 0 && a.k2HeadStride % 8 == 0;
}

} // namespace

size_t sparseSelectWorkspace(const SparseSelectParams& p, int64_t tokens, int64_t maxPosition) {
    if (!supported(p) || tokens <= 0 || maxPosition < 0) return 0;
    if (maxPosition / p.blockSize + 1 <= p.topkTotal) return 0; // every query is dense
    const Layout l = layoutFor(p, maxPosition);
    const int64_t fit = std::max<int64_t>(1, int64_t(kSliceBytes / l.keysPerToken));
    return l.bytes(std::min(tokens, fit));
}

cudaError_t launchSparseSelect(const SparseSelectParams& p, const bf16* q, int64_t qRowStride,
                               int64_t tokens, int64_t startPosition, const bf16* k1,
                               int64_t k1HeadStride, const bf16* k2, int64_t k2HeadStride,
                               int32_t* blocks, void* workspace, size_t workspaceBytes,
                               cudaStream_t stream) {
    if (!supported(p) || tokens < 0 || startPosition < 0 || qRowStride < 0)
        return cudaErrorInvalidValue;
    if (tokens == 0) return cudaSuccess;
    if (!blocks) return cudaErrorInvalidValue;
    const int64_t lastPos = startPosition + tokens - 1;
    const SliceArgs a = sliceArgs(q, qRowStride, tokens, startPosition, lastPos, false, k1,
                                  k1HeadStride, k2, k2HeadStride, blocks, p.blockSize);
    if (a.nbStride > kMaxBlocks) return cudaErrorInvalidValue;
    const Shape s = shapeOf(p);
    if (a.nbStride <= p.topkTotal) return launchTopk(s, a, stream); // every query is dense
    if (!scoringInputsValid(a, workspace)) return cudaErrorInvalidValue;
    const Layout l = layoutFor(p, lastPos);
    if (workspaceBytes < l.bytes(1)) return cudaErrorInvalidValue;
    int64_t slice = int64_t((workspaceBytes - l.bytes(0)) / (l.keysPerToken + l.lsePerToken));
    slice = std::clamp<int64_t>(slice, 1, tokens);
    while (slice > 1 && l.bytes(slice) > workspaceBytes) --slice;
    const SliceLauncher launch = sliceLauncher(p.dim, p.heads / p.kvHeads);
    char* ws = static_cast<char*>(workspace);
    for (int64_t t0 = 0; t0 < tokens; t0 += slice) {
        SliceArgs sa = a;
        sa.tokens = std::min(slice, tokens - t0);
        sa.startPos = startPosition + t0;
        sa.lastPos = sa.startPos.value + sa.tokens - 1;
        sa.q = q + t0 * qRowStride;
        sa.blocks = blocks + t0 * p.kvHeads * p.topkTotal;
        sa.keys = reinterpret_cast<uint32_t*>(ws);
        sa.partial = reinterpret_cast<float2*>(ws + l.lseOffset(slice));
        sa.split = l.split(ws, slice);
        const cudaError_t e = launch(s, sa, stream);
        if (e != cudaSuccess) return e;
    }
    return cudaGetLastError();
}

cudaError_t launchSparseSelectStep(const SparseSelectParams& p, const bf16* q,
                                   const int64_t* position, int64_t maxPosition, const bf16* k1,
                                   int64_t k1HeadStride, const bf16* k2, int64_t k2HeadStride,
                                   int32_t* blocks, void* workspace, size_t workspaceBytes,
                                   cudaStream_t stream, L2Range next) {
    if (!supported(p) || !position || maxPosition < 0 || !blocks) return cudaErrorInvalidValue;
    SliceArgs a = sliceArgs(q, 0, 1, Position::inDevice(position), maxPosition, true, k1,
                            k1HeadStride, k2, k2HeadStride, blocks, p.blockSize);
    if (a.nbStride > kMaxBlocks) return cudaErrorInvalidValue;
    const Shape s = shapeOf(p);
    if (a.nbStride <= p.topkTotal) return launchTopk(s, a, stream); // dense at every position
    if (!scoringInputsValid(a, workspace)) return cudaErrorInvalidValue;
    const Layout l = layoutFor(p, maxPosition);
    if (workspaceBytes < l.bytes(1)) return cudaErrorInvalidValue;
    char* ws = static_cast<char*>(workspace);
    a.keys = reinterpret_cast<uint32_t*>(ws);
    a.partial = reinterpret_cast<float2*>(ws + l.lseOffset(1));
    a.split = l.split(ws, 1);
    a.next = prefetchable(next);
    const cudaError_t e = sliceLauncher(p.dim, p.heads / p.kvHeads)(s, a, stream);
    return e != cudaSuccess ? e : cudaGetLastError();
}

} // namespace folio::kernels
