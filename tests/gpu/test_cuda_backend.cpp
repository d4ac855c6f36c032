// The whole model on the CUDA backend: the reference cases teacher-forced against the bf16
// yardstick, random models of the real geometry against the CPU backend, checkpoints, saved
// states shared with the CPU backend, memory-plan refusals, and decode steps replayed from a
// captured graph against the same steps launched one kernel at a time.

#include "gpu_test_util.h"
#include "tiny_model.h"

#include "backend.h"
#include "cuda/cuda_context.h"
#include "golden_case.h"

#include <QDir>
#include <QTemporaryDir>

class TestCudaBackend : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void goldenCases_data();
    void goldenCases();
    void realGeometryMatchesCpu();
    void rollbackAndSaveLoad();
    void cpuStateLoadsOnGpu();
    void refusesWhatDoesNotFit();
    void uploadReportsProgressAndStops();
    void decodeGraphMatchesDirectLaunches();
    void warmUpLeavesNoTrace();
    void decodeProductsMatchCublas();
    void lastLayerPrunedMatchesAllRows_data();
    void lastLayerPrunedMatchesAllRows();
    void selectionBesideAttentionMatchesInOrder();

private:
    QTemporaryDir tmp_;
    std::string realModel_;
    std::string lightningLastModel_;
    std::string rotatedModel_;
};

namespace {

std::unique_ptr<sala::Backend> backendFor(const std::string& dir, sala::BackendKind kind,
                                          sala::BackendOptions options = {}) {
    auto model = sala::loadModel(dir);
    if (!model) qFatal("%s", model.error().message.c_str());
    auto backend = sala::createBackend(kind, *model, options);
    if (!backend) qFatal("%s", backend.error().message.c_str());
    return std::move(backend).value();
}

std::unique_ptr<sala::Context> contextOf(sala::Backend& b) {
    auto ctx = b.createContext();
    if (!ctx) qFatal("%s", ctx.error().message.c_str());
    return std::move(ctx).value();
}

// Logits of the last token after each of `steps`, prefilling `prompt` in `chunk`s first.
// With `prefill` options the prompt's chunks may ask for every row's logits; the first row
// returned is the last token's either way.
std::vector<std::vector<float>> runSequence(sala::Context& ctx, const std::vector<int>& prompt,
                                            int chunk, const std::vector<int>& steps,
                                            sala::ForwardOptions prefill = {}) {
    std::vector<std::vector<float>> rows;
    sala::ForwardOutput out;
    size_t lastChunk = 1;
    for (size_t done = 0; done < prompt.size();) {
        const size_t n = std::min<size_t>(chunk, prompt.size() - done);
        auto st = ctx.forward(std::span<const int>(prompt.data() + done, n), prefill, out);
        if (!st.ok()) qFatal("%s", st.error().message.c_str());
        done += n;
        lastChunk = prefill.allLogits ? n : 1;
    }
    const size_t vocab = out.logits.size() / lastChunk;
    out.logits.erase(out.logits.begin(), out.logits.end() - vocab);
    rows.push_back(out.logits);
    for (int t : steps) {
        auto st = ctx.forward(std::span<const int>(&t, 1), {}, out);
        if (!st.ok()) qFatal("%s", st.error().message.c_str());
        rows.push_back(out.logits);
    }
    return rows;
}

std::vector<int> randomTokens(int n, int vocab, std::mt19937& rng) {
    std::uniform_int_distribution<int> d(3, vocab - 1);
    std::vector<int> v(n);
    for (int& x : v) x = d(rng);
    v[0] = 1;
    return v;
}

using Rows = std::vector<std::vector<float>>;
constexpr int kSameRunSteps = 24;

// The same random 900-token prompt (far enough for selection by score) and kSameRunSteps steps
// through a fresh context of each backend: the logit rows of both.
std::pair<Rows, Rows> sameRunOn(sala::Backend& a, sala::Backend& b) {
    std::mt19937 rng = gputest::freshRng();
    const std::vector<int> prompt = randomTokens(900, 1024, rng);
    const std::vector<int> steps = randomTokens(kSameRunSteps, 1024, rng);
    auto ca = contextOf(a);
    auto cb = contextOf(b);
    return {runSequence(*ca, prompt, 512, steps), runSequence(*cb, prompt, 512, steps)};
}

} // namespace

void TestCudaBackend::initTestCase() {
    GPU_OR_SKIP();
    QVERIFY(tmp_.isValid());
    // The real head geometry (head_dim 128, 32 query / 2 kv heads, hidden 4096) with a sparse
    // configuration scaled down so selection by score starts after 768 tokens.
    testutil::TinyModelSpec s;
    s.hidden = 4096;
    s.intermediate = 1024;
    s.heads = 32;
    s.kvHeads = 2;
    s.headDim = 128;
    s.vocab = 1024;
    s.blockSize = 64;
    s.kernelSize = 32;
    s.kernelStride = 16;
    s.windowSize = 256;
    s.topk = 8;
    s.copyTokenizer = false;
    s.mixers = {"minicpm4", "lightning-attn", "lightning-attn", "minicpm4"};
    realModel_ = tmp_.filePath("real-geometry").toStdString();
    QVERIFY(testutil::writeTinyModel(realModel_, s));
    s.mixers = {"minicpm4", "lightning-attn", "minicpm4", "lightning-attn"};
    lightningLastModel_ = tmp_.filePath("lightning-last").toStdString();
    QVERIFY(testutil::writeTinyModel(lightningLastModel_, s));
    s.mixers = {"minicpm4", "lightning-attn", "lightning-attn", "minicpm4"};
    s.attnUseRope = true;
    rotatedModel_ = tmp_.filePath("rotated-sparse").toStdString();
    QVERIFY(testutil::writeTinyModel(rotatedModel_, s));
}

void TestCudaBackend::goldenCases_data() {
    QTest::addColumn<QString>("dir");
    const QDir root(QStringLiteral(FOLIO_TEST_DATA_DIR "/golden"));
    for (const QString& name : root.entryList(QDir::Dirs | QDir::NoDotAndDotDot, QDir::Name))
        QTest::newRow(qPrintable(name)) << root.filePath(name);
}

void TestCudaBackend::goldenCases() {
    QFETCH(QString, dir);
    std::string log;
    const auto tol = sala::GoldenTolerances::bf16Engine();
    auto report = sala::runGoldenCase(
        dir.toStdString(), sala::BackendKind::Cuda, [&](const std::string& l) { log += l + "\n"; },
        &tol);
    QVERIFY2(report.ok(), report.ok() ? "" : report.error().message.c_str());
    qInfo("median %.3g max %.3g top1 %d/%d", report->medianRelErr, report->maxRelErr,
          report->top1Agree, report->top1Rows);
    QVERIFY2(report->passed, log.c_str());
}

void TestCudaBackend::realGeometryMatchesCpu() {
    auto gpu = backendFor(realModel_, sala::BackendKind::Cuda);
    auto cpu = backendFor(realModel_, sala::BackendKind::Cpu);
    std::mt19937 rng = gputest::freshRng();
    const std::vector<int> prompt = randomTokens(2500, 1024, rng);
    const std::vector<int> steps = randomTokens(6, 1024, rng);
    auto g = contextOf(*gpu);
    auto c = contextOf(*cpu);
    const auto gr = runSequence(*g, prompt, 1000, steps);
    const auto cr = runSequence(*c, prompt, 700, steps);
    for (size_t i = 0; i < gr.size(); ++i) {
        const double err = gputest::relativeL2(gr[i].data(), cr[i].data(), cr[i].size());
        qInfo("row %zu: relative L2 %.3g", i, err);
        QVERIFY2(err < 0.05, qPrintable(QString::number(err)));
    }
}

void TestCudaBackend::rollbackAndSaveLoad() {
    auto gpu = backendFor(realModel_, sala::BackendKind::Cuda);
    std::mt19937 rng = gputest::freshRng();
    const std::vector<int> doc = randomTokens(1500, 1024, rng);
    const std::vector<int> question = randomTokens(5, 1024, rng);
    auto ctx = contextOf(*gpu);
    runSequence(*ctx, doc, 512, {});
    const auto cp = ctx->checkpoint();
    QVERIFY(cp > 0);
    const std::string file = tmp_.filePath("gpu.state").toStdString();
    QVERIFY(ctx->save(file).ok());
    const auto first = runSequence(*ctx, {}, 1, question);
    QVERIFY(ctx->rollback(cp).ok());
    QCOMPARE(ctx->position(), int64_t(doc.size()));
    QVERIFY(runSequence(*ctx, {}, 1, question) == first);
    auto restored = contextOf(*gpu);
    auto st = restored->load(file);
    QVERIFY2(st.ok(), st.ok() ? "" : st.error().message.c_str());
    QVERIFY(runSequence(*restored, {}, 1, question) == first);
}

void TestCudaBackend::cpuStateLoadsOnGpu() {
    auto gpu = backendFor(realModel_, sala::BackendKind::Cuda);
    auto cpu = backendFor(realModel_, sala::BackendKind::Cpu);
    std::mt19937 rng = gputest::freshRng();
    const std::vector<int> doc = randomTokens(900, 1024, rng);
    const std::vector<int> question = randomTokens(3, 1024, rng);
    auto c = contextOf(*cpu);
    runSequence(*c, doc, 450, {});
    const std::string file = tmp_.filePath("cpu.state").toStdString();
    QVERIFY(c->save(file).ok());
    const auto expected = runSequence(*c, {}, 1, question);
    auto g = contextOf(*gpu);
    QVERIFY(g->load(file).ok());
    QCOMPARE(g->tokens(), std::vector<int>(doc.begin(), doc.end()));
    const auto got = runSequence(*g, {}, 1, question);
    for (size_t i = 1; i < got.size(); ++i)
        QVERIFY(gputest::relativeL2(got[i].data(), expected[i].data(), got[i].size()) < 0.05);
}

void TestCudaBackend::refusesWhatDoesNotFit() {
    auto model = sala::loadModel(realModel_);
    QVERIFY(model.ok());
    sala::BackendOptions tiny;
    tiny.vramLimit = 64ull << 20; // less than the weights
    auto b = sala::createBackend(sala::BackendKind::Cuda, *model, tiny);
    QVERIFY(!b.ok());
    QCOMPARE(b.error().code, sala::ErrorCode::OutOfMemory);
    QVERIFY(b.error().message.find("GPU memory") != std::string::npos);

    sala::BackendOptions small;
    small.vramLimit = 2ull << 30;
    auto fits = sala::createBackend(sala::BackendKind::Cuda, *model, small);
    QVERIFY2(fits.ok(), fits.ok() ? "" : fits.error().message.c_str());
    auto ctx = contextOf(**fits);
    auto st = ctx->reserve(int64_t(1) << 34);
    QVERIFY(!st.ok());
    QCOMPARE(st.error().code, sala::ErrorCode::OutOfMemory);
    // The context still works after the refusal.
    sala::ForwardOutput out;
    QVERIFY(ctx->forward(std::vector<int>{1, 2, 3}, {}, out).ok());
}

// The weight upload reports its bytes in order up to the whole, and a stop midway fails the load
// as Cancelled, gives its device memory back and leaves the next load unharmed.
void TestCudaBackend::uploadReportsProgressAndStops() {
    auto model = sala::loadModel(realModel_);
    QVERIFY(model.ok());
    std::vector<std::pair<uint64_t, uint64_t>> reports;
    int stopAt = -1;
    sala::BackendOptions options;
    options.warmUp = false;
    options.progress = [&](uint64_t done, uint64_t total) {
        reports.emplace_back(done, total);
        return int(reports.size()) - 1 != stopAt;
    };
    {
        auto b = sala::createBackend(sala::BackendKind::Cuda, *model, options);
        QVERIFY2(b.ok(), b.ok() ? "" : b.error().message.c_str());
    }
    QVERIFY(reports.size() > 3); // several 64 MiB blocks
    const uint64_t total = reports.front().second;
    QVERIFY(total > (uint64_t(128) << 20));
    QCOMPARE(reports.front().first, uint64_t(0));
    for (size_t i = 1; i < reports.size(); ++i) {
        QCOMPARE(reports[i].second, total);
        QVERIFY(reports[i].first >= reports[i - 1].first);
    }
    QCOMPARE(reports.back().first, total);

    size_t freeBefore = 0, freeAfter = 0, all = 0;
    CUDA_CHECK(cudaMemGetInfo(&freeBefore, &all));
    const size_t complete = reports.size();
    reports.clear();
    stopAt = 2;
    {
        auto b = sala::createBackend(sala::BackendKind::Cuda, *model, options);
        QVERIFY(!b.ok());
        QCOMPARE(b.error().code, sala::ErrorCode::Cancelled);
    }
    QCOMPARE(reports.size(), size_t(3));
    QVERIFY(reports.back().first < total);
    CUDA_CHECK(cudaMemGetInfo(&freeAfter, &all));
    QVERIFY(freeAfter + (uint64_t(16) << 20) >= freeBefore);

    reports.clear();
    stopAt = -1;
    auto again = sala::createBackend(sala::BackendKind::Cuda, *model, options);
    QVERIFY(again.ok());
    QCOMPARE(reports.size(), complete);
    auto ctx = contextOf(**again);
    sala::ForwardOutput out;
    QVERIFY(ctx->forward(std::vector<int>{1, 2, 3}, {}, out).ok());
}

// Steps from below the selection threshold (identical launches, so identical logits) into
// selection by score, where the graph's selection splits its key range by itself (fp32
// rounding of the normaliser may differ); a reserve in the middle moves every cache, so the
// graph must be captured again.
void TestCudaBackend::decodeGraphMatchesDirectLaunches() {
    sala::BackendOptions direct;
    direct.decodeGraphs = false;
    auto graphs = backendFor(realModel_, sala::BackendKind::Cuda);
    auto plain = backendFor(realModel_, sala::BackendKind::Cuda, direct);
    std::mt19937 rng = gputest::freshRng();
    const std::vector<int> prompt = randomTokens(700, 1024, rng);
    const std::vector<int> steps = randomTokens(160, 1024, rng);
    auto a = contextOf(*graphs);
    auto b = contextOf(*plain);
    const auto firstA = runSequence(*a, prompt, 512, {steps.begin(), steps.begin() + 80});
    const auto firstB = runSequence(*b, prompt, 512, {steps.begin(), steps.begin() + 80});
    auto* cuda = dynamic_cast<sala::cuda::CudaContext*>(a.get());
    QVERIFY(cuda);
    const int captured = cuda->graphCaptures();
    QVERIFY(captured >= 1);
    QVERIFY(a->reserve(a->position() + 4096).ok());
    const auto restA = runSequence(*a, {}, 1, {steps.begin() + 80, steps.end()});
    const auto restB = runSequence(*b, {}, 1, {steps.begin() + 80, steps.end()});
    QCOMPARE(cuda->graphCaptures(), captured + 1);
    QCOMPARE(cuda->graphReplays(), int64_t(steps.size()));
    QCOMPARE(dynamic_cast<sala::cuda::CudaContext*>(b.get())->graphReplays(), int64_t(0));
    std::vector<std::vector<float>> rowsA = firstA, rowsB = firstB;
    rowsA.insert(rowsA.end(), restA.begin() + 1, restA.end());
    rowsB.insert(rowsB.end(), restB.begin() + 1, restB.end());
    QCOMPARE(rowsA.size(), steps.size() + 1);
    // Selection by score starts at position 768 (topk 8 blocks of 64 plus the window).
    const size_t denseSteps = 768 - prompt.size();
    for (size_t i = 0; i < rowsA.size(); ++i) {
        for (float x : rowsA[i]) QVERIFY2(std::isfinite(x), "a graph step gave a non-finite logit");
        if (i <= denseSteps)
            QVERIFY2(rowsA[i] == rowsB[i], qPrintable(QString("step %1 differs").arg(i)));
        else
            QVERIFY(gputest::relativeL2(rowsA[i].data(), rowsB[i].data(), rowsA[i].size()) < 1e-2);
    }
}

// The load-time warm-up runs a scratch chunk and a decode step: afterwards a context must
// compute exactly what a context of a backend without warm-up computes.
void TestCudaBackend::warmUpLeavesNoTrace() {
    sala::BackendOptions cold;
    cold.warmUp = false;
    auto warm = backendFor(realModel_, sala::BackendKind::Cuda);
    auto plain = backendFor(realModel_, sala::BackendKind::Cuda, cold);
    const auto* warmCuda = dynamic_cast<const sala::cuda::CudaBackend*>(warm.get());
    const auto* plainCuda = dynamic_cast<const sala::cuda::CudaBackend*>(plain.get());
    QVERIFY(warmCuda && plainCuda);
    QVERIFY(warmCuda->warmUpTokens() > 1);
    QCOMPARE(plainCuda->warmUpTokens(), int64_t(0));
    const auto [rowsA, rowsB] = sameRunOn(*warm, *plain);
    QCOMPARE(rowsA.size(), size_t(kSameRunSteps + 1));
    for (size_t i = 0; i < rowsA.size(); ++i)
        QVERIFY2(rowsA[i] == rowsB[i], qPrintable(QString("row %1 differs").arg(i)));
}

// One-row products (every product of a decode step, the logits of a prefill's last token) run
// through launchGemv; with decodeProducts off, through the norm and SwiGLU kernels and cuBLASLt.
// The two agree to the bf16 rounding of the products' outputs.
void TestCudaBackend::decodeProductsMatchCublas() {
    sala::BackendOptions cublas;
    cublas.decodeProducts = false;
    auto gemv = backendFor(realModel_, sala::BackendKind::Cuda);
    auto plain = backendFor(realModel_, sala::BackendKind::Cuda, cublas);
    const auto [rowsA, rowsB] = sameRunOn(*gemv, *plain);
    QCOMPARE(rowsA.size(), size_t(kSameRunSteps + 1));
    for (size_t i = 0; i < rowsA.size(); ++i) {
        for (float x : rowsA[i])
            QVERIFY2(std::isfinite(x), "a decode step gave a non-finite logit");
        const double err = gputest::relativeL2(rowsA[i].data(), rowsB[i].data(), rowsA[i].size());
        QVERIFY2(err < 1e-2, qPrintable(QString("step %1: relative L2 %2").arg(i).arg(err)));
    }
}

void TestCudaBackend::lastLayerPrunedMatchesAllRows_data() {
    QTest::addColumn<int>("model");
    QTest::newRow("sparse last layer") << 0;
    QTest::newRow("lightning last layer") << 1;
    // The pruned rows take the whole stacked projection and rotate their keys there.
    QTest::newRow("sparse last layer, rotated") << 2;
}

// A prefill that wants the last token's logits alone takes the last layer's other rows only as
// far as its caches need them (cuda_last_layer.cpp). Against a prefill that asks for every row's
// logits: the same last row, and the same steps after it, so the caches and states it left agree.
// Chunks of 1,000 reach selection by score (from 768 tokens on) in the second chunk.
void TestCudaBackend::lastLayerPrunedMatchesAllRows() {
    QFETCH(int, model);
    const std::string dirs[] = {realModel_, lightningLastModel_, rotatedModel_};
    auto gpu = backendFor(dirs[model], sala::BackendKind::Cuda);
    std::mt19937 rng = gputest::freshRng();
    const std::vector<int> prompt = randomTokens(2500, 1024, rng);
    const std::vector<int> steps = randomTokens(8, 1024, rng);
    sala::ForwardOptions everyRow;
    everyRow.allLogits = true;
    auto pruned = contextOf(*gpu);
    auto full = contextOf(*gpu);
    const auto a = runSequence(*pruned, prompt, 1000, steps);
    const auto b = runSequence(*full, prompt, 1000, steps, everyRow);
    QCOMPARE(a.size(), steps.size() + 1);
    QCOMPARE(b.size(), a.size());
    for (size_t i = 0; i < a.size(); ++i) {
        QCOMPARE(a[i].size(), size_t(1024));
        QCOMPARE(b[i].size(), a[i].size());
        for (float x : a[i]) QVERIFY2(std::isfinite(x), "a pruned prefill gave a non-finite logit");
        const double err = gputest::relativeL2(a[i].data(), b[i].data(), a[i].size());
        QVERIFY2(err < 1e-2, qPrintable(QString("row %1: relative L2 %2").arg(i).arg(err)));
    }
}

// A sparse layer whose block selection runs on the selection stream beside its attention
// (cuda_selection_overlap.cpp) computes what the one-stream order computes, bit for bit: the
// same kernels on the same rows, only when they run differs. An attention part that started
// before its part's blocks were chosen would read the lists of the layer before. Chunks of
// 1,000 rows go in parts of 256; selection by score starts at 768 tokens.
void TestCudaBackend::selectionBesideAttentionMatchesInOrder() {
    sala::BackendOptions beside, inOrder;
    beside.selectionOverlapFrom = 0;
    inOrder.selectionOverlapFrom = -1;
    auto a = backendFor(realModel_, sala::BackendKind::Cuda, beside);
    auto b = backendFor(realModel_, sala::BackendKind::Cuda, inOrder);
    std::mt19937 rng = gputest::freshRng();
    const std::vector<int> prompt = randomTokens(2500, 1024, rng);
    const std::vector<int> steps = randomTokens(8, 1024, rng);
    auto ca = contextOf(*a);
    auto cb = contextOf(*b);
    const auto ra = runSequence(*ca, prompt, 1000, steps);
    const auto rb = runSequence(*cb, prompt, 1000, steps);
    const auto* overlapped = dynamic_cast<const sala::cuda::CudaContext*>(ca.get());
    const auto* plain = dynamic_cast<const sala::cuda::CudaContext*>(cb.get());
    QVERIFY(overlapped && plain);
    QVERIFY2(overlapped->overlappedLayers() > 0, "no layer ran its selection beside attention");
    QCOMPARE(plain->overlappedLayers(), int64_t(0));
    QCOMPARE(ra.size(), steps.size() + 1);
    QCOMPARE(rb.size(), ra.size());
    for (size_t i = 0; i < ra.size(); ++i) {
        for (float x : ra[i]) QVERIFY2(std::isfinite(x), "a non-finite logit");
        QVERIFY2(ra[i] == rb[i], qPrintable(QString("row %1 differs: relative L2 %2")
                                                .arg(i)
                                                .arg(gputest::relativeL2(ra[i].data(), rb[i].data(),
                                                                         ra[i].size()))));
    }
}

QTEST_GUILESS_MAIN(TestCudaBackend)
#include "test_cuda_backend.moc"
