#include "settings_dialog.h"

#include "model_finder.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QVBoxLayout>

namespace folio {

namespace {

QDoubleSpinBox* doubleBox(double min, double max, double step, double value, QWidget* parent) {
    auto* box = new QDoubleSpinBox(parent);
    box->setRange(min, max);
    box->setSingleStep(step);
    box->setDecimals(2);
    box->setValue(value);
    return box;
}

QSpinBox* intBox(int min, int max, int value, QWidget* parent) {
    auto* box = new QSpinBox(parent);
    box->setRange(min, max);
    box->setValue(value);
    return box;
}

QWidget* withBrowse(QLineEdit* edit, const QString& caption, QWidget* parent) {
    auto* row = new QWidget(parent);
    auto* layout = new QHBoxLayout(row);
    layout->setContentsMargins(0, 0, 0, 0);
    auto* browse = new QPushButton(QObject::tr("Browse…"), row);
    layout->addWidget(edit, 1);
    layout->addWidget(browse);
    QObject::connect(browse, &QPushButton::clicked, row, [edit, caption, row] {
        const QString dir = QFileDialog::getExistingDirectory(row, caption, edit->text());
        if (!dir.isEmpty()) edit->setText(dir);
    });
    return row;
}

} // namespace

SettingsDialog::SettingsDialog(const SettingsValues& s, QWidget* parent)
    : QDialog(parent), initial_(s) {
    setWindowTitle(tr("Folio Settings"));
    modelDir_ = new QLineEdit(s.modelFolder, this);
    modelDir_->setPlaceholderText(tr("Found in the Hugging Face cache when empty"));
    modelStatus_ = new QLabel(this);
    modelStatus_->setWordWrap(true);
    backend_ = new QComboBox(this);
    backend_->addItem(tr("Automatic (CUDA when available)"), QStringLiteral("auto"));
    backend_->addItem(tr("CUDA GPU"), QStringLiteral("cuda"));
    backend_->addItem(tr("CPU"), QStringLiteral("cpu"));
    backend_->setCurrentIndex(qMax(0, backend_->findData(s.backend)));
    vram_ = intBox(0, 1 << 24, int(s.vramBudget >> 20), this);
    vram_->setSuffix(tr(" MiB"));
    vram_->setSpecialValueText(tr("All free memory"));
    chunk_ = intBox(Settings::kMinChunk, Settings::kMaxChunk, s.prefillChunk, this);
    chunk_->setSuffix(tr(" tokens"));
    temperature_ = doubleBox(0, 2, 0.05, s.sampling.temperature, this);
    topK_ = intBox(0, 100000, s.sampling.topK, this);
    topK_->setSpecialValueText(tr("off"));
    topP_ = doubleBox(0, 1, 0.05, s.sampling.topP, this);
    minP_ = doubleBox(0, 1, 0.01, s.sampling.minP, this);
    repetition_ = doubleBox(0.5, 2, 0.05, s.sampling.repetitionPenalty, this);
    maxTokens_ = intBox(1, 1 << 20, s.sampling.maxTokens, this);
    noThinking_ = new QCheckBox(tr("Answer without a reasoning section"), this);
    noThinking_->setChecked(s.sampling.noThinking);
    systemPrompt_ = new QPlainTextEdit(s.sampling.systemPrompt, this);
    systemPrompt_->setMaximumHeight(70);
    dataDir_ = new QLineEdit(s.dataFolder, this);

    auto* model = new QGroupBox(tr("Model"), this);
    auto* modelForm = new QFormLayout(model);
    modelForm->addRow(tr("Model folder"), withBrowse(modelDir_, tr("Model folder"), this));
    modelForm->addRow(QString(), modelStatus_);
    modelForm->addRow(tr("Backend"), backend_);
    modelForm->addRow(tr("VRAM budget"), vram_);
    modelForm->addRow(tr("Prefill chunk"), chunk_);
    auto* sampling = new QGroupBox(tr("Answers"), this);
    auto* samplingForm = new QFormLayout(sampling);
    samplingForm->addRow(tr("Temperature"), temperature_);
    samplingForm->addRow(tr("Top-k"), topK_);
    samplingForm->addRow(tr("Top-p"), topP_);
    samplingForm->addRow(tr("Min-p"), minP_);
    samplingForm->addRow(tr("Repetition penalty"), repetition_);
    samplingForm->addRow(tr("Max answer tokens"), maxTokens_);
    samplingForm->addRow(QString(), noThinking_);
    samplingForm->addRow(tr("System prompt"), systemPrompt_);
    auto* data = new QGroupBox(tr("Library"), this);
    auto* dataForm = new QFormLayout(data);
    dataForm->addRow(tr("Data folder"), withBrowse(dataDir_, tr("Data folder"), this));
    auto* dataNote = new QLabel(tr("Holds the library and the saved contexts; a new folder is "
                                   "used from the next start."),
                                this);
    dataNote->setWordWrap(true);
    dataForm->addRow(QString(), dataNote);

    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
    connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    auto* layout = new QVBoxLayout(this);
    layout->addWidget(model);
    layout->addWidget(sampling);
    layout->addWidget(data);
    layout->addWidget(buttons);
    connect(modelDir_, &QLineEdit::textChanged, this, &SettingsDialog::checkModelDir);
    checkModelDir();
}

void SettingsDialog::checkModelDir() {
    if (modelDir_->text().trimmed().isEmpty()) {
        modelStatus_->setText(
            tr("Folio looks in the Hugging Face cache, then for its demo model."));
        modelStatus_->setStyleSheet(QString());
        return;
    }
    const QString problem = modelFolderProblem(modelDir_->text().trimmed());
    modelStatus_->setText(problem.isEmpty() ? tr("✓ Model files found.") : problem);
    modelStatus_->setStyleSheet(problem.isEmpty() ? QStringLiteral("color: #1b7a1b;")
                                                  : QStringLiteral("color: #a05000;"));
}

SettingsValues SettingsDialog::values() const {
    SettingsValues s = initial_;
    s.modelFolder = modelDir_->text().trimmed();
    s.backend = backend_->currentData().toString();
    s.vramBudget = quint64(vram_->value()) << 20;
    s.prefillChunk = chunk_->value();
    s.sampling.temperature = temperature_->value();
    s.sampling.topK = topK_->value();
    s.sampling.topP = topP_->value();
    s.sampling.minP = minP_->value();
    s.sampling.repetitionPenalty = repetition_->value();
    s.sampling.maxTokens = maxTokens_->value();
    s.sampling.noThinking = noThinking_->isChecked();
    s.sampling.systemPrompt = systemPrompt_->toPlainText();
    const QString data = dataDir_->text().trimmed();
    if (!data.isEmpty()) s.dataFolder = data;
    return s;
}

FirstRunDialog::FirstRunDialog(const QString& problem, QWidget* parent) : QDialog(parent) {
    setWindowTitle(tr("Welcome to Folio"));
    auto* text = new QLabel(
        tr("<h2>Welcome to Folio</h2>"
           "<p>Folio answers questions about your documents with the "
           "<b>MiniCPM-SALA</b> model, running on your own machine. "
           "No usable model is configured yet:</p><p><i>%1</i></p>"
           "<h3>Getting the model</h3><ol>"
           "<li>Download <b>openbmb/MiniCPM-SALA</b> from Hugging Face into a folder, e.g. "
           "<br><code>huggingface-cli download openbmb/MiniCPM-SALA --local-dir "
           "~/models/MiniCPM-SALA</code></li>"
           "<li>…or keep it in the Hugging Face cache "
           "(<code>~/.cache/huggingface/hub</code>): Folio finds it there.</li>"
           "<li>Open <b>Settings</b> and choose the folder that holds "
           "<code>config.json</code>, <code>tokenizer.model</code> and the "
           "<code>.safetensors</code> weights.</li></ol>"
           "<p>A CUDA GPU is used when present; otherwise the model runs (slowly) on the "
           "CPU.</p>")
            .arg(problem.toHtmlEscaped()),
        this);
    text->setWordWrap(true);
    text->setTextFormat(Qt::RichText);
    text->setAlignment(Qt::AlignLeft | Qt::AlignTop);
    text->setTextInteractionFlags(Qt::TextBrowserInteraction);
    auto* buttons = new QDialogButtonBox(this);
    QPushButton* settings = buttons->addButton(tr("Open Settings…"), QDialogButtonBox::AcceptRole);
    buttons->addButton(tr("Later"), QDialogButtonBox::RejectRole);
    connect(settings, &QPushButton::clicked, this, [this] { openSettings_ = true; });
    connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    auto* layout = new QVBoxLayout(this);
    layout->addWidget(text);
    layout->addWidget(buttons);
    setMinimumWidth(520);
}

} // namespace folio
