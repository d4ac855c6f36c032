// A first run with the demo model that ships in resources/demo-model: no model configured and
// none in the Hugging Face cache, the sample documents imported from the empty library's button,
// a question about Ecclesiastes answered by the demo model on the CPU backend, the banner saying
// that it is the demo model; the screenshot of that state.
#include "chat_message.h"
#include "chat_panel.h"
#include "library_model.h"
#include "main_window.h"
#include "screenshot.h"

#include <QFileInfo>
#include <QLabel>
#include <QPushButton>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTabWidget>
#include <QTemporaryDir>
#include <QTest>

using namespace folio;

namespace {

// An 8.8k-token document read on two cores of a loaded machine, then the answer.
constexpr int kWait = 240000;

const QString kDemoModel = QStringLiteral(FOLIO_SOURCE_DIR "/resources/demo-model");
const QString kSamples = QStringLiteral(FOLIO_SOURCE_DIR "/resources/samples");

} // namespace

class TestFirstRunDemo : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void answersAboutASampleWithTheDemoModel();

private:
    QTemporaryDir dir_;
};

void TestFirstRunDemo::initTestCase() {
    if (!QFileInfo::exists(kDemoModel + "/config.json"))
        QSKIP("resources/demo-model is absent: tools/demo-model/ builds and installs it "
              "(docs/demo-model.md)");
    QStandardPaths::setTestModeEnabled(true);
    QVERIFY(dir_.isValid());
    // Nothing of this machine's own: an empty Hugging Face cache, the source tree's resources.
    QVERIFY(QDir().mkpath(dir_.filePath("hf-hub")));
    qputenv("HF_HUB_CACHE", dir_.filePath("hf-hub").toUtf8());
    qputenv("FOLIO_DEMO_MODEL", kDemoModel.toUtf8());
    qputenv("FOLIO_SAMPLES_DIR", kSamples.toUtf8());
}

void TestFirstRunDemo::answersAboutASampleWithTheDemoModel() {
    // A fresh settings file, no model folder in it. The CPU backend and greedy answers keep the
    // screenshot the same on every machine; the other values are the defaults.
    SettingsValues values;
    values.backend = "cpu";
    values.sampling.temperature = 0;
    values.sampling.maxTokens = 96;
    values.dataFolder = dir_.filePath("data");
    const QString ini = dir_.filePath("folio.ini");
    Settings(ini).setValues(values);
    QVERIFY(Settings(ini).modelFolder().isEmpty());

    MainWindow window({ini, false});
    window.resize(1400, 860);
    window.show();
    QCOMPARE(window.modelFolder(), kDemoModel);
    QTRY_VERIFY_WITH_TIMEOUT(window.modelReady(), kWait);
    QVERIFY(window.demoBanner()->isVisible());

    QVERIFY(window.samplesButton()->isVisible());
    QSignalSpy imported(&window, &MainWindow::importFinished);
    window.samplesButton()->click();
    QTRY_COMPARE_WITH_TIMEOUT(imported.count(), 1, kWait);
    const QModelIndexList found =
        window.libraryModel()->match(window.libraryModel()->index(0, 0), Qt::DisplayRole,
                                     "Ecclesiastes", 1, Qt::MatchContains | Qt::MatchRecursive);
    QVERIFY(!found.isEmpty());
    const qint64 id = found.first().data(LibraryModel::DocumentIdRole).toLongLong();
    QVERIFY(id > 0);

    QVERIFY(window.openDocument(id));
    window.chatAbout({id});
    ChatPanel* chat = window.chatPanel();
    window.sideTabs()->setCurrentWidget(chat);
    QSignalSpy finished(window.engine(), &EngineController::answerFinished);
    QSignalSpy failed(window.engine(), &EngineController::answerFailed);
    chat->sendQuestion("What is this text?");
    QTRY_VERIFY_WITH_TIMEOUT(finished.count() + failed.count() >= 1, kWait);
    QVERIFY2(failed.isEmpty(), failed.isEmpty() ? "" : qPrintable(failed.first().at(1).toString()));
    QCOMPARE(chat->state(), ChatPanel::State::Ready);
    QCOMPARE(chat->messageCount(), 2);
    const QString answer = chat->message(1)->parts().answer;
    QVERIFY2(answer.trimmed().size() > 10, qPrintable(chat->message(1)->rawText()));
    QVERIFY(window.demoBanner()->isVisible());
    qInfo("answer: %s", qPrintable(chat->message(1)->rawText()));
    testutil::saveScreenshot(&window, "10-first-run-demo-model.png");
}

QTEST_MAIN(TestFirstRunDemo)
#include "test_first_run_demo.moc"
