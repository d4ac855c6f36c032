#pragma once
// The library sidebar's model: collections with their documents, and the documents that belong
// to no collection, read from a DocumentStore. Rebuilt whole on refresh: libraries are small
// enough, and a rebuild never shows a half-updated tree.

#include "library_records.h"

#include <QStandardItemModel>

namespace folio {

class DocumentStore;

class LibraryModel : public QStandardItemModel {
    Q_OBJECT
public:
    enum Role {
        DocumentIdRole = Qt::UserRole + 1, // qint64 on document rows, 0 elsewhere
        CollectionRole,                    // the collection name on collection rows
        KindRole,
    };
    enum Column { TitleColumn, TokensColumn, StatusColumn, ColumnCount };

    explicit LibraryModel(QObject* parent = nullptr);

    // Reloads from `store`; returns false (and keeps the old rows) when the store fails.
    bool refresh(DocumentStore& store, QString* error = nullptr);

    // The index of a document's title cell, invalid when it is not shown.
    QModelIndex indexOfDocument(qint64 id) const;
    int documentCount() const { return documentCount_; }

    static QString tokenText(qint64 tokens);

private:
    QList<QStandardItem*> documentRow(const DocumentRecord& record) const;

    int documentCount_ = 0;
};

} // namespace folio
