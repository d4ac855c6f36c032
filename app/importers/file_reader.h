#pragma once
// Reads a whole document file with the checks every importer needs.

#include "result.h"

#include <QByteArray>
#include <QString>

namespace folio {

class FileReader {
public:
    // Fails clearly for a missing, unreadable, empty or oversized file.
    static sala::Result<QByteArray> readAll(const QString& path, qint64 maxBytes);
};

} // namespace folio
