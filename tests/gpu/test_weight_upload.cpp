// The weight upload at the real model's size: every weight of the 9B configuration arrives on
// the device intact, and the upload's rate is printed. The weights are windows at different
// offsets of one random host buffer, so that the test needs no 17 GiB model file, and a block
// copied from the wrong place (a staging block reused too early, a block of another weight)
// shows as a mismatch. The buffer is pageable memory, as a mapped file in the page cache is.

#include "gpu_test_util.h"

#include "cuda/cuda_weights.h"
#include "model.h"

#include <chrono>
#include <cstring>
#include <initializer_list>
#include <string>

using bf16 = __nv_bfloat16;

namespace {

// Random bf16 bit patterns (finite ones: the exponent is kept below all ones).
std::vector<uint16_t> randomPool(size_t n, uint64_t seed) {
    std::vector<uint16_t> v(n);
    uint64_t x = seed | 1;
    for (uint16_t& e : v) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        e = static_cast<uint16_t>(x) & 0xbfff;
    }
    return v;
}

// Hands out bf16 weights of given shapes as windows of the pool, each at its own offset.
class Windows {
public:
    Windows(const std::vector<uint16_t>& pool, size_t spread) : pool_(pool), spread_(spread) {}

    sala::Weight take(int64_t rows, int64_t cols) {
        offset_ = (offset_ + 7919 * 8) % spread_;
        return {sala::DType::BF16, pool_.data() + offset_, rows, cols};
    }

private:
    const std::vector<uint16_t>& pool_;
    size_t spread_, offset_ = 0;
};

sala::LayerWeights layerOf(const sala::ModelConfig& c, sala::LayerKind kind, Windows& w) {
    const int64_t H = c.hiddenSize, I = c.intermediateSize;
    sala::LayerWeights l;
    l.kind = kind;
    l.inputNorm = w.take(1, H);
    l.postNorm = w.take(1, H);
    if (kind == sala::LayerKind::Sparse) {
        const int64_t A = c.attnWidth(), KV = int64_t(c.numKvHeads) * c.headDim;
        l.q = w.take(A, H);
        l.k = w.take(KV, H);
        l.v = w.take(KV, H);
        l.o = w.take(H, A);
        if (c.attnUseOutputGate) l.outGate = w.take(A, H);
    } else {
        const int64_t LA = c.lightningWidth();
        l.q = w.take(LA, H);
        l.k = w.take(LA, H);
        l.v = w.take(LA, H);
        l.o = w.take(H, LA);
        if (c.useOutputGate) l.outGate = w.take(LA, H);
        if (c.qkNorm) {
            l.qNorm = w.take(1, c.lightningHeadDim);
            l.kNorm = w.take(1, c.lightningHeadDim);
        }
        if (c.useOutputNorm) l.oNorm = w.take(1, LA);
    }
    l.mlpGate = w.take(I, H);
    l.mlpUp = w.take(I, H);
    l.mlpDown = w.take(H, I);
    return l;
}

size_t elementsOf(const sala::Weight& w) {
    return size_t(w.rows) * size_t(w.cols);
}

// Empty when the device holds `parts` back to back from `device` on, else what differs.
std::string compareDevice(const bf16* device, std::initializer_list<const sala::Weight*> parts,
                          const char* what, int layer) {
    size_t offset = 0;
    std::vector<uint16_t> got;
    for (const sala::Weight* p : parts) {
        if (p->empty()) continue;
        const size_t n = elementsOf(*p);
        got.resize(n);
        if (cudaMemcpy(got.data(), device + offset, n * 2, cudaMemcpyDeviceToHost) != cudaSuccess)
            return std::string("copying back ") + what;
        if (std::memcmp(got.data(), p->data, n * 2) != 0)
            return std::string(what) + " of layer " + std::to_string(layer) + " differs";
        offset += n;
    }
    return {};
}

} // namespace

class TestWeightUpload : public QObject {
    Q_OBJECT
private slots:
    void realSizeArrivesIntact();
};

void TestWeightUpload::realSizeArrivesIntact() {
    GPU_OR_SKIP();
    auto config = sala::loadModelConfig(FOLIO_TEST_DATA_DIR "/models/sala-9b-config.json");
    QVERIFY2(config.ok(), config.ok() ? "" : config.error().message.c_str());
    sala::Model model;
    model.config = *config;
    const sala::ModelConfig& c = model.config;
    size_t freeBytes = 0, totalBytes = 0;
    CUDA_CHECK(cudaMemGetInfo(&freeBytes, &totalBytes));
    if (freeBytes < sala::cuda::deviceWeightBytes(c) + (size_t(1) << 30))
        QSKIP("the GPU cannot hold the 9B model's weights");
    const size_t largest = size_t(c.vocabSize) * size_t(c.hiddenSize);
    const size_t spread = size_t(64) << 20; // elements: windows start up to 128 MB apart
    const std::vector<uint16_t> pool = randomPool(largest + spread, gputest::freshRng()());
    Windows windows(pool, spread);
    sala::ModelWeights& w = model.weights;
    w.embed = windows.take(c.vocabSize, c.hiddenSize);
    w.finalNorm = windows.take(1, c.hiddenSize);
    w.lmHead = c.tieWordEmbeddings ? w.embed : windows.take(c.vocabSize, c.hiddenSize);
    for (sala::LayerKind kind : c.layerKinds) w.layers.push_back(layerOf(c, kind, windows));

    cudaStream_t stream;
    CUDA_CHECK(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
    const auto start = std::chrono::steady_clock::now();
    auto uploaded = sala::cuda::uploadWeights(model, stream);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    CUDA_CHECK(cudaStreamDestroy(stream));
    QVERIFY2(uploaded.ok(), uploaded.ok() ? "" : uploaded.error().message.c_str());
    const double bytes = double(sala::cuda::deviceWeightBytes(c));
    qInfo("uploaded %.2f GiB in %.2f s: %.1f GB/s", bytes / double(1ull << 30), seconds,
          bytes / seconds / 1e9);

    const sala::cuda::CudaWeights& d = *uploaded;
    std::string why = compareDevice(d.embed, {&w.embed}, "embedding", -1);
    if (why.empty()) why = compareDevice(d.lmHead, {&w.lmHead}, "lm head", -1);
    if (why.empty()) why = compareDevice(d.finalNorm, {&w.finalNorm}, "final norm", -1);
    for (size_t l = 0; l < w.layers.size() && why.empty(); ++l) {
        const sala::LayerWeights& h = w.layers[l];
        const sala::cuda::CudaLayer& g = d.layers[l];
        const int i = int(l);
        for (const std::string& r :
             {compareDevice(g.inputNorm, {&h.inputNorm}, "input norm", i),
              compareDevice(g.postNorm, {&h.postNorm}, "post norm", i),
              compareDevice(g.wIn, {&h.q, &h.k, &h.v, &h.outGate}, "input projection", i),
              compareDevice(g.wO, {&h.o}, "output projection", i),
              compareDevice(g.wGateUp, {&h.mlpGate, &h.mlpUp}, "gate/up", i),
              compareDevice(g.wDown, {&h.mlpDown}, "down", i),
              h.qNorm.empty() ? std::string() : compareDevice(g.qNorm, {&h.qNorm}, "q norm", i),
              h.kNorm.empty() ? std::string() : compareDevice(g.kNorm, {&h.kNorm}, "k norm", i),
              h.oNorm.empty() ? std::string() : compareDevice(g.oNorm, {&h.oNorm}, "o norm", i)})
            if (why.empty()) why = r;
    }
    QVERIFY2(why.empty(), why.c_str());
}

QTEST_GUILESS_MAIN(TestWeightUpload)
#include "test_weight_upload.moc"
