#pragma once
// Plain text, Markdown and reStructuredText: the text stays as written (Markdown is not
// rendered), headings become the chapter map.

#include "importer.h"

namespace folio {

class PlainTextImporter : public Importer {
public:
    // kind: "text", "markdown" or "rst"
    explicit PlainTextImporter(QString kind) : kind_(std::move(kind)) {}

    QString kind() const override { return kind_; }
    Result<ExtractedDocument> import(const QString& path, const ImportOptions& options,
                                     const ImportControl& control) override;

private:
    void findChapters(ExtractedDocument& doc) const;

    QString kind_;
};

} // namespace folio
