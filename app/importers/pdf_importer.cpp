#include "pdf_importer.h"

#include "text_builder.h"
#include "text_decoding.h"

#include <QFileInfo>
#include <QMultiMap>

#include <poppler-qt6.h>

namespace folio {

using sala::ErrorCode;

namespace {

// Poppler reports parse problems on stderr; the importer reports them as errors instead.
void ignorePopplerMessage(const QString&, const QVariant&) {}

struct OutlineEntry {
    QString title;
    int level = 1;
};

void collectOutline(const QVector<Poppler::OutlineItem>& items, int level,
                    QMultiMap<int, OutlineEntry>& byPage) {
    for (const Poppler::OutlineItem& item : items) {
        const auto destination = item.destination();
        if (destination && destination->pageNumber() > 0 && !item.name().trimmed().isEmpty())
            byPage.insert(destination->pageNumber(), {item.name().simplified(), level});
        if (item.hasChildren() && level < 6) collectOutline(item.children(), level + 1, byPage);
    }
}

QString cleanPageText(QString text) {
    text = TextDecoding::normaliseNewlines(std::move(text));
    text.replace(u'\f', u'\n');
    QStringList lines = text.split(u'\n');
    for (QString& line : lines) {
        while (!line.isEmpty() && line.back().isSpace()) line.chop(1);
    }
    while (!lines.isEmpty() && lines.back().isEmpty()) lines.removeLast();
    return lines.join(u'\n');
}

// "3, 5-7" from a sorted list of page numbers.
QString pageRanges(const QList<int>& pages) {
    QStringList parts;
    for (qsizetype i = 0; i < pages.size();) {
        qsizetype j = i;
        while (j + 1 < pages.size() && pages[j + 1] == pages[j] + 1) ++j;
        parts << (i == j ? QString::number(pages[i])
                         : QStringLiteral("%1-%2").arg(pages[i]).arg(pages[j]));
        i = j + 1;
    }
    return parts.join(QStringLiteral(", "));
}

} // namespace

Result<std::unique_ptr<Poppler::Document>> PdfImporter::open(const QString& path,
                                                             const ImportOptions& options) {
    static const bool quiet = [] {
        Poppler::setDebugErrorFunction(ignorePopplerMessage, QVariant());
        return true;
    }();
    Q_UNUSED(quiet);
    const QFileInfo info(path);
    if (!info.exists())
        return importError(ErrorCode::NotFound, path, QStringLiteral("no such file"));
    if (!info.isReadable())
        return importError(ErrorCode::Io, path, QStringLiteral("the file cannot be read"));
    if (info.size() == 0)
        return importError(ErrorCode::Format, path, QStringLiteral("the file is empty"));
    if (info.size() > options.limits.maxFileBytes)
        return importError(ErrorCode::Unsupported, path,
                           QStringLiteral("the file is larger than the limit of %1 bytes")
                               .arg(options.limits.maxFileBytes));
    std::unique_ptr<Poppler::Document> pdf = Poppler::Document::load(path);
    if (!pdf)
        return importError(ErrorCode::Format, path,
                           QStringLiteral("not a readable PDF (corrupt or truncated)"));
    if (pdf->isLocked()) {
        if (options.password.isEmpty())
            return importError(ErrorCode::InvalidArgument, path,
                               QStringLiteral("the PDF is encrypted; a password is needed"));
        const QByteArray password = options.password.toUtf8();
        pdf->unlock(password, password);
        if (pdf->isLocked())
            return importError(ErrorCode::InvalidArgument, path,
                               QStringLiteral("the password does not open this encrypted PDF"));
    }
    if (pdf->numPages() <= 0)
        return importError(ErrorCode::Format, path, QStringLiteral("the PDF has no pages"));
    return pdf;
}

sala::Status PdfImporter::readPages(Poppler::Document& pdf, const QString& path,
                                    const ImportControl& control, TextBuilder& builder,
                                    QList<int>& emptyPages) {
    QMultiMap<int, OutlineEntry> outline;
    collectOutline(pdf.outline(), 1, outline);
    const int pages = pdf.numPages();
    for (int i = 0; i < pages && !builder.truncated(); ++i) {
        if (control.cancelled()) return cancelledError(path);
        const std::unique_ptr<Poppler::Page> page = pdf.page(i);
        const QString text = page ? cleanPageText(page->text(QRectF())) : QString();
        // Outline entries keep their document order within a page.
        const QList<OutlineEntry> entries = outline.values(i + 1);
        for (auto it = entries.rbegin(); it != entries.rend(); ++it)
            builder.addChapter(it->title, it->level);
        if (text.trimmed().isEmpty()) {
            emptyPages << i + 1;
        } else {
            builder.beginBlock(path, i + 1, 1);
            builder.append(text);
        }
        control.progress(double(i + 1) / pages, QStringLiteral("%1: page %2").arg(path).arg(i + 1));
    }
    return sala::Status::success();
}

Result<ExtractedDocument> PdfImporter::import(const QString& path, const ImportOptions& options,
                                              const ImportControl& control) {
    auto pdf = open(path, options);
    if (!pdf) return pdf.error();
    ExtractedDocument doc;
    doc.kind = kind();
    doc.title = (*pdf)->info(QStringLiteral("Title")).simplified();
    doc.author = (*pdf)->info(QStringLiteral("Author")).simplified();
    if (doc.title.isEmpty()) doc.title = QFileInfo(path).completeBaseName();
    TextBuilder builder(options.limits.maxTextChars);
    QList<int> emptyPages;
    SALA_TRY(readPages(**pdf, path, control, builder, emptyPages));
    if (builder.truncated())
        doc.warnings << QStringLiteral("text cut at %1 characters").arg(builder.size());
    builder.finishInto(doc);
    if (doc.text.isEmpty())
        return importError(ErrorCode::Format, path,
                           QStringLiteral("no page has a text layer (scanned images?); "
                                          "%1 page(s) need OCR")
                               .arg((*pdf)->numPages()));
    if (!emptyPages.isEmpty())
        doc.warnings
            << QStringLiteral("pages without a text layer: %1").arg(pageRanges(emptyPages));
    return doc;
}

} // namespace folio
