// The engine worker on its own thread, driven through EngineController, with a generated tiny
// model on the CPU backend.

#include "engine_worker.h"
#include "tiny_model.h"

#include <QDir>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

using namespace folio;

namespace {

constexpr int kWait = 60000;

// Deterministic prose of roughly `sentences` * 12 tokens.
QString makeDocument(int sentences, int salt = 0) {
    QString text;
    for (int i = 0; i < sentences; ++i)
        text += QStringLiteral("Sentence %1 of part %2 tells about river number %3. ")
                    .arg(i)
                    .arg(salt)
                    .arg((i * 7 + salt) % 13);
    return text;
}

AskOptions greedy(int maxTokens) {
    AskOptions o;
    o.temperature = 0;
    o.maxTokens = maxTokens;
    return o;
}

QString joinedText(const QSignalSpy& spy, const QString& key) {
    QString text;
    for (const auto& args : spy)
        if (args.at(0).toString() == key) text += args.at(1).toString();
    return text;
}

int countFor(const QSignalSpy& spy, const QString& key) {
    int n = 0;
    for (const auto& args : spy) n += args.at(0).toString() == key;
    return n;
}

} // namespace

class TestEngineWorker : public QObject {
    Q_OBJECT
private:
    QTemporaryDir modelDir_;
    QTemporaryDir dataDir_;
    std::unique_ptr<EngineController> engine_;

    // Starts a fresh controller with the tiny model loaded and the given LRU limits.
    bool startEngine(int maxContexts = 4, int chunk = 32) {
        engine_ = std::make_unique<EngineController>();
        engine_->setSnapshotDir(dataDir_.filePath("snapshots"));
        engine_->setResidentLimits(0, maxContexts);
        QSignalSpy loaded(engine_.get(), &EngineController::modelLoaded);
        engine_->loadModel(modelDir_.path(), "cpu", 0, chunk);
        return loaded.wait(kWait) || loaded.count() == 1;
    }

    bool open(const QString& key, const QString& text, bool* fromSnapshot = nullptr) {
        QSignalSpy ready(engine_.get(), &EngineController::contextReady);
        QSignalSpy failed(engine_.get(), &EngineController::contextFailed);
        engine_->openContext(key, text);
        while (ready.isEmpty() && failed.isEmpty())
            if (!ready.wait(kWait)) break;
        if (ready.count() != 1) return false;
        if (fromSnapshot) *fromSnapshot = ready.first().at(2).toBool();
        return true;
    }

    // Asks and waits for the end; returns the streamed text, or a null string on failure.
    QString askAndWait(const QString& key, const QString& question, const AskOptions& options,
                       EngineStats* stats = nullptr, QString* reason = nullptr,
                       const QList<ChatTurn>& history = {}) {
        QSignalSpy text(engine_.get(), &EngineController::answerText);
        QSignalSpy finished(engine_.get(), &EngineController::answerFinished);
        QSignalSpy failed(engine_.get(), &EngineController::answerFailed);
        engine_->ask(key, question, options, history);
        while (finished.isEmpty() && failed.isEmpty())
            if (!finished.wait(kWait)) break;
        if (finished.count() != 1) return QString();
        if (stats) *stats = finished.first().at(1).value<EngineStats>();
        if (reason) *reason = finished.first().at(2).toString();
        QString joined = joinedText(text, key);
        return joined.isNull() ? QString("") : joined;
    }

private slots:
    void initTestCase() {
        QVERIFY(modelDir_.isValid() && dataDir_.isValid());
        QVERIFY(testutil::writeTinyModel(modelDir_.path().toStdString()));
    }

    void cleanup() { engine_.reset(); }

    void loadsModelOnCpu() {
        engine_ = std::make_unique<EngineController>();
        QSignalSpy loaded(engine_.get(), &EngineController::modelLoaded);
        QSignalSpy memory(engine_.get(), &EngineController::memoryUpdated);
        engine_->loadModel(modelDir_.path(), "cpu", 0, 64);
        QVERIFY(loaded.wait(kWait));
        const auto info = loaded.first().at(0).value<ModelInfo>();
        QCOMPARE(info.dir, modelDir_.path());
        QCOMPARE(info.backendName, QString("cpu"));
        QVERIFY(info.contextCapacity > 0);
        QVERIFY(!info.isDemo);
        QTRY_VERIFY_WITH_TIMEOUT(!memory.isEmpty(), kWait);
        const auto readout = memory.last().at(0).value<MemoryReadout>();
        QVERIFY(!readout.gpu);
        QVERIFY(readout.processRss > 0);
        QVERIFY(readout.weights > 0);
    }

    // Progress from 0 to the whole weight files, all of it before modelLoaded.
    void loadReportsProgress() {
        engine_ = std::make_unique<EngineController>();
        QStringList events;
        QList<QPair<qint64, qint64>> reports;
        connect(engine_.get(), &EngineController::modelProgress, this,
                [&](qint64 done, qint64 total) {
                    events << "progress";
                    reports.append({done, total});
                });
        connect(engine_.get(), &EngineController::modelLoaded, this,
                [&](const ModelInfo&) { events << "loaded"; });
        QSignalSpy loaded(engine_.get(), &EngineController::modelLoaded);
        engine_->loadModel(modelDir_.path(), "cpu", 0, 64);
        QVERIFY(loaded.wait(kWait));
        QVERIFY(reports.size() >= 2);
        QCOMPARE(events.last(), QString("loaded"));
        QCOMPARE(events.count("loaded"), 1);
        qint64 files = 0;
        for (const QFileInfo& f : QDir(modelDir_.path()).entryInfoList({"*.safetensors"}))
            files += f.size();
        QCOMPARE(reports.first().first, qint64(0));
        for (int i = 0; i < reports.size(); ++i) {
            QCOMPARE(reports[i].second, files);
            if (i > 0) QVERIFY(reports[i].first >= reports[i - 1].first);
        }
        QCOMPARE(reports.last().first, files);
    }

    // A cancel during the load fails it as "cancelled", loads nothing, and the next load works.
    void cancelStopsTheLoad() {
        engine_ = std::make_unique<EngineController>();
        EngineWorker* worker = engine_->worker();
        // Runs on the engine thread, inside the load, like a click on Cancel during it.
        auto cancelOnFirst = connect(
            worker, &EngineWorker::modelProgress, worker, [worker] { worker->requestCancel(); },
            Qt::DirectConnection);
        QSignalSpy failed(engine_.get(), &EngineController::modelFailed);
        QSignalSpy loaded(engine_.get(), &EngineController::modelLoaded);
        engine_->loadModel(modelDir_.path(), "cpu", 0, 64);
        QVERIFY(failed.wait(kWait));
        QCOMPARE(failed.first().at(0).toString(), QString("cancelled"));
        QVERIFY(loaded.isEmpty());
        QSignalSpy contextFailed(engine_.get(), &EngineController::contextFailed);
        engine_->openContext("doc:A", "text");
        QVERIFY(contextFailed.wait(kWait)); // no model
        disconnect(cancelOnFirst);
        engine_->loadModel(modelDir_.path(), "cpu", 0, 64);
        QVERIFY(loaded.wait(kWait));
        QCOMPARE(failed.count(), 1);
    }

    void brokenModelFolderFails() {
        QTemporaryDir broken;
        QFile config(broken.filePath("config.json"));
        QVERIFY(config.open(QIODevice::WriteOnly));
        config.write("{ \"model_type\": \"minicpm_sala\", ");
        config.close();
        engine_ = std::make_unique<EngineController>();
        QSignalSpy failed(engine_.get(), &EngineController::modelFailed);
        QSignalSpy loaded(engine_.get(), &EngineController::modelLoaded);
        engine_->loadModel(broken.path(), "cpu", 0, 64);
        QVERIFY(failed.wait(kWait));
        QVERIFY(loaded.isEmpty());
        QVERIFY2(failed.first().at(0).toString().contains(broken.path()),
                 qPrintable(failed.first().at(0).toString()));

        engine_->loadModel(broken.filePath("missing"), "cpu", 0, 64);
        QVERIFY(failed.wait(kWait));
        QVERIFY(failed.last().at(0).toString().contains("missing"));
        engine_->loadModel(modelDir_.path(), "quantum", 0, 64);
        QVERIFY(failed.wait(kWait));
        QVERIFY(failed.last().at(0).toString().contains("quantum"));
    }

    void openWithoutModelFails() {
        engine_ = std::make_unique<EngineController>();
        QSignalSpy failed(engine_.get(), &EngineController::contextFailed);
        engine_->openContext("doc:1", "text");
        QVERIFY(failed.wait(kWait));
        QCOMPARE(failed.first().at(0).toString(), QString("doc:1"));
    }

    void opensAsksAndReusesCheckpoint() {
        QVERIFY(startEngine());
        QSignalSpy progress(engine_.get(), &EngineController::contextProgress);
        QSignalSpy ready(engine_.get(), &EngineController::contextReady);
        QSignalSpy memory(engine_.get(), &EngineController::memoryUpdated);
        QSignalSpy speed(engine_.get(), &EngineController::speedUpdated);
        engine_->openContext("doc:1", makeDocument(30));
        QVERIFY(ready.wait(kWait));
        const qint64 tokens = ready.first().at(1).toLongLong();
        QVERIFY(tokens > 200);
        QVERIFY(!ready.first().at(2).toBool());
        QVERIFY(progress.count() >= 2);
        QCOMPARE(progress.first().at(1).toLongLong(), 0);
        QCOMPARE(progress.last().at(1).toLongLong(), tokens);
        QCOMPARE(progress.last().at(2).toLongLong(), tokens);
        QVERIFY(progress.last().at(3).toDouble() > 0); // a live rate once tokens went in
        QVERIFY(!speed.isEmpty());
        QCOMPARE(speed.last().at(0).value<EngineStats>().promptTokens, tokens);
        QVERIFY(!memory.isEmpty());
        const auto readout = memory.last().at(0).value<MemoryReadout>();
        QVERIFY(readout.perDocument.value("doc:1") > 0);
        QVERIFY(readout.kvCache > 0);

        QSignalSpy started(engine_.get(), &EngineController::answerStarted);
        EngineStats first, second;
        QString reason;
        const QString a1 = askAndWait("doc:1", "What is this about?", greedy(12), &first, &reason);
        QVERIFY(!a1.isNull());
        QVERIFY(!a1.isEmpty());
        QCOMPARE(started.count(), 1);
        QVERIFY(first.generatedTokens > 0);
        QVERIFY(reason == "stop" || reason == "length");

        const int progressBefore = progress.count();
        const QString a2 = askAndWait("doc:1", "What is this about?", greedy(12), &second);
        // No second prefill: only the question went in, and the answer starts from the same
        // state as before.
        QCOMPARE(progress.count(), progressBefore);
        QCOMPARE(ready.count(), 1);
        QCOMPARE(second.promptTokens, first.promptTokens);
        QVERIFY(second.promptTokens < tokens / 4);
        QCOMPARE(a2, a1);

        // Opening the resident key again reuses it at once.
        engine_->openContext("doc:1", makeDocument(30));
        QVERIFY(ready.wait(kWait));
        QCOMPARE(progress.count(), progressBefore);
        QCOMPARE(ready.last().at(1).toLongLong(), tokens);
    }

    void followUpCarriesTheConversation() {
        QVERIFY(startEngine());
        QSignalSpy ready(engine_.get(), &EngineController::contextReady);
        QVERIFY(open("doc:1", makeDocument(12)));
        EngineStats alone, followUp;
        const QString a1 = askAndWait("doc:1", "Which river?", greedy(8));
        QVERIFY(!a1.isNull());
        QVERIFY(!askAndWait("doc:1", "And then?", greedy(8), &alone).isNull());
        const QList<ChatTurn> history = {{"Which river?", a1}};
        QVERIFY(!askAndWait("doc:1", "And then?", greedy(8), &followUp, nullptr, history).isNull());
        // The earlier turn went in after the checkpoint, with no second prefill of the document.
        QVERIFY2(
            followUp.promptTokens > alone.promptTokens + 4,
            qPrintable(QString("%1 vs %2").arg(followUp.promptTokens).arg(alone.promptTokens)));
        QCOMPARE(ready.count(), 1);
    }

    void cancelDuringLoad() {
        QVERIFY(startEngine(4, 16));
        QSignalSpy failed(engine_.get(), &EngineController::contextFailed);
        QSignalSpy ready(engine_.get(), &EngineController::contextReady);
        EngineController* engine = engine_.get();
        // Runs on the engine thread at the first progress past the start, so the cancel lands
        // mid-load regardless of how fast this machine is.
        connect(
            engine_->worker(), &EngineWorker::contextProgress, engine_->worker(),
            [engine](const QString&, qint64 done, qint64) {
                if (done > 0) engine->requestCancel();
            },
            Qt::DirectConnection);
        engine_->openContext("doc:long", makeDocument(200));
        QVERIFY(failed.wait(kWait));
        QCOMPARE(failed.first().at(0).toString(), QString("doc:long"));
        QCOMPARE(failed.first().at(1).toString(), QString("cancelled"));
        QVERIFY(ready.isEmpty());

        // The cancelled context is gone, and the worker goes on working.
        QSignalSpy answerFailed(engine_.get(), &EngineController::answerFailed);
        engine_->ask("doc:long", "Anything?", greedy(4));
        QVERIFY(answerFailed.wait(kWait));
        disconnect(engine_->worker(), &EngineWorker::contextProgress, engine_->worker(), nullptr);
        QVERIFY(open("doc:short", makeDocument(5)));
        QVERIFY(!askAndWait("doc:short", "Anything?", greedy(4)).isNull());
    }

    void stopDuringAnswer() {
        QVERIFY(startEngine());
        QVERIFY(open("doc:1", makeDocument(10)));
        EngineController* engine = engine_.get();
        connect(
            engine_->worker(), &EngineWorker::answerText, engine_->worker(),
            [engine] { engine->requestStop(); }, Qt::DirectConnection);
        AskOptions options;
        options.temperature = 0.8;
        options.seed = 7;
        options.maxTokens = 500;
        EngineStats stats;
        QString reason;
        QVERIFY(!askAndWait("doc:1", "Tell me everything.", options, &stats, &reason).isNull());
        QCOMPARE(reason, QString("stopped"));
        QVERIFY(stats.generatedTokens < 20);

        // The next answer is not stopped by the old request.
        disconnect(engine_->worker(), &EngineWorker::answerText, engine_->worker(), nullptr);
        options.maxTokens = 6;
        QVERIFY(!askAndWait("doc:1", "Again.", options, &stats, &reason).isNull());
        QVERIFY(reason != "stopped");
    }

    void leastRecentlyUsedGoesToSnapshot() {
        QVERIFY(startEngine(1));
        const QString docA = makeDocument(20, 1), docB = makeDocument(20, 2);
        bool fromSnapshot = true;
        QVERIFY(open("doc:A", docA, &fromSnapshot));
        QVERIFY(!fromSnapshot);
        const QString a1 = askAndWait("doc:A", "Which river?", greedy(10));
        QVERIFY(!a1.isNull());

        QSignalSpy memory(engine_.get(), &EngineController::memoryUpdated);
        QVERIFY(open("doc:B", docB, &fromSnapshot));
        QVERIFY(!fromSnapshot);
        QVERIFY(!memory.isEmpty());
        const auto readout = memory.last().at(0).value<MemoryReadout>();
        QCOMPARE(readout.perDocument.keys(), QList<QString>{"doc:B"});
        const QStringList snapshots =
            QDir(dataDir_.filePath("snapshots")).entryList({"doc_A-*"}, QDir::Files);
        QCOMPARE(snapshots.size(), 1);

        QSignalSpy progress(engine_.get(), &EngineController::contextProgress);
        QVERIFY(open("doc:A", docA, &fromSnapshot));
        QVERIFY(fromSnapshot);
        QCOMPARE(countFor(progress, "doc:A"), 0);
        QCOMPARE(askAndWait("doc:A", "Which river?", greedy(10)), a1);

        // Asking about an evicted key brings it back by itself.
        QSignalSpy ready(engine_.get(), &EngineController::contextReady);
        QVERIFY(!askAndWait("doc:B", "Which river?", greedy(4)).isNull());
        QCOMPARE(ready.count(), 1);
        QCOMPARE(ready.first().at(0).toString(), QString("doc:B"));
        QVERIFY(ready.first().at(2).toBool());
    }

    void tooLongDocumentIsRefused() {
        QVERIFY(startEngine());
        QSignalSpy loaded(engine_.get(), &EngineController::modelLoaded);
        engine_->loadModel(modelDir_.path(), "cpu", 0, 32);
        QVERIFY(loaded.wait(kWait));
        const qint64 capacity = loaded.first().at(0).value<ModelInfo>().contextCapacity;
        // Each "x " is one token at least, so this exceeds the capacity whatever it is.
        const QString text = QString("x ").repeated(int(capacity) + 10);
        QSignalSpy progress(engine_.get(), &EngineController::contextProgress);
        QSignalSpy failed(engine_.get(), &EngineController::contextFailed);
        engine_->openContext("doc:huge", text);
        QVERIFY(failed.wait(kWait));
        const QString message = failed.first().at(1).toString();
        QVERIFY2(message.contains(QString::number(capacity)), qPrintable(message));
        QVERIFY(message.contains("truncated"));
        QVERIFY(progress.isEmpty());
    }
};

QTEST_GUILESS_MAIN(TestEngineWorker)
#include "test_engine_worker.moc"
