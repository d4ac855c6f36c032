#include "library_location.h"

#include <QDir>
#include <QSettings>
#include <QStandardPaths>

namespace folio {

QString defaultDataFolder() {
    // Not AppDataLocation: that follows the names of the running program, and folio-cli must
    // find the folder the app uses (AppDataLocation of "Folio"/"folio" is this path).
    return QStandardPaths::writableLocation(QStandardPaths::GenericDataLocation) + u'/' +
           QLatin1String(kSettingsOrganization) + u'/' + QLatin1String(kSettingsApplication);
}

QString dataFolderIn(const QSettings& settings) {
    const QString chosen = settings.value(kDataFolderKey).toString();
    return chosen.isEmpty() ? defaultDataFolder() : chosen;
}

QString libraryPathIn(const QString& dataFolder) {
    QDir().mkpath(dataFolder);
    return QDir(dataFolder).filePath(QStringLiteral("library.sqlite"));
}

QString defaultLibraryPath() {
    const QSettings app(QString::fromLatin1(kSettingsOrganization),
                        QString::fromLatin1(kSettingsApplication));
    return libraryPathIn(dataFolderIn(app));
}

} // namespace folio
