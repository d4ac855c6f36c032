// The main window while a model loads, on the CPU backend with a tiny random model: the status
// bar's progress and Cancel, a cancelled load, and File › Load model.
#include "main_window.h"
#include "settings.h"
#include "tiny_model.h"

#include <QAction>
#include <QProgressBar>
#include <QSemaphore>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QStatusBar>
#include <QTemporaryDir>
#include <QTest>
#include <QToolButton>

using namespace folio;

namespace {
constexpr int kWait = 30000;
} // namespace

class TestModelLoading : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void progressAndCancel();

private:
    QString writeIni();
    QTemporaryDir dir_;
    QString modelDir_;
};

void TestModelLoading::initTestCase() {
    QStandardPaths::setTestModeEnabled(true);
    QVERIFY(dir_.isValid());
    modelDir_ = dir_.filePath("model");
    QVERIFY(testutil::writeTinyModel(modelDir_.toStdString()));
}

// Settings with the tiny model on the CPU backend and a data folder of the test's own.
QString TestModelLoading::writeIni() {
    SettingsValues v;
    v.modelFolder = modelDir_;
    v.backend = "cpu";
    v.prefillChunk = 64;
    v.dataFolder = dir_.filePath("data");
    const QString ini = dir_.filePath("folio.ini");
    Settings(ini).setValues(v);
    return ini;
}

// File › Load model with the load held at its first report: the status bar shows the progress and
// Cancel; a click on Cancel stops the load, and Load model then loads it again.
void TestModelLoading::progressAndCancel() {
    MainWindow window({writeIni(), false});
    window.show();
    QTRY_VERIFY_WITH_TIMEOUT(window.modelReady(), kWait);
    auto* progress = window.findChild<QProgressBar*>("modelLoadProgress");
    auto* cancel = window.findChild<QToolButton*>("cancelModelLoad");
    QVERIFY(progress && cancel);
    QVERIFY(!progress->isVisible() && !cancel->isVisible());
    QAction* load = nullptr;
    for (QAction* a : window.findChildren<QAction*>())
        if (a->text() == "&Load model") load = a;
    QVERIFY(load);

    EngineWorker* worker = window.engine()->worker();
    QSemaphore clicked;
    bool held = false;
    // On the engine thread, inside the load: waits there for the click (at most 20 s, so that a
    // failed check cannot leave the thread waiting).
    auto hold = connect(
        worker, &EngineWorker::modelProgress, worker,
        [&] {
            if (held) return;
            held = true;
            clicked.tryAcquire(1, 20000);
        },
        Qt::DirectConnection);
    QSignalSpy reported(window.engine(), &EngineController::modelProgress);
    load->trigger();
    QVERIFY(!window.modelReady());
    QVERIFY(progress->isVisible() && cancel->isVisible() && cancel->isEnabled());
    QTRY_VERIFY_WITH_TIMEOUT(!reported.isEmpty(), kWait);
    QTest::mouseClick(cancel, Qt::LeftButton);
    QVERIFY(!cancel->isEnabled());
    clicked.release();
    QTRY_VERIFY_WITH_TIMEOUT(window.modelStatus().contains("not loaded"), kWait);
    QVERIFY2(window.statusBar()->currentMessage().contains("cancelled"),
             qPrintable(window.statusBar()->currentMessage()));
    QVERIFY(!progress->isVisible() && !cancel->isVisible());
    QVERIFY(!window.modelReady());

    disconnect(hold);
    load->trigger();
    QTRY_VERIFY_WITH_TIMEOUT(window.modelReady(), kWait);
    QVERIFY(!progress->isVisible());
}

QTEST_MAIN(TestModelLoading)
#include "test_model_loading.moc"
