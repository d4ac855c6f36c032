#include "settings_dialog.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QDir>
#include <QDirIterator>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSettings>
#include <QSpinBox>
#include <QStandardPaths>
#include <QVBoxLayout>

namespace folio {

UiSettings UiSettings::load(QSettings& s) {
    UiSettings out;
    out.modelDir = s.value("model/dir").toString();
    out.backend = s.value("model/backend", out.backend).toString();
    out.vramBudgetMiB = s.value("model/vramBudgetMiB", out.vramBudgetMiB).toInt();
    out.prefillChunk = s.value("model/prefillChunk", out.prefillChunk).toInt();
    AskOptions& a = out.sampling;
    a.temperature = s.value("sampling/temperature", a.temperature).toDouble();
    a.topK = s.value("sampling/topK", a.topK).toInt();
    a.topP = s.value("sampling/topP", a.topP).toDouble();
    a.minP = s.value("sampling/minP", a.minP).toDouble();
    a.repetitionPenalty = s.value("sampling/repetitionPenalty", a.repetitionPenalty).toDouble();
    a.maxTokens = s.value("sampling/maxTokens", a.maxTokens).toInt();
    a.noThinking = s.value("sampling/noThinking", a.noThinking).toBool();
    a.systemPrompt = s.value("chat/systemPrompt").toString();
    out.dataDir = s.value("data/dir").toString();
    return out;
}

void UiSettings::save(QSettings& s) const {
    s.setValue("model/dir", modelDir);
    s.setValue("model/backend", backend);
    s.setValue("model/vramBudgetMiB", vramBudgetMiB);
    s.setValue("model/prefillChunk", prefillChunk);
    s.setValue("sampling/temperature", sampling.temperature);
    s.setValue("sampling/topK", sampling.topK);
    s.setValue("sampling/topP", sampling.topP);
    s.setValue("sampling/minP", sampling.minP);
    s.setValue("sampling/repetitionPenalty", sampling.repetitionPenalty);
    s.setValue("sampling/maxTokens", sampling.maxTokens);
    s.setValue("sampling/noThinking", sampling.noThinking);
    s.setValue("chat/systemPrompt", sampling.systemPrompt);
    s.setValue("data/dir", dataDir);
    s.sync();
}

QString UiSettings::libraryPath() const {
    const QString dir = dataDir.isEmpty()
                            ? QStandardPaths::writableLocation(QStandardPaths::AppDataLocation)
                            : dataDir;
    QDir().mkpath(dir);
    return QDir(dir).filePath(QStringLiteral("library.sqlite"));
}

QString modelFolderProblem(const QString& dir) {
    if (dir.isEmpty()) return QObject::tr("No model folder is set.");
    const QDir d(dir);
    if (!d.exists()) return QObject::tr("The model folder %1 does not exist.").arg(dir);
    if (!d.exists(QStringLiteral("config.json")))
        return QObject::tr("%1 has no config.json.").arg(dir);
    if (!d.exists(QStringLiteral("tokenizer.model")))
        return QObject::tr("%1 has no tokenizer.model.").arg(dir);
    if (d.entryList({QStringLiteral("*.safetensors")}, QDir::Files).isEmpty())
        return QObject::tr("%1 has no .safetensors weights.").arg(dir);
    return QString();
}

QString findCachedModel() {
    QString hub = qEnvironmentVariable("HF_HUB_CACHE");
    if (hub.isEmpty() && qEnvironmentVariableIsSet("HF_HOME"))
        hub = qEnvironmentVariable("HF_HOME") + QStringLiteral("/hub");
    if (hub.isEmpty()) hub = QDir::homePath() + QStringLiteral("/.cache/huggingface/hub");
    const QDir snapshots(hub + QStringLiteral("/models--openbmb--MiniCPM-SALA/snapshots"));
    for (const QString& name : snapshots.entryList(QDir::Dirs | QDir::NoDotAndDotDot)) {
        const QString dir = snapshots.filePath(name);
        if (modelFolderProblem(dir).isEmpty()) return dir;
    }
    return QString();
}

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

SettingsDialog::SettingsDialog(const UiSettings& s, QWidget* parent) : QDialog(parent) {
    setWindowTitle(tr("Folio Settings"));
    modelDir_ = new QLineEdit(s.modelDir, this);
    modelStatus_ = new QLabel(this);
    modelStatus_->setWordWrap(true);
    backend_ = new QComboBox(this);
    backend_->addItem(tr("Automatic (CUDA when available)"), QStringLiteral("auto"));
    backend_->addItem(tr("CUDA GPU"), QStringLiteral("cuda"));
    backend_->addItem(tr("CPU"), QStringLiteral("cpu"));
    backend_->setCurrentIndex(qMax(0, backend_->findData(s.backend)));
    vram_ = intBox(0, 1 << 20, s.vramBudgetMiB, this);
    vram_->setSuffix(tr(" MiB"));
    vram_->setSpecialValueText(tr("All free memory"));
    chunk_ = intBox(64, 1 << 20, s.prefillChunk, this);
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
    dataDir_ = new QLineEdit(s.dataDir, this);
    dataDir_->setPlaceholderText(tr("Default application data folder"));

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
    const QString problem = modelFolderProblem(modelDir_->text());
    modelStatus_->setText(problem.isEmpty() ? tr("✓ Model files found.") : problem);
    modelStatus_->setStyleSheet(problem.isEmpty() ? QStringLiteral("color: #1b7a1b;")
                                                  : QStringLiteral("color: #a05000;"));
}

UiSettings SettingsDialog::settings() const {
    UiSettings s;
    s.modelDir = modelDir_->text().trimmed();
    s.backend = backend_->currentData().toString();
    s.vramBudgetMiB = vram_->value();
    s.prefillChunk = chunk_->value();
    s.sampling.temperature = temperature_->value();
    s.sampling.topK = topK_->value();
    s.sampling.topP = topP_->value();
    s.sampling.minP = minP_->value();
    s.sampling.repetitionPenalty = repetition_->value();
    s.sampling.maxTokens = maxTokens_->value();
    s.sampling.noThinking = noThinking_->isChecked();
    s.sampling.systemPrompt = systemPrompt_->toPlainText();
    s.dataDir = dataDir_->text().trimmed();
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
