#include "schema_migrations.h"

#include "library_database.h"

namespace folio {

namespace {

// Version 1. Times are milliseconds since the epoch (UTC). Character offsets count UTF-16 code
// units of the stored text; source spans map them (and token offsets) back to file, page, line.
QStringList version1() {
    return {
        R"(CREATE TABLE collections (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            created_at INTEGER NOT NULL))",
        R"(CREATE TABLE documents (
            id INTEGER PRIMARY KEY,
            collection_id INTEGER REFERENCES collections(id) ON DELETE SET NULL,
            title TEXT NOT NULL,
            author TEXT NOT NULL DEFAULT '',
            kind TEXT NOT NULL,
            source_path TEXT NOT NULL,
            content_hash TEXT NOT NULL DEFAULT '',
            size_bytes INTEGER NOT NULL DEFAULT 0,
            char_count INTEGER NOT NULL DEFAULT 0,
            token_count INTEGER,
            tokenizer TEXT,
            imported_at INTEGER NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('ok', 'warning', 'error', 'missing')),
            error TEXT NOT NULL DEFAULT ''))",
        "CREATE INDEX documents_by_hash ON documents(content_hash)",
        "CREATE INDEX documents_by_path ON documents(source_path)",
        "CREATE INDEX documents_by_collection ON documents(collection_id)",
        // Title and author are repeated here so the full-text index can use this table alone.
        R"(CREATE TABLE document_content (
            document_id INTEGER PRIMARY KEY REFERENCES documents(id) ON DELETE CASCADE,
            title TEXT NOT NULL,
            author TEXT NOT NULL,
            body TEXT NOT NULL))",
        R"(CREATE TABLE source_spans (
            document_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
            seq INTEGER NOT NULL,
            char_start INTEGER NOT NULL,
            char_end INTEGER NOT NULL,
            token_start INTEGER,
            token_end INTEGER,
            file TEXT NOT NULL,
            page INTEGER NOT NULL,
            line INTEGER NOT NULL,
            PRIMARY KEY (document_id, seq)) WITHOUT ROWID)",
        R"(CREATE TABLE chapters (
            document_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
            seq INTEGER NOT NULL,
            title TEXT NOT NULL,
            level INTEGER NOT NULL,
            char_start INTEGER NOT NULL,
            PRIMARY KEY (document_id, seq)) WITHOUT ROWID)",
        R"(CREATE TABLE document_files (
            document_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
            seq INTEGER NOT NULL,
            path TEXT NOT NULL,
            language TEXT NOT NULL,
            size_bytes INTEGER NOT NULL,
            char_start INTEGER NOT NULL,
            char_end INTEGER NOT NULL,
            token_count INTEGER,
            PRIMARY KEY (document_id, seq)) WITHOUT ROWID)",
        R"(CREATE TABLE document_warnings (
            document_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
            seq INTEGER NOT NULL,
            message TEXT NOT NULL,
            PRIMARY KEY (document_id, seq)) WITHOUT ROWID)",
        R"(CREATE VIRTUAL TABLE document_fts USING fts5(
            title, author, body,
            content = 'document_content', content_rowid = 'document_id',
            tokenize = 'unicode61 remove_diacritics 2'))",
        // The index follows document_content, also when a cascade from documents deletes rows.
        R"(CREATE TRIGGER document_content_ai AFTER INSERT ON document_content BEGIN
            INSERT INTO document_fts(rowid, title, author, body)
            VALUES (new.document_id, new.title, new.author, new.body);
        END)",
        R"(CREATE TRIGGER document_content_ad AFTER DELETE ON document_content BEGIN
            INSERT INTO document_fts(document_fts, rowid, title, author, body)
            VALUES ('delete', old.document_id, old.title, old.author, old.body);
        END)",
        R"(CREATE TRIGGER document_content_au AFTER UPDATE ON document_content BEGIN
            INSERT INTO document_fts(document_fts, rowid, title, author, body)
            VALUES ('delete', old.document_id, old.title, old.author, old.body);
            INSERT INTO document_fts(rowid, title, author, body)
            VALUES (new.document_id, new.title, new.author, new.body);
        END)",
        R"(CREATE TABLE conversations (
            id INTEGER PRIMARY KEY,
            title TEXT NOT NULL DEFAULT '',
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL))",
        R"(CREATE TABLE conversation_documents (
            conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
            document_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
            PRIMARY KEY (conversation_id, document_id)) WITHOUT ROWID)",
        R"(CREATE TABLE messages (
            id INTEGER PRIMARY KEY,
            conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
            seq INTEGER NOT NULL,
            role TEXT NOT NULL CHECK (role IN ('system', 'user', 'assistant')),
            content TEXT NOT NULL,
            token_count INTEGER,
            created_at INTEGER NOT NULL,
            UNIQUE (conversation_id, seq)))",
    };
}

} // namespace

const std::vector<SchemaMigrations::Migration>& SchemaMigrations::all() {
    static const std::vector<Migration> migrations{{1, version1()}};
    return migrations;
}

int SchemaMigrations::latestVersion() {
    return all().back().version;
}

sala::Status SchemaMigrations::migrate(LibraryDatabase& db) {
    const int current = db.schemaVersion();
    if (current > latestVersion())
        return sala::makeError(sala::ErrorCode::Unsupported,
                               QStringLiteral("%1: the library has schema version %2, this Folio "
                                              "knows up to %3; use a newer Folio")
                                   .arg(db.path())
                                   .arg(current)
                                   .arg(latestVersion())
                                   .toStdString());
    for (const Migration& migration : all()) {
        if (migration.version <= current) continue;
        Transaction transaction(db);
        SALA_TRY(transaction.begin());
        for (const QString& statement : migration.statements)
            SALA_TRY(db.exec(statement, "migrate the library schema"));
        SALA_TRY(db.exec(QStringLiteral("PRAGMA user_version = %1").arg(migration.version),
                         "record the schema version"));
        SALA_TRY(transaction.commit());
    }
    return sala::Status::success();
}

} // namespace folio
