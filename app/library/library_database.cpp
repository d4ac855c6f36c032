#include "library_database.h"

#include "schema_migrations.h"

#include <QAtomicInteger>
#include <QDir>
#include <QFileInfo>
#include <QSqlError>
#include <QSqlQuery>

namespace folio {

using sala::ErrorCode;

namespace {

sala::Error dbError(const QString& what, const QSqlError& error) {
    return sala::makeError(ErrorCode::Io,
                           (what + QStringLiteral(": ") + error.text()).toStdString());
}

QString pragmaValue(QSqlDatabase& db, const QString& pragma) {
    QSqlQuery query(db);
    if (!query.exec(QStringLiteral("PRAGMA ") + pragma) || !query.next()) return {};
    return query.value(0).toString();
}

} // namespace

LibraryDatabase::LibraryDatabase(QString connectionName, QString path)
    : connectionName_(std::move(connectionName)), path_(std::move(path)) {}

LibraryDatabase::~LibraryDatabase() {
    if (db_.isOpen()) db_.close();
    db_ = QSqlDatabase();
    QSqlDatabase::removeDatabase(connectionName_);
}

sala::Result<std::unique_ptr<LibraryDatabase>> LibraryDatabase::open(const QString& path) {
    static QAtomicInteger<quint64> counter;
    if (!QSqlDatabase::isDriverAvailable(QStringLiteral("QSQLITE")))
        return sala::makeError(ErrorCode::Unsupported,
                               "the Qt SQLite driver (QSQLITE) is not installed");
    if (path != QStringLiteral(":memory:")) {
        const QString dir = QFileInfo(path).absolutePath();
        if (!QDir().mkpath(dir))
            return sala::makeError(ErrorCode::Io,
                                   ("cannot create the folder " + dir).toStdString());
    }
    const QString name = QStringLiteral("folio-library-%1").arg(counter.fetchAndAddRelaxed(1));
    std::unique_ptr<LibraryDatabase> library(new LibraryDatabase(name, path));
    library->db_ = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), name);
    library->db_.setDatabaseName(path);
    library->db_.setConnectOptions(QStringLiteral("QSQLITE_BUSY_TIMEOUT=5000"));
    if (!library->db_.open())
        return dbError(QStringLiteral("cannot open ") + path, library->db_.lastError());
    SALA_TRY(library->exec(QStringLiteral("PRAGMA foreign_keys = ON"), "enable foreign keys"));
    SALA_TRY(library->exec(QStringLiteral("PRAGMA synchronous = NORMAL"), "set synchronous"));
    const QString mode = pragmaValue(library->db_, QStringLiteral("journal_mode = WAL")).toLower();
    if (mode != QStringLiteral("wal") && mode != QStringLiteral("memory"))
        return sala::makeError(ErrorCode::Io,
                               (path + ": cannot switch to WAL mode (" + mode + ")").toStdString());
    if (pragmaValue(library->db_, QStringLiteral("foreign_keys")) != QStringLiteral("1"))
        return sala::makeError(ErrorCode::Unsupported, "SQLite foreign keys are not available");
    SALA_TRY(SchemaMigrations::migrate(*library));
    return library;
}

int LibraryDatabase::schemaVersion() {
    return pragmaValue(db_, QStringLiteral("user_version")).toInt();
}

sala::Status LibraryDatabase::begin() {
    if (!db_.transaction())
        return dbError(QStringLiteral("cannot begin a transaction"), db_.lastError());
    return sala::Status::success();
}

sala::Status LibraryDatabase::commit() {
    if (!db_.commit()) {
        const QSqlError error = db_.lastError();
        db_.rollback();
        return dbError(QStringLiteral("cannot commit"), error);
    }
    return sala::Status::success();
}

void LibraryDatabase::rollback() {
    db_.rollback();
}

sala::Status LibraryDatabase::exec(QSqlQuery& query, const char* what) {
    if (!query.exec()) return dbError(QString::fromUtf8(what), query.lastError());
    return sala::Status::success();
}

sala::Status LibraryDatabase::exec(const QString& sql, const char* what) {
    QSqlQuery query(db_);
    if (!query.exec(sql)) return dbError(QString::fromUtf8(what), query.lastError());
    return sala::Status::success();
}

} // namespace folio
