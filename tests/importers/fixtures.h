#pragma once
// Test fixtures written inside the tests: zip archives, EPUBs, DOCX files and PDFs.

#include <QByteArray>
#include <QList>
#include <QPair>
#include <QString>
#include <QStringList>

namespace fixtures {

using Entry = QPair<QString, QByteArray>;

void writeFile(const QString& path, const QByteArray& bytes);
// Writes a zip archive; the first entry is stored uncompressed (as EPUB wants for "mimetype").
bool writeZip(const QString& path, const QList<Entry>& entries);

struct EpubChapter {
    QString file; // entry name below OEBPS/
    QString title;
    QString body; // XHTML body content
};
QList<Entry> epubEntries(const QString& title, const QString& author,
                         const QList<EpubChapter>& chapters);
bool writeEpub(const QString& path, const QString& title, const QString& author,
               const QList<EpubChapter>& chapters);

// Paragraphs prefixed "#1 " .. "#6 " get heading styles, "- " list numbering.
bool writeDocx(const QString& path, const QString& title, const QString& author,
               const QStringList& paragraphs);

// One page per entry, each line of a page drawn as text; an empty entry is a page with a drawing
// but no text layer. Needs a QGuiApplication.
bool writePdf(const QString& path, const QString& title, const QStringList& pages);
// An outline (bookmark) entry; `level` 1 is top level and a deeper entry nests below the nearest
// shallower one before it. `page` counts from 1; 0 writes the entry without a destination.
struct PdfOutlineEntry {
    QString title;
    int page = 0;
    int level = 1;
};
// A PDF written object by object (QPdfWriter cannot write outlines): one page per entry, each
// line drawn in Helvetica (Latin-1 only), an empty entry is a page with a drawing but no text.
bool writeOutlinedPdf(const QString& path, const QString& title, const QStringList& pages,
                      const QList<PdfOutlineEntry>& outline);
// A one-page PDF encrypted with the standard security handler (RC4, 40 bits) whose page shows
// `text`; it opens only with `userPassword`.
void writeEncryptedPdf(const QString& path, const QString& userPassword, const QString& text);

} // namespace fixtures
