// The main window's model and settings: which model to load (configured, Hugging Face cache or
// the bundled demo), the engine's configuration, the settings dialog and the first-run guide.
#include "bundled_resources.h"
#include "chat_panel.h"
#include "import_runner.h"
#include "main_window.h"
#include "memory_panel.h"
#include "model_finder.h"
#include "sala_token_counter.h"
#include "settings_dialog.h"

#include <QCoreApplication>
#include <QLabel>
#include <QProgressBar>
#include <QStatusBar>
#include <QTimer>
#include <QToolButton>

namespace folio {

QString MainWindow::modelStatus() const {
    return modelLabel_->text();
}

// The model's label, then the load's progress and its Cancel button, shown while it loads.
void MainWindow::buildModelStatus() {
    modelLabel_ = new QLabel;
    modelProgress_ = new QProgressBar;
    modelProgress_->setObjectName(QStringLiteral("modelLoadProgress"));
    modelProgress_->setRange(0, 1000);
    modelProgress_->setFormat(QStringLiteral("%p %"));
    modelProgress_->setMaximumWidth(140);
    cancelModelLoad_ = new QToolButton;
    cancelModelLoad_->setObjectName(QStringLiteral("cancelModelLoad"));
    cancelModelLoad_->setText(tr("Cancel"));
    cancelModelLoad_->setToolTip(tr("Stop loading the model"));
    statusBar()->addPermanentWidget(modelLabel_);
    statusBar()->addPermanentWidget(modelProgress_);
    statusBar()->addPermanentWidget(cancelModelLoad_);
    showModelLoading(false);
}

void MainWindow::connectModelLoading() {
    connect(cancelModelLoad_, &QToolButton::clicked, this, [this] {
        cancelModelLoad_->setEnabled(false);
        engine_->requestCancel();
    });
    connect(engine_, &EngineController::modelProgress, this, [this](qint64 done, qint64 total) {
        modelProgress_->setValue(total > 0 ? int(done * 1000 / total) : 0);
        modelProgress_->setToolTip(
            tr("%1 of %2 of weights read")
                .arg(formatBytes(quint64(done)), formatBytes(quint64(total))));
    });
}

void MainWindow::showModelLoading(bool loading) {
    modelProgress_->setValue(0);
    modelProgress_->setVisible(loading);
    cancelModelLoad_->setVisible(loading);
    cancelModelLoad_->setEnabled(loading);
}

// Settings that outlive a model: where snapshots go (inside the data folder the library was
// opened from) and the system turn that documents are loaded behind.
void MainWindow::configureEngine() {
    engine_->setSnapshotDir(store_->snapshotFolder());
    engine_->setSystemPrompt(values_.sampling.systemPrompt);
}

void MainWindow::reloadModel() {
    const ModelChoice choice = chooseModel(
        values_.modelFolder, demoModelSearchPath(QCoreApplication::applicationDirPath()));
    modelReady_ = false;
    chat_->setModelReady(false);
    demoBanner_->hide();
    if (!choice.problem.isEmpty()) {
        modelLabel_->setText(tr("Model: not configured"));
        const QString problem = choice.problem;
        if (options_.firstRunGuide)
            QTimer::singleShot(0, this, [this, problem] { showFirstRunGuide(problem); });
        return;
    }
    modelLabel_->setText(choice.demo ? tr("Model: loading the demo model…")
                                     : tr("Model: loading…"));
    loadedModelDir_ = choice.dir;
    setTokenCounter(choice.dir);
    showModelLoading(true);
    engine_->loadModel(choice.dir, values_.backend, values_.vramBudget, values_.prefillChunk);
}

void MainWindow::setTokenCounter(const QString& modelDir) {
    auto counter = SalaTokenCounter::load(modelDir);
    if (counter) runner_->setTokenCounter(std::shared_ptr<const TokenCounter>(std::move(*counter)));
}

void MainWindow::applySettings(const SettingsValues& values) {
    const bool modelChanged =
        values.modelFolder != values_.modelFolder || values.backend != values_.backend ||
        values.vramBudget != values_.vramBudget || values.prefillChunk != values_.prefillChunk;
    const bool dataChanged = values.dataFolder != values_.dataFolder;
    const bool promptChanged = values.sampling.systemPrompt != values_.sampling.systemPrompt;
    store_->setValues(values);
    values_ = store_->values(); // as stored: ranges applied
    if (promptChanged) engine_->setSystemPrompt(values_.sampling.systemPrompt);
    if (dataChanged)
        statusBar()->showMessage(tr("The new data folder is used after a restart."), 8000);
    if (modelChanged) {
        engine_->unloadAll();
        reloadModel();
    }
}

void MainWindow::openSettings() {
    SettingsDialog dialog(values_, this);
    if (dialog.exec() == QDialog::Accepted) applySettings(dialog.values());
}

void MainWindow::showFirstRunGuide(const QString& problem) {
    FirstRunDialog guide(problem, this);
    guide.exec();
    if (guide.settingsRequested()) openSettings();
}

} // namespace folio
