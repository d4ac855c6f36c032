#pragma once
// PDF pages rendered by Poppler, one page at a time, with zoom, page navigation and text search
// whose matches are painted over the page.

#include <QRectF>
#include <QWidget>

#include <memory>

class QLabel;
class QLineEdit;
class QScrollArea;
class QSpinBox;

namespace Poppler {
class Document;
}

namespace folio {

class PdfViewer : public QWidget {
    Q_OBJECT
public:
    explicit PdfViewer(QWidget* parent = nullptr);
    ~PdfViewer() override;

    // Opens the file; on failure the viewer shows why and `error` gets the message.
    bool open(const QString& path, QString* error = nullptr);
    int pageCount() const;
    int currentPage() const { return page_; } // 0-based
    double zoom() const { return zoom_; }
    void setPage(int page);
    void setZoom(double zoom);
    // Searches the whole document (case-insensitive); goes to the first page with a match and
    // highlights the matches on the page shown. Returns the number of matches in the document.
    int find(const QString& text);
    // Goes to `page` (0-based) and highlights `text` there (a citation's passage).
    int showPassage(int page, const QString& text);
    int highlightCount() const { return int(highlights_.size()); }
    QImage renderedPage() const { return rendered_; }

signals:
    void pageChanged(int page);

private:
    void render();
    QList<QRectF> searchPage(int page, const QString& text) const;

    std::unique_ptr<Poppler::Document> document_;
    QScrollArea* scroll_;
    QLabel* pageLabel_;
    QSpinBox* pageSpin_;
    QLabel* pageTotal_;
    QLabel* zoomLabel_;
    QLineEdit* findEdit_;
    QLabel* findStatus_;
    QList<QRectF> highlights_; // in points of the current page
    QString highlightText_;
    QImage rendered_;
    int page_ = 0;
    double zoom_ = 1.0;
};

} // namespace folio
