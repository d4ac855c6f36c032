#include "conversation_store.h"

#include "library_database.h"

#include <QSqlQuery>
#include <QVariant>

namespace folio {

using sala::Result;
using sala::Status;

namespace {

QDateTime fromMs(const QVariant& v) {
    return QDateTime::fromMSecsSinceEpoch(v.toLongLong(), Qt::UTC);
}

} // namespace

Result<qint64> ConversationStore::create(const QString& title) {
    QSqlQuery q(db_.db());
    q.prepare(QStringLiteral(
        "INSERT INTO conversations(title, created_at, updated_at) VALUES (?, ?, ?)"));
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    q.addBindValue(title.isNull() ? QStringLiteral("") : title);
    q.addBindValue(now);
    q.addBindValue(now);
    SALA_TRY(LibraryDatabase::exec(q, "create a conversation"));
    return q.lastInsertId().toLongLong();
}

Result<std::vector<Conversation>> ConversationStore::list() {
    QSqlQuery q(db_.db());
    q.prepare(QStringLiteral("SELECT id, title, created_at, updated_at FROM conversations "
                             "ORDER BY updated_at DESC, id DESC"));
    SALA_TRY(LibraryDatabase::exec(q, "list conversations"));
    std::vector<Conversation> out;
    while (q.next())
        out.push_back({q.value(0).toLongLong(), q.value(1).toString(), fromMs(q.value(2)),
                       fromMs(q.value(3))});
    return out;
}

Status ConversationStore::rename(qint64 id, const QString& title) {
    QSqlQuery q(db_.db());
    q.prepare(QStringLiteral("UPDATE conversations SET title = ? WHERE id = ?"));
    q.addBindValue(title.isNull() ? QStringLiteral("") : title);
    q.addBindValue(id);
    return LibraryDatabase::exec(q, "rename a conversation");
}

Result<bool> ConversationStore::remove(qint64 id) {
    QSqlQuery q(db_.db());
    q.prepare(QStringLiteral("DELETE FROM conversations WHERE id = ?"));
    q.addBindValue(id);
    SALA_TRY(LibraryDatabase::exec(q, "remove a conversation"));
    return q.numRowsAffected() > 0;
}

Result<qint64> ConversationStore::addMessage(qint64 conversationId, const QString& role,
                                             const QString& content, qint64 tokenCount) {
    Transaction transaction(db_);
    SALA_TRY(transaction.begin());
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    QSqlQuery q(db_.db());
    q.prepare(QStringLiteral(
        "INSERT INTO messages(conversation_id, seq, role, content, token_count, created_at) "
        "VALUES (?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM messages WHERE conversation_id = ?), "
        "?, ?, ?, ?)"));
    q.addBindValue(conversationId);
    q.addBindValue(conversationId);
    q.addBindValue(role);
    q.addBindValue(content.isNull() ? QStringLiteral("") : content);
    q.addBindValue(tokenCount < 0 ? QVariant() : QVariant(tokenCount));
    q.addBindValue(now);
    SALA_TRY(LibraryDatabase::exec(q, "add a message"));
    const qint64 id = q.lastInsertId().toLongLong();
    q.prepare(QStringLiteral("UPDATE conversations SET updated_at = ? WHERE id = ?"));
    q.addBindValue(now);
    q.addBindValue(conversationId);
    SALA_TRY(LibraryDatabase::exec(q, "touch a conversation"));
    SALA_TRY(transaction.commit());
    return id;
}

Result<std::vector<Message>> ConversationStore::messages(qint64 conversationId) {
    QSqlQuery q(db_.db());
    q.prepare(QStringLiteral("SELECT id, seq, role, content, COALESCE(token_count, -1), created_at "
                             "FROM messages WHERE conversation_id = ? ORDER BY seq"));
    q.addBindValue(conversationId);
    SALA_TRY(LibraryDatabase::exec(q, "read messages"));
    std::vector<Message> out;
    while (q.next())
        out.push_back({q.value(0).toLongLong(), conversationId, q.value(1).toInt(),
                       q.value(2).toString(), q.value(3).toString(), q.value(4).toLongLong(),
                       fromMs(q.value(5))});
    return out;
}

Status ConversationStore::attachDocument(qint64 conversationId, qint64 documentId) {
    QSqlQuery q(db_.db());
    q.prepare(QStringLiteral("INSERT OR IGNORE INTO conversation_documents VALUES (?, ?)"));
    q.addBindValue(conversationId);
    q.addBindValue(documentId);
    return LibraryDatabase::exec(q, "attach a document");
}

Status ConversationStore::detachDocument(qint64 conversationId, qint64 documentId) {
    QSqlQuery q(db_.db());
    q.prepare(QStringLiteral(
        "DELETE FROM conversation_documents WHERE conversation_id = ? AND document_id = ?"));
    q.addBindValue(conversationId);
    q.addBindValue(documentId);
    return LibraryDatabase::exec(q, "detach a document");
}

Result<std::vector<qint64>> ConversationStore::attachedDocuments(qint64 conversationId) {
    QSqlQuery q(db_.db());
    q.prepare(
        QStringLiteral("SELECT document_id FROM conversation_documents WHERE conversation_id = ? "
                       "ORDER BY document_id"));
    q.addBindValue(conversationId);
    SALA_TRY(LibraryDatabase::exec(q, "read attached documents"));
    std::vector<qint64> out;
    while (q.next()) out.push_back(q.value(0).toLongLong());
    return out;
}

} // namespace folio
