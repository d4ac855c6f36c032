#pragma once
// The chat about the selected documents: messages, the input, Send/Stop/Regenerate, preset
// questions, the progress of loading the documents into the model, and the stored conversations
// (the current one, and the earlier ones about the same documents, which can be reopened).
// It knows nothing of the engine: it asks through signals and is told through slots, which the
// main window connects to the EngineController.

#include "chat_render.h"
#include "engine_worker.h"

#include <QWidget>

class QGridLayout;
class QLabel;
class QPlainTextEdit;
class QProgressBar;
class QPushButton;
class QScrollArea;
class QVBoxLayout;

namespace folio {

class ChatMessage;
class ConversationList;
class ConversationStore;
class LibraryDatabase;

class ChatPanel : public QWidget {
    Q_OBJECT
public:
    enum class State { NoTarget, NoModel, Unloaded, Loading, Ready, Answering };

    explicit ChatPanel(QWidget* parent = nullptr);
    ~ChatPanel() override;

    // Where conversations are stored (UI thread connection); null: not stored.
    void setDatabase(LibraryDatabase* db);
    // What the chat is about: the context key ("doc:3", "docs:3,5"), the documents' ids and their
    // kinds (which choose the preset questions). A new target starts a new conversation.
    void setTarget(const QString& key, const QString& title, const QList<qint64>& documents,
                   const QStringList& kinds = {});
    QString targetKey() const { return key_; }
    void setModelReady(bool ready);
    State state() const { return state_; }

    int messageCount() const { return int(messages_.size()); }
    ChatMessage* message(int index) const { return messages_.value(index); }
    qint64 conversationId() const { return conversationId_; }
    QPlainTextEdit* input() const { return input_; }
    QPushButton* sendButton() const { return send_; }
    QPushButton* stopButton() const { return stop_; }
    QPushButton* regenerateButton() const { return regenerate_; }
    QProgressBar* loadProgress() const { return progress_; }
    QLabel* loadLabel() const { return progressLabel_; }
    ConversationList* conversationList() const { return conversations_; }
    QList<QPushButton*> presetButtons() const { return presetButtons_; }
    // The earlier turns of the conversation shown, as the engine gets them with a new question.
    QList<ChatTurn> history() const;

    QString toMarkdown() const;
    bool exportMarkdown(const QString& path, QString* error) const;
    // Turns quotes of message `index` into links.
    void setMessageLinks(int index, const QList<QuoteLink>& links);

public slots:
    void sendQuestion(const QString& question);
    void regenerate();
    void editLastQuestion();
    void stop();
    // Shows a stored conversation about the current documents; questions then continue it.
    // False while an answer or a load is running, or when it cannot be read.
    bool openConversation(qint64 id);
    void newConversation();

    void onContextProgress(const QString& key, qint64 done, qint64 total, double tokensPerSecond);
    void onContextReady(const QString& key, qint64 tokens, bool fromSnapshot);
    void onContextFailed(const QString& key, const QString& message);
    void onAnswerStarted(const QString& key);
    void onAnswerText(const QString& key, const QString& delta);
    void onAnswerFinished(const QString& key, const folio::EngineStats& stats,
                          const QString& stopReason);
    void onAnswerFailed(const QString& key, const QString& message);

signals:
    void loadRequested(const QString& key);
    void askRequested(const QString& key, const QString& question,
                      const QList<folio::ChatTurn>& history);
    void stopRequested();
    void cancelLoadRequested();
    void linkActivated(const QUrl& url);
    // A finished answer, for the citations.
    void answerCompleted(int messageIndex, const QString& answer);
    void stateChanged(folio::ChatPanel::State state);

private:
    ChatMessage* addMessage(const QString& role, const QString& text);
    void removeLastMessages(int count);
    void setState(State state);
    void updateControls();
    void showInfo(const QString& text);
    void showPresets(const QStringList& kinds);
    void clearMessages();
    void refreshConversations();
    void startNewConversation(const QString& firstQuestion);
    void storeMessage(const QString& role, const QString& content);
    void rewriteStoredConversation();
    void askPending();

    LibraryDatabase* db_ = nullptr;
    std::unique_ptr<ConversationStore> store_;
    QString key_;
    QString title_;
    QList<qint64> documents_;
    qint64 conversationId_ = 0;
    State state_ = State::NoTarget;
    bool modelReady_ = false;
    bool contextLoaded_ = false;
    QString pendingQuestion_;

    QLabel* targetLabel_;
    QWidget* progressRow_;
    QProgressBar* progress_;
    QLabel* progressLabel_;
    QLabel* infoLabel_;
    QScrollArea* scroll_;
    QVBoxLayout* messagesLayout_;
    QList<ChatMessage*> messages_;
    ConversationList* conversations_;
    QGridLayout* presets_;
    QList<QPushButton*> presetButtons_;
    QPlainTextEdit* input_;
    QPushButton* send_;
    QPushButton* stop_;
    QPushButton* regenerate_;
};

} // namespace folio
