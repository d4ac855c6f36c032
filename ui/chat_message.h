#pragma once
// One message of the chat: a role header with Copy (and Edit on the last question), the answer
// rendered as Markdown, and its reasoning collapsed behind a toggle.

#include "chat_render.h"

#include <QTextBrowser>
#include <QWidget>

class QLabel;
class QToolButton;

namespace folio {

// A text browser as tall as its document, so the chat scrolls as a whole.
class AutoHeightBrowser : public QTextBrowser {
    Q_OBJECT
public:
    explicit AutoHeightBrowser(QWidget* parent = nullptr);
    void updateHeight();

protected:
    void resizeEvent(QResizeEvent* event) override;
};

class ChatMessage : public QWidget {
    Q_OBJECT
public:
    ChatMessage(const QString& role, const QString& text, QWidget* parent = nullptr);

    QString role() const { return role_; }
    QString rawText() const { return raw_; }
    SplitAnswer parts() const { return splitThinking(raw_); }
    void setText(const QString& raw);
    void append(const QString& delta);
    void setLinks(const QList<QuoteLink>& links);
    QList<QuoteLink> links() const { return links_; }
    void setNote(const QString& note); // e.g. "stopped", an error
    QString note() const { return note_; }
    void setEditable(bool editable);

    AutoHeightBrowser* body() const { return body_; }
    AutoHeightBrowser* thinkingView() const { return thinking_; }
    QToolButton* thinkingToggle() const { return toggle_; }
    QToolButton* copyButton() const { return copy_; }
    QToolButton* editButton() const { return edit_; }

signals:
    void editRequested();
    void linkActivated(const QUrl& url);

private:
    void render();
    void scheduleRender();

    QString role_;
    QString raw_;
    QString note_;
    QList<QuoteLink> links_;
    QLabel* header_;
    QLabel* noteLabel_;
    QToolButton* toggle_;
    QToolButton* copy_;
    QToolButton* edit_;
    AutoHeightBrowser* thinking_;
    AutoHeightBrowser* body_;
    bool renderPending_ = false;
};

} // namespace folio
