#pragma once
// Plain records the library stores and returns.

#include <QDateTime>
#include <QString>

namespace folio {

enum class DocumentStatus {
    Ok,      // imported cleanly
    Warning, // imported, with warnings (see DocumentStore::warnings)
    Error,   // the import failed; `error` says why and there is no text
    Missing, // the source file was gone at the last re-import
};

QString statusName(DocumentStatus status);
DocumentStatus statusFromName(const QString& name);

struct DocumentRecord {
    qint64 id = 0;
    qint64 collectionId = 0; // 0: in no collection
    QString collection;
    QString title;
    QString author;
    QString kind;
    QString sourcePath;
    QString contentHash; // hex SHA-256
    qint64 sizeBytes = 0;
    qint64 charCount = 0;
    qint64 tokenCount = -1; // -1: not counted
    QString tokenizer;      // the tokenizer that produced tokenCount
    QDateTime importedAt;
    DocumentStatus status = DocumentStatus::Ok;
    QString error;
};

struct Collection {
    qint64 id = 0;
    QString name;
    qint64 documentCount = 0;
};

struct SearchHit {
    qint64 documentId = 0;
    QString title;
    QString snippet;  // matches are wrapped in [ and ]
    double score = 0; // bm25, lower is better
};

struct Conversation {
    qint64 id = 0;
    QString title;
    QDateTime createdAt;
    QDateTime updatedAt;
};

struct Message {
    qint64 id = 0;
    qint64 conversationId = 0;
    int seq = 0;
    QString role; // "system", "user" or "assistant"
    QString content;
    qint64 tokenCount = -1;
    QDateTime createdAt;
};

} // namespace folio
