#include "docx_importer.h"

#include "text_builder.h"
#include "zip_archive.h"

#include <QFileInfo>
#include <QXmlStreamReader>

namespace folio {

using sala::ErrorCode;

namespace {

struct Paragraph {
    QString text;
    int headingLevel = 0;
    bool listItem = false;

    void reset() { *this = Paragraph(); }
};

// "Heading2" -> 2, "Title" -> 1, anything else -> 0.
int headingLevelOf(QStringView style) {
    if (style.compare(QStringLiteral("Title"), Qt::CaseInsensitive) == 0) return 1;
    if (!style.startsWith(QStringLiteral("heading"), Qt::CaseInsensitive)) return 0;
    bool ok = false;
    const int level = style.mid(7).toInt(&ok);
    return ok && level >= 1 && level <= 9 ? level : 0;
}

void emitParagraph(const Paragraph& p, const QString& path, int index, TextBuilder& builder) {
    const QString text = p.text.trimmed();
    if (text.isEmpty()) return;
    const int level = qMin(p.headingLevel, 6);
    if (level > 0) builder.addChapter(text, level);
    builder.beginBlock(path, 0, index);
    if (level > 0)
        builder.append(QString(level, u'#') + u' ');
    else if (p.listItem)
        builder.append(QStringLiteral("- "));
    builder.append(text);
}

} // namespace

void DocxImporter::readCoreProperties(ZipArchive& zip, ExtractedDocument& doc) {
    if (!zip.contains(QStringLiteral("docProps/core.xml"))) return;
    auto bytes = zip.read(QStringLiteral("docProps/core.xml"));
    if (!bytes) return;
    QXmlStreamReader xml(*bytes);
    while (!xml.atEnd() && !xml.hasError()) {
        if (xml.readNext() != QXmlStreamReader::StartElement) continue;
        if (xml.name() == QStringLiteral("title") && doc.title.isEmpty())
            doc.title = xml.readElementText(QXmlStreamReader::SkipChildElements).simplified();
        else if (xml.name() == QStringLiteral("creator") && doc.author.isEmpty())
            doc.author = xml.readElementText(QXmlStreamReader::SkipChildElements).simplified();
    }
}

sala::Status DocxImporter::readBody(const QByteArray& bytes, const QString& path,
                                    TextBuilder& builder, const ImportControl& control) {
    QXmlStreamReader xml(bytes);
    Paragraph paragraph;
    int index = 0;
    while (!xml.atEnd()) {
        const auto token = xml.readNext();
        const auto name = xml.name();
        if (token == QXmlStreamReader::EndElement && name == QStringLiteral("p")) {
            emitParagraph(paragraph, path, ++index, builder);
            paragraph.reset();
            if (index % 256 == 0 && control.cancelled()) return cancelledError(path);
        }
        if (token != QXmlStreamReader::StartElement) continue;
        if (name == QStringLiteral("t")) {
            paragraph.text += xml.readElementText(QXmlStreamReader::SkipChildElements);
        } else if (name == QStringLiteral("tab")) {
            paragraph.text += u'\t';
        } else if (name == QStringLiteral("br") || name == QStringLiteral("cr")) {
            paragraph.text += u'\n';
        } else if (name == QStringLiteral("pStyle")) {
            paragraph.headingLevel =
                headingLevelOf(xml.attributes().value(QStringLiteral("w:val")));
        } else if (name == QStringLiteral("outlineLvl") && paragraph.headingLevel == 0) {
            // Outline level 9 means body text.
            const int level = xml.attributes().value(QStringLiteral("w:val")).toInt();
            if (level >= 0 && level < 9) paragraph.headingLevel = level + 1;
        } else if (name == QStringLiteral("numPr")) {
            paragraph.listItem = true;
        }
    }
    if (xml.hasError())
        return importError(ErrorCode::Format, path,
                           QStringLiteral("bad word/document.xml: %1 (line %2)")
                               .arg(xml.errorString())
                               .arg(xml.lineNumber()));
    return sala::Status::success();
}

Result<ExtractedDocument> DocxImporter::import(const QString& path, const ImportOptions& options,
                                               const ImportControl& control) {
    auto zip = ZipArchive::open(path, options.limits);
    if (!zip) return zip.error();
    auto body = zip->read(QStringLiteral("word/document.xml"));
    if (!body) return body.error();
    ExtractedDocument doc;
    doc.kind = kind();
    readCoreProperties(*zip, doc);
    TextBuilder builder(options.limits.maxTextChars);
    SALA_TRY(readBody(*body, path, builder, control));
    if (builder.truncated())
        doc.warnings << QStringLiteral("text cut at %1 characters").arg(builder.size());
    builder.finishInto(doc);
    if (doc.text.isEmpty())
        return importError(ErrorCode::Format, path, QStringLiteral("the document has no text"));
    if (doc.title.isEmpty())
        doc.title =
            doc.chapters.empty() ? QFileInfo(path).completeBaseName() : doc.chapters[0].title;
    control.progress(1.0, path);
    return doc;
}

} // namespace folio
