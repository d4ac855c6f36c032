#pragma once
// Finds the importer for a file: by extension first, by content for files without a known one.

#include "importer.h"

#include <QHash>

#include <memory>

namespace folio {

class ImporterRegistry {
public:
    ImporterRegistry(); // registers every built-in importer

    // The kind of document a file holds ("pdf", "epub", ...), or empty when no importer reads it.
    // With `sniff`, files of unknown extension are recognised by their first bytes.
    static QString kindForFile(const QString& path, bool sniff);
    Importer* importer(const QString& kind) const;
    QStringList kinds() const { return importers_.keys(); }
    void add(std::unique_ptr<Importer> importer);

private:
    QHash<QString, std::shared_ptr<Importer>> importers_;
};

} // namespace folio
