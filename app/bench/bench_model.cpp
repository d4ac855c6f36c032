#include "bench_model.h"

#include <algorithm>

namespace folio::bench {

double layerMatrixElements(const sala::ModelConfig& c) {
    const double H = c.hiddenSize, I = c.intermediateSize;
    double total = 0;
    for (sala::LayerKind kind : c.layerKinds) {
        const bool sparse = kind == sala::LayerKind::Sparse;
        const double q = sparse ? c.attnWidth() : c.lightningWidth();
        const double kv = sparse ? c.kvWidth() : c.lightningWidth();
        const double gate = sparse ? (c.attnUseOutputGate ? q : 0) : (c.useOutputGate ? q : 0);
        total += H * (q + 2 * kv + gate) + q * H + 3 * H * I;
    }
    return total;
}

namespace {

// Sum over p in [0, n) of min(p + 1, cap).
double sumCapped(double n, double cap) {
    if (n <= cap) return n * (n + 1) / 2;
    return cap * (cap + 1) / 2 + (n - cap) * cap;
}

} // namespace

double prefillFlops(const sala::ModelConfig& c, int64_t tokens) {
    const double n = double(tokens);
    double flops = 2.0 * layerMatrixElements(c) * n + 2.0 * c.vocabSize * c.hiddenSize;
    const double d = c.headDim, heads = c.numHeads;
    const double window = double(c.sparse.topkTotal()) * c.sparse.blockSize;
    const double s1 = c.sparse.kernelStride, s2 = c.sparse.kernelStride2();
    // Sparse layers: q.K and P.V over at most topkTotal blocks; stage 1 scores every visible
    // level-1 and level-2 compressed key for every head.
    const double stage2 = 4.0 * d * heads * sumCapped(n, window);
    const double stage1 = 2.0 * d * heads * (n * n / 2) * (1 / s1 + 1 / s2);
    // Lightning layers, chunked form with 64-token chunks: intra-chunk (half of 64 keys on
    // average, q.k and p.v) plus the state read and update.
    const double ld = c.lightningHeadDim, lh = c.lightningHeads;
    const double lightning = lh * n * (4.0 * ld * 32 + 4.0 * ld * ld);
    flops += c.numSparseLayers() * (stage1 + stage2) + c.numLightningLayers() * lightning;
    return flops;
}

double decodeBytes(const sala::ModelConfig& c, int64_t context) {
    const double n = double(context);
    double bytes =
        2.0 * layerMatrixElements(c) + 2.0 * c.vocabSize * c.hiddenSize + 2.0 * c.hiddenSize;
    const double kv = double(c.numKvHeads) * c.headDim * 2;
    const double window = double(c.sparse.topkTotal()) * c.sparse.blockSize;
    const double perSparse = 2 * kv * std::min(n, window) +
                             kv * (n / c.sparse.kernelStride + n / c.sparse.kernelStride2());
    const double perLightning =
        2.0 * 4 * c.lightningHeads * double(c.lightningHeadDim) * c.lightningHeadDim;
    bytes += c.numSparseLayers() * perSparse + c.numLightningLayers() * perLightning;
    return bytes;
}

} // namespace folio::bench
