// folio-bench's prefilled contexts on the CPU backend and a tiny model: a context prefilled once
// is saved to the state folder and reopened by the next run with the same state; files that do
// not fit are replaced, never trusted.

#include "bench_prefill.h"
#include "tiny_model.h"

#include <QTemporaryDir>
#include <QtTest>

#include <fstream>

using folio::bench::prefillContext;
using folio::bench::PrefillRun;
using folio::bench::prefillStateFile;

namespace fs = std::filesystem;

class TestBenchPrefill : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void savesThenReopensTheSameState();
    void withoutAFolderNothingIsWritten();
    void unreadableFileIsReplaced();
    void fileOfAnotherLengthIsNotTrusted();

private:
    PrefillRun run(int64_t length, const std::optional<fs::path>& folder, int* prefills = nullptr);
    std::vector<float> logitsAfter(sala::Context& ctx, int token);

    QTemporaryDir tmp_;
    std::unique_ptr<sala::Backend> backend_;
    static constexpr int kChunk = 16;
    static constexpr uint64_t kSeed = 7;
};

void TestBenchPrefill::initTestCase() {
    QVERIFY(tmp_.isValid());
    const fs::path dir = fs::path(tmp_.path().toStdString()) / "tiny";
    QVERIFY(testutil::writeTinyModel(dir));
    auto model = sala::loadModel(dir);
    QVERIFY(model.ok());
    auto backend = sala::createBackend(sala::BackendKind::Cpu, *model);
    QVERIFY(backend.ok());
    backend_ = std::move(*backend);
}

PrefillRun TestBenchPrefill::run(int64_t length, const std::optional<fs::path>& folder,
                                 int* prefills) {
    return prefillContext(*backend_, length, 4, kChunk, kSeed, folder, [prefills](bool begins) {
        if (prefills && begins) ++*prefills;
    });
}

std::vector<float> TestBenchPrefill::logitsAfter(sala::Context& ctx, int token) {
    sala::ForwardOutput out;
    const auto st = ctx.forward(std::span<const int>(&token, 1), {}, out);
    return st.ok() ? out.logits : std::vector<float>{};
}

void TestBenchPrefill::savesThenReopensTheSameState() {
    const fs::path folder = fs::path(tmp_.path().toStdString()) / "states";
    int prefills = 0;
    PrefillRun first = run(40, folder, &prefills);
    QVERIFY2(first.error.empty(), first.error.c_str());
    QVERIFY(!first.reopened);
    QCOMPARE(prefills, 1);
    QCOMPARE(first.context->position(), int64_t(40));
    const fs::path file = prefillStateFile(folder, backend_->model(), 40, kSeed);
    QVERIFY(fs::exists(file));

    PrefillRun second = run(40, folder, &prefills);
    QVERIFY2(second.error.empty(), second.error.c_str());
    QVERIFY(second.reopened);
    QVERIFY(second.note.empty());
    QCOMPARE(prefills, 1); // no second prefill
    QVERIFY(second.reopenSeconds > 0);
    QCOMPARE(second.context->tokens(), first.context->tokens());
    // The same state: the next token's logits are identical, bit for bit.
    const std::vector<float> a = logitsAfter(*first.context, first.next);
    const std::vector<float> b = logitsAfter(*second.context, first.next);
    QVERIFY(!a.empty());
    QVERIFY(a == b);
}

void TestBenchPrefill::withoutAFolderNothingIsWritten() {
    const fs::path before = fs::path(tmp_.path().toStdString());
    const auto count = [&] {
        return std::distance(fs::recursive_directory_iterator(before),
                             fs::recursive_directory_iterator{});
    };
    const auto files = count();
    PrefillRun r = run(24, std::nullopt);
    QVERIFY2(r.error.empty(), r.error.c_str());
    QVERIFY(!r.reopened);
    QCOMPARE(r.context->position(), int64_t(24));
    QCOMPARE(count(), files);
}

void TestBenchPrefill::unreadableFileIsReplaced() {
    const fs::path folder = fs::path(tmp_.path().toStdString()) / "garbage";
    fs::create_directories(folder);
    const fs::path file = prefillStateFile(folder, backend_->model(), 32, kSeed);
    std::ofstream(file) << "not a Folio state file";
    int prefills = 0;
    PrefillRun r = run(32, folder, &prefills);
    QVERIFY2(r.error.empty(), r.error.c_str());
    QVERIFY(!r.reopened);
    QCOMPARE(prefills, 1);
    QVERIFY(r.note.find("not used") != std::string::npos);
    // Replaced by the prefill's state, which the next run reopens.
    PrefillRun again = run(32, folder, &prefills);
    QVERIFY(again.reopened);
    QCOMPARE(prefills, 1);
    QCOMPARE(again.context->tokens(), r.context->tokens());
}

void TestBenchPrefill::fileOfAnotherLengthIsNotTrusted() {
    const fs::path folder = fs::path(tmp_.path().toStdString()) / "lengths";
    PrefillRun longer = run(48, folder);
    QVERIFY(longer.error.empty() && !longer.reopened);
    // A 48-token state under the 20-token name: it loads, but holds the wrong length.
    const fs::path wrong = prefillStateFile(folder, backend_->model(), 20, kSeed);
    fs::copy_file(prefillStateFile(folder, backend_->model(), 48, kSeed), wrong);
    PrefillRun r = run(20, folder);
    QVERIFY2(r.error.empty(), r.error.c_str());
    QVERIFY(!r.reopened);
    QCOMPARE(r.context->position(), int64_t(20));
    QVERIFY(r.note.find("holds 48 tokens") != std::string::npos);
}

QTEST_GUILESS_MAIN(TestBenchPrefill)
#include "test_bench_prefill.moc"
