#include "model_finder.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcessEnvironment>

namespace folio {

namespace {

// Config files of real models are a few KiB; anything huge is not one.
constexpr qint64 kMaxConfigBytes = 1 << 20;

ModelCandidate describe(const QString& dir, const QString& name, const QString& source) {
    ModelCandidate c;
    c.dir = QDir::cleanPath(dir);
    c.name = name;
    c.source = source;
    const QDir folder(dir);
    if (!folder.exists(QStringLiteral("tokenizer.model")))
        c.problem = QStringLiteral("tokenizer.model is missing");
    else if (folder.entryList({QStringLiteral("*.safetensors")}, QDir::Files).isEmpty())
        c.problem = QStringLiteral("no .safetensors weights");
    c.complete = c.problem.isEmpty();
    return c;
}

// "models--openbmb--MiniCPM-SALA" -> "openbmb/MiniCPM-SALA"
QString repoName(const QString& cacheFolder) {
    QString name = cacheFolder.mid(QStringLiteral("models--").size());
    return name.replace(QStringLiteral("--"), QStringLiteral("/"));
}

} // namespace

QString defaultHubDir() {
    const QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    if (env.contains("HF_HUB_CACHE")) return env.value("HF_HUB_CACHE");
    if (env.contains("HF_HOME")) return env.value("HF_HOME") + QStringLiteral("/hub");
    return QDir::homePath() + QStringLiteral("/.cache/huggingface/hub");
}

bool isSalaModelFolder(const QString& dir, QString* why) {
    auto fail = [&](const QString& reason) {
        if (why) *why = reason;
        return false;
    };
    QFile config(QDir(dir).filePath(QStringLiteral("config.json")));
    if (!config.exists()) return fail(QStringLiteral("%1 has no config.json").arg(dir));
    if (config.size() > kMaxConfigBytes)
        return fail(
            QStringLiteral("%1 is too large for a model configuration").arg(config.fileName()));
    if (!config.open(QIODevice::ReadOnly))
        return fail(QStringLiteral("cannot read %1").arg(config.fileName()));
    QJsonParseError error;
    const QJsonDocument json = QJsonDocument::fromJson(config.readAll(), &error);
    if (!json.isObject())
        return fail(
            QStringLiteral("%1 is not valid JSON: %2").arg(config.fileName(), error.errorString()));
    const QString type = json.object().value(QStringLiteral("model_type")).toString();
    if (type != QLatin1String("minicpm_sala"))
        return fail(QStringLiteral("%1: model_type is \"%2\", not \"minicpm_sala\"")
                        .arg(config.fileName(), type));
    return true;
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

} // namespace folio
