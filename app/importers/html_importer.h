#pragma once
// A single HTML or XHTML file.

#include "importer.h"

namespace folio {

class HtmlImporter : public Importer {
public:
    QString kind() const override { return QStringLiteral("html"); }
    Result<ExtractedDocument> import(const QString& path, const ImportOptions& options,
                                     const ImportControl& control) override;
};

} // namespace folio
