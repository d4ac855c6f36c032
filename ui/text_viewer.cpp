#include "text_viewer.h"

#include <QFontDatabase>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPainter>
#include <QTextBlock>
#include <QVBoxLayout>

namespace folio {
namespace {

class Gutter : public QWidget {
public:
    explicit Gutter(LineNumberedEdit* edit) : QWidget(edit), edit_(edit) {}
    QSize sizeHint() const override { return {edit_->gutterWidth(), 0}; }

protected:
    void paintEvent(QPaintEvent* event) override { edit_->paintGutter(event); }

private:
    LineNumberedEdit* edit_;
};

} // namespace

LineNumberedEdit::LineNumberedEdit(QWidget* parent) : QPlainTextEdit(parent) {
    gutter_ = new Gutter(this);
    setReadOnly(true);
    setLineWrapMode(QPlainTextEdit::WidgetWidth);
    connect(this, &QPlainTextEdit::blockCountChanged, this,
            [this] { setViewportMargins(gutterWidth(), 0, 0, 0); });
    connect(this, &QPlainTextEdit::updateRequest, this, [this](const QRect& rect, int dy) {
        if (dy)
            gutter_->scroll(0, dy);
        else
            gutter_->update(0, rect.y(), gutter_->width(), rect.height());
    });
    setViewportMargins(gutterWidth(), 0, 0, 0);
}

int LineNumberedEdit::gutterWidth() const {
    int digits = 1;
    for (int n = qMax(1, blockCount()); n >= 10; n /= 10) ++digits;
    return 12 + fontMetrics().horizontalAdvance(QLatin1Char('9')) * qMax(3, digits);
}

void LineNumberedEdit::resizeEvent(QResizeEvent* event) {
    QPlainTextEdit::resizeEvent(event);
    const QRect area = contentsRect();
    gutter_->setGeometry(area.left(), area.top(), gutterWidth(), area.height());
}

void LineNumberedEdit::paintGutter(QPaintEvent* event) {
    QPainter painter(gutter_);
    painter.fillRect(event->rect(), palette().color(QPalette::AlternateBase));
    painter.setPen(palette().color(QPalette::PlaceholderText));
    QTextBlock block = firstVisibleBlock();
    int top = qRound(blockBoundingGeometry(block).translated(contentOffset()).top());
    while (block.isValid() && top <= event->rect().bottom()) {
        const int height = qRound(blockBoundingRect(block).height());
        if (block.isVisible() && top + height >= event->rect().top())
            painter.drawText(0, top, gutter_->width() - 6, fontMetrics().height(), Qt::AlignRight,
                             QString::number(block.blockNumber() + 1));
        top += height;
        block = block.next();
    }
}

TextViewer::TextViewer(QWidget* parent) : QWidget(parent) {
    edit_ = new LineNumberedEdit(this);
    findEdit_ = new QLineEdit(this);
    findEdit_->setPlaceholderText(tr("Find in document…"));
    findEdit_->setClearButtonEnabled(true);
    findStatus_ = new QLabel(this);
    auto* bar = new QHBoxLayout;
    bar->addWidget(findEdit_, 1);
    bar->addWidget(findStatus_);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addLayout(bar);
    layout->addWidget(edit_, 1);
    connect(findEdit_, &QLineEdit::returnPressed, this, [this] { find(findEdit_->text()); });
    connect(findEdit_, &QLineEdit::textChanged, this, [this](const QString& text) {
        if (text.isEmpty()) find(QString());
    });
}

void TextViewer::setText(const QString& text, bool monospace) {
    edit_->setFont(monospace ? QFontDatabase::systemFont(QFontDatabase::FixedFont) : QFont());
    edit_->setPlainText(text);
    findSelections_.clear();
    passageSelections_.clear();
    passage_ = {-1, -1};
    matches_ = 0;
    applySelections();
}

QString TextViewer::text() const {
    return edit_->toPlainText();
}

int TextViewer::find(const QString& needle) {
    findSelections_.clear();
    matches_ = 0;
    QTextCharFormat format;
    format.setBackground(QColor(255, 230, 120));
    QTextCursor first;
    if (!needle.isEmpty()) {
        QTextCursor cursor(edit_->document());
        while (!(cursor = edit_->document()->find(needle, cursor)).isNull()) {
            if (first.isNull()) first = cursor;
            findSelections_.append({cursor, format});
            ++matches_;
        }
    }
    findStatus_->setText(needle.isEmpty() ? QString() : tr("%n match(es)", nullptr, matches_));
    if (!first.isNull()) {
        edit_->setTextCursor(first);
        edit_->centerCursor();
    }
    applySelections();
    return matches_;
}

void TextViewer::showPassage(qint64 start, qint64 end) {
    const qint64 length = edit_->document()->characterCount() - 1;
    start = qBound<qint64>(0, start, length);
    end = qBound<qint64>(start, end, length);
    QTextCursor cursor(edit_->document());
    cursor.setPosition(int(start));
    cursor.setPosition(int(end), QTextCursor::KeepAnchor);
    QTextCharFormat format;
    format.setBackground(QColor(140, 200, 255));
    passageSelections_ = {{cursor, format}};
    passage_ = {start, end};
    QTextCursor caret(edit_->document());
    caret.setPosition(int(start));
    edit_->setTextCursor(caret);
    edit_->centerCursor();
    applySelections();
}

int TextViewer::currentLine() const {
    return edit_->textCursor().blockNumber() + 1;
}

void TextViewer::applySelections() {
    edit_->setExtraSelections(findSelections_ + passageSelections_);
}

} // namespace folio
