#include "plain_text_importer.h"

#include "file_reader.h"
#include "text_decoding.h"

#include <QFileInfo>
#include <QRegularExpression>

namespace folio {

using sala::ErrorCode;

Result<ExtractedDocument> PlainTextImporter::import(const QString& path,
                                                    const ImportOptions& options,
                                                    const ImportControl& control) {
    auto bytes = FileReader::readAll(path, options.limits.maxFileBytes);
    if (!bytes) return bytes.error();
    if (control.cancelled()) return cancelledError(path);
    DecodedText decoded = TextDecoding::decode(*bytes);
    if (decoded.binary)
        return importError(ErrorCode::Format, path,
                           QStringLiteral("looks like a binary file (it contains NUL bytes)"));
    ExtractedDocument doc;
    doc.kind = kind_;
    if (decoded.invalidOffset >= 0)
        doc.warnings << QStringLiteral("invalid UTF-8 at byte %1 (%2 bad sequence(s) replaced "
                                       "with U+FFFD)")
                            .arg(decoded.invalidOffset)
                            .arg(decoded.invalidSequences);
    if (decoded.text.size() > options.limits.maxTextChars) {
        decoded.text.truncate(options.limits.maxTextChars);
        doc.warnings << QStringLiteral("text cut at %1 characters").arg(decoded.text.size());
    }
    if (decoded.text.trimmed().isEmpty())
        return importError(ErrorCode::Format, path, QStringLiteral("the file has no text"));
    doc.text = std::move(decoded.text);
    SourceSpan span;
    span.charEnd = doc.text.size();
    span.file = path;
    span.line = 1;
    doc.spans.push_back(span);
    findChapters(doc);
    doc.title = doc.chapters.empty() ? QFileInfo(path).completeBaseName() : doc.chapters[0].title;
    control.progress(1.0, path);
    return doc;
}

namespace {

bool isRstUnderline(QStringView line, qsizetype titleLength) {
    static const QString marks = QStringLiteral("=-~^\"'`#*+:._");
    if (line.size() < qMax<qsizetype>(titleLength, 2) || !marks.contains(line[0])) return false;
    for (QChar c : line)
        if (c != line[0]) return false;
    return true;
}

} // namespace

void PlainTextImporter::findChapters(ExtractedDocument& doc) const {
    if (kind_ == QStringLiteral("text")) return;
    static const QRegularExpression atx(QStringLiteral("^(#{1,6})[ \\t]+(.+?)[ \\t#]*$"));
    QList<int> rstLevels; // reStructuredText levels are given by the order marks first appear
    bool inFence = false;
    qint64 lineStart = 0;
    QStringView previous;
    qint64 previousStart = 0;
    const QStringView text(doc.text);
    while (lineStart <= text.size()) {
        qint64 end = text.indexOf(u'\n', lineStart);
        if (end < 0) end = text.size();
        const QStringView line = text.sliced(lineStart, end - lineStart);
        if (kind_ == QStringLiteral("markdown")) {
            if (line.startsWith(QStringLiteral("```")) || line.startsWith(QStringLiteral("~~~")))
                inFence = !inFence;
            const auto match = inFence ? QRegularExpressionMatch() : atx.match(line.toString());
            if (match.hasMatch())
                doc.chapters.push_back(
                    {match.captured(2).trimmed(), int(match.capturedLength(1)), lineStart});
        } else if (!previous.trimmed().isEmpty() &&
                   isRstUnderline(line, previous.trimmed().size())) {
            const int mark = line[0].unicode();
            if (!rstLevels.contains(mark)) rstLevels << mark;
            doc.chapters.push_back(
                {previous.trimmed().toString(), int(rstLevels.indexOf(mark)) + 1, previousStart});
        }
        previous = line;
        previousStart = lineStart;
        lineStart = end + 1;
    }
}

} // namespace folio
