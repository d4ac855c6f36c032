#pragma once
// Word documents (Office Open XML): paragraphs of word/document.xml in order, heading styles as
// "# " lines and chapters, numbered paragraphs as list items, title and author from
// docProps/core.xml. A DOCX has no stable lines, so spans count paragraphs instead.

#include "importer.h"

class QXmlStreamReader;

namespace folio {

class ZipArchive;
class TextBuilder;

class DocxImporter : public Importer {
public:
    QString kind() const override { return QStringLiteral("docx"); }
    Result<ExtractedDocument> import(const QString& path, const ImportOptions& options,
                                     const ImportControl& control) override;

private:
    static void readCoreProperties(ZipArchive& zip, ExtractedDocument& doc);
    static sala::Status readBody(const QByteArray& xml, const QString& path, TextBuilder& builder,
                                 const ImportControl& control);
};

} // namespace folio
