#include "import_pipeline.h"

#include "language_map.h"

#include "code_walker.h"
#include "document_store.h"
#include "importer_registry.h"
#include "source_map.h"
#include "token_counter.h"

#include <QCryptographicHash>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QSet>

namespace folio {

namespace {

// A folder is read as one codebase when it is a git checkout, has a build or package file
// at its top, or most files at its top are source code; otherwise as separate documents.
bool looksLikeCodebase(const QString& dir) {
    if (QFileInfo::exists(dir + QStringLiteral("/.git"))) return true;
    static const QStringList markers = {
        "CMakeLists.txt", "Makefile", "meson.build",   "configure.ac", "package.json",
        "Cargo.toml",     "go.mod",   "pom.xml",       "build.gradle", "pyproject.toml",
        "setup.py",       "Gemfile",  "composer.json", "build.zig",    "Package.swift"};
    for (const QString& m : markers)
        if (QFileInfo::exists(dir + QLatin1Char('/') + m)) return true;
    int code = 0, files = 0;
    const QFileInfoList entries = QDir(dir).entryInfoList(QDir::Files | QDir::NoDotAndDotDot);
    for (const QFileInfo& f : entries) {
        if (files >= 500) break;
        ++files;
        const QString language = LanguageMap::languageOf(f.fileName());
        const QString kind = ImporterRegistry::kindForFile(f.absoluteFilePath(), false);
        if (language != QStringLiteral("Text") && kind != QStringLiteral("markdown") &&
            kind != QStringLiteral("html") && kind != QStringLiteral("rst"))
            ++code;
    }
    return files > 0 && code * 2 > files;
}

} // namespace

using Outcome = ImportItem::Outcome;

QString outcomeName(Outcome outcome) {
    switch (outcome) {
    case Outcome::Added:
        return QStringLiteral("added");
    case Outcome::Updated:
        return QStringLiteral("updated");
    case Outcome::Unchanged:
        return QStringLiteral("unchanged");
    case Outcome::Duplicate:
        return QStringLiteral("duplicate");
    case Outcome::Failed:
        return QStringLiteral("failed");
    case Outcome::Missing:
        return QStringLiteral("missing");
    case Outcome::Cancelled:
        return QStringLiteral("cancelled");
    }
    return {};
}

struct ImportPipeline::Run {
    const PipelineOptions& options;
    const ImportControl& control;
    const ItemFn& onItem;
    ImportSummary summary;
    qint64 collectionId = -1; // -1: not looked up yet
    int done = 0;
};

namespace {

QString cleanAbsolute(const QString& path) {
    return QDir::cleanPath(QFileInfo(path).absoluteFilePath());
}

QString hashFile(const QString& path, QString* error) {
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        *error = QStringLiteral("%1: cannot be read: %2").arg(path, file.errorString());
        return {};
    }
    QCryptographicHash hash(QCryptographicHash::Sha256);
    if (!hash.addData(&file)) {
        *error = QStringLiteral("%1: read error: %2").arg(path, file.errorString());
        return {};
    }
    return QString::fromLatin1(hash.result().toHex());
}

QString message(const sala::Error& error) {
    return QString::fromStdString(error.message);
}

} // namespace

ImportSummary ImportPipeline::run(const QStringList& paths, const PipelineOptions& options,
                                  const ImportControl& control, const ItemFn& onItem) {
    Run run{options, control, onItem, {}, -1, 0};
    for (const QString& path : paths) {
        if (control.cancelled()) break;
        importPath(path, run);
    }
    run.summary.cancelled = run.summary.cancelled || control.cancelled();
    return run.summary;
}

void ImportPipeline::finish(ImportItem item, Run& run) {
    ImportSummary& s = run.summary;
    switch (item.outcome) {
    case Outcome::Added:
        ++s.added;
        break;
    case Outcome::Updated:
        ++s.updated;
        break;
    case Outcome::Unchanged:
        ++s.unchanged;
        break;
    case Outcome::Duplicate:
        ++s.duplicates;
        break;
    case Outcome::Failed:
        ++s.failed;
        break;
    case Outcome::Missing:
        ++s.missing;
        break;
    case Outcome::Cancelled:
        s.cancelled = true;
        break;
    }
    ++run.done;
    run.control.progress(-1.0, QStringLiteral("%1 %2").arg(outcomeName(item.outcome), item.path));
    if (run.onItem) run.onItem(item);
}

qint64 ImportPipeline::collectionFor(const DocumentRecord* existing, Run& run) {
    if (run.options.collection.isEmpty()) return existing ? existing->collectionId : 0;
    if (run.collectionId < 0) {
        auto id = store_.ensureCollection(run.options.collection);
        run.collectionId = id ? *id : 0;
    }
    return run.collectionId;
}

void ImportPipeline::importPath(const QString& path, Run& run) {
    const QString absolute = cleanAbsolute(path);
    const QFileInfo info(absolute);
    if (!info.exists()) {
        // A root that is gone: whatever was imported from it is now missing.
        auto known = store_.underPath(absolute);
        if (known && !known->empty()) {
            markMissing(absolute, {}, run);
        } else {
            finish({absolute,
                    Outcome::Failed,
                    0,
                    absolute + QStringLiteral(": no such file or folder"),
                    {}},
                   run);
        }
        return;
    }
    if (!info.isDir()) {
        QString kind = ImporterRegistry::kindForFile(absolute, true);
        if (kind.isEmpty()) {
            finish({absolute,
                    Outcome::Failed,
                    0,
                    absolute + QStringLiteral(": not a supported document (binary content)"),
                    {}},
                   run);
            return;
        }
        importOne(absolute, kind, run);
        return;
    }
    using Mode = PipelineOptions::FolderMode;
    const Mode mode = run.options.folderMode;
    const bool codebase =
        mode == Mode::Codebase || (mode == Mode::Auto && looksLikeCodebase(absolute));
    if (codebase)
        importOne(absolute, QStringLiteral("code"), run);
    else
        importFolderAsDocuments(absolute, run);
}

void ImportPipeline::importFolderAsDocuments(const QString& root, Run& run) {
    QSet<QString> seen;
    CodeWalker walker(root);
    walker.walk(
        [&](const WalkEntry& entry) {
            if (entry.isDirectory) return true;
            const QString kind = ImporterRegistry::kindForFile(entry.absolutePath, false);
            if (kind.isEmpty()) {
                ++run.summary.skipped;
                return true;
            }
            const QString absolute = QDir::cleanPath(entry.absolutePath);
            seen.insert(absolute);
            importOne(absolute, kind, run);
            return !run.control.cancelled();
        },
        run.control);
    for (const QString& warning : walker.warnings())
        finish({root, Outcome::Failed, 0, warning, {}}, run);
    if (!run.control.cancelled()) markMissing(root, seen, run);
}

void ImportPipeline::markMissing(const QString& root, const QSet<QString>& seen, Run& run) {
    auto known = store_.underPath(root);
    if (!known) return finish({root, Outcome::Failed, 0, message(known.error()), {}}, run);
    for (const DocumentRecord& doc : *known) {
        if (seen.contains(doc.sourcePath) || doc.status == DocumentStatus::Missing) continue;
        if (QFileInfo::exists(doc.sourcePath)) continue; // still there, only not walked (ignored)
        const Status status =
            store_.setStatus(doc.id, DocumentStatus::Missing, QStringLiteral("the source is gone"));
        finish({doc.sourcePath,
                status.ok() ? Outcome::Missing : Outcome::Failed,
                doc.id,
                status.ok() ? QStringLiteral("the source is gone") : message(status.error()),
                {}},
               run);
    }
}

void ImportPipeline::countTokens(ExtractedDocument& doc) const {
    if (!counter_) return;
    const QStringView text(doc.text);
    SourceMap::assignTokens(text, doc.spans,
                            [this](QStringView part) { return counter_->countTokens(part); });
    for (FileEntry& file : doc.files)
        file.tokenCount =
            counter_->countTokens(text.sliced(file.charStart, file.charEnd - file.charStart));
}

void ImportPipeline::importOne(const QString& path, const QString& kind, Run& run) {
    if (run.control.cancelled()) return;
    auto existingResult = store_.findByPath(path);
    if (!existingResult)
        return finish({path, Outcome::Failed, 0, message(existingResult.error()), {}}, run);
    const std::optional<DocumentRecord> existing = *existingResult;
    const qint64 existingId = existing ? existing->id : 0;
    const bool isFolder = kind == QStringLiteral("code");

    DocumentRecord record;
    record.kind = kind;
    record.sourcePath = path;
    record.title = QFileInfo(path).fileName();
    record.collectionId = collectionFor(existing ? &*existing : nullptr, run);
    record.sizeBytes = isFolder ? 0 : QFileInfo(path).size();
    record.tokenizer = counter_ ? counter_->name() : QString();

    const auto sameAsStored = [&](const QString& hash) {
        return existing && existing->contentHash == hash &&
               (existing->status == DocumentStatus::Ok ||
                existing->status == DocumentStatus::Warning) &&
               (!counter_ || existing->tokenizer == counter_->name());
    };
    if (!isFolder) {
        QString error;
        record.contentHash = hashFile(path, &error);
        if (record.contentHash.isEmpty()) {
            record.error = error;
            auto id = store_.saveFailure(record, existingId);
            return finish({path, Outcome::Failed, id ? *id : 0, error, {}}, run);
        }
        if (sameAsStored(record.contentHash))
            return finish({path, Outcome::Unchanged, existingId, {}, {}}, run);
        if (!existing) {
            auto duplicate = store_.findByHash(record.contentHash);
            if (duplicate && *duplicate)
                return finish({path,
                               Outcome::Duplicate,
                               (*duplicate)->id,
                               QStringLiteral("same content as #%1 (%2)")
                                   .arg((*duplicate)->id)
                                   .arg((*duplicate)->sourcePath),
                               {}},
                              run);
        }
    }

    Importer* importer = registry_.importer(kind);
    auto extracted =
        importer ? importer->import(path, run.options.import, run.control)
                 : Result<ExtractedDocument>(sala::makeError(
                       sala::ErrorCode::Unsupported, "no importer for " + kind.toStdString()));
    if (!extracted) {
        if (extracted.error().code == sala::ErrorCode::Cancelled)
            return finish({path, Outcome::Cancelled, existingId, message(extracted.error()), {}},
                          run);
        record.error = message(extracted.error());
        auto id = store_.saveFailure(record, existingId);
        return finish({path, Outcome::Failed, id ? *id : 0, record.error, {}}, run);
    }
    ExtractedDocument& doc = *extracted;
    if (isFolder) {
        record.contentHash = QString::fromLatin1(doc.contentHash);
        if (sameAsStored(record.contentHash))
            return finish({path, Outcome::Unchanged, existingId, {}, doc.warnings}, run);
    }
    record.title = doc.title.isEmpty() ? record.title : doc.title;
    record.author = doc.author;
    record.charCount = doc.text.size();
    if (counter_) {
        record.tokenCount = counter_->countTokens(doc.text);
        countTokens(doc);
    }
    record.status = doc.warnings.isEmpty() ? DocumentStatus::Ok : DocumentStatus::Warning;
    record.error = doc.warnings.isEmpty() ? QString() : doc.warnings.first();
    auto id = store_.save(record, doc, existingId);
    if (!id)
        return finish({path, Outcome::Failed, existingId, message(id.error()), doc.warnings}, run);
    finish({path, existing ? Outcome::Updated : Outcome::Added, *id, {}, doc.warnings}, run);
}

} // namespace folio
