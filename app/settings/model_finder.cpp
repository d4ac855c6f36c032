#include "model_finder.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>
#include <QObject>
#include <QProcessEnvironment>

namespace folio {

namespace {

// Config files of real models are a few KiB; anything huge is not one.
constexpr qint64 kMaxConfigBytes = 1 << 20;

// Empty when the folder has what the engine reads besides config.json.
QString missingFiles(const QDir& folder) {
    if (!folder.exists(QStringLiteral("tokenizer.model")))
        return QStringLiteral("tokenizer.model is missing");
    if (folder.entryList({QStringLiteral("*.safetensors")}, QDir::Files).isEmpty())
        return QStringLiteral("no .safetensors weights");
    return QString();
}

ModelCandidate describe(const QString& dir, const QString& name, const QString& source) {
    ModelCandidate c;
    c.dir = QDir::cleanPath(dir);
    c.name = name;
    c.source = source;
    c.problem = missingFiles(QDir(dir));
    c.complete = c.problem.isEmpty();
    return c;
}

// "models--openbmb--MiniCPM-SALA" -> "openbmb/MiniCPM-SALA"
QString repoName(const QString& cacheFolder) {
    QString name = cacheFolder.mid(QStringLiteral("models--").size());
    return name.replace(QStringLiteral("--"), QStringLiteral("/"));
}

bool readConfig(const QString& dir, QJsonObject* config, QString* why) {
    auto fail = [&](const QString& reason) {
        if (why) *why = reason;
        return false;
    };
    QFile file(QDir(dir).filePath(QStringLiteral("config.json")));
    if (!file.exists()) return fail(QStringLiteral("%1 has no config.json").arg(dir));
    if (file.size() > kMaxConfigBytes)
        return fail(
            QStringLiteral("%1 is too large for a model configuration").arg(file.fileName()));
    if (!file.open(QIODevice::ReadOnly))
        return fail(QStringLiteral("cannot read %1").arg(file.fileName()));
    QJsonParseError error;
    const QJsonDocument json = QJsonDocument::fromJson(file.readAll(), &error);
    if (!json.isObject())
        return fail(
            QStringLiteral("%1 is not valid JSON: %2").arg(file.fileName(), error.errorString()));
    *config = json.object();
    return true;
}

} // namespace

QString defaultHubDir() {
    const QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    if (env.contains("HF_HUB_CACHE")) return env.value("HF_HUB_CACHE");
    if (env.contains("HF_HOME")) return env.value("HF_HOME") + QStringLiteral("/hub");
    return QDir::homePath() + QStringLiteral("/.cache/huggingface/hub");
}

bool isSalaModelFolder(const QString& dir, QString* why) {
    QJsonObject config;
    if (!readConfig(dir, &config, why)) return false;
    const QString type = config.value(QStringLiteral("model_type")).toString();
    if (type == QLatin1String("minicpm_sala")) return true;
    if (why)
        *why = QStringLiteral("%1/config.json: model_type is \"%2\", not \"minicpm_sala\"")
                   .arg(dir, type);
    return false;
}

QString modelFolderProblem(const QString& dir) {
    if (dir.isEmpty()) return QObject::tr("No model folder is set.");
    if (!QFileInfo(dir).isDir()) return QObject::tr("The model folder %1 does not exist.").arg(dir);
    QString why;
    if (!isSalaModelFolder(dir, &why)) return why + u'.';
    const QString missing = missingFiles(QDir(dir));
    return missing.isEmpty() ? QString() : QStringLiteral("%1: %2.").arg(dir, missing);
}

bool isDemoModelFolder(const QString& dir) {
    QJsonObject config;
    return readConfig(dir, &config, nullptr) &&
           config.value(QStringLiteral("folio_demo")).toBool(false);
}

QList<ModelCandidate> findModels(const QString& explicitFolder, const QString& hubDir) {
    QList<ModelCandidate> found;
    QStringList seen;
    auto add = [&](const ModelCandidate& c) {
        const QString canonical = QFileInfo(c.dir).canonicalFilePath();
        if (seen.contains(canonical)) return;
        seen << canonical;
        found << c;
    };
    if (!explicitFolder.isEmpty() && isSalaModelFolder(explicitFolder))
        add(describe(explicitFolder, QFileInfo(explicitFolder).fileName(), "explicit"));

    const QDir hub(hubDir.isEmpty() ? defaultHubDir() : hubDir);
    for (const QString& repo : hub.entryList({QStringLiteral("models--*")}, QDir::Dirs)) {
        const QDir snapshots(hub.filePath(repo + QStringLiteral("/snapshots")));
        // Newest revision first: it is what a fresh download would have given.
        const QStringList revisions =
            snapshots.entryList(QDir::Dirs | QDir::NoDotAndDotDot, QDir::Time);
        for (const QString& revision : revisions) {
            const QString dir = snapshots.filePath(revision);
            if (isSalaModelFolder(dir)) add(describe(dir, repoName(repo), "huggingface"));
        }
    }
    return found;
}

ModelChoice chooseModel(const QString& configured, const QStringList& demoDirs,
                        const QString& hubDir) {
    ModelChoice choice;
    if (!configured.isEmpty()) {
        choice.dir = configured;
        choice.source = QStringLiteral("settings");
        choice.problem = modelFolderProblem(configured);
        choice.demo = isDemoModelFolder(configured);
        return choice;
    }
    for (const ModelCandidate& c : findModels(QString(), hubDir)) {
        if (!c.complete) continue;
        choice.dir = c.dir;
        choice.source = QStringLiteral("huggingface");
        return choice;
    }
    for (const QString& dir : demoDirs) {
        if (!modelFolderProblem(dir).isEmpty()) continue;
        choice.dir = dir;
        choice.source = QStringLiteral("demo");
        choice.demo = isDemoModelFolder(dir);
        return choice;
    }
    choice.problem = QObject::tr("No model folder is set, and no MiniCPM-SALA model was found in "
                                 "the Hugging Face cache.");
    return choice;
}

} // namespace folio
