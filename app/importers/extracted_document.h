#pragma once
// What an importer hands to the library: clean text plus the maps that lead back to the source.

#include <QString>
#include <QStringList>

#include <vector>

namespace folio {

// A run of the text that comes from one place of one file. Lines inside a span are counted from
// `line` on, one per '\n', so a span needs no entry per line. Page and line are 0 when the
// source has no such notion (an EPUB chapter has no pages, a DOCX has no stable lines).
struct SourceSpan {
    qint64 charStart = 0;
    qint64 charEnd = 0;
    QString file;
    int page = 0;
    int line = 0;
    qint64 tokenStart = 0; // filled by the pipeline once a tokenizer has counted the text
    qint64 tokenEnd = 0;
};

struct Chapter {
    QString title;
    int level = 1;
    qint64 charStart = 0;
};

// One file of an assembled codebase.
struct FileEntry {
    QString path; // relative to the codebase root, '/'-separated
    QString language;
    qint64 sizeBytes = 0;
    qint64 charStart = 0;
    qint64 charEnd = 0;
    qint64 tokenCount = -1; // -1: not counted
};

struct ExtractedDocument {
    QString kind;
    QString title;
    QString author;
    QString text;
    std::vector<SourceSpan> spans;
    std::vector<Chapter> chapters;
    std::vector<FileEntry> files;
    QStringList warnings;   // the import worked, but something the user should know went wrong
    QByteArray contentHash; // set by importers whose content is not one file's bytes (codebases)
};

} // namespace folio
