#include "importer.h"

#include <QDir>

namespace folio {

sala::Error importError(sala::ErrorCode code, const QString& path, const QString& message) {
    return sala::makeError(
        code, (QDir::toNativeSeparators(path) + QStringLiteral(": ") + message).toStdString());
}

sala::Error cancelledError(const QString& path) {
    return importError(sala::ErrorCode::Cancelled, path, QStringLiteral("import cancelled"));
}

} // namespace folio
