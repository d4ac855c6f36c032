#include "html_importer.h"

#include "file_reader.h"
#include "html_to_text.h"
#include "text_decoding.h"

#include <QFileInfo>

namespace folio {

using sala::ErrorCode;

Result<ExtractedDocument> HtmlImporter::import(const QString& path, const ImportOptions& options,
                                               const ImportControl& control) {
    auto bytes = FileReader::readAll(path, options.limits.maxFileBytes);
    if (!bytes) return bytes.error();
    if (TextDecoding::looksBinary(*bytes))
        return importError(ErrorCode::Format, path,
                           QStringLiteral("looks like a binary file (it contains NUL bytes)"));
    ExtractedDocument doc;
    doc.kind = kind();
    const qint64 invalid = TextDecoding::firstInvalidUtf8(*bytes);
    if (invalid >= 0) doc.warnings << QStringLiteral("invalid UTF-8 at byte %1").arg(invalid);
    if (control.cancelled()) return cancelledError(path);
    TextBuilder builder(options.limits.maxTextChars);
    HtmlInfo info;
    SALA_TRY(HtmlToText::convert(*bytes, path, 0, 3, builder, &info));
    if (builder.truncated())
        doc.warnings << QStringLiteral("text cut at %1 characters").arg(builder.size());
    builder.finishInto(doc);
    if (doc.text.isEmpty())
        return importError(ErrorCode::Format, path, QStringLiteral("the page has no text"));
    doc.title = !info.title.isEmpty()          ? info.title
                : !info.firstHeading.isEmpty() ? info.firstHeading
                                               : QFileInfo(path).completeBaseName();
    doc.author = info.author;
    control.progress(1.0, path);
    return doc;
}

} // namespace folio
