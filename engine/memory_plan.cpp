#include "memory_plan.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>

namespace sala {

uint64_t contextBytesPerToken(const ModelConfig& c) {
    const uint64_t kv = uint64_t(c.numKvHeads) * c.headDim * 2 /*bf16*/;
    // K and V, plus the level-1 and level-2 compressed keys (one entry per stride).
    const double perLayer =
        2.0 * kv + kv / double(c.sparse.kernelStride) + kv / double(c.sparse.kernelStride2());
    return static_cast<uint64_t>(std::ceil(perLayer * c.numSparseLayers()));
}

uint64_t chunkWorkspaceBytes(const ModelConfig& c, int64_t chunk) {
    const uint64_t T = uint64_t(std::max<int64_t>(chunk, 1));
    const uint64_t widest =
        std::max<uint64_t>({uint64_t(c.attnWidth()) * 2 + uint64_t(c.kvWidth()) * 2,
                            uint64_t(c.lightningWidth()) * 4, uint64_t(c.intermediateSize) * 2});
    const uint64_t attn = std::max(c.attnWidth(), c.lightningWidth());
    uint64_t bytes = 0;
    bytes += T * c.hiddenSize * 4;                         // residual stream (f32)
    bytes += T * c.hiddenSize * 2;                         // normed input (bf16)
    bytes += T * widest * 2;                               // stacked projection output
    bytes += T * attn * 2;                                 // attention output
    bytes += T * c.intermediateSize * 2;                   // MLP activation
    bytes += T * c.numKvHeads * c.sparse.topkTotal() * 4;  // chosen blocks
    bytes += uint64_t(c.vocabSize) * 4 + c.hiddenSize * 4; // last-token logits and hidden
    // Stage-1 block scores of one chunk: [tokens, kv heads, blocks] in f32, blocks bounded by
    // the per-chunk tiling of the selection kernel.
    bytes += T * c.numKvHeads * 4096ull * 4 / 8;
    return bytes;
}

MemoryPlan planMemory(const ModelConfig& c, uint64_t weightBytes, uint64_t budget,
                      const MemoryPlanOptions& o) {
    MemoryPlan p;
    p.budget = budget;
    p.weights = weightBytes;
    p.linearState = uint64_t(c.numLightningLayers()) * c.lightningHeads * c.lightningHeadDim *
                    c.lightningHeadDim * 4;
    p.checkpointState = p.linearState;
    p.workspace = chunkWorkspaceBytes(c, o.prefillChunk) + o.gemmWorkspace;
    p.bytesPerToken = contextBytesPerToken(c);
    const uint64_t fixed = p.weights + p.linearState + p.checkpointState + p.workspace + o.reserve;
    p.maxTokens = budget > fixed && p.bytesPerToken > 0
                      ? static_cast<int64_t>((budget - fixed) / p.bytesPerToken)
                      : 0;
    return p;
}

Result<uint64_t> parseByteSize(const std::string& text) {
    double value = 0;
    char unit[8] = {0};
    int consumed = 0;
    const int n = std::sscanf(text.c_str(), "%lf%7s%n", &value, unit, &consumed);
    auto bad = [&] {
        return makeError(ErrorCode::InvalidArgument,
                         "\"" + text + "\" is not a size (examples: 32G, 512M, 1073741824)");
    };
    if (n < 1 || value < 0 || !std::isfinite(value)) return bad();
    std::string u(unit);
    std::transform(u.begin(), u.end(), u.begin(),
                   [](unsigned char ch) { return std::toupper(ch); });
    if (u.size() > 1 && (u.substr(1) == "B" || u.substr(1) == "IB")) u = u.substr(0, 1);
    double scale = 1;
    if (u.empty() || u == "B")
        scale = 1;
    else if (u == "K")
        scale = 1024.0;
    else if (u == "M")
        scale = 1024.0 * 1024;
    else if (u == "G")
        scale = 1024.0 * 1024 * 1024;
    else if (u == "T")
        scale = 1024.0 * 1024 * 1024 * 1024;
    else
        return bad();
    return static_cast<uint64_t>(value * scale);
}

std::string formatBytes(uint64_t bytes) {
    char buf[32];
    const double gib = bytes / (1024.0 * 1024 * 1024);
    if (gib >= 1)
        std::snprintf(buf, sizeof buf, "%.2f GiB", gib);
    else
        std::snprintf(buf, sizeof buf, "%.1f MiB", bytes / (1024.0 * 1024));
    return buf;
}

} // namespace sala
