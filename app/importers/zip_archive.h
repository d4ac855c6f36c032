#pragma once
// Read-only access to a zip archive (EPUB, DOCX) that refuses hostile archives: entry names
// that climb out of the archive, too many entries, and more uncompressed data than the limits
// allow (zip bombs). Nothing is ever extracted to disk.

#include "import_options.h"
#include "result.h"

#include <QByteArray>
#include <QString>
#include <QStringList>

#include <memory>

struct zip;

namespace folio {

class ZipArchive {
public:
    static sala::Result<ZipArchive> open(const QString& path, const ImportLimits& limits);

    const QStringList& names() const { return names_; }
    bool contains(const QString& name) const { return names_.contains(name); }
    // The uncompressed bytes of one entry; fails for a missing entry, a corrupt one, or one that
    // would exceed the per-entry or per-archive limits.
    sala::Result<QByteArray> read(const QString& name);

private:
    struct Closer {
        void operator()(zip* archive) const;
    };

    ZipArchive() = default;
    sala::Status checkNames() const;

    QString path_;
    ImportLimits limits_;
    std::unique_ptr<zip, Closer> archive_;
    QStringList names_;
    qint64 bytesRead_ = 0;
};

} // namespace folio
