#pragma once
// The dialog that edits the app's settings (app/settings), and the guide to getting
// MiniCPM-SALA shown on a first run without a usable model and from the demo model's banner.

#include "settings.h"

#include <QDialog>

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QSpinBox;

namespace folio {

class SettingsDialog : public QDialog {
    Q_OBJECT
public:
    explicit SettingsDialog(const SettingsValues& values, QWidget* parent = nullptr);
    // The values as edited; those the dialog does not show are kept as they came.
    SettingsValues values() const;

    QLineEdit* modelDirEdit() const { return modelDir_; }
    QComboBox* backendBox() const { return backend_; }

private:
    void checkModelDir();

    SettingsValues initial_;
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
