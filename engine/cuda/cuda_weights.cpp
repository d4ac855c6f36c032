#include "cuda_weights.h"

#include "random_fill.cuh"
#include "thread_pool.h"
#include "weight_convert.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <thread>

namespace sala::cuda {
namespace {

constexpr uint64_t kAlign = 256;
uint64_t aligned(uint64_t n) {
    return (n + kAlign - 1) / kAlign * kAlign;
}

// One slot of the device layout: where a tensor (or a stacked group) lives.
struct Slot {
    uint64_t offset = 0;
    int64_t rows = 0, cols = 0;
};

struct LayerSlots {
    Slot inputNorm, postNorm, wIn, wO, qNorm, kNorm, oNorm, gateUp, down;
};

struct Layout {
    Slot embed, finalNorm, lmHead;
    std::vector<LayerSlots> layers;
    uint64_t bytes = 0;

    Slot add(int64_t rows, int64_t cols) {
        Slot s{bytes, rows, cols};
        bytes += aligned(uint64_t(rows) * cols * sizeof(bf16));
        return s;
    }
};

bool hasGate(const ModelConfig& c, LayerKind kind) {
    return kind == LayerKind::Sparse ? c.attnUseOutputGate : c.useOutputGate;
}

Layout layoutOf(const ModelConfig& c) {
    Layout l;
    const int64_t H = c.hiddenSize;
    l.embed = l.add(c.vocabSize, H);
    l.finalNorm = l.add(1, H);
    l.lmHead = c.tieWordEmbeddings ? l.embed : l.add(c.vocabSize, H);
    for (int i = 0; i < c.numLayers; ++i) {
        const LayerKind kind = c.layerKinds[i];
        LayerSlots s;
        s.inputNorm = l.add(1, H);
        s.postNorm = l.add(1, H);
        const int64_t gate = hasGate(c, kind) ? 1 : 0;
        if (kind == LayerKind::Sparse) {
            s.wIn = l.add(c.attnWidth() * (1 + gate) + 2 * c.kvWidth(), H);
            s.wO = l.add(H, c.attnWidth());
        } else {
            const int64_t W = c.lightningWidth();
            s.wIn = l.add(W * (3 + gate), H);
            s.wO = l.add(H, W);
            if (c.qkNorm) {
                s.qNorm = l.add(1, c.lightningHeadDim);
                s.kNorm = l.add(1, c.lightningHeadDim);
            }
            if (c.useOutputNorm) s.oNorm = l.add(1, W);
        }
        s.gateUp = l.add(2 * int64_t(c.intermediateSize), H);
        s.down = l.add(H, c.intermediateSize);
        l.layers.push_back(s);
    }
    return l;
}

CudaWeights bind(const ModelConfig& c, const Layout& l, DeviceBuffer storage) {
    CudaWeights w;
    w.storage = std::move(storage);
    auto at = [&](const Slot& s) {
        return s.rows == 0 ? nullptr
                           : reinterpret_cast<const bf16*>(w.storage.as<char>() + s.offset);
    };
    w.embed = at(l.embed);
    w.finalNorm = at(l.finalNorm);
    w.lmHead = at(l.lmHead);
    for (int i = 0; i < c.numLayers; ++i) {
        const LayerSlots& s = l.layers[i];
        CudaLayer layer;
        layer.kind = c.layerKinds[i];
        layer.inputNorm = at(s.inputNorm);
        layer.postNorm = at(s.postNorm);
        layer.wIn = at(s.wIn);
        layer.inRows = s.wIn.rows;
        const bool sparse = layer.kind == LayerKind::Sparse;
        const int64_t qWidth = sparse ? c.attnWidth() : c.lightningWidth();
        const int64_t kvWidth = sparse ? c.kvWidth() : c.lightningWidth();
        layer.qOffset = 0;
        layer.kOffset = qWidth;
        layer.vOffset = qWidth + kvWidth;
        layer.gateOffset = hasGate(c, layer.kind) ? qWidth + 2 * kvWidth : -1;
        layer.wO = at(s.wO);
        layer.qNorm = at(s.qNorm);
        layer.kNorm = at(s.kNorm);
        layer.oNorm = at(s.oNorm);
        layer.wGateUp = at(s.gateUp);
        layer.wDown = at(s.down);
        w.layers.push_back(layer);
    }
    return w;
}

// Copies host weights (any float dtype) into a device slot through two pinned staging blocks:
// while one block crosses to the device, the next is read from the file (and converted) into
// the other, by several threads. The bytes copied of `total` are reported as each block's copy
// completes.
class Uploader {
public:
    Uploader(char* base, cudaStream_t stream, const LoadProgress& progress, uint64_t total)
        : base_(base), stream_(stream), progress_(progress), total_(total) {}
    ~Uploader() {
        // A stop (an error, a cancelled load) may leave copies in flight that read the blocks.
        cudaStreamSynchronize(stream_);
        for (Staging& b : blocks_) {
            if (b.done) cudaEventDestroy(b.done);
            if (b.host) cudaFreeHost(b.host);
        }
    }
    Uploader(const Uploader&) = delete;
    Uploader& operator=(const Uploader&) = delete;

    Status init() {
        for (Staging& b : blocks_) {
            SALA_TRY(cudaStatus(cudaMallocHost(&b.host, kStaging), "pinned staging"));
            SALA_TRY(cudaStatus(cudaEventCreateWithFlags(&b.done, cudaEventDisableTiming),
                                "staging event"));
        }
        return {};
    }

    // Places `w` at `offset` bytes (stacked tensors go one after another).
    Status put(const Weight& w, uint64_t offset) {
        const uint64_t n = uint64_t(w.rows) * w.cols;
        const uint64_t perBlock = kStaging / sizeof(uint16_t);
        for (uint64_t done = 0; done < n; done += perBlock) {
            const uint64_t count = std::min(perBlock, n - done);
            Staging& b = blocks_[next_];
            next_ = 1 - next_;
            SALA_TRY(reclaim(b));
            weightToBf16(w, done, count, static_cast<uint16_t*>(b.host), &pool_);
            SALA_CUDA(cudaMemcpyAsync(base_ + offset + done * 2, b.host, count * 2,
                                      cudaMemcpyHostToDevice, stream_));
            SALA_CUDA(cudaEventRecord(b.done, stream_));
            b.inFlight = count * 2;
        }
        return {};
    }

    // Waits for the copies still in flight, the older first.
    Status finish() {
        SALA_TRY(reclaim(blocks_[next_]));
        return reclaim(blocks_[1 - next_]);
    }

private:
    struct Staging {
        void* host = nullptr;
        cudaEvent_t done = nullptr;
        uint64_t inFlight = 0; // bytes of the copy last issued from it
    };

    // Waits until the block's last copy is done, then reports it.
    Status reclaim(Staging& b) {
        if (b.inFlight == 0) return {};
        SALA_TRY(cudaStatus(cudaEventSynchronize(b.done), "weight upload"));
        copied_ += b.inFlight;
        b.inFlight = 0;
        return reportLoad(progress_, copied_, total_);
    }

    static constexpr size_t kStaging = 64u << 20;
    char* base_;
    cudaStream_t stream_;
    const LoadProgress& progress_;
    uint64_t total_, copied_ = 0;
    Staging blocks_[2];
    int next_ = 0;
    // Copying into page-locked memory stops gaining past a few threads.
    ThreadPool pool_{int(std::clamp(std::thread::hardware_concurrency(), 1u, 8u))};
};

uint64_t bytesOf(const Weight& w) {
    return uint64_t(w.rows) * w.cols * sizeof(bf16);
}

// A weight and the byte offset of its place in the device slot.
struct Placement {
    const Weight* weight;
    uint64_t offset;
};

void placeLayer(std::vector<Placement>& plan, const LayerWeights& lw, const LayerSlots& s) {
    plan.push_back({&lw.inputNorm, s.inputNorm.offset});
    plan.push_back({&lw.postNorm, s.postNorm.offset});
    uint64_t off = s.wIn.offset;
    for (const Weight* part : {&lw.q, &lw.k, &lw.v, &lw.outGate}) {
        if (part->empty()) continue;
        plan.push_back({part, off});
        off += bytesOf(*part);
    }
    plan.push_back({&lw.o, s.wO.offset});
    if (!lw.qNorm.empty()) plan.push_back({&lw.qNorm, s.qNorm.offset});
    if (!lw.kNorm.empty()) plan.push_back({&lw.kNorm, s.kNorm.offset});
    if (!lw.oNorm.empty()) plan.push_back({&lw.oNorm, s.oNorm.offset});
    plan.push_back({&lw.mlpGate, s.gateUp.offset});
    plan.push_back({&lw.mlpUp, s.gateUp.offset + bytesOf(lw.mlpGate)});
    plan.push_back({&lw.mlpDown, s.down.offset});
}

// Every weight of the model and where it goes, in upload order.
std::vector<Placement> placeWeights(const Model& model, const Layout& layout) {
    const ModelConfig& c = model.config;
    const ModelWeights& w = model.weights;
    std::vector<Placement> plan = {{&w.embed, layout.embed.offset},
                                   {&w.finalNorm, layout.finalNorm.offset}};
    if (!c.tieWordEmbeddings) plan.push_back({&w.lmHead, layout.lmHead.offset});
    for (int i = 0; i < c.numLayers; ++i) placeLayer(plan, w.layers[i], layout.layers[i]);
    return plan;
}

} // namespace

uint64_t deviceWeightBytes(const ModelConfig& config) {
    return layoutOf(config).bytes;
}

Result<CudaWeights> uploadWeights(const Model& model, cudaStream_t stream,
                                  const LoadProgress& progress) {
    const ModelConfig& c = model.config;
    const Layout layout = layoutOf(c);
    const std::vector<Placement> plan = placeWeights(model, layout);
    uint64_t total = 0;
    for (const Placement& p : plan) total += bytesOf(*p.weight);
    SALA_TRY(reportLoad(progress, 0, total));
    DeviceBuffer storage;
    SALA_TRY(storage.allocate(layout.bytes));
    Uploader up(storage.as<char>(), stream, progress, total);
    SALA_TRY(up.init());
    for (const Placement& p : plan) SALA_TRY(up.put(*p.weight, p.offset));
    SALA_TRY(up.finish());
    return bind(c, layout, std::move(storage));
}

Result<CudaWeights> randomWeights(const ModelConfig& c, uint64_t seed, cudaStream_t stream) {
    const Layout layout = layoutOf(c);
    DeviceBuffer storage;
    SALA_TRY(storage.allocate(layout.bytes));
    char* base = storage.as<char>();
    uint64_t stream_seed = seed;
    // Matrices get the 1/sqrt(fan-in) scale that keeps activations of order one; norm
    // weights sit near one.
    auto fill = [&](const Slot& s, bool norm) -> Status {
        if (s.rows == 0) return {};
        const float scale = norm ? 0.1f : static_cast<float>(std::sqrt(3.0 / double(s.cols)));
        return cudaStatus(folio::kernels::launchFillUniformBf16(
                              reinterpret_cast<bf16*>(base + s.offset), s.rows * s.cols,
                              ++stream_seed, scale, norm ? 1.0f : 0.0f, stream),
                          "random weights");
    };
    SALA_TRY(fill(layout.embed, false));
    SALA_TRY(fill(layout.finalNorm, true));
    if (!c.tieWordEmbeddings) SALA_TRY(fill(layout.lmHead, false));
    for (const LayerSlots& s : layout.layers) {
        for (const Slot* m : {&s.wIn, &s.wO, &s.gateUp, &s.down}) SALA_TRY(fill(*m, false));
        for (const Slot* n : {&s.inputNorm, &s.postNorm, &s.qNorm, &s.kNorm, &s.oNorm})
            SALA_TRY(fill(*n, true));
    }
    SALA_CUDA(cudaStreamSynchronize(stream));
    return bind(c, layout, std::move(storage));
}

} // namespace sala::cuda
