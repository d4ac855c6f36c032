#pragma once
// Data access for collections, documents, their text and maps, and full-text search. Every
// write of a document happens in one transaction: it is stored whole or not at all.

#include "extracted_document.h"
#include "library_records.h"
#include "result.h"

#include <optional>
#include <vector>

namespace folio {

class LibraryDatabase;

using sala::Result;
using sala::Status;

class DocumentStore {
public:
    explicit DocumentStore(LibraryDatabase& db) : db_(db) {}

    Result<qint64> ensureCollection(const QString& name);
    Result<std::vector<Collection>> collections();

    // Stores a document with its content; with `replaceId` > 0 that document is replaced in place
    // (same id). Returns the document's id.
    Result<qint64> save(const DocumentRecord& record, const ExtractedDocument& content,
                        qint64 replaceId = 0);
    // Stores (or replaces) a document whose import failed: the record only, status Error.
    Result<qint64> saveFailure(const DocumentRecord& record, qint64 replaceId = 0);
    Status setStatus(qint64 id, DocumentStatus status, const QString& error);
    // Removes a document and everything that belongs to it; false when there was none.
    Result<bool> remove(qint64 id);

    Result<std::optional<DocumentRecord>> document(qint64 id);
    Result<std::optional<DocumentRecord>> findByPath(const QString& sourcePath);
    // Another stored document with this content, if any (ignoring `exceptId`).
    Result<std::optional<DocumentRecord>> findByHash(const QString& hash, qint64 exceptId = 0);
    // All documents, or those of one collection, ordered by id.
    Result<std::vector<DocumentRecord>> list(const QString& collection = QString());
    // Documents whose source is `root` or lies below it.
    Result<std::vector<DocumentRecord>> underPath(const QString& root);

    Result<QString> text(qint64 id);
    Result<std::vector<SourceSpan>> spans(qint64 id);
    Result<std::vector<Chapter>> chapters(qint64 id);
    Result<std::vector<FileEntry>> files(qint64 id);
    Result<QStringList> warnings(qint64 id);

    // Full-text search over title, author and text. Words are matched as given (all must
    // occur); a trailing '*' makes a prefix search.
    Result<std::vector<SearchHit>> search(const QString& query, int limit = 20);
    static QString ftsQuery(const QString& userQuery);

private:
    Result<qint64> writeRecord(const DocumentRecord& record, qint64 replaceId);
    Status writeContent(qint64 id, const DocumentRecord& record, const ExtractedDocument& content);
    Status clearContent(qint64 id);
    Result<std::vector<DocumentRecord>> query(const QString& where, const QVariantList& values);

    LibraryDatabase& db_;
};

} // namespace folio
