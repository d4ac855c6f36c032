// Loading a model on the CPU backend reads every page of its weight files with progress: the
// reports grow to the files' whole size, and a stop at any report fails the load as Cancelled.

#include "backend.h"
#include "tiny_model.h"

#include <QTemporaryDir>
#include <QtTest>

namespace {

struct Report {
    uint64_t done, total;
};

} // namespace

class TestLoadProgress : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void reportsEveryByteInOrder();
    void stopAtFirstReportCancels();
    void stopAtLastReportCancels();
    void noCallbackLoadsAsBefore();

private:
    sala::Result<std::unique_ptr<sala::Backend>> load(std::vector<Report>& reports,
                                                      int stopAt = -1);
    QTemporaryDir tmp_;
    std::shared_ptr<const sala::Model> model_;
};

void TestLoadProgress::initTestCase() {
    QVERIFY(tmp_.isValid());
    const std::string dir = tmp_.filePath("tiny").toStdString();
    QVERIFY(testutil::writeTinyModel(dir));
    auto model = sala::loadModel(dir);
    QVERIFY(model.ok());
    model_ = *model;
}

// Loads with a callback that records each report and says stop at report `stopAt` (0-based).
sala::Result<std::unique_ptr<sala::Backend>> TestLoadProgress::load(std::vector<Report>& reports,
                                                                    int stopAt) {
    sala::BackendOptions options;
    options.progress = [&](uint64_t done, uint64_t total) {
        reports.push_back({done, total});
        return int(reports.size()) - 1 != stopAt;
    };
    return sala::createBackend(sala::BackendKind::Cpu, model_, options);
}

void TestLoadProgress::reportsEveryByteInOrder() {
    std::vector<Report> reports;
    auto b = load(reports);
    QVERIFY2(b.ok(), b.ok() ? "" : b.error().message.c_str());
    uint64_t fileBytes = 0;
    for (const auto& f : model_->store.files()) fileBytes += f.mapping().size();
    QVERIFY(reports.size() >= 2);
    QCOMPARE(reports.front().done, uint64_t(0));
    for (size_t i = 0; i < reports.size(); ++i) {
        QCOMPARE(reports[i].total, fileBytes);
        if (i > 0) QVERIFY(reports[i].done >= reports[i - 1].done);
    }
    QCOMPARE(reports.back().done, fileBytes);
}

void TestLoadProgress::stopAtFirstReportCancels() {
    std::vector<Report> reports;
    auto b = load(reports, 0);
    QVERIFY(!b.ok());
    QCOMPARE(b.error().code, sala::ErrorCode::Cancelled);
    QVERIFY(b.error().message.find("cancelled") != std::string::npos);
    QCOMPARE(reports.size(), size_t(1)); // nothing read after the stop
}

void TestLoadProgress::stopAtLastReportCancels() {
    std::vector<Report> all;
    QVERIFY(load(all).ok());
    std::vector<Report> reports;
    auto b = load(reports, int(all.size()) - 1);
    QVERIFY(!b.ok());
    QCOMPARE(b.error().code, sala::ErrorCode::Cancelled);
    QCOMPARE(reports.size(), all.size());
}

void TestLoadProgress::noCallbackLoadsAsBefore() {
    auto b = sala::createBackend(sala::BackendKind::Cpu, model_);
    QVERIFY(b.ok());
    auto ctx = (*b)->createContext();
    QVERIFY(ctx.ok());
    sala::ForwardOutput out;
    QVERIFY((*ctx)->forward(std::vector<int>{1, 2, 3}, {}, out).ok());
    QCOMPARE(out.logits.size(), size_t(model_->config.vocabSize));
}

QTEST_GUILESS_MAIN(TestLoadProgress)
#include "test_load_progress.moc"
