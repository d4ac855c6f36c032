#include "chat_message.h"

#include <QApplication>
#include <QClipboard>
#include <QHBoxLayout>
#include <QLabel>
#include <QTimer>
#include <QToolButton>
#include <QVBoxLayout>

namespace folio {

AutoHeightBrowser::AutoHeightBrowser(QWidget* parent) : QTextBrowser(parent) {
    setOpenLinks(false);
    setFrameShape(QFrame::NoFrame);
    setVerticalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Fixed);
    viewport()->setAutoFillBackground(false);
    connect(document(), &QTextDocument::contentsChanged, this, &AutoHeightBrowser::updateHeight);
}

void AutoHeightBrowser::updateHeight() {
    document()->setTextWidth(qMax(100, viewport()->width()));
    const int height = int(std::ceil(document()->size().height())) + 2 * frameWidth() + 2;
    if (height != this->height()) setFixedHeight(height);
}

void AutoHeightBrowser::resizeEvent(QResizeEvent* event) {
    QTextBrowser::resizeEvent(event);
    updateHeight();
}

namespace {

QToolButton* smallButton(const QString& text, QWidget* parent) {
    auto* button = new QToolButton(parent);
    button->setText(text);
    button->setAutoRaise(true);
    return button;
}

} // namespace

ChatMessage::ChatMessage(const QString& role, const QString& text, QWidget* parent)
    : QWidget(parent), role_(role) {
    const bool user = role == QLatin1String("user");
    header_ = new QLabel(user ? tr("<b>You</b>") : tr("<b>Folio</b>"), this);
    noteLabel_ = new QLabel(this);
    noteLabel_->setStyleSheet(QStringLiteral("color: #a05000;"));
    toggle_ = smallButton(tr("Reasoning ▸"), this);
    toggle_->setCheckable(true);
    toggle_->hide();
    copy_ = smallButton(tr("Copy"), this);
    copy_->setToolTip(tr("Copy this message"));
    edit_ = smallButton(tr("Edit"), this);
    edit_->setToolTip(tr("Edit this question and send it again"));
    edit_->hide();

    auto* head = new QHBoxLayout;
    head->addWidget(header_);
    head->addWidget(noteLabel_);
    head->addStretch(1);
    head->addWidget(toggle_);
    head->addWidget(edit_);
    head->addWidget(copy_);

    thinking_ = new AutoHeightBrowser(this);
    thinking_->setStyleSheet(QStringLiteral("color: #666; font-style: italic;"));
    thinking_->hide();
    body_ = new AutoHeightBrowser(this);

    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(8, 6, 8, 6);
    layout->setSpacing(2);
    layout->addLayout(head);
    layout->addWidget(thinking_);
    layout->addWidget(body_);
    setAutoFillBackground(true);
    QPalette pal = palette();
    pal.setColor(QPalette::Window, user ? QColor(232, 240, 254) : QColor(250, 250, 250));
    setPalette(pal);

    connect(toggle_, &QToolButton::toggled, this, [this](bool on) {
        thinking_->setVisible(on);
        toggle_->setText(on ? tr("Reasoning ▾") : tr("Reasoning ▸"));
        if (on) thinking_->updateHeight();
    });
    connect(copy_, &QToolButton::clicked, this,
            [this] { QApplication::clipboard()->setText(parts().answer); });
    connect(edit_, &QToolButton::clicked, this, &ChatMessage::editRequested);
    connect(body_, &QTextBrowser::anchorClicked, this, &ChatMessage::linkActivated);
    setText(text);
}

void ChatMessage::setText(const QString& raw) {
    raw_ = raw;
    render();
}

void ChatMessage::append(const QString& delta) {
    raw_ += delta;
    scheduleRender();
}

void ChatMessage::setLinks(const QList<QuoteLink>& links) {
    links_ = links;
    render();
}

void ChatMessage::setNote(const QString& note) {
    note_ = note;
    noteLabel_->setText(note.toHtmlEscaped());
}

void ChatMessage::setEditable(bool editable) {
    edit_->setVisible(editable);
}

// Re-rendering the whole Markdown on every streamed piece would cost O(n²); pieces arriving
// within one timer tick are rendered together.
void ChatMessage::scheduleRender() {
    if (renderPending_) return;
    renderPending_ = true;
    QTimer::singleShot(40, this, [this] {
        if (renderPending_) render();
    });
}

void ChatMessage::render() {
    renderPending_ = false;
    const SplitAnswer split = parts();
    toggle_->setVisible(split.hasThinking);
    if (split.hasThinking) {
        thinking_->setPlainText(split.thinking);
        toggle_->setToolTip(split.thinkingOpen ? tr("The model is reasoning…")
                                               : tr("Show the model's reasoning"));
    }
    if (role_ == QLatin1String("user"))
        body_->setPlainText(raw_);
    else
        renderMarkdown(body_->document(), split.answer, links_);
    body_->updateHeight();
}

} // namespace folio
