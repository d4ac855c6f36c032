#include "chat_panel.h"

#include "chat_message.h"
#include "chat_presets.h"
#include "conversation_list.h"
#include "conversation_store.h"

#include <QGridLayout>
#include <QHBoxLayout>
#include <QKeyEvent>
#include <QLabel>
#include <QLocale>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QScrollArea>
#include <QScrollBar>
#include <QTimer>
#include <QVBoxLayout>

namespace folio {
namespace {

// Ctrl+Enter sends; plain Enter makes a new line, as in most chat inputs for long questions.
class InputEdit : public QPlainTextEdit {
public:
    using QPlainTextEdit::QPlainTextEdit;
    std::function<void()> onSend;

protected:
    void keyPressEvent(QKeyEvent* event) override {
        if ((event->key() == Qt::Key_Return || event->key() == Qt::Key_Enter) &&
            (event->modifiers() & Qt::ControlModifier) && onSend) {
            onSend();
            return;
        }
        QPlainTextEdit::keyPressEvent(event);
    }
};

constexpr int kPresetColumns = 2;

QString durationText(double seconds) {
    if (seconds < 0 || !std::isfinite(seconds)) return QStringLiteral("–");
    const qint64 s = qint64(seconds + 0.5);
    if (s < 60) return QObject::tr("%1 s").arg(s);
    if (s < 3600) return QObject::tr("%1 min %2 s").arg(s / 60).arg(s % 60);
    return QObject::tr("%1 h %2 min").arg(s / 3600).arg((s % 3600) / 60);
}

} // namespace

ChatPanel::ChatPanel(QWidget* parent) : QWidget(parent) {
    targetLabel_ = new QLabel(tr("Select a document in the library to chat about it."), this);
    targetLabel_->setWordWrap(true);
    conversations_ = new ConversationList(this);
    conversations_->hide();
    progress_ = new QProgressBar(this);
    progress_->setRange(0, 1000);
    progress_->setTextVisible(false);
    progressLabel_ = new QLabel(this);
    auto* cancel = new QPushButton(tr("Cancel"), this);
    progressRow_ = new QWidget(this);
    auto* progressLayout = new QVBoxLayout(progressRow_);
    progressLayout->setContentsMargins(0, 0, 0, 0);
    auto* progressLine = new QHBoxLayout;
    progressLine->addWidget(progress_, 1);
    progressLine->addWidget(cancel);
    progressLayout->addLayout(progressLine);
    progressLayout->addWidget(progressLabel_);
    progressRow_->hide();
    infoLabel_ = new QLabel(this);
    infoLabel_->setWordWrap(true);
    infoLabel_->setStyleSheet(QStringLiteral("color: #555;"));

    auto* list = new QWidget;
    messagesLayout_ = new QVBoxLayout(list);
    messagesLayout_->setContentsMargins(0, 0, 0, 0);
    messagesLayout_->addStretch(1);
    scroll_ = new QScrollArea(this);
    scroll_->setWidget(list);
    scroll_->setWidgetResizable(true);
    scroll_->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);

    auto* input = new InputEdit(this);
    input->onSend = [this] { sendQuestion(input_->toPlainText()); };
    input_ = input;
    input_->setPlaceholderText(tr("Ask about the document… (Ctrl+Enter sends)"));
    input_->setMaximumHeight(90);
    send_ = new QPushButton(tr("Send"), this);
    stop_ = new QPushButton(tr("Stop"), this);
    regenerate_ = new QPushButton(tr("Regenerate"), this);
    // Two presets a row: a mixed selection has four, too wide for one row of the side panel.
    presets_ = new QGridLayout;
    presets_->setSpacing(4);
    presets_->setColumnStretch(kPresetColumns, 1);
    auto* buttons = new QHBoxLayout;
    buttons->addStretch(1);
    buttons->addWidget(regenerate_);
    buttons->addWidget(stop_);
    buttons->addWidget(send_);

    auto* layout = new QVBoxLayout(this);
    layout->addWidget(targetLabel_);
    layout->addWidget(conversations_);
    layout->addWidget(progressRow_);
    layout->addWidget(scroll_, 1);
    layout->addWidget(infoLabel_);
    layout->addLayout(presets_);
    layout->addWidget(input_);
    layout->addLayout(buttons);

    connect(send_, &QPushButton::clicked, this, [this] { sendQuestion(input_->toPlainText()); });
    connect(stop_, &QPushButton::clicked, this, &ChatPanel::stop);
    connect(regenerate_, &QPushButton::clicked, this, &ChatPanel::regenerate);
    connect(cancel, &QPushButton::clicked, this, &ChatPanel::cancelLoadRequested);
    connect(conversations_, &ConversationList::openRequested, this, &ChatPanel::openConversation);
    connect(conversations_, &ConversationList::newRequested, this, &ChatPanel::newConversation);
    // Keeps the newest text in view while an answer streams in.
    connect(scroll_->verticalScrollBar(), &QScrollBar::rangeChanged, this, [this](int, int max) {
        if (state_ == State::Answering) scroll_->verticalScrollBar()->setValue(max);
    });
    updateControls();
}

ChatPanel::~ChatPanel() = default;

void ChatPanel::setDatabase(LibraryDatabase* db) {
    db_ = db;
    store_ = db ? std::make_unique<ConversationStore>(*db) : nullptr;
    refreshConversations();
}

void ChatPanel::setTarget(const QString& key, const QString& title, const QList<qint64>& documents,
                          const QStringList& kinds) {
    if (key == key_) return;
    if (state_ == State::Answering || state_ == State::Loading) stop();
    clearMessages();
    key_ = key;
    title_ = title;
    documents_ = documents;
    conversationId_ = 0;
    contextLoaded_ = false;
    pendingQuestion_.clear();
    progressRow_->hide();
    targetLabel_->setText(key.isEmpty() ? tr("Select a document in the library to chat about it.")
                                        : tr("Chat about: <b>%1</b>").arg(title.toHtmlEscaped()));
    showInfo(QString());
    showPresets(kinds);
    refreshConversations();
    setState(key.isEmpty() ? State::NoTarget : modelReady_ ? State::Unloaded : State::NoModel);
    updateControls();
}

void ChatPanel::showPresets(const QStringList& kinds) {
    qDeleteAll(presetButtons_);
    presetButtons_.clear();
    if (key_.isEmpty()) return;
    for (const ChatPreset& preset : chatPresets(kinds)) {
        auto* button = new QPushButton(preset.name, this);
        button->setToolTip(preset.prompt);
        connect(button, &QPushButton::clicked, this,
                [this, prompt = preset.prompt] { sendQuestion(prompt); });
        const int index = int(presetButtons_.size());
        presets_->addWidget(button, index / kPresetColumns, index % kPresetColumns);
        presetButtons_.append(button);
    }
}

void ChatPanel::setModelReady(bool ready) {
    modelReady_ = ready;
    contextLoaded_ = false;
    if (state_ == State::NoModel || state_ == State::Unloaded || state_ == State::Ready)
        setState(key_.isEmpty() ? State::NoTarget : ready ? State::Unloaded : State::NoModel);
}

void ChatPanel::setState(State state) {
    if (state_ == state) return;
    state_ = state;
    updateControls();
    emit stateChanged(state);
}

void ChatPanel::updateControls() {
    const bool idle = state_ == State::Unloaded || state_ == State::Ready;
    send_->setEnabled(idle);
    stop_->setEnabled(state_ == State::Answering || state_ == State::Loading);
    int lastUser = -1;
    for (int i = 0; i < messages_.size(); ++i)
        if (messages_[i]->role() == QLatin1String("user")) lastUser = i;
    regenerate_->setEnabled(idle && lastUser >= 0);
    for (QPushButton* preset : presetButtons_) preset->setEnabled(idle);
    conversations_->setEnabled(state_ != State::Answering && state_ != State::Loading);
    for (int i = 0; i < messages_.size(); ++i) messages_[i]->setEditable(idle && i == lastUser);
    if (state_ == State::NoModel)
        showInfo(tr("No model is loaded. Choose the model folder in File ▸ Settings…"));
}

void ChatPanel::showInfo(const QString& text) {
    infoLabel_->setText(text);
    infoLabel_->setVisible(!text.isEmpty());
}

ChatMessage* ChatPanel::addMessage(const QString& role, const QString& text) {
    auto* message = new ChatMessage(role, text);
    connect(message, &ChatMessage::linkActivated, this, &ChatPanel::linkActivated);
    connect(message, &ChatMessage::editRequested, this, &ChatPanel::editLastQuestion);
    messagesLayout_->insertWidget(messagesLayout_->count() - 1, message);
    messages_.append(message);
    return message;
}

void ChatPanel::clearMessages() {
    removeLastMessages(int(messages_.size()));
}

void ChatPanel::removeLastMessages(int count) {
    for (int i = 0; i < count && !messages_.isEmpty(); ++i) {
        ChatMessage* message = messages_.takeLast();
        messagesLayout_->removeWidget(message);
        message->deleteLater();
    }
}

void ChatPanel::sendQuestion(const QString& text) {
    const QString question = text.trimmed();
    if (question.isEmpty()) return;
    if (key_.isEmpty()) {
        showInfo(tr("Select a document or collection in the library first."));
        return;
    }
    if (!modelReady_) {
        showInfo(tr("No model is loaded yet; the question was not sent."));
        return;
    }
    if (state_ != State::Ready && state_ != State::Unloaded) return;
    input_->clear();
    showInfo(QString());
    addMessage(QStringLiteral("user"), question);
    pendingQuestion_ = question;
    if (contextLoaded_) {
        askPending();
        return;
    }
    progress_->setValue(0);
    progressLabel_->setText(tr("Loading the document into the model…"));
    progressRow_->show();
    setState(State::Loading);
    emit loadRequested(key_);
}

void ChatPanel::askPending() {
    const QString question = pendingQuestion_;
    pendingQuestion_.clear();
    storeMessage(QStringLiteral("user"), question);
    const QList<ChatTurn> turns = history();
    addMessage(QStringLiteral("assistant"), QString());
    setState(State::Answering);
    emit askRequested(key_, question, turns);
}

void ChatPanel::regenerate() {
    if (state_ != State::Ready && state_ != State::Unloaded) return;
    int lastUser = int(messages_.size()) - 1;
    while (lastUser >= 0 && messages_[lastUser]->role() != QLatin1String("user")) --lastUser;
    if (lastUser < 0) return;
    const QString question = messages_[lastUser]->rawText();
    removeLastMessages(int(messages_.size()) - lastUser);
    rewriteStoredConversation();
    sendQuestion(question);
}

void ChatPanel::editLastQuestion() {
    if (state_ != State::Ready && state_ != State::Unloaded) return;
    int lastUser = int(messages_.size()) - 1;
    while (lastUser >= 0 && messages_[lastUser]->role() != QLatin1String("user")) --lastUser;
    if (lastUser < 0) return;
    input_->setPlainText(messages_[lastUser]->rawText());
    removeLastMessages(int(messages_.size()) - lastUser);
    rewriteStoredConversation();
    updateControls();
    input_->setFocus();
}

void ChatPanel::stop() {
    if (state_ == State::Answering) emit stopRequested();
    if (state_ == State::Loading) emit cancelLoadRequested();
}

void ChatPanel::onContextProgress(const QString& key, qint64 done, qint64 total, double tps) {
    if (key != key_) return;
    progressRow_->show();
    progress_->setValue(total > 0 ? int(1000.0 * double(done) / double(total)) : 0);
    const double left = tps > 0 ? double(total - done) / tps : -1;
    const QLocale locale;
    progressLabel_->setText(tr("%1 / %2 tokens · %3 tok/s · %4 left")
                                .arg(locale.toString(done), locale.toString(total),
                                     locale.toString(tps, 'f', 0), durationText(left)));
}

void ChatPanel::onContextReady(const QString& key, qint64 tokens, bool fromSnapshot) {
    if (key != key_) return;
    contextLoaded_ = true;
    progress_->setValue(1000);
    progressRow_->hide();
    showInfo(fromSnapshot ? tr("Context of %L1 tokens reopened from its snapshot.").arg(tokens)
                          : tr("Context of %L1 tokens loaded.").arg(tokens));
    if (!pendingQuestion_.isEmpty())
        askPending();
    else
        setState(State::Ready);
}

void ChatPanel::onContextFailed(const QString& key, const QString& message) {
    if (key != key_) return;
    progressRow_->hide();
    const bool cancelled = message.contains(QLatin1String("cancel"), Qt::CaseInsensitive);
    showInfo(cancelled ? tr("Loading was cancelled.")
                       : tr("The document could not be loaded: %1").arg(message));
    // The unanswered question goes back into the input, so nothing typed is lost.
    if (!pendingQuestion_.isEmpty() && !messages_.isEmpty()) {
        removeLastMessages(1);
        input_->setPlainText(pendingQuestion_);
        pendingQuestion_.clear();
    }
    setState(State::Unloaded);
}

void ChatPanel::onAnswerStarted(const QString& key) {
    if (key == key_) setState(State::Answering);
}

void ChatPanel::onAnswerText(const QString& key, const QString& delta) {
    if (key != key_ || messages_.isEmpty() || state_ != State::Answering) return;
    messages_.last()->append(delta);
}

void ChatPanel::onAnswerFinished(const QString& key, const EngineStats& stats,
                                 const QString& stopReason) {
    if (key != key_ || messages_.isEmpty() || state_ != State::Answering) return;
    ChatMessage* answer = messages_.last();
    answer->setText(answer->rawText()); // flush a pending render
    QString note =
        tr("%1 tokens · %2 tok/s").arg(stats.generatedTokens).arg(stats.decodeTokPerSec, 0, 'f', 1);
    // "stop" is a natural end (a stop token); "stopped" means the user pressed Stop.
    if (stopReason == QLatin1String("stopped") || stopReason == QLatin1String("cancelled"))
        note = tr("stopped · ") + note;
    else if (stopReason == QLatin1String("length"))
        note = tr("hit the answer length limit · ") + note;
    answer->setNote(note);
    storeMessage(QStringLiteral("assistant"), answer->rawText());
    setState(State::Ready);
    updateControls();
    emit answerCompleted(int(messages_.size()) - 1, answer->parts().answer);
}

void ChatPanel::onAnswerFailed(const QString& key, const QString& message) {
    if (key != key_ || messages_.isEmpty()) return;
    messages_.last()->setNote(tr("failed: %1").arg(message));
    showInfo(tr("The answer failed: %1").arg(message));
    setState(State::Ready);
    updateControls();
}

void ChatPanel::setMessageLinks(int index, const QList<QuoteLink>& links) {
    if (ChatMessage* m = messages_.value(index)) m->setLinks(links);
}

} // namespace folio
