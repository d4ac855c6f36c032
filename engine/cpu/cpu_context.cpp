#include "cpu_context.h"

#include <algorithm>
#include <cmath>
#include <new>

namespace sala::cpu {

struct CpuContext::Scratch {
    std::vector<float> h, x, q, k, v, gate, attn, mix, mlpGate, mlpUp;

    uint64_t bytes() const {
        size_t n = 0;
        for (const auto* b : {&h, &x, &q, &k, &v, &gate, &attn, &mix, &mlpGate, &mlpUp})
            n += b->capacity();
        return n * sizeof(float);
    }
};

CpuContext::CpuContext(CpuBackend& backend) : backend_(backend), config_(backend.model().config) {
    reset();
}

void CpuContext::reset() {
    const int layers = config_.numLayers;
    sparse_.assign(layers, {});
    linear_.assign(layers, {});
    const int64_t stateSize =
        int64_t(config_.lightningHeads) * config_.lightningHeadDim * config_.lightningHeadDim;
    for (int l = 0; l < layers; ++l) {
        if (config_.layerKinds[l] == LayerKind::Sparse)
            sparse_[l].reset(config_.numKvHeads);
        else
            linear_[l].assign(static_cast<size_t>(stateSize), 0.0f);
    }
    tokens_.clear();
    checkpoints_.clear();
    broken_ = false;
}

Status CpuContext::forward(std::span<const int> tokens, const ForwardOptions& options,
                           ForwardOutput& output) {
    SALA_TRY(checkAppend(tokens, config_.vocabSize, broken_));
    output = {};
    try {
        return forwardLayers(tokens, options, output);
    } catch (const std::bad_alloc&) {
        broken_ = true;
        return makeError(ErrorCode::OutOfMemory, "out of memory while processing " +
                                                     std::to_string(tokens.size()) + " tokens");
    }
}

Status CpuContext::forwardLayers(std::span<const int> tokens, const ForwardOptions& options,
                                 ForwardOutput& output) {
    const ModelWeights& w = backend_.model().weights;
    const int64_t T = static_cast<int64_t>(tokens.size());
    const int64_t H = config_.hiddenSize;
    const int64_t start = position();
    const float scale = static_cast<float>(config_.residualScale());
    Scratch s;
    s.h.resize(static_cast<size_t>(T * H));
    s.x.resize(static_cast<size_t>(T * H));
    s.mix.resize(static_cast<size_t>(T * H));
    for (int64_t t = 0; t < T; ++t) {
        float* row = s.h.data() + t * H;
        decodeRow(w.embed, tokens[t], row);
        for (int64_t i = 0; i < H; ++i) row[i] *= static_cast<float>(config_.scaleEmb);
    }
    const int64_t rows = options.allLogits ? T : 1;
    for (int l = 0; l < config_.numLayers; ++l) {
        const LayerNorms& n = backend_.norms(l);
        // Only the last row's logits wanted: the last layer's other rows need only leave their
        // keys and values (or fold into the linear state); nothing reads their outputs.
        const int64_t live = l + 1 == config_.numLayers ? rows : T;
        rmsNorm(s.h.data(), T, H, n.input.data(), config_.rmsNormEps, s.x.data());
        const float* mix = s.mix.data();
        if (config_.layerKinds[l] == LayerKind::Sparse) {
            sparseKeysValues(l, s, start, T);
            sparseOutputs(l, s, start, T - live, T, s.mix.data(),
                          options.selections ? &output : nullptr);
        } else {
            lightningMixer(l, s, start, T, s.mix.data());
            mix += (T - live) * H;
        }
        float* h = s.h.data() + (T - live) * H;
        addScaled(h, mix, live * H, scale);
        rmsNorm(h, live, H, n.post.data(), config_.rmsNormEps, s.x.data());
        mlp(l, s, live, s.mix.data());
        addScaled(h, s.mix.data(), live * H, scale);
    }
    const float* last = s.h.data() + (T - rows) * H;
    std::vector<float> normed(static_cast<size_t>(rows * H));
    rmsNorm(last, rows, H, backend_.finalNorm().data(), config_.rmsNormEps, normed.data());
    if (options.lastHidden) output.hiddenLast.assign(normed.end() - H, normed.end());
    const float inv = static_cast<float>(1.0 / config_.logitDivisor());
    for (float& v : normed) v *= inv;
    output.logits.resize(static_cast<size_t>(rows * config_.vocabSize));
    matmul(backend_.pool(), normed.data(), rows, w.lmHead, output.logits.data());
    tokens_.insert(tokens_.end(), tokens.begin(), tokens.end());
    workspaceHighWater_ = std::max<uint64_t>(workspaceHighWater_, s.bytes());
    return {};
}

void CpuContext::projectQkv(const LayerWeights& lw, Scratch& s, int64_t count, int64_t qWidth,
                            int64_t kvWidth) {
    s.q.resize(static_cast<size_t>(count * qWidth));
    s.attn.resize(static_cast<size_t>(count * qWidth));
    matmul(backend_.pool(), s.x.data(), count, lw.q, s.q.data());
    projectKeysValues(lw, s, count, kvWidth);
}

void CpuContext::projectKeysValues(const LayerWeights& lw, Scratch& s, int64_t count,
                                   int64_t kvWidth) {
    ThreadPool& pool = backend_.pool();
    s.k.resize(static_cast<size_t>(count * kvWidth));
    s.v.resize(static_cast<size_t>(count * kvWidth));
    matmul(pool, s.x.data(), count, lw.k, s.k.data());
    matmul(pool, s.x.data(), count, lw.v, s.v.data());
}

void CpuContext::sparseKeysValues(int layer, Scratch& s, int64_t start, int64_t count) {
    const LayerWeights& lw = backend_.model().weights.layers[layer];
    const SparseParams& p = backend_.sparseParams();
    const int64_t KV = config_.kvWidth();
    projectKeysValues(lw, s, count, KV);
    if (config_.attnUseRope)
        for (int64_t t = 0; t < count; ++t)
            for (int g = 0; g < config_.numKvHeads; ++g)
                backend_.sparseRope().apply(s.k.data() + t * KV + int64_t(g) * p.dim, start + t);
    sparse_[layer].append(p, s.k.data(), s.v.data(), count);
}

void CpuContext::sparseOutputs(int layer, Scratch& s, int64_t start, int64_t from, int64_t count,
                               float* out, ForwardOutput* selections) {
    const LayerWeights& lw = backend_.model().weights.layers[layer];
    const SparseParams& p = backend_.sparseParams();
    const int64_t A = config_.attnWidth();
    const int64_t n = count - from;
    const float* x = s.x.data() + from * config_.hiddenSize;
    ThreadPool& pool = backend_.pool();
    s.q.resize(static_cast<size_t>(n * A));
    s.attn.resize(static_cast<size_t>(n * A));
    matmul(pool, x, n, lw.q, s.q.data());
    if (config_.attnUseRope)
        for (int64_t t = 0; t < n; ++t)
            for (int h = 0; h < config_.numHeads; ++h)
                backend_.sparseRope().apply(s.q.data() + t * A + int64_t(h) * p.dim,
                                            start + from + t);
    std::vector<std::vector<int>> chosen;
    sparseAttention(pool, p, sparse_[layer], s.q.data(), start + from, n, s.attn.data(),
                    selections ? &chosen : nullptr);
    if (selections) selections->selections[layer] = std::move(chosen);
    if (!lw.outGate.empty()) {
        s.gate.resize(static_cast<size_t>(n * A));
        matmul(pool, x, n, lw.outGate, s.gate.data());
        mulSigmoid(s.attn.data(), s.gate.data(), n * A);
    }
    matmul(pool, s.attn.data(), n, lw.o, out);
}

void CpuContext::lightningMixer(int layer, Scratch& s, int64_t start, int64_t count, float* out) {
    const LayerWeights& lw = backend_.model().weights.layers[layer];
    const LayerNorms& n = backend_.norms(layer);
    const int heads = config_.lightningHeads;
    const int d = config_.lightningHeadDim;
    const int64_t W = config_.lightningWidth();
    ThreadPool& pool = backend_.pool();
    projectQkv(lw, s, count, W, W);
    pool.parallelFor(count, [&](int64_t begin, int64_t end) {
        for (int64_t t = begin; t < end; ++t) {
            for (int h = 0; h < heads; ++h) {
                float* qh = s.q.data() + t * W + int64_t(h) * d;
                float* kh = s.k.data() + t * W + int64_t(h) * d;
                if (config_.qkNorm) {
                    rmsNorm(qh, 1, d, n.q.data(), config_.rmsNormEps, qh);
                    rmsNorm(kh, 1, d, n.k.data(), config_.rmsNormEps, kh);
                }
                if (config_.lightningUseRope) {
                    backend_.lightningRope().apply(qh, start + t);
                    backend_.lightningRope().apply(kh, start + t);
                }
            }
        }
    });
    LightningArgs args{s.q.data(),
                       s.k.data(),
                       s.v.data(),
                       count,
                       heads,
                       d,
                       backend_.slopes().data(),
                       linear_[layer].data(),
                       s.attn.data()};
    if (count == 1)
        lightningRecurrent(pool, args);
    else
        lightningChunked(pool, args);
    if (config_.useOutputNorm)
        rmsNorm(s.attn.data(), count, W, n.o.data(), config_.rmsNormEps, s.attn.data());
    if (!lw.outGate.empty()) {
        s.gate.resize(static_cast<size_t>(count * W));
        matmul(pool, s.x.data(), count, lw.outGate, s.gate.data());
        mulSigmoid(s.attn.data(), s.gate.data(), count * W);
    }
    matmul(pool, s.attn.data(), count, lw.o, out);
}

void CpuContext::mlp(int layer, Scratch& s, int64_t count, float* out) {
    const LayerWeights& lw = backend_.model().weights.layers[layer];
    const int64_t I = config_.intermediateSize;
    ThreadPool& pool = backend_.pool();
    s.mlpGate.resize(static_cast<size_t>(count * I));
    s.mlpUp.resize(static_cast<size_t>(count * I));
    matmul(pool, s.x.data(), count, lw.mlpGate, s.mlpGate.data());
    matmul(pool, s.x.data(), count, lw.mlpUp, s.mlpUp.data());
    siluMul(s.mlpGate.data(), s.mlpUp.data(), count * I);
    matmul(pool, s.mlpGate.data(), count, lw.mlpDown, out);
}

CheckpointId CpuContext::checkpoint() {
    Checkpoint c;
    c.position = position();
    c.linearStates = linear_;
    const CheckpointId id = nextCheckpoint_++;
    checkpoints_.emplace(id, std::move(c));
    return id;
}

void CpuContext::truncateTo(int64_t position) {
    for (int l = 0; l < config_.numLayers; ++l)
        if (config_.layerKinds[l] == LayerKind::Sparse)
            sparse_[l].truncate(backend_.sparseParams(), position);
    tokens_.resize(static_cast<size_t>(position));
}

Status CpuContext::rollback(CheckpointId id) {
    auto target = rollbackTarget(checkpoints_, id);
    if (!target) return target.error();
    const Checkpoint& c = (*target)->second;
    truncateTo(c.position);
    linear_ = c.linearStates;
    broken_ = false;
    dropCheckpointsPastPosition(checkpoints_);
    return {};
}

void CpuContext::dropCheckpoint(CheckpointId id) {
    checkpoints_.erase(id);
}

MemoryReport CpuContext::memory() const {
    MemoryReport m;
    m.weights = backend_.model().store.totalBytes();
    for (const SparseCache& c : sparse_) {
        m.kvCache += c.kvBytes();
        m.compressedKeys += c.compressedBytes();
    }
    for (const auto& s : linear_) m.linearState += s.size() * sizeof(float);
    for (const auto& [id, c] : checkpoints_)
        for (const auto& s : c.linearStates) m.checkpoints += s.size() * sizeof(float);
    m.workspace = workspaceHighWater_;
    return m;
}

} // namespace sala::cpu
