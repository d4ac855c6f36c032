#include "bundled_resources.h"

#include <QDir>
#include <QFileInfo>

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

QString firstFolderWithFiles(const QStringList& dirs) {
    for (const QString& dir : dirs)
        if (QFileInfo(dir).isDir() && !QDir(dir).entryList(QDir::Files).isEmpty()) return dir;
    return QString();
}

} // namespace folio
