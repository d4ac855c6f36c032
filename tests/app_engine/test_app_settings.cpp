// Settings persistence (in Qt's test locations) and the model finder on a fake hub cache.

#include "model_finder.h"
#include "settings.h"

#include <QDir>
#include <QFile>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

using namespace folio;

namespace {

bool writeFile(const QString& path, const QByteArray& content) {
    if (!QDir().mkpath(QFileInfo(path).path())) return false;
    QFile file(path);
    return file.open(QIODevice::WriteOnly) && file.write(content) == content.size();
}

// A model folder: config.json with the given type, optionally tokenizer and weights.
bool makeModel(const QString& dir, const QByteArray& type, bool withFiles = true) {
    if (!writeFile(dir + "/config.json", "{\"model_type\": \"" + type + "\"}")) return false;
    if (!withFiles) return true;
    return writeFile(dir + "/tokenizer.model", "x") && writeFile(dir + "/model.safetensors", "x");
}

} // namespace

class TestAppSettings : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() {
        QStandardPaths::setTestModeEnabled(true);
        QSettings("Folio", "folio").clear();
    }
    void cleanupTestCase() { QSettings("Folio", "folio").clear(); }

    void defaults() {
        Settings s;
        QCOMPARE(s.backend(), QString("auto"));
        QCOMPARE(s.vramBudget(), quint64(0));
        QVERIFY(s.prefillChunk() >= Settings::kMinChunk);
        QVERIFY(s.modelFolder().isEmpty());
        QCOMPARE(s.dataFolder(), QStandardPaths::writableLocation(QStandardPaths::AppDataLocation));
        const AskOptions d;
        QCOMPARE(s.samplingDefaults().temperature, d.temperature);
        QCOMPARE(s.samplingDefaults().maxTokens, d.maxTokens);
    }

    void roundTrip() {
        AskOptions sampling;
        sampling.temperature = 0.3;
        sampling.topK = 40;
        sampling.topP = 0.85;
        sampling.minP = 0.05;
        sampling.repetitionPenalty = 1.1;
        sampling.seed = 1234567890123ull;
        sampling.maxTokens = 777;
        sampling.noThinking = true;
        {
            Settings s;
            s.setModelFolder("/models/sala");
            QVERIFY(s.setBackend("cuda"));
            s.setVramBudget(24ull << 30);
            s.setPrefillChunk(4096);
            s.setSamplingDefaults(sampling);
            s.setSystemPrompt("Answer briefly.\nCite the text.");
            s.setDataFolder("/data/folio");
            s.sync();
        }
        Settings s; // a fresh instance reads what the first one stored
        QCOMPARE(s.modelFolder(), QString("/models/sala"));
        QCOMPARE(s.backend(), QString("cuda"));
        QCOMPARE(s.vramBudget(), 24ull << 30);
        QCOMPARE(s.prefillChunk(), 4096);
        const AskOptions back = s.samplingDefaults();
        QCOMPARE(back.temperature, sampling.temperature);
        QCOMPARE(back.topK, sampling.topK);
        QCOMPARE(back.topP, sampling.topP);
        QCOMPARE(back.minP, sampling.minP);
        QCOMPARE(back.repetitionPenalty, sampling.repetitionPenalty);
        QCOMPARE(back.seed, sampling.seed);
        QCOMPARE(back.maxTokens, sampling.maxTokens);
        QCOMPARE(back.noThinking, true);
        QCOMPARE(back.systemPrompt, QString("Answer briefly.\nCite the text."));
        QCOMPARE(s.dataFolder(), QString("/data/folio"));
        QCOMPARE(s.snapshotFolder(), QString("/data/folio/snapshots"));
    }

    void rejectsBadValues() {
        Settings s;
        QVERIFY(s.setBackend("cpu"));
        QVERIFY(!s.setBackend("tpu"));
        QCOMPARE(s.backend(), QString("cpu"));
        s.setPrefillChunk(1);
        QCOMPARE(s.prefillChunk(), Settings::kMinChunk);
        s.setPrefillChunk(1 << 30);
        QCOMPARE(s.prefillChunk(), Settings::kMaxChunk);
        // A hand-edited file with nonsense falls back to defaults.
        QSettings("Folio", "folio").setValue("engine/backend", "warp-drive");
        QSettings("Folio", "folio").setValue("engine/prefillChunk", "lots");
        Settings fresh;
        QCOMPARE(fresh.backend(), QString("auto"));
        QVERIFY(fresh.prefillChunk() >= Settings::kMinChunk);
    }

    void findsHubSnapshots() {
        QTemporaryDir root;
        const QString hub = root.filePath("hub");
        const QString sala = hub + "/models--openbmb--MiniCPM-SALA/snapshots/abc123";
        QVERIFY(makeModel(sala, "minicpm_sala"));
        QVERIFY(makeModel(hub + "/models--meta--Llama/snapshots/def456", "llama"));
        QVERIFY(makeModel(hub + "/models--someone--Partial/snapshots/0001", "minicpm_sala", false));
        QVERIFY(writeFile(hub + "/models--broken--Json/snapshots/1/config.json", "{nope"));
        QVERIFY(QDir().mkpath(hub + "/datasets--x--y/snapshots/1"));

        const QList<ModelCandidate> found = findModels(QString(), hub);
        QCOMPARE(found.size(), 2);
        QStringList names;
        for (const auto& c : found) names << c.name;
        names.sort();
        QCOMPARE(names, QStringList({"openbmb/MiniCPM-SALA", "someone/Partial"}));
        for (const auto& c : found) {
            QCOMPARE(c.source, QString("huggingface"));
            QCOMPARE(c.complete, c.name == "openbmb/MiniCPM-SALA");
            if (!c.complete) QVERIFY(c.problem.contains("tokenizer.model"));
        }
    }

    void explicitFolderComesFirst() {
        QTemporaryDir root;
        const QString mine = root.filePath("my-model");
        QVERIFY(makeModel(mine, "minicpm_sala"));
        const QString hub = root.filePath("hub");
        QVERIFY(makeModel(hub + "/models--a--B/snapshots/r1", "minicpm_sala"));
        const QList<ModelCandidate> found = findModels(mine, hub);
        QCOMPARE(found.size(), 2);
        QCOMPARE(found[0].dir, QDir::cleanPath(mine));
        QCOMPARE(found[0].source, QString("explicit"));
        QCOMPARE(found[1].name, QString("a/B"));

        // The explicit folder named again through the hub path is listed once.
        QCOMPARE(findModels(hub + "/models--a--B/snapshots/r1", hub).size(), 1);
        // An explicit folder that is not a SALA model is left out.
        QCOMPARE(findModels(root.filePath("nothing"), hub).size(), 1);
    }

    void explainsRejectedFolders() {
        QTemporaryDir root;
        QString why;
        QVERIFY(!isSalaModelFolder(root.path(), &why));
        QVERIFY(why.contains("config.json"));
        QVERIFY(makeModel(root.filePath("llama"), "llama"));
        QVERIFY(!isSalaModelFolder(root.filePath("llama"), &why));
        QVERIFY(why.contains("llama"));
        QVERIFY(writeFile(root.filePath("bad/config.json"), "[1,"));
        QVERIFY(!isSalaModelFolder(root.filePath("bad"), &why));
        QVERIFY(why.contains("JSON"));
    }
};

QTEST_GUILESS_MAIN(TestAppSettings)
#include "test_app_settings.moc"
