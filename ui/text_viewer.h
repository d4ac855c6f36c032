#pragma once
// A read-only viewer for text, Markdown and code: line numbers in a gutter, a find bar that
// highlights every match, and a way to show one passage (a citation) highlighted.

#include <QPlainTextEdit>
#include <QWidget>

class QLineEdit;
class QLabel;

namespace folio {

class LineNumberedEdit : public QPlainTextEdit {
    Q_OBJECT
public:
    explicit LineNumberedEdit(QWidget* parent = nullptr);
    int gutterWidth() const;
    void paintGutter(QPaintEvent* event);

protected:
    void resizeEvent(QResizeEvent* event) override;

private:
    QWidget* gutter_;
};

class TextViewer : public QWidget {
    Q_OBJECT
public:
    explicit TextViewer(QWidget* parent = nullptr);

    void setText(const QString& text, bool monospace);
    QString text() const;
    LineNumberedEdit* editor() const { return edit_; }

    // Highlights every occurrence (case-insensitive) and moves to the first; returns the count.
    int find(const QString& needle);
    int matchCount() const { return matches_; }
    // Selects and highlights characters [start, end) of the text and scrolls them into view.
    void showPassage(qint64 start, qint64 end);
    // The 1-based line the cursor is on.
    int currentLine() const;
    // The range last given to showPassage, or (-1,-1).
    QPair<qint64, qint64> passage() const { return passage_; }

private:
    void applySelections();

    LineNumberedEdit* edit_;
    QLineEdit* findEdit_;
    QLabel* findStatus_;
    QList<QTextEdit::ExtraSelection> findSelections_;
    QList<QTextEdit::ExtraSelection> passageSelections_;
    QPair<qint64, qint64> passage_{-1, -1};
    int matches_ = 0;
};

} // namespace folio
