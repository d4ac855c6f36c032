#include "settings.h"

#include "library_location.h"

#include <algorithm>

namespace folio {

namespace {

const QString kModelFolder = QStringLiteral("engine/modelFolder");
const QString kBackend = QStringLiteral("engine/backend");
const QString kVramBudget = QStringLiteral("engine/vramBudget");
const QString kPrefillChunk = QStringLiteral("engine/prefillChunk");
const QString kSystemPrompt = QStringLiteral("chat/systemPrompt");

bool knownBackend(const QString& name) {
    return name == QLatin1String("auto") || name == QLatin1String("cpu") ||
           name == QLatin1String("cuda");
}

} // namespace

Settings::Settings()
    : settings_(QLatin1String(kSettingsOrganization), QLatin1String(kSettingsApplication)) {}

Settings::Settings(const QString& iniFile) : settings_(iniFile, QSettings::IniFormat) {}

QString Settings::modelFolder() const {
    return settings_.value(kModelFolder).toString();
}
void Settings::setModelFolder(const QString& dir) {
    settings_.setValue(kModelFolder, dir);
}

QString Settings::backend() const {
    // A hand-edited or outdated value falls back instead of breaking the model load.
    const QString stored = settings_.value(kBackend).toString();
    return knownBackend(stored) ? stored : QStringLiteral("auto");
}

bool Settings::setBackend(const QString& backend) {
    if (!knownBackend(backend)) return false;
    settings_.setValue(kBackend, backend);
    return true;
}

quint64 Settings::vramBudget() const {
    return settings_.value(kVramBudget, 0).toULongLong();
}
void Settings::setVramBudget(quint64 bytes) {
    settings_.setValue(kVramBudget, bytes);
}

int Settings::prefillChunk() const {
    bool ok = false;
    const int stored = settings_.value(kPrefillChunk, kDefaultPrefillChunk).toInt(&ok);
    return ok ? std::clamp(stored, kMinChunk, kMaxChunk) : kDefaultPrefillChunk;
}

void Settings::setPrefillChunk(int tokens) {
    settings_.setValue(kPrefillChunk, std::clamp(tokens, kMinChunk, kMaxChunk));
}

AskOptions Settings::samplingDefaults() const {
    const AskOptions d;
    AskOptions o;
    o.temperature = settings_.value("sampling/temperature", d.temperature).toDouble();
    o.topK = settings_.value("sampling/topK", d.topK).toInt();
    o.topP = settings_.value("sampling/topP", d.topP).toDouble();
    o.minP = settings_.value("sampling/minP", d.minP).toDouble();
    o.repetitionPenalty =
        settings_.value("sampling/repetitionPenalty", d.repetitionPenalty).toDouble();
    o.seed = settings_.value("sampling/seed", d.seed).toULongLong();
    o.maxTokens = settings_.value("sampling/maxTokens", d.maxTokens).toInt();
    o.noThinking = settings_.value("sampling/noThinking", d.noThinking).toBool();
    o.systemPrompt = systemPrompt();
    return o;
}

void Settings::setSamplingDefaults(const AskOptions& o) {
    settings_.setValue("sampling/temperature", o.temperature);
    settings_.setValue("sampling/topK", o.topK);
    settings_.setValue("sampling/topP", o.topP);
    settings_.setValue("sampling/minP", o.minP);
    settings_.setValue("sampling/repetitionPenalty", o.repetitionPenalty);
    settings_.setValue("sampling/seed", o.seed);
    settings_.setValue("sampling/maxTokens", o.maxTokens);
    settings_.setValue("sampling/noThinking", o.noThinking);
}

QString Settings::systemPrompt() const {
    return settings_.value(kSystemPrompt).toString();
}
void Settings::setSystemPrompt(const QString& prompt) {
    settings_.setValue(kSystemPrompt, prompt);
}

QString Settings::dataFolder() const {
    return dataFolderIn(settings_);
}

void Settings::setDataFolder(const QString& dir) {
    settings_.setValue(kDataFolderKey, dir);
}

QString Settings::libraryPath() const {
    return libraryPathIn(dataFolder());
}

SettingsValues Settings::values() const {
    SettingsValues v;
    v.modelFolder = modelFolder();
    v.backend = backend();
    v.vramBudget = vramBudget();
    v.prefillChunk = prefillChunk();
    v.sampling = samplingDefaults();
    v.dataFolder = dataFolder();
    return v;
}

void Settings::setValues(const SettingsValues& v) {
    setModelFolder(v.modelFolder);
    setBackend(v.backend);
    setVramBudget(v.vramBudget);
    setPrefillChunk(v.prefillChunk);
    setSamplingDefaults(v.sampling);
    setSystemPrompt(v.sampling.systemPrompt);
    setDataFolder(v.dataFolder);
    sync();
}

} // namespace folio
