#include "bench_model.h"

#include <algorithm>

namespace folio::bench {

namespace {

// The width of a layer's keys (and of its values).
double keyValueWidth(const sala::ModelConfig& c, sala::LayerKind kind) {
    return kind == sala::LayerKind::Sparse ? c.kvWidth() : c.lightningWidth();
}

} // namespace

double layerMatrixElements(const sala::ModelConfig& c, sala::LayerKind kind) {
    const double H = c.hiddenSize, I = c.intermediateSize;
    const bool sparse = kind == sala::LayerKind::Sparse;
    const double q = sparse ? c.attnWidth() : c.lightningWidth();
    const double kv = keyValueWidth(c, kind);
    const double gate = sparse ? (c.attnUseOutputGate ? q : 0) : (c.useOutputGate ? q : 0);
    return H * (q + 2 * kv + gate) + q * H + 3 * H * I;
}

double layerMatrixElements(const sala::ModelConfig& c) {
    double total = 0;
    for (sala::LayerKind kind : c.layerKinds) total += layerMatrixElements(c, kind);
    return total;
}

namespace {

// Sum over p in [0, n) of min(p + 1, cap).
double sumCapped(double n, double cap) {
    if (n <= cap) return n * (n + 1) / 2;
    return cap * (cap + 1) / 2 + (n - cap) * cap;
}

// A layer's attention work for the tokens [from, n) of an n-token prefill.
double attentionFlops(const sala::ModelConfig& c, sala::LayerKind kind, double from, double n) {
    if (kind == sala::LayerKind::Sparse) {
        const double d = c.headDim, heads = c.numHeads;
        const double window = double(c.sparse.topkTotal()) * c.sparse.blockSize;
        const double s1 = c.sparse.kernelStride, s2 = c.sparse.kernelStride2();
        // q.K and P.V over at most topkTotal blocks; stage 1 scores every visible level-1 and
        // level-2 compressed key for every head.
        const double stage2 = 4.0 * d * heads * (sumCapped(n, window) - sumCapped(from, window));
        const double stage1 = 2.0 * d * heads * ((n * n - from * from) / 2) * (1 / s1 + 1 / s2);
        return stage1 + stage2;
    }
    // Chunked form with 64-token chunks: intra-chunk (half of 64 keys on average, q.k and p.v)
    // plus the state read and update.
    const double ld = c.lightningHeadDim, lh = c.lightningHeads;
    return lh * (n - from) * (4.0 * ld * 32 + 4.0 * ld * ld);
}

} // namespace

// The work a prefill cannot skip. Only the last token needs the last layer's outputs; its other
// tokens need their keys and values there (and a Lightning layer's state update).
double prefillFlops(const sala::ModelConfig& c, int64_t tokens) {
    const double n = double(tokens);
    double flops = 2.0 * c.vocabSize * c.hiddenSize;
    const size_t layers = c.layerKinds.size();
    for (size_t l = 0; l < layers; ++l) {
        const sala::LayerKind kind = c.layerKinds[l];
        const double outputs = l + 1 == layers ? 1 : n;
        flops +=
            2.0 * layerMatrixElements(c, kind) * outputs + attentionFlops(c, kind, n - outputs, n);
        if (outputs == n) continue;
        flops += 2.0 * c.hiddenSize * 2 * keyValueWidth(c, kind) * (n - outputs);
        if (kind == sala::LayerKind::Lightning)
            flops += 2.0 * c.lightningHeads * double(c.lightningHeadDim) * c.lightningHeadDim *
                     (n - outputs);
    }
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
