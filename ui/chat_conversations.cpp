// The chat panel's stored conversations: saving as the chat goes, listing the earlier ones about
// the same documents, reopening one, and export to Markdown.
#include "chat_message.h"
#include "chat_panel.h"
#include "conversation_list.h"
#include "conversation_store.h"

#include <QDateTime>
#include <QFile>
#include <QPlainTextEdit>

#include <algorithm>

namespace folio {

namespace {

constexpr int kTitleChars = 60;

// The first line of the first question names the conversation in the list.
QString titleFrom(const QString& question, const QString& fallback) {
    QString title = question.section(u'\n', 0, 0).simplified();
    if (title.isEmpty()) return fallback;
    if (title.size() > kTitleChars) title = title.left(kTitleChars - 1).trimmed() + u'…';
    return title;
}

} // namespace

QList<ChatTurn> ChatPanel::history() const {
    QList<ChatTurn> turns;
    // Questions with their answers; a question still waiting for one is not history yet.
    for (int i = 0; i + 1 < messages_.size(); ++i) {
        if (messages_[i]->role() != QLatin1String("user") ||
            messages_[i + 1]->role() != QLatin1String("assistant"))
            continue;
        turns.append({messages_[i]->rawText(), messages_[i + 1]->parts().answer});
        ++i;
    }
    return turns;
}

void ChatPanel::refreshConversations() {
    if (!store_ || key_.isEmpty()) {
        conversations_->hide();
        return;
    }
    auto all = store_->list();
    if (!all) {
        showInfo(tr("The stored conversations could not be read: %1")
                     .arg(QString::fromStdString(all.error().message)));
        return;
    }
    std::vector<qint64> wanted(documents_.begin(), documents_.end());
    std::sort(wanted.begin(), wanted.end());
    std::vector<Conversation> matching;
    for (const Conversation& c : *all) {
        auto attached = store_->attachedDocuments(c.id); // sorted by the store
        if (attached && *attached == wanted) matching.push_back(c);
    }
    conversations_->setConversations(matching, conversationId_);
    conversations_->show();
}

bool ChatPanel::openConversation(qint64 id) {
    if (!store_ || state_ == State::Answering || state_ == State::Loading) return false;
    auto messages = store_->messages(id);
    if (!messages) {
        showInfo(tr("The conversation could not be read: %1")
                     .arg(QString::fromStdString(messages.error().message)));
        return false;
    }
    clearMessages();
    for (const Message& m : *messages)
        if (m.role == QLatin1String("user") || m.role == QLatin1String("assistant"))
            addMessage(m.role, m.content);
    conversationId_ = id;
    input_->clear();
    showInfo(QString());
    refreshConversations();
    updateControls();
    return true;
}

void ChatPanel::newConversation() {
    if (state_ == State::Answering || state_ == State::Loading) return;
    clearMessages();
    conversationId_ = 0;
    showInfo(QString());
    refreshConversations();
    updateControls();
}

void ChatPanel::startNewConversation(const QString& firstQuestion) {
    auto id =
        store_->create(titleFrom(firstQuestion, title_.isEmpty() ? tr("Conversation") : title_));
    if (!id) {
        showInfo(tr("The conversation could not be saved: %1")
                     .arg(QString::fromStdString(id.error().message)));
        return;
    }
    conversationId_ = *id;
    for (qint64 doc : documents_) (void)store_->attachDocument(conversationId_, doc);
}

void ChatPanel::storeMessage(const QString& role, const QString& content) {
    if (!store_) return;
    if (conversationId_ == 0) startNewConversation(content);
    if (conversationId_ == 0) return;
    auto added = store_->addMessage(conversationId_, role, content);
    if (!added)
        showInfo(tr("The message could not be saved: %1")
                     .arg(QString::fromStdString(added.error().message)));
    refreshConversations();
}

// The store appends only; when the history is rewritten (regenerate, edit) the conversation is
// stored again from the messages kept, so the library always matches what is shown.
void ChatPanel::rewriteStoredConversation() {
    if (!store_ || conversationId_ == 0) return;
    (void)store_->remove(conversationId_);
    conversationId_ = 0;
    for (ChatMessage* message : messages_) storeMessage(message->role(), message->rawText());
    refreshConversations();
}

QString ChatPanel::toMarkdown() const {
    QString out = QStringLiteral("# %1\n\n").arg(title_.isEmpty() ? tr("Conversation") : title_);
    out += tr("*Exported from Folio on %1.*\n\n")
               .arg(QDateTime::currentDateTime().toString(Qt::ISODate));
    for (const ChatMessage* message : messages_) {
        const bool user = message->role() == QLatin1String("user");
        out += user ? tr("## You\n\n") : tr("## Folio\n\n");
        const SplitAnswer parts = message->parts();
        if (!user && parts.hasThinking && !parts.thinking.isEmpty())
            out += QStringLiteral("<details><summary>Reasoning</summary>\n\n%1\n\n</details>\n\n")
                       .arg(parts.thinking);
        out += (user ? message->rawText() : parts.answer) + QStringLiteral("\n\n");
        if (!message->note().isEmpty()) out += QStringLiteral("*(%1)*\n\n").arg(message->note());
    }
    return out;
}

bool ChatPanel::exportMarkdown(const QString& path, QString* error) const {
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly | QIODevice::Truncate | QIODevice::Text)) {
        if (error) *error = tr("Cannot write %1: %2").arg(path, file.errorString());
        return false;
    }
    const QByteArray data = toMarkdown().toUtf8();
    if (file.write(data) != data.size()) {
        if (error) *error = tr("Cannot write %1: %2").arg(path, file.errorString());
        return false;
    }
    return true;
}

} // namespace folio
