#pragma once
// EPUB 2 and 3: container.xml leads to the OPF package, whose spine gives the reading order;
// each XHTML chapter becomes clean text, and the NCX or navigation document names chapters.

#include "importer.h"

#include <QHash>

namespace folio {

class ZipArchive;

class EpubImporter : public Importer {
public:
    QString kind() const override { return QStringLiteral("epub"); }
    Result<ExtractedDocument> import(const QString& path, const ImportOptions& options,
                                     const ImportControl& control) override;

private:
    struct ManifestItem {
        QString href; // resolved entry name inside the archive
        QString mediaType;
        QString properties;
    };
    struct Package {
        QString title;
        QString author;
        QHash<QString, ManifestItem> manifest; // by id
        QStringList spine;                     // manifest ids in reading order
        QString ncxId;
    };

    static Result<QString> packagePath(ZipArchive& zip, const QString& path);
    static Result<Package> readPackage(ZipArchive& zip, const QString& path, const QString& opf);
    // Chapter titles by entry name, from the EPUB 3 navigation document or the EPUB 2 NCX.
    static QHash<QString, QString> readToc(ZipArchive& zip, const Package& package);
};

} // namespace folio
