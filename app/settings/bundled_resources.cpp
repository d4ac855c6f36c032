#include "bundled_resources.h"

#include <QDir>
#include <QFileInfo>

#include <algorithm>

namespace folio {

namespace {

QStringList searchPath(const char* variable, const QString& name, const QString& applicationDir) {
    QStringList dirs;
    const QString fromEnvironment = qEnvironmentVariable(variable);
    if (!fromEnvironment.isEmpty()) dirs << fromEnvironment;
    if (!applicationDir.isEmpty())
        dirs << QDir::cleanPath(applicationDir + QStringLiteral("/../share/folio/") + name);
#ifdef FOLIO_SOURCE_DIR
    dirs << QDir::cleanPath(QStringLiteral(FOLIO_SOURCE_DIR "/resources/") + name);
#endif
    return dirs;
}

} // namespace

QStringList demoModelSearchPath(const QString& applicationDir) {
    return searchPath("FOLIO_DEMO_MODEL", QStringLiteral("demo-model"), applicationDir);
}

QStringList samplesSearchPath(const QString& applicationDir) {
    return searchPath("FOLIO_SAMPLES_DIR", QStringLiteral("samples"), applicationDir);
}

QStringList sampleDocuments(const QString& folder) {
    static const QStringList notes = {QStringLiteral("readme"), QStringLiteral("license"),
                                      QStringLiteral("licence"), QStringLiteral("copying")};
    QStringList documents;
    if (folder.isEmpty()) return documents; // QDir would read the working folder
    const QFileInfoList files = QDir(folder).entryInfoList(QDir::Files, QDir::Name);
    for (const QFileInfo& file : files) {
        const QString name = file.fileName();
        const bool isNote = std::any_of(notes.begin(), notes.end(), [&](const QString& note) {
            return name.startsWith(note, Qt::CaseInsensitive);
        });
        if (!isNote) documents << file.absoluteFilePath();
    }
    return documents;
}

QString firstFolderWithSamples(const QStringList& dirs) {
    for (const QString& dir : dirs)
        if (!sampleDocuments(dir).isEmpty()) return dir;
    return QString();
}

} // namespace folio
