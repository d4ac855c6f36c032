#pragma once
// PDF through poppler-qt6: page text in poppler's reading order, one span per page, the outline
// as chapters, title and author from the document information. Encrypted PDFs need the password
// from ImportOptions; pages without a text layer are reported as a warning.

#include "importer.h"

namespace Poppler {
class Document;
}

namespace folio {

class TextBuilder;

class PdfImporter : public Importer {
public:
    QString kind() const override { return QStringLiteral("pdf"); }
    Result<ExtractedDocument> import(const QString& path, const ImportOptions& options,
                                     const ImportControl& control) override;

private:
    static Result<std::unique_ptr<Poppler::Document>> open(const QString& path,
                                                           const ImportOptions& options);
    static sala::Status readPages(Poppler::Document& pdf, const QString& path,
                                  const ImportControl& control, TextBuilder& builder,
                                  QList<int>& emptyPages);
};

} // namespace folio
