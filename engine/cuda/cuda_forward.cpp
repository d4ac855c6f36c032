// The forward pass of a CUDA context: one chunk of tokens through every layer.

#include "activations.cuh"
#include "cpu/sparse_cpu.h"
#include "cuda_context.h"
#include "embedding.cuh"
#include "kv_cache.cuh"
#include "lightning_attention.cuh"
#include "norms.cuh"
#include "rope.cuh"
#include "sampling.cuh"
#include "sparse_attention.cuh"
#include "sparse_compress.cuh"
#include "sparse_select.cuh"

#include <algorithm>

namespace sala::cuda {

namespace k = folio::kernels;

namespace {

// The kernels' copy of the sparse-attention shape (same fields, kernel-side type).
k::SparseSelectParams selectParams(const ModelConfig& c) {
    const cpu::SparseParams p = cpu::sparseParamsOf(c);
    return {p.heads,     p.kvHeads, p.dim,     p.blockSize, p.initBlocks, p.localBlocks,
            p.topkTotal, p.kernel1, p.stride1, p.kernel2,   p.stride2};
}

// A layer's output projection, which a decode step's attention kernels request into L2: their
// own work leaves DRAM mostly idle, and the projection is the next thing the step reads.
k::L2Range outputWeights(const ModelConfig& c, const CudaLayer& layer) {
    const int64_t width = layer.kind == LayerKind::Sparse ? c.attnWidth() : c.lightningWidth();
    return {layer.wO, int64_t(c.hiddenSize) * width * int64_t(sizeof(bf16))};
}

int64_t widestProjection(const ModelConfig& c) {
    return std::max<int64_t>({int64_t(c.attnWidth()) * 2 + int64_t(c.kvWidth()) * 2,
                              int64_t(c.lightningWidth()) * 4, int64_t(c.intermediateSize) * 2});
}

} // namespace

Status CudaContext::ensureWorkspace(int64_t tokens, int64_t logitRows) {
    const ModelConfig& c = config_;
    const int64_t attn = std::max(c.attnWidth(), c.lightningWidth());
    auto need = [&](DeviceBuffer& b, uint64_t bytes) -> Status {
        if (b.bytes() >= bytes) return {};
        ++buffersGeneration_;
        return b.allocate(bytes);
    };
    SALA_TRY(need(ws_.ids, tokens * sizeof(int32_t)));
    SALA_TRY(need(ws_.step, 16));
    SALA_TRY(need(ws_.h, tokens * c.hiddenSize * sizeof(float)));
    SALA_TRY(need(ws_.x, tokens * c.hiddenSize * sizeof(bf16)));
    SALA_TRY(need(ws_.proj, tokens * widestProjection(c) * sizeof(bf16)));
    SALA_TRY(need(ws_.attn, tokens * attn * sizeof(bf16)));
    SALA_TRY(need(ws_.act, tokens * c.intermediateSize * sizeof(bf16)));
    SALA_TRY(need(ws_.blocks, tokens * c.numKvHeads * c.sparse.topkTotal() * sizeof(int32_t)));
    const k::SparseSelectParams sp = selectParams(c);
    SALA_TRY(
        need(ws_.select, std::max<size_t>(k::sparseSelectWorkspace(sp, tokens, capacity_), 1)));
    const int topk = c.sparse.topkTotal();
    const size_t decodeBytes = k::sparseDecodeWorkspace(c.numHeads, c.headDim, topk);
    if (ws_.decode.bytes() < decodeBytes) {
        SALA_TRY(need(ws_.decode, decodeBytes));
        SALA_CUDA(k::resetSparseDecodeWorkspace(ws_.decode.as<float>(), c.numHeads, c.headDim, topk,
                                                stream_));
    }
    SALA_TRY(need(ws_.logits, logitRows * c.vocabSize * sizeof(float)));
    SALA_TRY(need(ws_.hidden, logitRows * c.hiddenSize * sizeof(float)));
    ws_.tokens = std::max(ws_.tokens, tokens);
    return {};
}

Status CudaContext::forward(std::span<const int> tokens, const ForwardOptions& options,
                            ForwardOutput& output) {
    return run(tokens, options, output, true);
}

Result<int> CudaContext::forwardSample(std::span<const int> tokens, Sampler& sampler) {
    ForwardOutput output;
    SALA_TRY(run(tokens, ForwardOptions{}, output, false));
    const SamplingParams& sp = sampler.params();
    SALA_TRY(validate(sp));
    const int vocab = config_.vocabSize;
    const size_t window =
        sp.repetitionPenalty != 1.0f
            ? std::min(tokens_.size(),
                       sp.repetitionWindow > 0 ? size_t(sp.repetitionWindow) : tokens_.size())
            : 0;
    auto need = [](DeviceBuffer& b, uint64_t bytes) -> Status {
        return b.bytes() >= bytes ? Status{} : b.allocate(std::max<uint64_t>(bytes, 64));
    };
    k::GpuSamplingParams gp{sp.temperature, sp.topK, sp.topP, sp.minP, sp.repetitionPenalty};
    SALA_TRY(need(ws_.sample, k::sampleWorkspace(vocab, sp.topK)));
    SALA_TRY(need(ws_.history, (window + 1) * sizeof(int32_t)));
    if (window > 0)
        SALA_CUDA(cudaMemcpyAsync(ws_.history.get(), tokens_.data() + tokens_.size() - window,
                                  window * sizeof(int32_t), cudaMemcpyHostToDevice, stream_));
    // Like the CPU sampler, a non-greedy draw consumes one value of the seeded engine.
    // Rounded to float, a uniform just below one could become exactly one; keep it below.
    const float uniform =
        sp.greedy() ? 0.0f : std::min(static_cast<float>(sampler.nextUniform()), 0x1.fffffep-1f);
    int32_t* tokenOut = ws_.history.as<int32_t>() + window;
    SALA_CUDA(k::launchSample(ws_.logits.as<float>(), vocab, gp, ws_.history.as<int32_t>(),
                              static_cast<int>(window), uniform, nullptr, tokenOut,
                              ws_.sample.get(), ws_.sample.bytes(), stream_));
    int32_t token = -1;
    SALA_CUDA(cudaMemcpyAsync(&token, tokenOut, sizeof token, cudaMemcpyDeviceToHost, stream_));
    if (Status st = cudaStatus(cudaStreamSynchronize(stream_), "forward"); !st.ok()) {
        broken_ = true; // the step's kernels ran unchecked until here
        return st.error();
    }
    if (token < 0 || token >= vocab)
        return makeError(ErrorCode::Internal, "the GPU sampler returned no valid token");
    return static_cast<int>(token);
}

Status CudaContext::run(std::span<const int> tokens, const ForwardOptions& options,
                        ForwardOutput& output, bool copyLogits) {
    SALA_TRY(checkAppend(tokens, config_.vocabSize, broken_));
    output = {};
    const int64_t start = position();
    const int64_t count = static_cast<int64_t>(tokens.size());
    SALA_TRY(reserve(start + count));
    SALA_TRY(ensureWorkspace(count, options.allLogits ? count : 1));
    const Status st = forwardLayers(tokens, options, output, copyLogits);
    if (!st.ok()) {
        // Lightning states may be half-updated; the sparse caches past `start` are ignored.
        broken_ = true;
        return st;
    }
    tokens_.insert(tokens_.end(), tokens.begin(), tokens.end());
    return {};
}

Status CudaContext::forwardLayers(std::span<const int> tokens, const ForwardOptions& options,
                                  ForwardOutput& output, bool copyLogits) {
    const ModelConfig& c = config_;
    const int64_t T = static_cast<int64_t>(tokens.size());
    const int64_t H = c.hiddenSize;
    const int64_t rows = options.allLogits ? T : 1;
    if (T == 1 && !options.selections && backend_.options().decodeGraphs) {
        SALA_TRY(graphStep(tokens[0]));
    } else {
        SALA_CUDA(cudaMemcpyAsync(ws_.ids.get(), tokens.data(), T * sizeof(int32_t),
                                  cudaMemcpyHostToDevice, stream_));
        SALA_TRY(enqueueForward(ws_.ids.as<int32_t>(), T, position(), rows,
                                options.selections ? &output : nullptr));
    }
    if (copyLogits) {
        output.logits.resize(size_t(rows) * c.vocabSize);
        SALA_CUDA(cudaMemcpyAsync(output.logits.data(), ws_.logits.get(),
                                  output.logits.size() * sizeof(float), cudaMemcpyDeviceToHost,
                                  stream_));
    }
    if (options.lastHidden) {
        output.hiddenLast.resize(H);
        SALA_CUDA(cudaMemcpyAsync(output.hiddenLast.data(), ws_.hidden.as<float>() + (rows - 1) * H,
                                  H * sizeof(float), cudaMemcpyDeviceToHost, stream_));
    }
    // Nothing for the host to read: forwardSample draws on the GPU next and waits for the token
    // only. A wait here left the GPU idle between the step and the sampler (26-110 us a step).
    if (!copyLogits && !options.lastHidden) return {};
    return cudaStatus(cudaStreamSynchronize(stream_), "forward");
}

// The token and position go to the device first; the graph's kernels read them there, so one
// capture serves every step until a buffer it refers to is reallocated.
Status CudaContext::graphStep(int token) {
    stepHost_.token = token;
    stepHost_.position = position();
    SALA_CUDA(cudaMemcpyAsync(ws_.step.get(), &stepHost_, sizeof stepHost_, cudaMemcpyHostToDevice,
                              stream_));
    if (!stepGraph_.holds(buffersGeneration_)) {
        const auto* ids = ws_.step.as<int32_t>();
        const auto* pos = reinterpret_cast<const int64_t*>(ws_.step.as<char>() + 8);
        SALA_TRY(stepGraph_.capture(stream_, buffersGeneration_, [&] {
            return enqueueForward(ids, 1, k::Position::inDevice(pos), 1, nullptr);
        }));
    }
    ++graphReplays_;
    return stepGraph_.launch(stream_);
}

Status CudaContext::enqueueForward(const int32_t* ids, int64_t T, k::Position start, int64_t rows,
                                   ForwardOutput* selections) {
    const ModelConfig& c = config_;
    const CudaWeights& w = backend_.weights();
    const int64_t H = c.hiddenSize;
    const float eps = static_cast<float>(c.rmsNormEps);
    SALA_CUDA(k::launchEmbedding(w.embed, c.vocabSize, c.hiddenSize, ids, T,
                                 static_cast<float>(c.scaleEmb), ws_.h.as<float>(), stream_));
    // Only the last token's logits wanted: the last layer's other rows need only leave their
    // keys and values (or linear state) behind, and its rows end up with the last token first.
    const bool pruneLast = rows == 1 && T > 1 && !start.device;
    const int full = pruneLast ? c.numLayers - 1 : c.numLayers;
    for (int l = 0; l < full; ++l) {
        const CudaLayer& layer = w.layers[l];
        SALA_TRY(normProduct(T, layer.inputNorm, layer.wIn, layer.inRows, ws_.proj.as<bf16>()));
        if (layer.kind == LayerKind::Sparse)
            SALA_TRY(sparseLayer(l, start, T, selections));
        else
            SALA_TRY(lightningLayer(l, start, T));
        SALA_TRY(outputProduct(l, T));
        SALA_TRY(mlp(l, T));
    }
    if (pruneLast) SALA_TRY(lastLayerForLastToken(full, start.value, T, selections));
    const float* last = ws_.h.as<float>() + (pruneLast ? 0 : (T - rows) * H);
    SALA_CUDA(k::launchRmsNorm(last, H, rows, c.hiddenSize, w.finalNorm, eps, ws_.x.as<bf16>(), H,
                               ws_.hidden.as<float>(), stream_));
    return product(rows, ws_.x.as<bf16>(), H, w.lmHead, c.vocabSize, ws_.logits.get(), OutType::F32,
                   static_cast<float>(1.0 / c.logitDivisor()));
}

Status CudaContext::lightningLayer(int l, k::Position start, int64_t T) {
    const ModelConfig& c = config_;
    const CudaLayer& layer = backend_.weights().layers[l];
    const int64_t stride = layer.inRows;
    bf16* proj = ws_.proj.as<bf16>();
    const float eps = static_cast<float>(c.rmsNormEps);
    const float theta = static_cast<float>(c.ropeTheta);
    const int heads = c.lightningHeads;
    const int dim = c.lightningHeadDim;
    // k follows q in the projection (kOffset = qOffset + heads * dim): one launch for both.
    SALA_CUDA(k::launchHeadNormRopePair(proj + layer.qOffset, stride, T, heads, layer.qNorm, heads,
                                        layer.kNorm, dim, eps, c.lightningUseRope, start, theta,
                                        stream_));
    float* state = linear_[l].as<float>();
    bf16* out = ws_.attn.as<bf16>();
    if (T == 1)
        SALA_CUDA(k::launchLightningDecode(proj + layer.qOffset, proj + layer.kOffset,
                                           proj + layer.vOffset, heads, dim, backend_.slopes(),
                                           state, out, stream_, outputWeights(c, layer)));
    else
        SALA_CUDA(k::launchLightningPrefill(
            proj + layer.qOffset, proj + layer.kOffset, proj + layer.vOffset, stride, T, heads, dim,
            backend_.slopes(), state, out, c.lightningWidth(), stream_));
    return {};
}

k::CompressLevel CudaContext::compressLevel(int l, int level) const {
    const auto& sc = config_.sparse;
    const SparseState& s = sparse_[l];
    const int kernel = level == 0 ? sc.kernelSize : sc.kernelSize2();
    const int stride = level == 0 ? sc.kernelStride : sc.kernelStride2();
    return {kernel, stride, (level == 0 ? s.k1 : s.k2).as<bf16>(),
            compressedCapacity(kernel, stride) * config_.headDim};
}

Status CudaContext::appendAndCompress(int l, k::Position start, int64_t T) {
    const ModelConfig& c = config_;
    SparseState& s = sparse_[l];
    const CudaLayer& layer = backend_.weights().layers[l];
    const bf16* proj = ws_.proj.as<bf16>();
    const int64_t d = c.headDim;
    // A graph step appends its key and value and compresses whatever windows its key completes,
    // both levels, in one launch.
    if (start.device) {
        SALA_CUDA(k::launchAppendCompressStep(
            proj + layer.kOffset, proj + layer.vOffset, c.numKvHeads, int(d), s.keys.as<bf16>(),
            s.values.as<bf16>(), capacity_ * d, compressLevel(l, 0), compressLevel(l, 1),
            start.device, stream_));
        return {};
    }
    SALA_CUDA(k::launchAppendKeysValues(proj + layer.kOffset, proj + layer.vOffset, layer.inRows, T,
                                        c.numKvHeads, int(d), s.keys.as<bf16>(),
                                        s.values.as<bf16>(), capacity_ * d, start, stream_));
    return compress(l, start.value, T);
}

Status CudaContext::compress(int l, int64_t start, int64_t T) {
    const ModelConfig& c = config_;
    SparseState& s = sparse_[l];
    const int64_t d = c.headDim;
    for (const k::CompressLevel& lv : {compressLevel(l, 0), compressLevel(l, 1)}) {
        const int64_t from = cpu::compressedCount(start, lv.kernel, lv.stride);
        const int64_t to = cpu::compressedCount(start + T, lv.kernel, lv.stride);
        if (to <= from) continue;
        SALA_CUDA(k::launchCompressKeys(s.keys.as<bf16>(), capacity_ * d, c.numKvHeads, int(d),
                                        lv.kernel, lv.stride, from, to - from, lv.out,
                                        lv.outHeadStride, stream_));
    }
    return {};
}

Status CudaContext::sparseSelect(int l, k::Position start, int64_t first, int64_t T,
                                 cudaStream_t stream) {
    const ModelConfig& c = config_;
    const CudaLayer& layer = backend_.weights().layers[l];
    const SparseState& s = sparse_[l];
    const auto& sc = c.sparse;
    const int64_t d = c.headDim;
    const k::SparseSelectParams sp = selectParams(c);
    const int64_t k1Stride = compressedCapacity(sc.kernelSize, sc.kernelStride) * d;
    const int64_t k2Stride = compressedCapacity(sc.kernelSize2(), sc.kernelStride2()) * d;
    const bf16* q = ws_.proj.as<bf16>() + layer.qOffset;
    int32_t* blocks = ws_.blocks.as<int32_t>();
    if (start.device)
        SALA_CUDA(k::launchSparseSelectStep(sp, q, start.device, capacity_ - 1, s.k1.as<bf16>(),
                                            k1Stride, s.k2.as<bf16>(), k2Stride, blocks,
                                            ws_.select.get(), ws_.select.bytes(), stream,
                                            outputWeights(c, layer)));
    else
        SALA_CUDA(k::launchSparseSelect(
            sp, q + first * layer.inRows, layer.inRows, T, start.value + first, s.k1.as<bf16>(),
            k1Stride, s.k2.as<bf16>(), k2Stride, blocks + first * c.numKvHeads * sc.topkTotal(),
            ws_.select.get(), ws_.select.bytes(), stream));
    return {};
}

Status CudaContext::sparseLayer(int l, k::Position start, int64_t T, ForwardOutput* selections) {
    SALA_TRY(sparseRope(l, start, T));
    SALA_TRY(appendAndCompress(l, start, T));
    return sparseAttend(l, start, T, selections);
}

Status CudaContext::sparseRope(int l, k::Position start, int64_t T) {
    const ModelConfig& c = config_;
    if (!c.attnUseRope) return {};
    const CudaLayer& layer = backend_.weights().layers[l];
    const float theta = static_cast<float>(c.ropeTheta);
    SALA_CUDA(k::launchHeadNormRopePair(ws_.proj.as<bf16>() + layer.qOffset, layer.inRows, T,
                                        c.numHeads, nullptr, c.numKvHeads, nullptr, c.headDim, 0.0f,
                                        true, start, theta, stream_));
    return {};
}

Status CudaContext::sparseAttend(int l, k::Position start, int64_t T, ForwardOutput* selections) {
    if (overlapsSelection(start, T)) {
        SALA_TRY(selectWhileAttending(l, start.value, T));
    } else {
        SALA_TRY(sparseSelect(l, start, 0, T, stream_));
        SALA_TRY(T > 1 ? attendRows(l, start.value, 0, T) : attendOne(l, start));
    }
    if (selections) SALA_TRY(copyLastSelection(l, T, *selections));
    return {};
}

Status CudaContext::attendOne(int l, k::Position position) {
    const ModelConfig& c = config_;
    const CudaLayer& layer = backend_.weights().layers[l];
    const SparseState& s = sparse_[l];
    SALA_CUDA(k::launchSparseAttentionDecode(
        ws_.proj.as<bf16>() + layer.qOffset, c.numHeads, c.numKvHeads, int(c.headDim), position,
        s.keys.as<bf16>(), s.values.as<bf16>(), capacity_ * c.headDim, ws_.blocks.as<int32_t>(),
        c.sparse.topkTotal(), c.sparse.blockSize, ws_.attn.as<bf16>(), ws_.decode.as<float>(),
        ws_.decode.bytes(), stream_));
    return {};
}

Status CudaContext::attendRows(int l, int64_t start, int64_t first, int64_t T) {
    const ModelConfig& c = config_;
    const CudaLayer& layer = backend_.weights().layers[l];
    const SparseState& s = sparse_[l];
    const int64_t stride = layer.inRows;
    const int topk = c.sparse.topkTotal();
    SALA_CUDA(k::launchSparseAttentionPrefill(
        ws_.proj.as<bf16>() + layer.qOffset + first * stride, stride, T, start + first, c.numHeads,
        c.numKvHeads, int(c.headDim), s.keys.as<bf16>(), s.values.as<bf16>(), capacity_ * c.headDim,
        ws_.blocks.as<int32_t>() + first * c.numKvHeads * topk, topk, c.sparse.blockSize,
        ws_.attn.as<bf16>() + first * c.attnWidth(), c.attnWidth(), stream_));
    return {};
}

Status CudaContext::copyLastSelection(int l, int64_t T, ForwardOutput& selections) {
    const ModelConfig& c = config_;
    const int topk = c.sparse.topkTotal();
    const int32_t* blocks = ws_.blocks.as<int32_t>();
    std::vector<int32_t> last(size_t(c.numKvHeads) * topk);
    SALA_CUDA(cudaMemcpyAsync(last.data(), blocks + (T - 1) * c.numKvHeads * topk,
                              last.size() * sizeof(int32_t), cudaMemcpyDeviceToHost, stream_));
    SALA_CUDA(cudaStreamSynchronize(stream_));
    auto& chosen = selections.selections[l];
    chosen.assign(c.numKvHeads, {});
    for (int g = 0; g < c.numKvHeads; ++g)
        chosen[g].assign(last.begin() + g * topk, last.begin() + (g + 1) * topk);
    return {};
}

Status CudaContext::mlp(int l, int64_t T) {
    const CudaLayer& layer = backend_.weights().layers[l];
    const int64_t I = config_.intermediateSize;
    SALA_TRY(swiglu(T, layer.postNorm, layer.wGateUp));
    return product(T, ws_.act.as<bf16>(), I, layer.wDown, config_.hiddenSize, ws_.h.get(),
                   OutType::F32, static_cast<float>(config_.residualScale()), 1.0f);
}

} // namespace sala::cuda
