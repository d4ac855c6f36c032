#include "document_view.h"

#include "pdf_viewer.h"
#include "source_map.h"
#include "text_viewer.h"

#include <QFileInfo>
#include <QLabel>
#include <QStackedWidget>
#include <QTabWidget>
#include <QVBoxLayout>

namespace folio {

DocumentView::DocumentView(QWidget* parent) : QWidget(parent) {
    auto* hint = new QLabel(tr("<h3>No document open</h3>"
                               "<p>Import files with <b>File ▸ Import files…</b> or drop files "
                               "and folders onto the window,<br>then double-click a document in "
                               "the library.</p>"),
                            this);
    hint->setAlignment(Qt::AlignCenter);
    hint->setWordWrap(true);
    tabWidget_ = new QTabWidget(this);
    tabWidget_->setTabsClosable(true);
    tabWidget_->setDocumentMode(true);
    stack_ = new QStackedWidget(this);
    stack_->addWidget(hint);
    stack_->addWidget(tabWidget_);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(stack_);

    connect(tabWidget_, &QTabWidget::tabCloseRequested, this, [this](int index) {
        QWidget* widget = tabWidget_->widget(index);
        for (auto it = tabs_.begin(); it != tabs_.end(); ++it) {
            if (it->widget == widget) {
                tabs_.erase(it);
                break;
            }
        }
        tabWidget_->removeTab(index);
        widget->deleteLater();
        if (tabWidget_->count() == 0) stack_->setCurrentIndex(0);
    });
    connect(tabWidget_, &QTabWidget::currentChanged, this,
            [this] { emit currentDocumentChanged(currentDocument()); });
}

qint64 DocumentView::currentDocument() const {
    QWidget* widget = tabWidget_->currentWidget();
    for (auto it = tabs_.begin(); it != tabs_.end(); ++it)
        if (it->widget == widget) return it.key();
    return 0;
}

void DocumentView::openDocument(const DocumentRecord& record, const QString& text,
                                std::vector<SourceSpan> spans) {
    if (auto it = tabs_.find(record.id); it != tabs_.end()) {
        tabWidget_->setCurrentWidget(it->widget);
        return;
    }
    QWidget* widget = nullptr;
    if (record.kind == QLatin1String("pdf") && QFileInfo::exists(record.sourcePath)) {
        auto* pdf = new PdfViewer;
        if (pdf->open(record.sourcePath))
            widget = pdf;
        else
            delete pdf;
    }
    if (!widget) {
        auto* viewer = new TextViewer;
        const bool mono = record.kind == QLatin1String("code") ||
                          record.kind == QLatin1String("markdown") ||
                          record.kind == QLatin1String("rst");
        viewer->setText(record.status == DocumentStatus::Error
                            ? tr("This document could not be imported:\n%1").arg(record.error)
                            : text,
                        mono);
        widget = viewer;
    }
    tabs_.insert(record.id, {widget, text, std::move(spans)});
    const int index = tabWidget_->addTab(widget, record.title);
    tabWidget_->setTabToolTip(index, record.sourcePath);
    stack_->setCurrentIndex(1);
    tabWidget_->setCurrentIndex(index);
}

bool DocumentView::showPassage(qint64 id, qint64 start, qint64 end) {
    auto it = tabs_.find(id);
    if (it == tabs_.end()) return false;
    tabWidget_->setCurrentWidget(it->widget);
    if (auto* viewer = qobject_cast<TextViewer*>(it->widget)) {
        viewer->showPassage(start, end);
        return true;
    }
    if (auto* pdf = qobject_cast<PdfViewer*>(it->widget)) {
        const SourceMap map(it->spans);
        const auto location = map.locateChar(it->text, start);
        const int page = location && location->page > 0 ? location->page - 1 : pdf->currentPage();
        const QString passage = it->text.mid(start, end - start).simplified();
        pdf->showPassage(page, passage);
        return true;
    }
    return false;
}

TextViewer* DocumentView::textViewer(qint64 id) const {
    return tabs_.contains(id) ? qobject_cast<TextViewer*>(tabs_.value(id).widget) : nullptr;
}

PdfViewer* DocumentView::pdfViewer(qint64 id) const {
    return tabs_.contains(id) ? qobject_cast<PdfViewer*>(tabs_.value(id).widget) : nullptr;
}

} // namespace folio
