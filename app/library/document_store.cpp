#include "document_store.h"

#include "library_database.h"

#include <QRegularExpression>
#include <QSqlQuery>
#include <QVariant>

namespace folio {

namespace {

const char* kSelectDocuments =
    "SELECT d.id, COALESCE(d.collection_id, 0), COALESCE(c.name, ''), d.title, d.author, d.kind, "
    "d.source_path, d.content_hash, d.size_bytes, d.char_count, COALESCE(d.token_count, -1), "
    "COALESCE(d.tokenizer, ''), d.imported_at, d.status, d.error "
    "FROM documents d LEFT JOIN collections c ON c.id = d.collection_id ";

DocumentRecord readRecord(const QSqlQuery& q) {
    DocumentRecord r;
    r.id = q.value(0).toLongLong();
    r.collectionId = q.value(1).toLongLong();
    r.collection = q.value(2).toString();
    r.title = q.value(3).toString();
    r.author = q.value(4).toString();
    r.kind = q.value(5).toString();
    r.sourcePath = q.value(6).toString();
    r.contentHash = q.value(7).toString();
    r.sizeBytes = q.value(8).toLongLong();
    r.charCount = q.value(9).toLongLong();
    r.tokenCount = q.value(10).toLongLong();
    r.tokenizer = q.value(11).toString();
    r.importedAt = QDateTime::fromMSecsSinceEpoch(q.value(12).toLongLong(), Qt::UTC);
    r.status = statusFromName(q.value(13).toString());
    r.error = q.value(14).toString();
    return r;
}

QVariant nullable(qint64 value) {
    return value < 0 ? QVariant() : QVariant(value);
}

// A null QString binds as SQL NULL; text columns are NOT NULL, so bind an empty string instead.
QVariant str(const QString& text) {
    return text.isNull() ? QVariant(QStringLiteral("")) : QVariant(text);
}

} // namespace

QString statusName(DocumentStatus status) {
    switch (status) {
    case DocumentStatus::Ok:
        return QStringLiteral("ok");
    case DocumentStatus::Warning:
        return QStringLiteral("warning");
    case DocumentStatus::Error:
        return QStringLiteral("error");
    case DocumentStatus::Missing:
        return QStringLiteral("missing");
    }
    return QStringLiteral("error");
}

DocumentStatus statusFromName(const QString& name) {
    if (name == QStringLiteral("ok")) return DocumentStatus::Ok;
    if (name == QStringLiteral("warning")) return DocumentStatus::Warning;
    if (name == QStringLiteral("missing")) return DocumentStatus::Missing;
    return DocumentStatus::Error;
}

Result<qint64> DocumentStore::ensureCollection(const QString& name) {
    QSqlQuery q(db_.db());
    q.prepare(QStringLiteral("INSERT INTO collections(name, created_at) VALUES (?, ?) "
                             "ON CONFLICT(name) DO NOTHING"));
    q.addBindValue(name);
    q.addBindValue(QDateTime::currentMSecsSinceEpoch());
    SALA_TRY(LibraryDatabase::exec(q, "create a collection"));
    q.prepare(QStringLiteral("SELECT id FROM collections WHERE name = ?"));
    q.addBindValue(name);
    SALA_TRY(LibraryDatabase::exec(q, "find a collection"));
    if (!q.next()) return sala::makeError(sala::ErrorCode::Internal, "collection vanished");
    return q.value(0).toLongLong();
}

Result<std::vector<Collection>> DocumentStore::collections() {
    QSqlQuery q(db_.db());
    q.prepare(QStringLiteral("SELECT c.id, c.name, COUNT(d.id) FROM collections c "
                             "LEFT JOIN documents d ON d.collection_id = c.id "
                             "GROUP BY c.id ORDER BY c.name"));
    SALA_TRY(LibraryDatabase::exec(q, "list collections"));
    std::vector<Collection> out;
    while (q.next())
        out.push_back({q.value(0).toLongLong(), q.value(1).toString(), q.value(2).toLongLong()});
    return out;
}

Result<qint64> DocumentStore::writeRecord(const DocumentRecord& r, qint64 replaceId) {
    QSqlQuery q(db_.db());
    const QString columns = QStringLiteral(
        "collection_id = ?, title = ?, author = ?, kind = ?, source_path = ?, content_hash = ?, "
        "size_bytes = ?, char_count = ?, token_count = ?, tokenizer = ?, imported_at = ?, "
        "status = ?, error = ?");
    if (replaceId > 0) {
        q.prepare(QStringLiteral("UPDATE documents SET ") + columns +
                  QStringLiteral(" WHERE id = ?"));
    } else {
        q.prepare(QStringLiteral(
            "INSERT INTO documents(collection_id, title, author, kind, source_path, content_hash, "
            "size_bytes, char_count, token_count, tokenizer, imported_at, status, error) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
    }
    q.addBindValue(r.collectionId > 0 ? QVariant(r.collectionId) : QVariant());
    q.addBindValue(str(r.title));
    q.addBindValue(str(r.author));
    q.addBindValue(str(r.kind));
    q.addBindValue(str(r.sourcePath));
    q.addBindValue(str(r.contentHash));
    q.addBindValue(r.sizeBytes);
    q.addBindValue(r.charCount);
    q.addBindValue(nullable(r.tokenCount));
    q.addBindValue(r.tokenizer.isEmpty() ? QVariant() : QVariant(r.tokenizer));
    q.addBindValue((r.importedAt.isValid() ? r.importedAt : QDateTime::currentDateTimeUtc())
                       .toMSecsSinceEpoch());
    q.addBindValue(statusName(r.status));
    q.addBindValue(str(r.error));
    if (replaceId > 0) q.addBindValue(replaceId);
    SALA_TRY(LibraryDatabase::exec(q, "write a document"));
    if (replaceId > 0 && q.numRowsAffected() != 1)
        return sala::makeError(
            sala::ErrorCode::NotFound,
            QStringLiteral("document %1 does not exist").arg(replaceId).toStdString());
    return replaceId > 0 ? replaceId : q.lastInsertId().toLongLong();
}

Status DocumentStore::clearContent(qint64 id) {
    static const char* tables[] = {"document_content", "source_spans", "chapters", "document_files",
                                   "document_warnings"};
    for (const char* table : tables) {
        QSqlQuery q(db_.db());
        q.prepare(QStringLiteral("DELETE FROM %1 WHERE document_id = ?").arg(QLatin1String(table)));
        q.addBindValue(id);
        SALA_TRY(LibraryDatabase::exec(q, "clear a document's content"));
    }
    return Status::success();
}

Status DocumentStore::writeContent(qint64 id, const DocumentRecord& r, const ExtractedDocument& c) {
    QSqlQuery q(db_.db());
    q.prepare(QStringLiteral(
        "INSERT INTO document_content(document_id, title, author, body) VALUES (?, ?, ?, ?)"));
    q.addBindValue(id);
    q.addBindValue(str(r.title));
    q.addBindValue(str(r.author));
    q.addBindValue(str(c.text));
    SALA_TRY(LibraryDatabase::exec(q, "write a document's text"));
    q.prepare(QStringLiteral("INSERT INTO source_spans VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"));
    for (size_t i = 0; i < c.spans.size(); ++i) {
        const SourceSpan& s = c.spans[i];
        for (const QVariant& v : {QVariant(id), QVariant(qint64(i)), QVariant(s.charStart),
                                  QVariant(s.charEnd), QVariant(s.tokenStart), QVariant(s.tokenEnd),
                                  str(s.file), QVariant(s.page), QVariant(s.line)})
            q.addBindValue(v);
        SALA_TRY(LibraryDatabase::exec(q, "write a source span"));
    }
    q.prepare(QStringLiteral("INSERT INTO chapters VALUES (?, ?, ?, ?, ?)"));
    for (size_t i = 0; i < c.chapters.size(); ++i) {
        for (const QVariant& v : {QVariant(id), QVariant(qint64(i)), str(c.chapters[i].title),
                                  QVariant(c.chapters[i].level), QVariant(c.chapters[i].charStart)})
            q.addBindValue(v);
        SALA_TRY(LibraryDatabase::exec(q, "write a chapter"));
    }
    q.prepare(QStringLiteral("INSERT INTO document_files VALUES (?, ?, ?, ?, ?, ?, ?, ?)"));
    for (size_t i = 0; i < c.files.size(); ++i) {
        const FileEntry& f = c.files[i];
        for (const QVariant& v : {QVariant(id), QVariant(qint64(i)), str(f.path), str(f.language),
                                  QVariant(f.sizeBytes), QVariant(f.charStart), QVariant(f.charEnd),
                                  nullable(f.tokenCount)})
            q.addBindValue(v);
        SALA_TRY(LibraryDatabase::exec(q, "write a file entry"));
    }
    q.prepare(QStringLiteral("INSERT INTO document_warnings VALUES (?, ?, ?)"));
    for (qsizetype i = 0; i < c.warnings.size(); ++i) {
        q.addBindValue(id);
        q.addBindValue(qint64(i));
        q.addBindValue(str(c.warnings[i]));
        SALA_TRY(LibraryDatabase::exec(q, "write a warning"));
    }
    return Status::success();
}

Result<qint64> DocumentStore::save(const DocumentRecord& record, const ExtractedDocument& content,
                                   qint64 replaceId) {
    Transaction transaction(db_);
    SALA_TRY(transaction.begin());
    if (replaceId > 0) SALA_TRY(clearContent(replaceId));
    auto id = writeRecord(record, replaceId);
    if (!id) return id.error();
    SALA_TRY(writeContent(*id, record, content));
    SALA_TRY(transaction.commit());
    return *id;
}

Result<qint64> DocumentStore::saveFailure(const DocumentRecord& record, qint64 replaceId) {
    Transaction transaction(db_);
    SALA_TRY(transaction.begin());
    if (replaceId > 0) SALA_TRY(clearContent(replaceId));
    DocumentRecord failed = record;
    failed.status = DocumentStatus::Error;
    failed.charCount = 0;
    failed.tokenCount = -1;
    auto id = writeRecord(failed, replaceId);
    if (!id) return id.error();
    SALA_TRY(transaction.commit());
    return *id;
}

Status DocumentStore::setStatus(qint64 id, DocumentStatus status, const QString& error) {
    QSqlQuery q(db_.db());
    q.prepare(QStringLiteral("UPDATE documents SET status = ?, error = ? WHERE id = ?"));
    q.addBindValue(statusName(status));
    q.addBindValue(error);
    q.addBindValue(id);
    return LibraryDatabase::exec(q, "set a document's status");
}

Result<bool> DocumentStore::remove(qint64 id) {
    Transaction transaction(db_);
    SALA_TRY(transaction.begin());
    QSqlQuery q(db_.db());
    q.prepare(QStringLiteral("DELETE FROM documents WHERE id = ?"));
    q.addBindValue(id);
    SALA_TRY(LibraryDatabase::exec(q, "remove a document"));
    const bool removed = q.numRowsAffected() > 0;
    SALA_TRY(transaction.commit());
    return removed;
}

Result<std::vector<DocumentRecord>> DocumentStore::query(const QString& where,
                                                         const QVariantList& values) {
    QSqlQuery q(db_.db());
    q.setForwardOnly(true);
    q.prepare(QLatin1String(kSelectDocuments) + where);
    for (const QVariant& v : values) q.addBindValue(v);
    SALA_TRY(LibraryDatabase::exec(q, "read documents"));
    std::vector<DocumentRecord> out;
    while (q.next()) out.push_back(readRecord(q));
    return out;
}

namespace {

Result<std::optional<DocumentRecord>> first(Result<std::vector<DocumentRecord>> rows) {
    if (!rows) return rows.error();
    if (rows->empty()) return std::optional<DocumentRecord>();
    return std::optional<DocumentRecord>(rows->front());
}

} // namespace

Result<std::optional<DocumentRecord>> DocumentStore::document(qint64 id) {
    return first(query(QStringLiteral("WHERE d.id = ?"), {id}));
}

Result<std::optional<DocumentRecord>> DocumentStore::findByPath(const QString& sourcePath) {
    return first(
        query(QStringLiteral("WHERE d.source_path = ? ORDER BY d.id LIMIT 1"), {sourcePath}));
}

Result<std::optional<DocumentRecord>> DocumentStore::findByHash(const QString& hash,
                                                                qint64 exceptId) {
    return first(query(QStringLiteral("WHERE d.content_hash = ? AND d.id <> ? AND d.status IN "
                                      "('ok', 'warning') ORDER BY d.id LIMIT 1"),
                       {hash, exceptId}));
}

Result<std::vector<DocumentRecord>> DocumentStore::list(const QString& collection) {
    if (collection.isEmpty()) return query(QStringLiteral("ORDER BY d.id"), {});
    return query(QStringLiteral("WHERE c.name = ? ORDER BY d.id"), {collection});
}

Result<std::vector<DocumentRecord>> DocumentStore::underPath(const QString& root) {
    QString prefix = root.endsWith(u'/') ? root : root + u'/';
    // substr() keeps '%' and '_' in paths from acting as LIKE wildcards.
    return query(QStringLiteral("WHERE d.source_path = ? OR substr(d.source_path, 1, ?) = ? "
                                "ORDER BY d.id"),
                 {root, qint64(prefix.size()), prefix});
}

Result<QString> DocumentStore::text(qint64 id) {
    QSqlQuery q(db_.db());
    q.prepare(QStringLiteral("SELECT body FROM document_content WHERE document_id = ?"));
    q.addBindValue(id);
    SALA_TRY(LibraryDatabase::exec(q, "read a document's text"));
    return q.next() ? q.value(0).toString() : QString();
}

Result<std::vector<SourceSpan>> DocumentStore::spans(qint64 id) {
    QSqlQuery q(db_.db());
    q.prepare(QStringLiteral("SELECT char_start, char_end, COALESCE(token_start, 0), "
                             "COALESCE(token_end, 0), file, page, line FROM source_spans "
                             "WHERE document_id = ? ORDER BY seq"));
    q.addBindValue(id);
    SALA_TRY(LibraryDatabase::exec(q, "read source spans"));
    std::vector<SourceSpan> out;
    while (q.next()) {
        SourceSpan s;
        s.charStart = q.value(0).toLongLong();
        s.charEnd = q.value(1).toLongLong();
        s.tokenStart = q.value(2).toLongLong();
        s.tokenEnd = q.value(3).toLongLong();
        s.file = q.value(4).toString();
        s.page = q.value(5).toInt();
        s.line = q.value(6).toInt();
        out.push_back(std::move(s));
    }
    return out;
}

Result<std::vector<Chapter>> DocumentStore::chapters(qint64 id) {
    QSqlQuery q(db_.db());
    q.prepare(QStringLiteral("SELECT title, level, char_start FROM chapters WHERE document_id = ? "
                             "ORDER BY seq"));
    q.addBindValue(id);
    SALA_TRY(LibraryDatabase::exec(q, "read chapters"));
    std::vector<Chapter> out;
    while (q.next())
        out.push_back({q.value(0).toString(), q.value(1).toInt(), q.value(2).toLongLong()});
    return out;
}

Result<std::vector<FileEntry>> DocumentStore::files(qint64 id) {
    QSqlQuery q(db_.db());
    q.prepare(QStringLiteral("SELECT path, language, size_bytes, char_start, char_end, "
                             "COALESCE(token_count, -1) FROM document_files WHERE document_id = ? "
                             "ORDER BY seq"));
    q.addBindValue(id);
    SALA_TRY(LibraryDatabase::exec(q, "read file entries"));
    std::vector<FileEntry> out;
    while (q.next())
        out.push_back({q.value(0).toString(), q.value(1).toString(), q.value(2).toLongLong(),
                       q.value(3).toLongLong(), q.value(4).toLongLong(), q.value(5).toLongLong()});
    return out;
}

Result<QStringList> DocumentStore::warnings(qint64 id) {
    QSqlQuery q(db_.db());
    q.prepare(
        QStringLiteral("SELECT message FROM document_warnings WHERE document_id = ? ORDER BY seq"));
    q.addBindValue(id);
    SALA_TRY(LibraryDatabase::exec(q, "read warnings"));
    QStringList out;
    while (q.next()) out << q.value(0).toString();
    return out;
}

QString DocumentStore::ftsQuery(const QString& userQuery) {
    static const QRegularExpression space(QStringLiteral("\\s+"));
    QStringList terms;
    for (QString word : userQuery.split(space, Qt::SkipEmptyParts)) {
        const bool prefix = word.endsWith(u'*');
        if (prefix) word.chop(1);
        if (word.isEmpty()) continue;
        // Quoted, every word is a plain string to FTS5, whatever punctuation it holds.
        terms << u'"' + word.replace(u'"', QStringLiteral("\"\"")) + u'"' +
                     (prefix ? QStringLiteral("*") : QString());
    }
    return terms.join(u' ');
}

Result<std::vector<SearchHit>> DocumentStore::search(const QString& userQuery, int limit) {
    std::vector<SearchHit> out;
    const QString match = ftsQuery(userQuery);
    if (match.isEmpty()) return out;
    QSqlQuery q(db_.db());
    q.prepare(QStringLiteral(
        "SELECT d.id, d.title, snippet(document_fts, 2, '[', ']', '...', 16), bm25(document_fts) "
        "FROM document_fts JOIN documents d ON d.id = document_fts.rowid "
        "WHERE document_fts MATCH ? ORDER BY bm25(document_fts), d.id LIMIT ?"));
    q.addBindValue(match);
    q.addBindValue(limit);
    SALA_TRY(LibraryDatabase::exec(q, "search the library"));
    while (q.next())
        out.push_back({q.value(0).toLongLong(), q.value(1).toString(),
                       q.value(2).toString().simplified(), q.value(3).toDouble()});
    return out;
}

} // namespace folio
