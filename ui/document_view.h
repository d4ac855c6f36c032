#pragma once
// The central area: one tab per open document (PDF pages or a text viewer), and a hint while
// none is open.

#include "extracted_document.h"
#include "library_records.h"

#include <QHash>
#include <QWidget>

class QStackedWidget;
class QTabWidget;

namespace folio {

class PdfViewer;
class TextViewer;

class DocumentView : public QWidget {
    Q_OBJECT
public:
    explicit DocumentView(QWidget* parent = nullptr);

    // Opens (or switches to) the document's tab. PDFs whose source file is still there are shown
    // as pages; everything else as its extracted text.
    void openDocument(const DocumentRecord& record, const QString& text,
                      std::vector<SourceSpan> spans);
    bool isOpen(qint64 id) const { return tabs_.contains(id); }
    qint64 currentDocument() const;
    // Shows characters [start, end) of a document's text highlighted; false when not open.
    bool showPassage(qint64 id, qint64 start, qint64 end);

    TextViewer* textViewer(qint64 id) const;
    PdfViewer* pdfViewer(qint64 id) const;
    QTabWidget* tabWidget() const { return tabWidget_; }

signals:
    void currentDocumentChanged(qint64 id);

private:
    struct Tab {
        QWidget* widget = nullptr;
        QString text;
        std::vector<SourceSpan> spans;
    };

    QStackedWidget* stack_;
    QTabWidget* tabWidget_;
    QHash<qint64, Tab> tabs_;
};

} // namespace folio
