#pragma once
// One connection to a library file: SQLite in WAL mode with foreign keys on, migrated to the
// current schema when opened. Like every Qt SQL connection it must be used only by the thread
// that opened it.

#include "result.h"

#include <QSqlDatabase>
#include <QString>

class QSqlQuery;

namespace folio {

class LibraryDatabase {
public:
    // Opens (and creates) the library at `path`; ":memory:" gives a private in-memory library.
    static sala::Result<std::unique_ptr<LibraryDatabase>> open(const QString& path);
    ~LibraryDatabase();
    LibraryDatabase(const LibraryDatabase&) = delete;
    LibraryDatabase& operator=(const LibraryDatabase&) = delete;

    QSqlDatabase& db() { return db_; }
    const QString& path() const { return path_; }
    int schemaVersion();

    sala::Status begin();
    sala::Status commit();
    void rollback();

    // Runs a prepared (and bound) query; the error names the statement's purpose.
    static sala::Status exec(QSqlQuery& query, const char* what);
    sala::Status exec(const QString& sql, const char* what);

private:
    LibraryDatabase(QString connectionName, QString path);

    QString connectionName_;
    QString path_;
    QSqlDatabase db_;
};

// Rolls back unless committed: no half-written rows when a write fails part-way.
class Transaction {
public:
    explicit Transaction(LibraryDatabase& db) : db_(db) {}
    ~Transaction() {
        if (open_) db_.rollback();
    }
    sala::Status begin() {
        SALA_TRY(db_.begin());
        open_ = true;
        return sala::Status::success();
    }
    sala::Status commit() {
        open_ = false;
        return db_.commit();
    }

private:
    LibraryDatabase& db_;
    bool open_ = false;
};

} // namespace folio
