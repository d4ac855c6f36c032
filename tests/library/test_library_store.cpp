// The SQLite layer: schema and migrations, document storage, search, conversations.

#include "conversation_store.h"
#include "document_store.h"
#include "library_database.h"
#include "schema_migrations.h"
#include "source_map.h"
#include "token_budget.h"

#include <QSqlQuery>
#include <QTemporaryDir>
#include <QTest>

using namespace folio;

namespace {

ExtractedDocument sampleContent(const QString& text) {
    ExtractedDocument doc;
    doc.kind = QStringLiteral("text");
    doc.text = text;
    doc.spans.push_back({0, text.size(), QStringLiteral("/tmp/a.txt"), 0, 1, 0, 0});
    doc.chapters.push_back({QStringLiteral("Start"), 1, 0});
    doc.warnings << QStringLiteral("a warning");
    return doc;
}

DocumentRecord sampleRecord(const QString& title, const QString& path, const QString& hash) {
    DocumentRecord r;
    r.title = title;
    r.kind = QStringLiteral("text");
    r.sourcePath = path;
    r.contentHash = hash;
    r.sizeBytes = 10;
    r.tokenCount = 42;
    r.tokenizer = QStringLiteral("words");
    return r;
}

qint64 countRows(LibraryDatabase& db, const QString& table) {
    QSqlQuery q(db.db());
    q.exec(QStringLiteral("SELECT COUNT(*) FROM ") + table);
    return q.next() ? q.value(0).toLongLong() : -1;
}

} // namespace

class TestLibraryStore : public QObject {
    Q_OBJECT

private:
    QTemporaryDir tmp_;

private slots:
    void opensInWalModeWithForeignKeysAndSchema() {
        auto db = LibraryDatabase::open(tmp_.filePath("lib/one.sqlite"));
        QVERIFY2(db.ok(), db.ok() ? "" : db.error().message.c_str());
        QCOMPARE((*db)->schemaVersion(), SchemaMigrations::latestVersion());
        QSqlQuery q((*db)->db());
        QVERIFY(q.exec("PRAGMA journal_mode") && q.next());
        QCOMPARE(q.value(0).toString(), QStringLiteral("wal"));
        QVERIFY(q.exec("PRAGMA foreign_keys") && q.next());
        QCOMPARE(q.value(0).toInt(), 1);
    }

    void reopeningKeepsDataAndNewerSchemaIsRefused() {
        const QString path = tmp_.filePath("two.sqlite");
        {
            auto db = LibraryDatabase::open(path);
            QVERIFY(db.ok());
            DocumentStore store(**db);
            QVERIFY(store.save(sampleRecord("Kept", "/k", "h1"), sampleContent("kept text")).ok());
        }
        {
            auto db = LibraryDatabase::open(path);
            QVERIFY(db.ok());
            QCOMPARE(DocumentStore(**db).list()->size(), size_t(1));
            QVERIFY((*db)->exec(QStringLiteral("PRAGMA user_version = 99"), "bump").ok());
        }
        auto newer = LibraryDatabase::open(path);
        QVERIFY(!newer.ok());
        QVERIFY(QString::fromStdString(newer.error().message)
                    .contains(QStringLiteral("schema version 99")));
    }

    void savesReadsReplacesAndRemoves() {
        auto db = LibraryDatabase::open(QStringLiteral(":memory:"));
        QVERIFY(db.ok());
        DocumentStore store(**db);
        auto collection = store.ensureCollection(QStringLiteral("papers"));
        QVERIFY(collection.ok());
        QCOMPARE(*store.ensureCollection(QStringLiteral("papers")), *collection);
        DocumentRecord record = sampleRecord("First", "/docs/a.txt", "abc");
        record.collectionId = *collection;
        auto id = store.save(record, sampleContent("hello brave new world"));
        QVERIFY(id.ok());
        auto read = store.document(*id);
        QVERIFY(read.ok() && read->has_value());
        QCOMPARE((*read)->title, QStringLiteral("First"));
        QCOMPARE((*read)->collection, QStringLiteral("papers"));
        QCOMPARE((*read)->tokenCount, qint64(42));
        QCOMPARE(*store.text(*id), QStringLiteral("hello brave new world"));
        QCOMPARE(store.spans(*id)->size(), size_t(1));
        QCOMPARE(store.chapters(*id)->front().title, QStringLiteral("Start"));
        QCOMPARE(*store.warnings(*id), QStringList{QStringLiteral("a warning")});
        QCOMPARE((*store.findByHash("abc"))->id, *id);
        QVERIFY(!store.findByHash("abc", *id)->has_value());
        QCOMPARE(store.underPath("/docs")->size(), size_t(1));
        QCOMPARE(store.underPath("/doc")->size(), size_t(0));
        QCOMPARE(store.list("papers")->size(), size_t(1));

        // Replacing keeps the id and swaps the content, search index included.
        auto again = store.save(sampleRecord("Second", "/docs/a.txt", "def"),
                                sampleContent("goodbye old moon"), *id);
        QCOMPARE(*again, *id);
        QCOMPARE(*store.text(*id), QStringLiteral("goodbye old moon"));
        QCOMPARE(store.search("brave")->size(), size_t(0));
        QCOMPARE(store.search("moon")->size(), size_t(1));
        QCOMPARE(countRows(**db, "chapters"), qint64(1));

        QVERIFY(*store.remove(*id));
        QVERIFY(!*store.remove(*id));
        QCOMPARE(store.search("moon")->size(), size_t(0));
        for (const char* table :
             {"document_content", "source_spans", "chapters", "document_warnings"})
            QCOMPARE(countRows(**db, table), qint64(0));
    }

    void failedWriteLeavesNoHalfWrittenRows() {
        auto db = LibraryDatabase::open(QStringLiteral(":memory:"));
        QVERIFY(db.ok());
        // A trigger makes the third step of the write fail.
        QVERIFY((*db)
                    ->exec(QStringLiteral("CREATE TRIGGER boom BEFORE INSERT ON chapters BEGIN "
                                          "SELECT RAISE(ABORT, 'disk on fire'); END"),
                           "trigger")
                    .ok());
        DocumentStore store(**db);
        auto id = store.save(sampleRecord("Doomed", "/d", "h"), sampleContent("some words"));
        QVERIFY(!id.ok());
        QVERIFY(
            QString::fromStdString(id.error().message).contains(QStringLiteral("disk on fire")));
        for (const char* table : {"documents", "document_content", "source_spans"})
            QCOMPARE(countRows(**db, table), qint64(0));
        QCOMPARE(store.search("words")->size(), size_t(0));
    }

    void searchRanksAndQuotesUserInput() {
        auto db = LibraryDatabase::open(QStringLiteral(":memory:"));
        DocumentStore store(**db);
        QVERIFY(store
                    .save(sampleRecord("Cooking", "/c", "1"),
                          sampleContent("A café serves crème brûlée and coffee."))
                    .ok());
        QVERIFY(store
                    .save(sampleRecord("Code", "/k", "2"),
                          sampleContent("C++ templates and coffee coffee coffee."))
                    .ok());
        auto hits = store.search("coffee");
        QVERIFY(hits.ok());
        QCOMPARE(hits->size(), size_t(2));
        QCOMPARE(hits->front().title, QStringLiteral("Code")); // more occurrences rank first
        QCOMPARE(store.search("cafe")->size(), size_t(1));     // diacritics folded
        QVERIFY(store.search("C++ \"unbalanced")->size() == 0);
        QCOMPARE(store.search("temp*")->size(), size_t(1));
        QCOMPARE(store.search("cooking")->front().title,
                 QStringLiteral("Cooking")); // title indexed
        QVERIFY(store.search("coffee")->front().snippet.contains(QStringLiteral("[coffee]")));
        QCOMPARE(DocumentStore::ftsQuery("a \"b"), QStringLiteral("\"a\" \"\"\"b\""));
    }

    void conversationsAndMessages() {
        auto db = LibraryDatabase::open(QStringLiteral(":memory:"));
        ConversationStore chats(**db);
        DocumentStore docs(**db);
        auto doc = docs.save(sampleRecord("D", "/d", "h"), sampleContent("x"));
        auto id = chats.create(QStringLiteral("About D"));
        QVERIFY(id.ok());
        QVERIFY(chats.addMessage(*id, "user", "What is D?").ok());
        QVERIFY(chats.addMessage(*id, "assistant", "A letter.", 3).ok());
        QVERIFY(!chats.addMessage(*id, "robot", "beep").ok()); // roles are checked
        QVERIFY(chats.attachDocument(*id, *doc).ok());
        auto messages = chats.messages(*id);
        QCOMPARE(messages->size(), size_t(2));
        QCOMPARE(messages->at(1).seq, 2);
        QCOMPARE(messages->at(1).tokenCount, qint64(3));
        QCOMPARE(*chats.attachedDocuments(*id), std::vector<qint64>{*doc});
        QVERIFY(*docs.remove(*doc));
        QCOMPARE(chats.attachedDocuments(*id)->size(), size_t(0)); // cascades
        QVERIFY(*chats.remove(*id));
        QCOMPARE(countRows(**db, "messages"), qint64(0));
    }

    void sourceMapLeadsBackToLines() {
        const QString text = QStringLiteral("page one\nline two\n\npage two");
        std::vector<SourceSpan> spans{{0, 17, "f.pdf", 1, 1, 0, 0}, {19, 27, "f.pdf", 2, 1, 0, 0}};
        SourceMap::assignTokens(text, spans, [](QStringView s) {
            return qint64(s.count(u' ') + (s.isEmpty() ? 0 : 1));
        });
        QCOMPARE(spans[0].tokenEnd, qint64(3));
        const SourceMap map(spans);
        auto at = map.locateChar(text, text.indexOf(QStringLiteral("two")));
        QVERIFY(at.has_value());
        QCOMPARE(at->page, 1);
        QCOMPARE(at->line, 2);
        auto second = map.locateChar(text, 20);
        QCOMPARE(second->page, 2);
        QCOMPARE(second->line, 1);
        QVERIFY(!map.locateChar(text, 18).has_value()); // the blank separator
        QCOMPARE(map.locateToken(text, spans[1].tokenStart)->page, 2);
    }

    void budgetCountsOnlyCurrentTokenizer() {
        std::vector<DocumentRecord> docs(2);
        docs[0].tokenCount = 600;
        docs[0].tokenizer = "words";
        docs[1].tokenCount = 300;
        docs[1].tokenizer = "words";
        BudgetReport report = TokenBudget::check(docs, 1000, 100, "words");
        QVERIFY(report.fits);
        QCOMPARE(report.remaining(), qint64(0));
        QVERIFY(!TokenBudget::check(docs, 1000, 101, "words").fits);
        docs[1].tokenizer = "other";
        report = TokenBudget::check(docs, 100000, 0, "words");
        QVERIFY(!report.fits);
        QCOMPARE(report.uncounted, qint64(1));
    }
};

QTEST_GUILESS_MAIN(TestLibraryStore)
#include "test_library_store.moc"
