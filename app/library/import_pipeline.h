#pragma once
// The import pipeline: walks the given paths, hands each file to the importer of its kind,
// hashes, recognises unchanged files and duplicates, counts tokens, and writes every document in
// its own transaction. One bad file is reported and the rest of the import goes on.
// Thread-agnostic: run it on any thread that may use the DocumentStore's connection.

#include "import_options.h"
#include "library_records.h"

#include <QStringList>

#include <functional>

namespace folio {

class DocumentStore;
class ImporterRegistry;
class TokenCounter;
struct ExtractedDocument;

struct PipelineOptions {
    enum class FolderMode {
        Auto,      // a git checkout is a codebase, any other folder a set of documents
        Documents, // every supported file in the folder is its own document
        Codebase,  // the folder is one document
    };
    QString collection; // empty: none (re-imports keep the collection they had)
    FolderMode folderMode = FolderMode::Auto;
    ImportOptions import;
};

struct ImportItem {
    enum class Outcome { Added, Updated, Unchanged, Duplicate, Failed, Missing, Cancelled };
    QString path;
    Outcome outcome = Outcome::Failed;
    qint64 documentId = 0; // the stored document (for Duplicate: the one already there)
    QString message;       // the error, or what the duplicate duplicates
    QStringList warnings;
};

QString outcomeName(ImportItem::Outcome outcome);

struct ImportSummary {
    int added = 0, updated = 0, unchanged = 0, duplicates = 0, failed = 0, missing = 0;
    int skipped = 0; // files of a folder that no importer reads
    bool cancelled = false;
};

class ImportPipeline {
public:
    using ItemFn = std::function<void(const ImportItem&)>;

    // `counter` may be null: documents are then stored without token counts.
    ImportPipeline(DocumentStore& store, const ImporterRegistry& registry,
                   const TokenCounter* counter)
        : store_(store), registry_(registry), counter_(counter) {}

    ImportSummary run(const QStringList& paths, const PipelineOptions& options,
                      const ImportControl& control, const ItemFn& onItem = {});

private:
    struct Run;

    void importPath(const QString& path, Run& run);
    void importFolderAsDocuments(const QString& root, Run& run);
    void importOne(const QString& path, const QString& kind, Run& run);
    void markMissing(const QString& root, const QSet<QString>& seen, Run& run);
    void finish(ImportItem item, Run& run);
    void countTokens(ExtractedDocument& doc) const;
    qint64 collectionFor(const DocumentRecord* existing, Run& run);

    DocumentStore& store_;
    const ImporterRegistry& registry_;
    const TokenCounter* counter_;
};

} // namespace folio
