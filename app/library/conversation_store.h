#pragma once
// Data access for the app's conversations, their messages and the documents attached to them.

#include "library_records.h"
#include "result.h"

#include <vector>

namespace folio {

class LibraryDatabase;

class ConversationStore {
public:
    explicit ConversationStore(LibraryDatabase& db) : db_(db) {}

    sala::Result<qint64> create(const QString& title);
    sala::Result<std::vector<Conversation>> list(); // most recently updated first
    sala::Status rename(qint64 id, const QString& title);
    sala::Result<bool> remove(qint64 id);

    // Appends a message at the end of the conversation; returns its id.
    sala::Result<qint64> addMessage(qint64 conversationId, const QString& role,
                                    const QString& content, qint64 tokenCount = -1);
    sala::Result<std::vector<Message>> messages(qint64 conversationId);

    sala::Status attachDocument(qint64 conversationId, qint64 documentId);
    sala::Status detachDocument(qint64 conversationId, qint64 documentId);
    sala::Result<std::vector<qint64>> attachedDocuments(qint64 conversationId);

private:
    LibraryDatabase& db_;
};

} // namespace folio
