// EPUB and PDF importers, including hostile and broken files.

#include "epub_importer.h"
#include "fixtures.h"
#include "pdf_importer.h"

#include <QFile>
#include <QTemporaryDir>
#include <QTest>

#include <tuple>

using namespace folio;

namespace {

QString errorText(const sala::Error& error) {
    return QString::fromStdString(error.message);
}

QList<fixtures::EpubChapter> twoChapters() {
    return {{"one.xhtml", "Beginnings",
             "<h1>Chapter One</h1>\n<p>It was a dark night.</p>\n<ul><li>a list item</li></ul>"},
            {"two.xhtml", "Endings", "<h1>Chapter Two</h1>\n<p>The sun rose &amp; set.</p>"}};
}

} // namespace

class TestBookImporters : public QObject {
    Q_OBJECT

private:
    QTemporaryDir dir_;
    QString path(const QString& name) const { return dir_.filePath(name); }

private slots:
    void epubFollowsSpineWithChapterMap() {
        QVERIFY(fixtures::writeEpub(path("book.epub"), "A Tale", "Jo March", twoChapters()));
        auto doc = EpubImporter().import(path("book.epub"), {}, {});
        QVERIFY2(doc.ok(), doc.ok() ? "" : doc.error().message.c_str());
        QCOMPARE(doc->title, QStringLiteral("A Tale"));
        QCOMPARE(doc->author, QStringLiteral("Jo March"));
        QCOMPARE(doc->text,
                 QStringLiteral("# Chapter One\n\nIt was a dark night.\n\n- a list item\n\n"
                                "# Chapter Two\n\nThe sun rose & set."));
        QCOMPARE(doc->chapters.size(), size_t(2));
        QCOMPARE(doc->chapters[0].title, QStringLiteral("Beginnings"));
        QCOMPARE(doc->chapters[1].title, QStringLiteral("Endings"));
        QCOMPARE(doc->chapters[1].charStart, doc->text.indexOf(QStringLiteral("# Chapter Two")));
        QCOMPARE(doc->spans.back().file, QStringLiteral("OEBPS/two.xhtml"));
        QVERIFY(doc->warnings.isEmpty());
    }

    void epubWithClimbingEntryNameIsRefused() {
        auto entries = fixtures::epubEntries("Evil", "X", twoChapters());
        entries << fixtures::Entry{"../../etc/evil.xhtml", "<p>gotcha</p>"};
        QVERIFY(fixtures::writeZip(path("evil.epub"), entries));
        auto doc = EpubImporter().import(path("evil.epub"), {}, {});
        QVERIFY(!doc.ok());
        QVERIFY2(errorText(doc.error())
                     .contains(QStringLiteral("unsafe entry name '../../etc/evil.xhtml'")),
                 doc.error().message.c_str());
    }

    void epubZipBombIsRefused() {
        auto chapters = twoChapters();
        // 24 MB of one repeated byte squeezes into a few kilobytes.
        chapters[1].body = QStringLiteral("<p>") + QString(24 << 20, u'a') + QStringLiteral("</p>");
        QVERIFY(fixtures::writeEpub(path("bomb.epub"), "Bomb", "X", chapters));
        QVERIFY(QFileInfo(path("bomb.epub")).size() < (1 << 20));
        ImportOptions options;
        options.limits.maxArchiveEntryBytes = 4 << 20;
        auto doc = EpubImporter().import(path("bomb.epub"), options, {});
        QVERIFY(!doc.ok());
        QVERIFY2(errorText(doc.error()).contains(QStringLiteral("zip bomb")),
                 doc.error().message.c_str());
        // The total over all entries is bounded as well.
        options.limits.maxArchiveEntryBytes = 64 << 20;
        options.limits.maxArchiveTotalBytes = 8 << 20;
        auto total = EpubImporter().import(path("bomb.epub"), options, {});
        QVERIFY(!total.ok());
    }

    void truncatedAndEmptyEpubsFail() {
        QVERIFY(fixtures::writeEpub(path("full.epub"), "T", "A", twoChapters()));
        QFile full(path("full.epub"));
        QVERIFY(full.open(QIODevice::ReadOnly));
        fixtures::writeFile(path("cut.epub"), full.readAll().left(full.size() / 2));
        auto cut = EpubImporter().import(path("cut.epub"), {}, {});
        QVERIFY(!cut.ok());
        QVERIFY(errorText(cut.error()).contains(QStringLiteral("cut.epub")));
        fixtures::writeFile(path("zero.epub"), {});
        QVERIFY(!EpubImporter().import(path("zero.epub"), {}, {}).ok());
    }

    void epubMissingSpineItemIsAWarning() {
        auto entries = fixtures::epubEntries("Gap", "X", twoChapters());
        entries.removeIf(
            [](const fixtures::Entry& e) { return e.first == QStringLiteral("OEBPS/one.xhtml"); });
        QVERIFY(fixtures::writeZip(path("gap.epub"), entries));
        auto doc = EpubImporter().import(path("gap.epub"), {}, {});
        QVERIFY(doc.ok());
        QCOMPARE(doc->warnings.size(), qsizetype(1));
        QVERIFY(doc->warnings[0].contains(QStringLiteral("OEBPS/one.xhtml")));
        QVERIFY(doc->text.contains(QStringLiteral("The sun rose")));
    }

    void epubImportCanBeCancelled() {
        QVERIFY(fixtures::writeEpub(path("cancel.epub"), "T", "A", twoChapters()));
        std::atomic<bool> cancel{true};
        auto doc = EpubImporter().import(path("cancel.epub"), {}, ImportControl(&cancel));
        QVERIFY(!doc.ok());
        QCOMPARE(doc.error().code, sala::ErrorCode::Cancelled);
    }

    void pdfPagesInOrderWithPageMap() {
        QVERIFY(fixtures::writePdf(path("paper.pdf"), "Research Paper",
                                   {"Alpha first page\nsecond line", "", "Gamma third page"}));
        std::vector<double> progress;
        ImportControl control(nullptr, [&](double f, const QString&) { progress.push_back(f); });
        auto doc = PdfImporter().import(path("paper.pdf"), {}, control);
        QVERIFY2(doc.ok(), doc.ok() ? "" : doc.error().message.c_str());
        QCOMPARE(doc->title, QStringLiteral("Research Paper"));
        QVERIFY(doc->text.indexOf(QStringLiteral("Alpha")) <
                doc->text.indexOf(QStringLiteral("Gamma")));
        QCOMPARE(doc->spans.size(), size_t(2));
        QCOMPARE(doc->spans[0].page, 1);
        QCOMPARE(doc->spans[1].page, 3);
        QVERIFY(doc->text.mid(doc->spans[1].charStart).startsWith(QStringLiteral("Gamma")));
        QCOMPARE(doc->warnings.size(), qsizetype(1));
        QVERIFY2(doc->warnings[0].contains(QStringLiteral("pages without a text layer: 2")),
                 qPrintable(doc->warnings[0]));
        QCOMPARE(progress.size(), size_t(3));
        QCOMPARE(progress.back(), 1.0);
    }

    void pdfWithoutAnyTextFails() {
        QVERIFY(fixtures::writePdf(path("scan.pdf"), "Scan", {"", ""}));
        auto doc = PdfImporter().import(path("scan.pdf"), {}, {});
        QVERIFY(!doc.ok());
        QVERIFY(errorText(doc.error()).contains(QStringLiteral("text layer")));
    }

    void corruptTruncatedAndEmptyPdfsFail() {
        fixtures::writeFile(path("garbage.pdf"), QByteArray(4096, '\x7f'));
        auto garbage = PdfImporter().import(path("garbage.pdf"), {}, {});
        QVERIFY(!garbage.ok());
        QVERIFY(
            errorText(garbage.error()).contains(QStringLiteral("garbage.pdf: not a readable PDF")));
        QVERIFY(fixtures::writePdf(path("whole.pdf"), "Whole", {"Some text on a page"}));
        QFile whole(path("whole.pdf"));
        QVERIFY(whole.open(QIODevice::ReadOnly));
        fixtures::writeFile(path("cut.pdf"), whole.readAll().left(200));
        auto cut = PdfImporter().import(path("cut.pdf"), {}, {});
        QVERIFY(!cut.ok());
        QVERIFY(errorText(cut.error()).contains(QStringLiteral("cut.pdf")));
        fixtures::writeFile(path("zero.pdf"), {});
        auto zero = PdfImporter().import(path("zero.pdf"), {}, {});
        QVERIFY(!zero.ok());
        QVERIFY(errorText(zero.error()).contains(QStringLiteral("empty")));
    }

    void pdfOutlineBecomesChapters() {
        const QStringList pages{"Chapter One\nIt was a dark night.", "Chapter Two\nThe sun rose."};
        QVERIFY(fixtures::writeOutlinedPdf(path("outlined.pdf"), "Two Chapters", pages,
                                           {{"Chapter One", 1}, {"Chapter Two", 2}}));
        auto doc = PdfImporter().import(path("outlined.pdf"), {}, {});
        QVERIFY2(doc.ok(), doc.ok() ? "" : doc.error().message.c_str());
        QCOMPARE(doc->title, QStringLiteral("Two Chapters"));
        QCOMPARE(doc->text, pages[0] + QStringLiteral("\n\n") + pages[1]);
        QCOMPARE(doc->spans.size(), size_t(2));
        QCOMPARE(doc->spans[0].page, 1);
        QCOMPARE(doc->spans[1].page, 2);
        QCOMPARE(doc->chapters.size(), size_t(2));
        QCOMPARE(doc->chapters[0].title, QStringLiteral("Chapter One"));
        QCOMPARE(doc->chapters[1].title, QStringLiteral("Chapter Two"));
        QCOMPARE(doc->chapters[0].level, 1);
        QCOMPARE(doc->chapters[1].level, 1);
        QCOMPARE(doc->chapters[0].charStart, doc->spans[0].charStart);
        QCOMPARE(doc->chapters[1].charStart, doc->spans[1].charStart);
        QCOMPARE(doc->chapters[1].charStart, doc->text.indexOf(pages[1]));
        QVERIFY(doc->warnings.isEmpty());
    }

    void pdfNestedOutlineKeepsLevelsAndOrder() {
        // "Notes" has no destination, so only its child can place a chapter; page 3 has no text,
        // so the chapter pointing there starts where the text goes on, on page 4.
        const QStringList pages{"Opening words", "Middle words", "", "Closing words"};
        QVERIFY(fixtures::writeOutlinedPdf(path("nested.pdf"), "Nested", pages,
                                           {{"Part I", 1, 1},
                                            {"Chapter One", 1, 2},
                                            {"Section 1.1", 2, 3},
                                            {"Part II", 3, 1},
                                            {"Notes", 0, 1},
                                            {"Note A", 4, 2}}));
        auto doc = PdfImporter().import(path("nested.pdf"), {}, {});
        QVERIFY2(doc.ok(), doc.ok() ? "" : doc.error().message.c_str());
        QCOMPARE(doc->spans.size(), size_t(3));
        QCOMPARE(doc->spans[2].page, 4);
        const qint64 page1 = doc->text.indexOf(pages[0]);
        const qint64 page2 = doc->text.indexOf(pages[1]);
        const qint64 page4 = doc->text.indexOf(pages[3]);
        QVERIFY(page1 >= 0 && page2 > page1 && page4 > page2);
        const QList<std::tuple<QString, int, qint64>> expected{{"Part I", 1, page1},
                                                               {"Chapter One", 2, page1},
                                                               {"Section 1.1", 3, page2},
                                                               {"Part II", 1, page4},
                                                               {"Note A", 2, page4}};
        QCOMPARE(doc->chapters.size(), size_t(expected.size()));
        for (qsizetype i = 0; i < expected.size(); ++i) {
            const Chapter& chapter = doc->chapters[size_t(i)];
            QCOMPARE(chapter.title, std::get<0>(expected[i]));
            QCOMPARE(chapter.level, std::get<1>(expected[i]));
            QCOMPARE(chapter.charStart, std::get<2>(expected[i]));
        }
        QCOMPARE(doc->warnings.size(), qsizetype(1));
        QVERIFY2(doc->warnings[0].contains(QStringLiteral("pages without a text layer: 3")),
                 qPrintable(doc->warnings[0]));
    }

    void encryptedPdfNeedsItsPassword() {
        fixtures::writeEncryptedPdf(path("locked.pdf"), "opensesame", "Hidden treasure");
        auto noPassword = PdfImporter().import(path("locked.pdf"), {}, {});
        QVERIFY(!noPassword.ok());
        QVERIFY2(errorText(noPassword.error()).contains(QStringLiteral("password is needed")),
                 noPassword.error().message.c_str());
        ImportOptions wrong;
        wrong.password = QStringLiteral("guess");
        auto bad = PdfImporter().import(path("locked.pdf"), wrong, {});
        QVERIFY(!bad.ok());
        QVERIFY(errorText(bad.error()).contains(QStringLiteral("password does not open")));
        ImportOptions right;
        right.password = QStringLiteral("opensesame");
        auto doc = PdfImporter().import(path("locked.pdf"), right, {});
        QVERIFY2(doc.ok(), doc.ok() ? "" : doc.error().message.c_str());
        QCOMPARE(doc->text, QStringLiteral("Hidden treasure"));
    }
};

QTEST_MAIN(TestBookImporters)
#include "test_book_importers.moc"
