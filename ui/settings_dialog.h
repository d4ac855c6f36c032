#pragma once
// The app's settings (persisted with QSettings), the dialog that edits them, and the guide shown
// on a first run without a usable model.

#include "engine_worker.h"

#include <QDialog>

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QSettings;
class QSpinBox;

namespace folio {

struct UiSettings {
    QString modelDir;
    QString backend = QStringLiteral("auto"); // auto | cuda | cpu
    int vramBudgetMiB = 0;                    // 0: everything the device has
    int prefillChunk = 2048;
    AskOptions sampling;
    QString dataDir; // empty: the default application data folder

    static UiSettings load(QSettings& store);
    void save(QSettings& store) const;
    // The library file inside the data folder.
    QString libraryPath() const;
};

// Empty when `dir` holds a loadable model folder, else what is missing.
QString modelFolderProblem(const QString& dir);
// A MiniCPM-SALA snapshot in the Hugging Face cache (HF_HUB_CACHE, HF_HOME or ~/.cache), if any.
QString findCachedModel();

class SettingsDialog : public QDialog {
    Q_OBJECT
public:
    explicit SettingsDialog(const UiSettings& settings, QWidget* parent = nullptr);
    UiSettings settings() const;

    QLineEdit* modelDirEdit() const { return modelDir_; }
    QComboBox* backendBox() const { return backend_; }

private:
    void checkModelDir();

    QLineEdit* modelDir_;
    QLabel* modelStatus_;
    QComboBox* backend_;
    QSpinBox* vram_;
    QSpinBox* chunk_;
    QDoubleSpinBox* temperature_;
    QSpinBox* topK_;
    QDoubleSpinBox* topP_;
    QDoubleSpinBox* minP_;
    QDoubleSpinBox* repetition_;
    QSpinBox* maxTokens_;
    QCheckBox* noThinking_;
    QPlainTextEdit* systemPrompt_;
    QLineEdit* dataDir_;
};

class FirstRunDialog : public QDialog {
    Q_OBJECT
public:
    explicit FirstRunDialog(const QString& problem, QWidget* parent = nullptr);
    // Set when the user chose "Open settings…".
    bool settingsRequested() const { return openSettings_; }

private:
    bool openSettings_ = false;
};

} // namespace folio
