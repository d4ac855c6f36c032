#include "kernel_common.cuh"
#include "sampling.cuh"
#include "sampling_finish.cuh"
#include "sampling_kernels.cuh"

namespace folio::kernels {

using namespace sampling_detail;

namespace {

// Workspace layout, each part aligned to 256 bytes.

struct Layout {
    size_t clean, bins, partials, binCount, binAll, binKept, total;
    int padded, prepareBlocks, histBlocks;
};

size_t alignUp(size_t v) {
    return (v + 255) / 256 * 256;
}

Layout layoutFor(int vocab) {
    Layout l{};
    l.padded = (vocab + 7) / 8 * 8;
    l.prepareBlocks = static_cast<int>(ceilDiv(l.padded, kPrepareTile));
    l.histBlocks = static_cast<int>(ceilDiv(l.padded, kHistTile));
    size_t at = 0;
    const auto take = [&](size_t bytes) {
        const size_t here = at;
        at = alignUp(at + bytes);
        return here;
    };
    l.clean = take(sizeof(float) * l.padded);
    l.bins = take(sizeof(uint16_t) * l.padded);
    l.partials = take(sizeof(Best) * l.prepareBlocks);
    l.binCount = take(sizeof(uint32_t) * kBins);
    l.binAll = take(sizeof(unsigned long long) * kBins);
    l.binKept = take(sizeof(unsigned long long) * kBins);
    l.total = at;
    return l;
}

} // namespace

size_t sampleWorkspace(int vocab, int /*topK: the layout does not depend on it*/) {
    if (vocab <= 0 || vocab > kMaxVocab) return 0;
    return layoutFor(vocab).total;
}

cudaError_t launchSample(const float* logits, int vocab, const GpuSamplingParams& p,
                         const int32_t* history, int historyCount, float uniform,
                         const float* uniformDevice, int32_t* tokenOut, void* workspace,
                         size_t workspaceBytes, cudaStream_t stream) {
    if (!logits || !tokenOut || !workspace || vocab <= 0 || vocab > kMaxVocab || historyCount < 0 ||
        (historyCount > 0 && !history))
        return cudaErrorInvalidValue;
    const Layout l = layoutFor(vocab);
    if (workspaceBytes < l.total || reinterpret_cast<uintptr_t>(workspace) % 256 != 0)
        return cudaErrorInvalidValue;
    auto* ws = static_cast<unsigned char*>(workspace);
    auto* clean = reinterpret_cast<float*>(ws + l.clean);
    auto* bins = reinterpret_cast<uint16_t*>(ws + l.bins);
    auto* partials = reinterpret_cast<Best*>(ws + l.partials);
    auto* binCount = reinterpret_cast<uint32_t*>(ws + l.binCount);
    auto* binAll = reinterpret_cast<unsigned long long*>(ws + l.binAll);
    auto* binKept = reinterpret_cast<unsigned long long*>(ws + l.binKept);
    const bool greedy = !(p.temperature > 0.0f);
    const bool penalise = p.repetitionPenalty != 1.0f && historyCount > 0;
    const int binWords = greedy ? 0 : static_cast<int>((l.total - l.binCount) / 4);

    PrepareArgs pa{logits,   vocab,    l.padded,     p.repetitionPenalty,
                   penalise, history,  historyCount, clean,
                   partials, binCount, binWords};
    prepareKernel<<<l.prepareBlocks, kPrepareThreads, 0, stream>>>(pa);
    if (!greedy) {
        HistogramArgs ha{clean,  l.padded, partials, l.prepareBlocks, p.temperature,
                         p.minP, bins,     binCount, binAll,          binKept};
        histogramKernel<<<l.histBlocks, kHistThreads, 0, stream>>>(ha);
    }
    // Not a stream operation, so it is allowed while a stream is being captured.
    const cudaError_t attr = cudaFuncSetAttribute(
        finishKernel, cudaFuncAttributeMaxDynamicSharedMemorySize, sizeof(FinishShared));
    if (attr != cudaSuccess) return attr;
    FinishArgs fa{clean,   bins, l.padded, partials, l.prepareBlocks, binCount, binAll,
                  binKept, p,    greedy,   uniform,  uniformDevice,   tokenOut};
    finishKernel<<<1, kFinishThreads, sizeof(FinishShared), stream>>>(fa);
    return cudaGetLastError();
}

} // namespace folio::kernels
