#include "file_reader.h"

#include "importer.h"

#include <QFile>
#include <QFileInfo>

namespace folio {

using sala::ErrorCode;

sala::Result<QByteArray> FileReader::readAll(const QString& path, qint64 maxBytes) {
    const QFileInfo info(path);
    if (!info.exists())
        return importError(ErrorCode::NotFound, path, QStringLiteral("no such file"));
    if (!info.isFile())
        return importError(ErrorCode::InvalidArgument, path, QStringLiteral("not a regular file"));
    if (info.size() == 0)
        return importError(ErrorCode::Format, path, QStringLiteral("the file is empty"));
    if (info.size() > maxBytes)
        return importError(ErrorCode::Unsupported, path,
                           QStringLiteral("the file has %1 bytes, more than the limit of %2")
                               .arg(info.size())
                               .arg(maxBytes));
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return importError(ErrorCode::Io, path,
                           QStringLiteral("cannot be read: %1").arg(file.errorString()));
    QByteArray bytes = file.read(maxBytes + 1);
    if (bytes.size() > maxBytes)
        return importError(ErrorCode::Unsupported, path, QStringLiteral("the file grew too large"));
    if (file.error() != QFileDevice::NoError)
        return importError(ErrorCode::Io, path,
                           QStringLiteral("read error: %1").arg(file.errorString()));
    if (bytes.isEmpty())
        return importError(ErrorCode::Format, path, QStringLiteral("the file is empty"));
    return bytes;
}

} // namespace folio
