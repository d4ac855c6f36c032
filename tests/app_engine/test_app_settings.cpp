// Settings persistence (in Qt's test locations and in INI files), the model finder on a fake hub
// cache, and where the bundled demo model and samples are looked for.

#include "bundled_resources.h"
#include "library_location.h"
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

// A model folder: config.json with the given type (and `extra` JSON members), optionally
// tokenizer and weights.
bool makeModel(const QString& dir, const QByteArray& type, bool withFiles = true,
               const QByteArray& extra = {}) {
    const QByteArray config = "{\"model_type\": \"" + type + "\"" + extra + "}";
    if (!writeFile(dir + "/config.json", config)) return false;
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
        QCOMPARE(s.dataFolder(), defaultDataFolder());
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

    void appAndCliShareOneLibrary() {
        QSettings("Folio", "folio").clear();
        // Nothing chosen: the app's data folder, whatever the asking program is called (this
        // one is no "Folio"/"folio", as folio-cli is not).
        const QString share = QStandardPaths::writableLocation(QStandardPaths::GenericDataLocation);
        QCOMPARE(defaultDataFolder(), share + "/Folio/folio");
        QCOMPARE(defaultLibraryPath(), share + "/Folio/folio/library.sqlite");
        QCOMPARE(Settings().libraryPath(), defaultLibraryPath());

        // A data folder chosen in the app's settings moves folio-cli's library along.
        QTemporaryDir dir;
        Settings().setDataFolder(dir.filePath("chosen"));
        QCOMPARE(defaultLibraryPath(), dir.filePath("chosen/library.sqlite"));
        QVERIFY(QFileInfo(dir.filePath("chosen")).isDir());
        QCOMPARE(Settings().libraryPath(), defaultLibraryPath());
        QSettings("Folio", "folio").clear();
    }

    void valuesRoundTripThroughAnIniFile() {
        QTemporaryDir dir;
        const QString ini = dir.filePath("folio.ini");
        SettingsValues v;
        v.modelFolder = "/models/from-ini";
        v.backend = "cpu";
        v.vramBudget = 4ull << 30;
        v.prefillChunk = 512;
        v.sampling.temperature = 0.3;
        v.sampling.topK = 40;
        v.sampling.maxTokens = 77;
        v.sampling.noThinking = true;
        v.sampling.systemPrompt = "Be brief.";
        v.dataFolder = dir.filePath("data");
        Settings(ini).setValues(v);
        QVERIFY(QFile::exists(ini));

        const SettingsValues back = Settings(ini).values();
        QCOMPARE(back.vramBudget, v.vramBudget);
        QCOMPARE(back.sampling.systemPrompt, QString("Be brief."));
        QVERIFY(back == v);
        // Out-of-range values are stored as the settings accept them.
        v.prefillChunk = 3;
        Settings(ini).setValues(v);
        QCOMPARE(Settings(ini).values().prefillChunk, Settings::kMinChunk);
        // The library lives in the data folder, which is made on demand.
        QCOMPARE(Settings(ini).libraryPath(), dir.filePath("data/library.sqlite"));
        QVERIFY(QFileInfo(dir.filePath("data")).isDir());
        // The INI file is separate from the platform store.
        QVERIFY(Settings().modelFolder() != v.modelFolder);
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

    void modelFolderProblems() {
        QTemporaryDir root;
        QVERIFY(modelFolderProblem("").contains("No model folder"));
        QVERIFY(modelFolderProblem(root.filePath("nope")).contains("does not exist"));
        QVERIFY(modelFolderProblem(root.path()).contains("config.json"));
        QVERIFY(makeModel(root.filePath("llama"), "llama"));
        QVERIFY(modelFolderProblem(root.filePath("llama")).contains("minicpm_sala"));
        QVERIFY(makeModel(root.filePath("bare"), "minicpm_sala", false));
        QVERIFY(modelFolderProblem(root.filePath("bare")).contains("tokenizer.model"));
        QVERIFY(writeFile(root.filePath("bare/tokenizer.model"), "x"));
        QVERIFY(modelFolderProblem(root.filePath("bare")).contains("safetensors"));
        QVERIFY(writeFile(root.filePath("bare/model.safetensors"), "x"));
        QCOMPARE(modelFolderProblem(root.filePath("bare")), QString());
    }

    void demoModelsAreMarked() {
        QTemporaryDir root;
        QVERIFY(makeModel(root.filePath("demo"), "minicpm_sala", true, ", \"folio_demo\": true"));
        QVERIFY(makeModel(root.filePath("real"), "minicpm_sala"));
        QVERIFY(makeModel(root.filePath("off"), "minicpm_sala", true, ", \"folio_demo\": false"));
        QVERIFY(isDemoModelFolder(root.filePath("demo")));
        QVERIFY(!isDemoModelFolder(root.filePath("real")));
        QVERIFY(!isDemoModelFolder(root.filePath("off")));
        QVERIFY(!isDemoModelFolder(root.filePath("missing")));
    }

    void choosesConfiguredThenHubThenDemo() {
        QTemporaryDir root;
        const QString hub = root.filePath("hub");
        QVERIFY(QDir().mkpath(hub));
        const QString demo = root.filePath("demo");
        QVERIFY(makeModel(demo, "minicpm_sala", true, ", \"folio_demo\": true"));
        const QStringList demoDirs = {root.filePath("absent"), root.filePath("empty"), demo};
        QVERIFY(QDir().mkpath(root.filePath("empty")));

        // Nothing configured, nothing in the hub: the first loadable demo folder.
        ModelChoice choice = chooseModel(QString(), demoDirs, hub);
        QCOMPARE(choice.dir, demo);
        QCOMPARE(choice.source, QString("demo"));
        QVERIFY(choice.demo);
        QVERIFY(choice.problem.isEmpty());

        // A complete hub snapshot wins over the demo; an incomplete one does not.
        QVERIFY(makeModel(hub + "/models--a--Partial/snapshots/r0", "minicpm_sala", false));
        QCOMPARE(chooseModel(QString(), demoDirs, hub).source, QString("demo"));
        const QString snapshot = hub + "/models--openbmb--MiniCPM-SALA/snapshots/r1";
        QVERIFY(makeModel(snapshot, "minicpm_sala"));
        choice = chooseModel(QString(), demoDirs, hub);
        QCOMPARE(choice.dir, QDir::cleanPath(snapshot));
        QCOMPARE(choice.source, QString("huggingface"));
        QVERIFY(!choice.demo);

        // A configured folder is used even when broken, so its problem is shown.
        choice = chooseModel(root.filePath("gone"), demoDirs, hub);
        QCOMPARE(choice.dir, root.filePath("gone"));
        QCOMPARE(choice.source, QString("settings"));
        QVERIFY(choice.problem.contains("does not exist"));

        // Nothing anywhere: no folder and a reason.
        choice = chooseModel(QString(), {root.filePath("absent")}, root.filePath("no-hub"));
        QVERIFY(choice.dir.isEmpty());
        QVERIFY(choice.problem.contains("Hugging Face"));
    }

    void bundledResourceSearchOrder() {
        QTemporaryDir root;
        const QString app = root.filePath("prefix/bin");
        qunsetenv("FOLIO_DEMO_MODEL");
        qunsetenv("FOLIO_SAMPLES_DIR");
        QStringList demo = demoModelSearchPath(app);
        QCOMPARE(demo.size(), 2);
        QCOMPARE(demo[0], root.filePath("prefix/share/folio/demo-model"));
        QVERIFY(demo[1].endsWith("/resources/demo-model"));

        qputenv("FOLIO_DEMO_MODEL", root.filePath("mine").toUtf8());
        qputenv("FOLIO_SAMPLES_DIR", root.filePath("texts").toUtf8());
        demo = demoModelSearchPath(app);
        QCOMPARE(demo.size(), 3);
        QCOMPARE(demo[0], root.filePath("mine"));
        const QStringList samples = samplesSearchPath(app);
        QCOMPARE(samples.size(), 3);
        QCOMPARE(samples[0], root.filePath("texts"));
        QCOMPARE(samples[1], root.filePath("prefix/share/folio/samples"));
        QVERIFY(samples[2].endsWith("/resources/samples"));

        // The first folder that holds samples; empty folders, missing ones and ones with only
        // notes are passed over.
        QVERIFY(writeFile(root.filePath("texts/README.md"), "# Where the texts come from"));
        QVERIFY(writeFile(root.filePath("prefix/share/folio/samples/a.txt"), "sample"));
        QCOMPARE(firstFolderWithSamples(samples), root.filePath("prefix/share/folio/samples"));
        QVERIFY(writeFile(root.filePath("texts/b.txt"), "sample"));
        QCOMPARE(firstFolderWithSamples(samples), root.filePath("texts"));
        QCOMPARE(firstFolderWithSamples({root.filePath("nowhere")}), QString());
        qunsetenv("FOLIO_DEMO_MODEL");
        qunsetenv("FOLIO_SAMPLES_DIR");
    }

    void sampleDocumentsLeaveOutTheirNotes() {
        QTemporaryDir root;
        for (const char* name : {"ruth.pdf", "README.md", "readme.txt", "LICENSE", "Licence.txt",
                                 "COPYING", "ecclesiastes.txt", "jargon.md", "readers-guide.md"})
            QVERIFY(writeFile(root.filePath(name), "text"));
        QVERIFY(QDir().mkpath(root.filePath("sub")));
        QCOMPARE(sampleDocuments(root.path()),
                 QStringList({root.filePath("ecclesiastes.txt"), root.filePath("jargon.md"),
                              root.filePath("readers-guide.md"), root.filePath("ruth.pdf")}));
        QCOMPARE(sampleDocuments(root.filePath("nowhere")), QStringList());
        QCOMPARE(sampleDocuments(QString()), QStringList());

        // The samples that ship: every file but the README that records their sources.
        const QString shipped = QStringLiteral(FOLIO_SOURCE_DIR "/resources/samples");
        QStringList expected;
        for (const QString& name : QDir(shipped).entryList(QDir::Files, QDir::Name))
            if (name != QStringLiteral("README.md")) expected << shipped + u'/' + name;
        QVERIFY(QFileInfo::exists(shipped + QStringLiteral("/README.md")));
        QVERIFY(!expected.isEmpty());
        QCOMPARE(sampleDocuments(shipped), expected);
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
