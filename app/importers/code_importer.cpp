#include "code_importer.h"

#include "code_walker.h"
#include "language_map.h"
#include "text_builder.h"
#include "text_decoding.h"

#include <QCryptographicHash>
#include <QDir>
#include <QFile>
#include <QFileInfo>

namespace folio {

using sala::ErrorCode;

namespace {

constexpr int kMaxListedWarnings = 200;

// Collects the state of one codebase import.
class Assembler {
public:
    Assembler(const QString& root, const ImportLimits& limits)
        : root_(root), limits_(limits), files_(limits.maxTextChars) {}

    bool visit(const WalkEntry& entry);
    void finish(ExtractedDocument& doc, const QStringList& walkWarnings);

private:
    void addTreeLine(const WalkEntry& entry, const QString& note);
    void warn(const QString& message);
    QString addFile(const WalkEntry& entry); // returns a note for the tree, empty if included

    QString root_;
    ImportLimits limits_;
    QString tree_;
    qint64 treeEntries_ = 0;
    qint64 filesIncluded_ = 0;
    qint64 filesLeftOut_ = 0;
    qint64 bytesIncluded_ = 0;
    TextBuilder files_;
    std::vector<FileEntry> entries_;
    QStringList warnings_;
    qint64 extraWarnings_ = 0;
    bool stoppedEarly_ = false;
    QCryptographicHash hash_{QCryptographicHash::Sha256};
};

void Assembler::warn(const QString& message) {
    if (warnings_.size() < kMaxListedWarnings)
        warnings_ << message;
    else
        ++extraWarnings_;
}

void Assembler::addTreeLine(const WalkEntry& entry, const QString& note) {
    if (++treeEntries_ > limits_.maxTreeEntries) return;
    tree_ += QString(2 * (entry.depth + 1), u' ') + QFileInfo(entry.relativePath).fileName();
    if (entry.isDirectory) tree_ += u'/';
    if (!note.isEmpty()) tree_ += QStringLiteral("  [") + note + u']';
    tree_ += u'\n';
}

QString Assembler::addFile(const WalkEntry& entry) {
    if (entry.size > limits_.maxCodeFileBytes) {
        warn(QStringLiteral("%1: skipped, %2 bytes is over the %3-byte limit")
                 .arg(entry.relativePath)
                 .arg(entry.size)
                 .arg(limits_.maxCodeFileBytes));
        return QStringLiteral("too large");
    }
    if (filesIncluded_ >= limits_.maxCodeFiles ||
        bytesIncluded_ + entry.size > limits_.maxCodeTotalBytes || files_.truncated()) {
        ++filesLeftOut_;
        return QStringLiteral("left out");
    }
    QFile file(entry.absolutePath);
    if (!file.open(QIODevice::ReadOnly)) {
        warn(QStringLiteral("%1: cannot be read: %2").arg(entry.relativePath, file.errorString()));
        return QStringLiteral("unreadable");
    }
    const QByteArray bytes = file.read(limits_.maxCodeFileBytes);
    if (TextDecoding::looksBinary(bytes)) return QStringLiteral("binary");
    const DecodedText decoded = TextDecoding::decode(bytes);
    if (decoded.invalidOffset >= 0)
        warn(QStringLiteral("%1: invalid UTF-8 at byte %2, replaced with U+FFFD")
                 .arg(entry.relativePath)
                 .arg(decoded.invalidOffset));
    FileEntry fileEntry;
    fileEntry.path = entry.relativePath;
    fileEntry.language = LanguageMap::languageOf(QFileInfo(entry.relativePath).fileName());
    fileEntry.sizeBytes = bytes.size();
    files_.beginBlock(entry.relativePath, 0, 0); // the header is line 0, the file's lines follow
    fileEntry.charStart = files_.size();
    files_.append(CodeImporter::headerLine(fileEntry.path, fileEntry.language) + u'\n');
    files_.append(decoded.text);
    fileEntry.charEnd = files_.size();
    entries_.push_back(std::move(fileEntry));
    hash_.addData(entry.relativePath.toUtf8());
    hash_.addData(QByteArrayView("\0", 1));
    hash_.addData(bytes);
    ++filesIncluded_;
    bytesIncluded_ += bytes.size();
    return {};
}

bool Assembler::visit(const WalkEntry& entry) {
    const QString note = entry.isDirectory ? QString() : addFile(entry);
    addTreeLine(entry, note);
    // Past every limit nothing more can be added; stop walking a huge tree.
    const bool full = filesIncluded_ >= limits_.maxCodeFiles || files_.truncated() ||
                      bytesIncluded_ >= limits_.maxCodeTotalBytes;
    stoppedEarly_ = full && treeEntries_ >= limits_.maxTreeEntries;
    return !stoppedEarly_;
}

void Assembler::finish(ExtractedDocument& doc, const QStringList& walkWarnings) {
    for (const QString& w : walkWarnings) warn(w);
    if (filesLeftOut_ > 0)
        warn(
            QStringLiteral("codebase limits reached (%1 files, %2 bytes): %3 more file(s) left out")
                .arg(limits_.maxCodeFiles)
                .arg(limits_.maxCodeTotalBytes)
                .arg(filesLeftOut_));
    if (treeEntries_ > limits_.maxTreeEntries)
        warn(QStringLiteral("directory tree cut after %1 entries").arg(limits_.maxTreeEntries));
    if (stoppedEarly_)
        warn(
            QStringLiteral("codebase limits reached after %1 files: the rest of the folder was not "
                           "read")
                .arg(filesIncluded_));
    if (extraWarnings_ > 0)
        warnings_ << QStringLiteral("... and %1 more warning(s)").arg(extraWarnings_);

    ExtractedDocument body;
    files_.finishInto(body);
    const QString name = QFileInfo(root_).fileName();
    QString header = QStringLiteral("Directory tree of %1:\n%1/\n").arg(name) + tree_;
    if (!body.text.isEmpty()) header += u'\n';
    const qint64 shift = header.size();
    doc.text = header + body.text;
    SourceSpan treeSpan;
    treeSpan.charEnd = shift;
    treeSpan.file = root_;
    doc.spans.push_back(treeSpan);
    for (SourceSpan span : body.spans) {
        span.charStart += shift;
        span.charEnd += shift;
        doc.spans.push_back(std::move(span));
    }
    for (FileEntry entry : entries_) {
        entry.charStart += shift;
        entry.charEnd = qMin<qint64>(entry.charEnd + shift, doc.text.size());
        doc.files.push_back(std::move(entry));
    }
    doc.warnings = warnings_;
    doc.contentHash = hash_.result().toHex();
}

} // namespace

QString CodeImporter::headerLine(const QString& relativePath, const QString& language) {
    return QStringLiteral("===== %1 (%2) =====").arg(relativePath, language);
}

Result<ExtractedDocument> CodeImporter::import(const QString& path, const ImportOptions& options,
                                               const ImportControl& control) {
    const QFileInfo info(path);
    if (!info.isDir())
        return importError(ErrorCode::InvalidArgument, path, QStringLiteral("not a folder"));
    const QString root = QDir::cleanPath(info.absoluteFilePath());
    Assembler assembler(root, options.limits);
    CodeWalker walker(root);
    qint64 seen = 0;
    walker.walk(
        [&](const WalkEntry& entry) {
            if (++seen % 500 == 0)
                control.progress(-1.0, QStringLiteral("%1: %2 entries").arg(path).arg(seen));
            return assembler.visit(entry);
        },
        control);
    if (control.cancelled()) return cancelledError(path);
    ExtractedDocument doc;
    doc.kind = kind();
    doc.title = info.fileName();
    assembler.finish(doc, walker.warnings());
    if (doc.files.empty()) doc.warnings.prepend(QStringLiteral("no text file was found"));
    control.progress(1.0, path);
    return doc;
}

} // namespace folio
