#include "pdf_viewer.h"

#include <poppler-qt6.h>

#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPainter>
#include <QScrollArea>
#include <QSpinBox>
#include <QToolButton>
#include <QVBoxLayout>

namespace folio {
namespace {

QToolButton* toolButton(const QString& text, const QString& tip, QWidget* parent) {
    auto* button = new QToolButton(parent);
    button->setText(text);
    button->setToolTip(tip);
    return button;
}

} // namespace

PdfViewer::PdfViewer(QWidget* parent) : QWidget(parent) {
    auto* prev = toolButton(QStringLiteral("◀"), tr("Previous page"), this);
    auto* next = toolButton(QStringLiteral("▶"), tr("Next page"), this);
    pageSpin_ = new QSpinBox(this);
    pageSpin_->setMinimum(1);
    pageTotal_ = new QLabel(this);
    auto* zoomOut = toolButton(QStringLiteral("−"), tr("Zoom out"), this);
    auto* zoomIn = toolButton(QStringLiteral("+"), tr("Zoom in"), this);
    zoomLabel_ = new QLabel(this);
    findEdit_ = new QLineEdit(this);
    findEdit_->setPlaceholderText(tr("Find in PDF…"));
    findEdit_->setClearButtonEnabled(true);
    findStatus_ = new QLabel(this);

    auto* bar = new QHBoxLayout;
    for (QWidget* w : {static_cast<QWidget*>(prev), static_cast<QWidget*>(pageSpin_),
                       static_cast<QWidget*>(pageTotal_), static_cast<QWidget*>(next),
                       static_cast<QWidget*>(zoomOut), static_cast<QWidget*>(zoomLabel_),
                       static_cast<QWidget*>(zoomIn)})
        bar->addWidget(w);
    bar->addWidget(findEdit_, 1);
    bar->addWidget(findStatus_);

    pageLabel_ = new QLabel(this);
    pageLabel_->setAlignment(Qt::AlignCenter);
    scroll_ = new QScrollArea(this);
    scroll_->setWidget(pageLabel_);
    scroll_->setWidgetResizable(true);
    scroll_->setBackgroundRole(QPalette::Dark);

    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addLayout(bar);
    layout->addWidget(scroll_, 1);

    connect(prev, &QToolButton::clicked, this, [this] { setPage(page_ - 1); });
    connect(next, &QToolButton::clicked, this, [this] { setPage(page_ + 1); });
    connect(pageSpin_, &QSpinBox::valueChanged, this, [this](int value) { setPage(value - 1); });
    connect(zoomIn, &QToolButton::clicked, this, [this] { setZoom(zoom_ * 1.25); });
    connect(zoomOut, &QToolButton::clicked, this, [this] { setZoom(zoom_ / 1.25); });
    connect(findEdit_, &QLineEdit::returnPressed, this, [this] { find(findEdit_->text()); });
}

PdfViewer::~PdfViewer() = default;

bool PdfViewer::open(const QString& path, QString* error) {
    document_ = Poppler::Document::load(path);
    QString problem;
    if (!document_)
        problem = tr("Cannot open the PDF %1 (missing or not a PDF).").arg(path);
    else if (document_->isLocked())
        problem = tr("The PDF %1 is password-protected.").arg(path);
    else if (document_->numPages() == 0)
        problem = tr("The PDF %1 has no pages.").arg(path);
    if (!problem.isEmpty()) {
        document_.reset();
        pageLabel_->setText(problem);
        if (error) *error = problem;
        return false;
    }
    document_->setRenderHint(Poppler::Document::Antialiasing);
    document_->setRenderHint(Poppler::Document::TextAntialiasing);
    pageSpin_->setMaximum(document_->numPages());
    pageTotal_->setText(tr("of %1").arg(document_->numPages()));
    page_ = 0;
    highlights_.clear();
    render();
    return true;
}

int PdfViewer::pageCount() const {
    return document_ ? document_->numPages() : 0;
}

void PdfViewer::setPage(int page) {
    if (!document_) return;
    page = qBound(0, page, document_->numPages() - 1);
    if (page == page_ && !rendered_.isNull()) return;
    page_ = page;
    highlights_ = highlightText_.isEmpty() ? QList<QRectF>() : searchPage(page_, highlightText_);
    render();
    emit pageChanged(page_);
}

void PdfViewer::setZoom(double zoom) {
    zoom_ = qBound(0.25, zoom, 6.0);
    render();
}

QList<QRectF> PdfViewer::searchPage(int page, const QString& text) const {
    if (!document_ || text.isEmpty()) return {};
    const std::unique_ptr<Poppler::Page> p = document_->page(page);
    return p ? p->search(text, Poppler::Page::IgnoreCase) : QList<QRectF>();
}

int PdfViewer::find(const QString& text) {
    highlightText_ = text;
    int total = 0;
    int firstPage = -1;
    for (int i = 0; i < pageCount() && !text.isEmpty(); ++i) {
        const int n = int(searchPage(i, text).size());
        if (n > 0 && firstPage < 0) firstPage = i;
        total += n;
    }
    findStatus_->setText(text.isEmpty() ? QString() : tr("%n match(es)", nullptr, total));
    if (firstPage >= 0 && firstPage != page_) {
        setPage(firstPage);
    } else {
        highlights_ = searchPage(page_, text);
        render();
    }
    return total;
}

int PdfViewer::showPassage(int page, const QString& text) {
    highlightText_ = text;
    page_ = -1; // force a render of the target page
    setPage(page);
    // Poppler matches within a line; a long passage may span lines, so fall back to its start.
    if (highlights_.isEmpty() && text.size() > 40) {
        highlights_ = searchPage(page_, text.left(40));
        render();
    }
    return int(highlights_.size());
}

void PdfViewer::render() {
    if (!document_) return;
    const std::unique_ptr<Poppler::Page> page = document_->page(page_);
    if (!page) return;
    const double dpi = 72.0 * zoom_ * devicePixelRatioF();
    rendered_ = page->renderToImage(dpi, dpi);
    const double scale = dpi / 72.0;
    QPainter painter(&rendered_);
    painter.setPen(Qt::NoPen);
    painter.setBrush(QColor(255, 200, 0, 90));
    for (const QRectF& r : highlights_)
        painter.drawRect(
            QRectF(r.x() * scale, r.y() * scale, r.width() * scale, r.height() * scale));
    painter.end();
    QPixmap pixmap = QPixmap::fromImage(rendered_);
    pixmap.setDevicePixelRatio(devicePixelRatioF());
    pageLabel_->setPixmap(pixmap);
    zoomLabel_->setText(QStringLiteral("%1%").arg(qRound(zoom_ * 100)));
    const QSignalBlocker blocker(pageSpin_);
    pageSpin_->setValue(page_ + 1);
}

} // namespace folio
