#include "library_model.h"

#include "document_store.h"

#include <QApplication>
#include <QLocale>
#include <QStyle>

namespace folio {
namespace {

QIcon kindIcon(const QString& kind) {
    QStyle* style = QApplication::style();
    if (kind == QLatin1String("code")) return style->standardIcon(QStyle::SP_DirLinkIcon);
    if (kind == QLatin1String("pdf")) return style->standardIcon(QStyle::SP_FileDialogContentsView);
    if (kind == QLatin1String("epub") || kind == QLatin1String("docx"))
        return style->standardIcon(QStyle::SP_FileDialogDetailedView);
    if (kind == QLatin1String("html")) return style->standardIcon(QStyle::SP_FileDialogInfoView);
    return style->standardIcon(QStyle::SP_FileIcon);
}

QIcon statusIcon(DocumentStatus status) {
    QStyle* style = QApplication::style();
    switch (status) {
    case DocumentStatus::Warning:
        return style->standardIcon(QStyle::SP_MessageBoxWarning);
    case DocumentStatus::Error:
        return style->standardIcon(QStyle::SP_MessageBoxCritical);
    case DocumentStatus::Missing:
        return style->standardIcon(QStyle::SP_MessageBoxQuestion);
    case DocumentStatus::Ok:
        break;
    }
    return {};
}

} // namespace

LibraryModel::LibraryModel(QObject* parent) : QStandardItemModel(0, ColumnCount, parent) {
    setHorizontalHeaderLabels({tr("Title"), tr("Tokens"), tr("Status")});
}

QString LibraryModel::tokenText(qint64 tokens) {
    if (tokens < 0) return QStringLiteral("–");
    return QLocale().toString(tokens);
}

QList<QStandardItem*> LibraryModel::documentRow(const DocumentRecord& record) const {
    auto* title = new QStandardItem(kindIcon(record.kind), record.title);
    title->setData(record.id, DocumentIdRole);
    title->setData(record.kind, KindRole);
    title->setToolTip(record.error.isEmpty() ? record.sourcePath
                                             : record.sourcePath + u'\n' + record.error);
    title->setDragEnabled(false);
    auto* tokens = new QStandardItem(tokenText(record.tokenCount));
    tokens->setData(record.id, DocumentIdRole);
    tokens->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
    auto* status = new QStandardItem(statusIcon(record.status), statusName(record.status));
    status->setData(record.id, DocumentIdRole);
    if (!record.error.isEmpty()) status->setToolTip(record.error);
    QList<QStandardItem*> row{title, tokens, status};
    for (QStandardItem* item : row) item->setEditable(false);
    return row;
}

bool LibraryModel::refresh(DocumentStore& store, QString* error) {
    auto documents = store.list();
    auto collections = store.collections();
    if (!documents || !collections) {
        if (error)
            *error = QString::fromStdString(documents ? collections.error().message
                                                      : documents.error().message);
        return false;
    }
    removeRows(0, rowCount());
    QHash<qint64, QStandardItem*> collectionItems;
    for (const Collection& collection : *collections) {
        auto* item = new QStandardItem(QApplication::style()->standardIcon(QStyle::SP_DirIcon),
                                       collection.name);
        item->setData(collection.name, CollectionRole);
        item->setEditable(false);
        auto* count =
            new QStandardItem(tr("%n document(s)", nullptr, int(collection.documentCount)));
        count->setEditable(false);
        auto* blank = new QStandardItem;
        blank->setEditable(false);
        appendRow({item, count, blank});
        collectionItems.insert(collection.id, item);
    }
    documentCount_ = 0;
    for (const DocumentRecord& record : *documents) {
        QStandardItem* parent = collectionItems.value(record.collectionId, nullptr);
        if (parent)
            parent->appendRow(documentRow(record));
        else
            appendRow(documentRow(record));
        ++documentCount_;
    }
    return true;
}

QModelIndex LibraryModel::indexOfDocument(qint64 id) const {
    const QModelIndexList found =
        match(index(0, TitleColumn), DocumentIdRole, id, 1, Qt::MatchExactly | Qt::MatchRecursive);
    return found.isEmpty() ? QModelIndex() : found.first();
}

} // namespace folio
