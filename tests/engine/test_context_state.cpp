// Chunk invariance, checkpoints and saved states of a CPU context.

#include "context_file.h"
#include "engine_test_util.h"
#include "golden_case.h"

#include <QTemporaryDir>

#include <cstring>
#include <fstream>

using namespace testutil;

class TestContextState : public QObject {
    Q_OBJECT
private slots:
    void chunkInvariance_data();
    void chunkInvariance();
    void lastRowOnlyMatchesAllRows_data();
    void lastRowOnlyMatchesAllRows();
    void threadCountDoesNotChangeResults();
    void rollbackGivesIdenticalLogits();
    void rollbackToEarlierCheckpointDropsLaterOnes();
    void saveLoadGivesIdenticalLogits();
    void loadRefusesOtherModel();
    void loadRefusesDamagedFiles();
    void badTokensAreRejected();
    void memoryReportCountsCaches();
};

namespace {

std::vector<float> runChunks(sala::Context& ctx, const std::vector<int>& prompt,
                             const std::vector<int>& chunks, sala::ForwardOutput& out) {
    sala::ForwardOptions opt;
    opt.allLogits = true;
    opt.selections = true;
    std::vector<float> all;
    size_t offset = 0;
    for (int c : chunks) {
        auto st = ctx.forward(std::span<const int>(prompt.data() + offset, c), opt, out);
        if (!st) qFatal("forward failed: %s", st.error().message.c_str());
        all.insert(all.end(), out.logits.begin(), out.logits.end());
        offset += c;
    }
    return all;
}

std::vector<float> decodeSteps(sala::Context& ctx, const std::vector<int>& tokens) {
    std::vector<float> all;
    sala::ForwardOutput out;
    for (int t : tokens) {
        auto st = ctx.forward(std::span<const int>(&t, 1), {}, out);
        if (!st) qFatal("decode failed: %s", st.error().message.c_str());
        all.insert(all.end(), out.logits.begin(), out.logits.end());
    }
    return all;
}

} // namespace

void TestContextState::chunkInvariance_data() {
    QTest::addColumn<QString>("name");
    QTest::newRow("lightning chunked") << "b_lightning_chunked";
    QTest::newRow("sparse regime") << "c_sparse_regime";
    QTest::newRow("head dim 128") << "e_headdim128";
}

void TestContextState::chunkInvariance() {
    QFETCH(QString, name);
    const std::string n = name.toStdString();
    auto backend = cpuBackend(n.c_str());
    QVERIFY(backend);
    const std::vector<int> prompt = goldenPrompt(n.c_str());
    QVERIFY(!prompt.empty());
    auto whole = newContext(*backend);
    sala::ForwardOutput wholeOut;
    const std::vector<float> reference = runChunks(*whole, prompt, {int(prompt.size())}, wholeOut);
    std::mt19937 rng(QRandomGenerator::global()->generate());
    const int vocab = backend->model().config.vocabSize;
    for (int trial = 0; trial < 3; ++trial) {
        auto ctx = newContext(*backend);
        sala::ForwardOutput out;
        const auto chunks = randomChunks(int(prompt.size()), trial == 0 ? 7 : 200, rng);
        const std::vector<float> got = runChunks(*ctx, prompt, chunks, out);
        QCOMPARE(got.size(), reference.size());
        for (size_t row = 0; row < prompt.size(); ++row) {
            const double err =
                sala::relativeL2(got.data() + row * vocab, reference.data() + row * vocab, vocab);
            QVERIFY2(err < 2e-5, qPrintable(QString("row %1 error %2").arg(row).arg(err)));
        }
        QCOMPARE(out.selections, wholeOut.selections);
    }
}

void TestContextState::lastRowOnlyMatchesAllRows_data() {
    QTest::addColumn<QString>("name");
    QTest::addColumn<bool>("rotated");
    QTest::newRow("lightning chunked") << "b_lightning_chunked" << false;
    QTest::newRow("sparse regime") << "c_sparse_regime" << false;
    QTest::newRow("head dim 128") << "e_headdim128" << false;
    // The pruned rows' keys take their rotation apart from their queries.
    QTest::newRow("sparse regime, rotated sparse layers") << "c_sparse_regime" << true;
}

namespace {

// The reference model `name`, or a copy of it whose sparse layers rotate q and k.
std::unique_ptr<sala::Backend> modelFor(const std::string& name, bool rotated,
                                        const QTemporaryDir& tmp) {
    if (!rotated) return cpuBackend(name.c_str());
    const std::filesystem::path from = goldenDir(name.c_str());
    const std::filesystem::path to = tmp.filePath("rotated").toStdString();
    std::filesystem::create_directories(to);
    for (const auto& entry : std::filesystem::directory_iterator(from))
        std::filesystem::copy_file(entry.path(), to / entry.path().filename());
    auto text = sala::readTextFile(to / "config.json");
    if (!text) return nullptr;
    nlohmann::json config = nlohmann::json::parse(*text);
    config["attn_use_rope"] = true;
    std::ofstream(to / "config.json") << config.dump(2);
    auto model = sala::loadModel(to);
    if (!model) return nullptr;
    auto backend = sala::createBackend(sala::BackendKind::Cpu, *model, {});
    return backend ? std::move(backend).value() : nullptr;
}

} // namespace

// A chunk that wants only its last row's logits skips the last layer's outputs for the other
// rows. Against chunks that ask for every row: the same last rows, the same blocks chosen by the
// last token, and the same decode steps after, so the caches and states it left agree.
void TestContextState::lastRowOnlyMatchesAllRows() {
    QFETCH(QString, name);
    QFETCH(bool, rotated);
    const std::string n = name.toStdString();
    QTemporaryDir tmp;
    QVERIFY(tmp.isValid());
    auto backend = modelFor(n, rotated, tmp);
    QVERIFY(backend);
    QCOMPARE(backend->model().config.attnUseRope, rotated);
    const std::vector<int> prompt = goldenPrompt(n.c_str());
    QVERIFY(prompt.size() > 2);
    const int vocab = backend->model().config.vocabSize;
    std::mt19937 rng(QRandomGenerator::global()->generate());
    const auto chunks = randomChunks(int(prompt.size()), int(prompt.size()) / 3 + 1, rng);
    auto full = newContext(*backend);
    auto pruned = newContext(*backend);
    sala::ForwardOutput fullOut, prunedOut;
    sala::ForwardOptions lastOnly;
    lastOnly.selections = true;
    size_t offset = 0;
    for (int c : chunks) {
        const std::span<const int> chunk(prompt.data() + offset, c);
        sala::ForwardOptions every = lastOnly;
        every.allLogits = true;
        QVERIFY(full->forward(chunk, every, fullOut).ok());
        QVERIFY(pruned->forward(chunk, lastOnly, prunedOut).ok());
        QCOMPARE(prunedOut.logits.size(), size_t(vocab));
        const double err = sala::relativeL2(prunedOut.logits.data(),
                                            fullOut.logits.data() + size_t(c - 1) * vocab, vocab);
        QVERIFY2(err < 2e-5, qPrintable(QString("chunk at %1: error %2").arg(offset).arg(err)));
        QCOMPARE(prunedOut.selections, fullOut.selections);
        offset += c;
    }
    const std::vector<int> steps(prompt.begin(), prompt.begin() + 6);
    const std::vector<float> a = decodeSteps(*full, steps);
    const std::vector<float> b = decodeSteps(*pruned, steps);
    QCOMPARE(b.size(), a.size());
    for (size_t i = 0; i < steps.size(); ++i) {
        const double err = sala::relativeL2(b.data() + i * vocab, a.data() + i * vocab, vocab);
        QVERIFY2(err < 2e-5, qPrintable(QString("step %1 error %2").arg(i).arg(err)));
    }
}

void TestContextState::threadCountDoesNotChangeResults() {
    auto one = cpuBackend("c_sparse_regime", 1);
    auto two = cpuBackend("c_sparse_regime", 3);
    const std::vector<int> prompt = goldenPrompt("c_sparse_regime");
    auto a = newContext(*one);
    auto b = newContext(*two);
    sala::ForwardOutput oa, ob;
    const auto la = runChunks(*a, prompt, {400, 1100}, oa);
    const auto lb = runChunks(*b, prompt, {400, 1100}, ob);
    QVERIFY(la == lb); // bit-identical
}

void TestContextState::rollbackGivesIdenticalLogits() {
    auto backend = cpuBackend("b_lightning_chunked");
    const std::vector<int> prompt = goldenPrompt("b_lightning_chunked");
    auto ctx = newContext(*backend);
    sala::ForwardOutput out;
    runChunks(*ctx, prompt, {200}, out);
    const sala::CheckpointId cp = ctx->checkpoint();
    const std::vector<int> question(prompt.begin() + 200, prompt.end());
    const auto first = decodeSteps(*ctx, question);
    QCOMPARE(ctx->position(), int64_t(prompt.size()));
    QVERIFY(ctx->rollback(cp).ok());
    QCOMPARE(ctx->position(), int64_t(200));
    const auto again = decodeSteps(*ctx, question);
    QVERIFY(first == again);
    // A different question in between leaves no trace either.
    QVERIFY(ctx->rollback(cp).ok());
    decodeSteps(*ctx, {7, 8, 9, 10, 11});
    QVERIFY(ctx->rollback(cp).ok());
    QVERIFY(decodeSteps(*ctx, question) == first);
}

void TestContextState::rollbackToEarlierCheckpointDropsLaterOnes() {
    auto backend = cpuBackend("a_micro_dense");
    const std::vector<int> prompt = goldenPrompt("a_micro_dense");
    auto ctx = newContext(*backend);
    sala::ForwardOutput out;
    runChunks(*ctx, prompt, {10}, out);
    const auto early = ctx->checkpoint();
    runChunks(*ctx, std::vector<int>(prompt.begin() + 10, prompt.end()), {30}, out);
    const auto late = ctx->checkpoint();
    QVERIFY(ctx->rollback(early).ok());
    QCOMPARE(ctx->position(), int64_t(10));
    const auto st = ctx->rollback(late);
    QVERIFY(!st.ok());
    QCOMPARE(st.error().code, sala::ErrorCode::NotFound);
    QVERIFY(!ctx->rollback(12345).ok());
}

void TestContextState::saveLoadGivesIdenticalLogits() {
    QTemporaryDir dir;
    auto backend = cpuBackend("c_sparse_regime");
    const std::vector<int> prompt = goldenPrompt("c_sparse_regime");
    auto ctx = newContext(*backend);
    sala::ForwardOutput out;
    runChunks(*ctx, prompt, {1000}, out);
    const std::string file = dir.filePath("state.folioctx").toStdString();
    QVERIFY(ctx->save(file).ok());
    const std::vector<int> rest(prompt.begin() + 1000, prompt.end());
    const auto expected = decodeSteps(*ctx, rest);

    auto restored = newContext(*backend);
    auto st = restored->load(file);
    QVERIFY2(st.ok(), st.ok() ? "" : st.error().message.c_str());
    QCOMPARE(restored->position(), int64_t(1000));
    QVERIFY(restored->tokens() == std::vector<int>(prompt.begin(), prompt.begin() + 1000));
    QVERIFY(decodeSteps(*restored, rest) == expected);
}

void TestContextState::loadRefusesOtherModel() {
    QTemporaryDir dir;
    auto a = cpuBackend("c_sparse_regime");
    auto d = cpuBackend("d_decode_boundary"); // same layer layout, other weights
    auto ctx = newContext(*a);
    sala::ForwardOutput out;
    runChunks(*ctx, goldenPrompt("c_sparse_regime"), {100}, out);
    const std::string file = dir.filePath("state").toStdString();
    QVERIFY(ctx->save(file).ok());
    auto other = newContext(*d);
    auto st = other->load(file);
    QVERIFY(!st.ok());
    QCOMPARE(st.error().code, sala::ErrorCode::Mismatch);
    QCOMPARE(other->position(), int64_t(0));
}

void TestContextState::loadRefusesDamagedFiles() {
    QTemporaryDir dir;
    auto backend = cpuBackend("b_lightning_chunked");
    auto ctx = newContext(*backend);
    sala::ForwardOutput out;
    runChunks(*ctx, goldenPrompt("b_lightning_chunked"), {120}, out);
    const std::string file = dir.filePath("state").toStdString();
    QVERIFY(ctx->save(file).ok());
    std::ifstream in(file, std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), {});
    QVERIFY(bytes.size() > 1000);

    auto tryLoad = [&](const std::string& content) {
        const std::string path = dir.filePath("damaged").toStdString();
        std::ofstream(path, std::ios::binary) << content;
        auto target = newContext(*backend);
        sala::ForwardOutput o;
        runChunks(*target, {1, 2, 3}, {3}, o);
        auto st = target->load(path);
        // A refused file leaves the context as it was.
        if (!st.ok() && target->position() != 3) qFatal("refused load changed the context");
        return st;
    };
    std::string flipped = bytes;
    flipped[bytes.size() / 2] ^= 0x10;
    QVERIFY(!tryLoad(flipped).ok());
    QVERIFY(!tryLoad(bytes.substr(0, bytes.size() - 100)).ok());
    QVERIFY(!tryLoad(bytes.substr(0, 20)).ok());
    QVERIFY(!tryLoad("not a state file at all").ok());
    std::string version = bytes;
    version[8] = char(99);
    const auto st = tryLoad(version);
    QVERIFY(!st.ok());
    QCOMPARE(st.error().code, sala::ErrorCode::Unsupported);
    QVERIFY(tryLoad(bytes).ok());
    QVERIFY(!newContext(*backend)->load(dir.filePath("missing").toStdString()).ok());
}

void TestContextState::badTokensAreRejected() {
    auto backend = cpuBackend("a_micro_dense");
    auto ctx = newContext(*backend);
    sala::ForwardOutput out;
    const std::vector<int> bad = {1, 512};
    auto st = ctx->forward(bad, {}, out);
    QVERIFY(!st.ok());
    QCOMPARE(st.error().code, sala::ErrorCode::InvalidArgument);
    QCOMPARE(ctx->position(), int64_t(0));
    QVERIFY(!ctx->forward(std::vector<int>{-1}, {}, out).ok());
    QVERIFY(!ctx->forward(std::vector<int>{}, {}, out).ok());
    QVERIFY(ctx->forward(std::vector<int>{1, 5}, {}, out).ok());
}

void TestContextState::memoryReportCountsCaches() {
    auto backend = cpuBackend("c_sparse_regime");
    const sala::ModelConfig& c = backend->model().config;
    auto ctx = newContext(*backend);
    sala::ForwardOutput out;
    runChunks(*ctx, goldenPrompt("c_sparse_regime"), {1500}, out);
    const sala::MemoryReport m = ctx->memory();
    const uint64_t n = 1500;
    QCOMPARE(m.kvCache, uint64_t(c.numSparseLayers()) * 2 * c.numKvHeads * c.headDim * n * 4);
    const uint64_t n1 = (n - 8) / 4 + 1, n2 = (n - 32) / 16 + 1;
    QCOMPARE(m.compressedKeys,
             uint64_t(c.numSparseLayers()) * c.numKvHeads * c.headDim * (n1 + n2) * 4);
    QCOMPARE(m.linearState, uint64_t(c.numLightningLayers()) * c.lightningHeads *
                                c.lightningHeadDim * c.lightningHeadDim * 4);
    QVERIFY(m.weights > 1000000);
    QVERIFY(m.workspace > 0);
    QCOMPARE(m.checkpoints, uint64_t(0));
    ctx->checkpoint();
    QCOMPARE(ctx->memory().checkpoints, m.linearState);
}

QTEST_GUILESS_MAIN(TestContextState)
#include "test_context_state.moc"
