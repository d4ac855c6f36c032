// The import pipeline end to end: folders, re-imports, duplicates, bad files, cancellation,
// token counts with the real tokenizer.

#include "document_store.h"
#include "fake_token_counter.h"
#include "fixtures.h"
#include "import_pipeline.h"
#include "importer_registry.h"
#include "library_database.h"
#include "sala_token_counter.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QTest>

using namespace folio;
using Outcome = ImportItem::Outcome;

class TestImportPipeline : public QObject {
    Q_OBJECT

private:
    std::unique_ptr<LibraryDatabase> db_;
    std::unique_ptr<DocumentStore> store_;
    ImporterRegistry registry_;
    WordCounter counter_;
    QTemporaryDir tmp_;
    QString docs_;

    ImportSummary importDocs(std::vector<ImportItem>* items = nullptr,
                             const QString& collection = {}) {
        ImportPipeline pipeline(*store_, registry_, &counter_);
        PipelineOptions options;
        options.collection = collection;
        return pipeline.run({docs_}, options, {}, [&](const ImportItem& item) {
            if (items) items->push_back(item);
        });
    }

private slots:
    void initTestCase() {
        auto db = LibraryDatabase::open(tmp_.filePath("library.sqlite"));
        QVERIFY(db.ok());
        db_ = std::move(*db);
        store_ = std::make_unique<DocumentStore>(*db_);
        docs_ = tmp_.filePath("docs");
        QDir().mkpath(docs_ + "/sub");
        fixtures::writeFile(docs_ + "/.gitignore", "*.skip\n");
        fixtures::writeFile(docs_ + "/a.md", "# Alpha\nalpha beta gamma\n");
        fixtures::writeFile(docs_ + "/b.txt", "one two three\n");
        fixtures::writeFile(docs_ + "/dup.txt", "one two three\n");
        fixtures::writeFile(docs_ + "/empty.txt", {});
        fixtures::writeFile(docs_ + "/bad.pdf", "%PDF-1.4 this is not a pdf at all");
        fixtures::writeFile(docs_ + "/hidden.skip", "never imported");
        fixtures::writeFile(docs_ + "/data.bin", QByteArray("\0\1\2", 3));
        fixtures::writeFile(docs_ + "/sub/c.html",
                            "<html><body><p>zebra stripes</p></body></html>");
    }

    void firstImportStoresGoodAndReportsBadFiles() {
        std::vector<ImportItem> items;
        const ImportSummary s = importDocs(&items, QStringLiteral("inbox"));
        QCOMPARE(s.added, 3);
        QCOMPARE(s.duplicates, 1);
        QCOMPARE(s.failed, 2);
        QVERIFY(!s.cancelled);
        const auto dup = std::find_if(items.begin(), items.end(), [](const ImportItem& i) {
            return i.outcome == Outcome::Duplicate;
        });
        QVERIFY(dup->path.endsWith(QStringLiteral("dup.txt")));
        QVERIFY(dup->message.contains(QStringLiteral("b.txt")));
        auto docs = store_->list();
        QCOMPARE(docs->size(), size_t(5)); // three documents, two error records
        auto b = store_->findByPath(QDir::cleanPath(docs_ + "/b.txt"));
        QVERIFY(b->has_value());
        QCOMPARE((*b)->tokenCount, qint64(3));
        QCOMPARE((*b)->tokenizer, QStringLiteral("words"));
        QCOMPARE((*b)->collection, QStringLiteral("inbox"));
        QCOMPARE((*b)->contentHash.size(), qsizetype(64));
        auto empty = store_->findByPath(QDir::cleanPath(docs_ + "/empty.txt"));
        QCOMPARE((*empty)->status, DocumentStatus::Error);
        QVERIFY((*empty)->error.contains(QStringLiteral("empty")));
        QVERIFY(!store_->findByPath(QDir::cleanPath(docs_ + "/hidden.skip"))->has_value());
        QCOMPARE(store_->search("zebra")->size(), size_t(1));
        const auto spans = store_->spans((*b)->id);
        QCOMPARE(spans->front().tokenEnd, qint64(3));
    }

    void reimportSeesUnchangedChangedAndRemovedFiles() {
        QCOMPARE(importDocs().unchanged, 3);
        fixtures::writeFile(docs_ + "/a.md", "# Alpha\nalpha beta gamma delta\n");
        QVERIFY(QFile::remove(docs_ + "/sub/c.html"));
        std::vector<ImportItem> items;
        const ImportSummary s = importDocs(&items);
        QCOMPARE(s.updated, 1);
        QCOMPARE(s.unchanged, 1);
        QCOMPARE(s.missing, 1);
        auto a = store_->findByPath(QDir::cleanPath(docs_ + "/a.md"));
        QCOMPARE((*a)->tokenCount, qint64(6));
        QCOMPARE((*a)->collection, QStringLiteral("inbox")); // kept without --collection
        QVERIFY(store_->text((*a)->id)->contains(QStringLiteral("delta")));
        auto c = store_->findByPath(QDir::cleanPath(docs_ + "/sub/c.html"));
        QCOMPARE((*c)->status, DocumentStatus::Missing);
    }

    void cancelledImportStopsAndWritesNothing() {
        fixtures::writeFile(docs_ + "/new.txt", "fresh words");
        std::atomic<bool> cancel{true};
        ImportPipeline pipeline(*store_, registry_, &counter_);
        const ImportSummary s = pipeline.run({docs_}, {}, ImportControl(&cancel));
        QVERIFY(s.cancelled);
        QCOMPARE(s.added, 0);
        QVERIFY(!store_->findByPath(QDir::cleanPath(docs_ + "/new.txt"))->has_value());
    }

    void gitCheckoutBecomesOneCodebaseWithFileCounts() {
        const QString repo = tmp_.filePath("repo");
        QDir().mkpath(repo + "/.git");
        QDir().mkpath(repo + "/src");
        fixtures::writeFile(repo + "/src/main.py", "print('hello world')\n");
        fixtures::writeFile(repo + "/notes.md", "some notes here\n");
        ImportPipeline pipeline(*store_, registry_, &counter_);
        std::vector<ImportItem> items;
        const ImportSummary s =
            pipeline.run({repo}, {}, {}, [&](const ImportItem& i) { items.push_back(i); });
        QCOMPARE(s.added, 1);
        auto doc = store_->document(items.front().documentId);
        QCOMPARE((*doc)->kind, QStringLiteral("code"));
        const auto files = store_->files((*doc)->id);
        QCOMPARE(files->size(), size_t(2));
        QCOMPARE(files->at(1).path, QStringLiteral("src/main.py"));
        QCOMPARE(files->at(1).tokenCount,
                 qint64(2 + 4)); // header "===== src/main.py (Python) =====" + code
        QCOMPARE(pipeline.run({repo}, {}, {}).unchanged, 1);
    }

    void sourceFolderWithoutGitIsOneCodebase() {
        // A build file at the top marks a codebase even without a .git folder.
        const QString project = tmp_.filePath("project");
        QDir().mkpath(project + "/src");
        fixtures::writeFile(project + "/CMakeLists.txt", "project(demo)\n");
        fixtures::writeFile(project + "/src/main.cpp", "int main() { return 0; }\n");
        // Mostly source files, no marker: a codebase too.
        const QString scripts = tmp_.filePath("scripts");
        QDir().mkpath(scripts);
        fixtures::writeFile(scripts + "/a.py", "print(1)\n");
        fixtures::writeFile(scripts + "/b.py", "print(2)\n");
        fixtures::writeFile(scripts + "/readme.txt", "scripts\n");
        ImportPipeline pipeline(*store_, registry_, &counter_);
        std::vector<ImportItem> items;
        const ImportSummary s = pipeline.run({project, scripts}, {}, {},
                                             [&](const ImportItem& i) { items.push_back(i); });
        QCOMPARE(s.added, 2);
        for (const ImportItem& item : items)
            QCOMPARE((*store_->document(item.documentId))->kind, QStringLiteral("code"));
    }

    void missingPathIsReported() {
        ImportPipeline pipeline(*store_, registry_, &counter_);
        std::vector<ImportItem> items;
        const ImportSummary s = pipeline.run({tmp_.filePath("nowhere.pdf")}, {}, {},
                                             [&](const ImportItem& i) { items.push_back(i); });
        QCOMPARE(s.failed, 1);
        QVERIFY(items.front().message.contains(QStringLiteral("no such file")));
    }

    void realTokenizerCountsMatchReference() {
        const QString dir = QStringLiteral(FOLIO_TEST_DATA_DIR "/tokenizer/minicpm4");
        auto counter = SalaTokenCounter::load(dir);
        QVERIFY2(counter.ok(), counter.ok() ? "" : counter.error().message.c_str());
        QVERIFY((*counter)->name().startsWith(QStringLiteral("sentencepiece-")));
        QFile golden(dir + "/golden_tokenization.json");
        QVERIFY(golden.open(QIODevice::ReadOnly));
        const QJsonArray texts =
            QJsonDocument::fromJson(golden.readAll()).object().value("texts").toArray();
        QVERIFY(texts.size() > 10);
        for (const QJsonValue& entry : texts) {
            const QString text = entry.toObject().value("text").toString();
            QCOMPARE((*counter)->countTokens(text),
                     qint64(entry.toObject().value("ids").toArray().size()));
        }
        // Imported through the pipeline, the stored count is the exact count of the text.
        fixtures::writeFile(tmp_.filePath("tok.txt"),
                            texts[1].toObject().value("text").toString().toUtf8());
        ImportPipeline pipeline(*store_, registry_, counter->get());
        std::vector<ImportItem> items;
        pipeline.run({tmp_.filePath("tok.txt")}, {}, {},
                     [&](const ImportItem& i) { items.push_back(i); });
        QCOMPARE(items.size(), size_t(1));
        auto doc = store_->document(items.front().documentId);
        QCOMPARE((*doc)->tokenCount, (*counter)->countTokens(*store_->text((*doc)->id)));
    }
};

QTEST_GUILESS_MAIN(TestImportPipeline)
#include "test_import_pipeline.moc"
