// Plain text, Markdown, reStructuredText, HTML and DOCX importers, with bad input.

#include "docx_importer.h"
#include "fixtures.h"
#include "html_importer.h"
#include "plain_text_importer.h"

#include <QTemporaryDir>
#include <QTest>

using namespace folio;

class TestTextImporters : public QObject {
    Q_OBJECT

private:
    QTemporaryDir dir_;
    QString path(const QString& name) const { return dir_.filePath(name); }

private slots:
    void markdownKeepsTextAndFindsHeadings() {
        fixtures::writeFile(
            path("notes.md"),
            "# Intro\r\nFirst line.\r\n\r\n```\n# not a heading\n```\n## Details\nMore.\n");
        PlainTextImporter importer(QStringLiteral("markdown"));
        auto doc = importer.import(path("notes.md"), {}, {});
        QVERIFY2(doc.ok(), doc.ok() ? "" : doc.error().message.c_str());
        QCOMPARE(doc->kind, QStringLiteral("markdown"));
        QCOMPARE(doc->title, QStringLiteral("Intro"));
        QVERIFY(!doc->text.contains(u'\r'));
        QCOMPARE(doc->chapters.size(), size_t(2));
        QCOMPARE(doc->chapters[1].title, QStringLiteral("Details"));
        QCOMPARE(doc->chapters[1].level, 2);
        QVERIFY(doc->text.mid(doc->chapters[1].charStart).startsWith(QStringLiteral("## Details")));
        QVERIFY(doc->warnings.isEmpty());
        QCOMPARE(doc->spans.size(), size_t(1));
        QCOMPARE(doc->spans[0].line, 1);
    }

    void restructuredTextHeadings() {
        fixtures::writeFile(path("guide.rst"),
                            "Guide\n=====\n\nText.\n\nPart\n----\n\nMore text.\n");
        PlainTextImporter importer(QStringLiteral("rst"));
        auto doc = importer.import(path("guide.rst"), {}, {});
        QVERIFY(doc.ok());
        QCOMPARE(doc->chapters.size(), size_t(2));
        QCOMPARE(doc->chapters[0].title, QStringLiteral("Guide"));
        QCOMPARE(doc->chapters[0].level, 1);
        QCOMPARE(doc->chapters[1].title, QStringLiteral("Part"));
        QCOMPARE(doc->chapters[1].level, 2);
    }

    void invalidUtf8IsReplacedAndReported() {
        fixtures::writeFile(path("bad.txt"), QByteArray("caf\xC3\xA9 ok\nbroken \xFF\xFE here\n"));
        PlainTextImporter importer(QStringLiteral("text"));
        auto doc = importer.import(path("bad.txt"), {}, {});
        QVERIFY(doc.ok());
        QVERIFY(doc->text.contains(QStringLiteral("café ok")));
        QVERIFY(doc->text.contains(QChar(0xFFFD)));
        QCOMPARE(doc->warnings.size(), qsizetype(1));
        QVERIFY2(doc->warnings[0].contains(QStringLiteral("byte 16")),
                 qPrintable(doc->warnings[0]));
    }

    void zeroByteBinaryAndMissingFilesFailClearly() {
        fixtures::writeFile(path("empty.txt"), {});
        fixtures::writeFile(path("binary.txt"), QByteArray("ab\0cd", 5));
        PlainTextImporter importer(QStringLiteral("text"));
        auto empty = importer.import(path("empty.txt"), {}, {});
        QVERIFY(!empty.ok());
        QVERIFY(QString::fromStdString(empty.error().message)
                    .contains(QStringLiteral("empty.txt: the file is empty")));
        auto binary = importer.import(path("binary.txt"), {}, {});
        QVERIFY(!binary.ok());
        QVERIFY(QString::fromStdString(binary.error().message).contains(QStringLiteral("binary")));
        auto missing = importer.import(path("nope.txt"), {}, {});
        QVERIFY(!missing.ok());
        QCOMPARE(missing.error().code, sala::ErrorCode::NotFound);
    }

    void oversizedFileIsRefused() {
        fixtures::writeFile(path("big.txt"), QByteArray(5000, 'a'));
        ImportOptions options;
        options.limits.maxFileBytes = 1000;
        auto doc = PlainTextImporter(QStringLiteral("text")).import(path("big.txt"), options, {});
        QVERIFY(!doc.ok());
        QVERIFY(QString::fromStdString(doc.error().message).contains(QStringLiteral("limit")));
    }

    void unreadableFileFails() {
        if (geteuid() == 0) QSKIP("root reads every file");
        fixtures::writeFile(path("locked.txt"), "secret");
        QFile::setPermissions(path("locked.txt"), QFileDevice::Permissions());
        auto doc = PlainTextImporter(QStringLiteral("text")).import(path("locked.txt"), {}, {});
        QVERIFY(!doc.ok());
        QCOMPARE(doc.error().code, sala::ErrorCode::Io);
    }

    void htmlBecomesCleanText() {
        fixtures::writeFile(path("page.html"), R"(<!DOCTYPE html>
<html><head><title>The Page</title><meta name="author" content="Ann Smith">
<style>p { color: red }</style><script>var x = "<p>no</p>";</script></head>
<body><h1>Main   heading</h1>
<p>Some <b>bold</b>
   text&nbsp;here &amp; there.</p>
<ul><li>one</li><li>two <i>items</i></li></ul>
<ol><li>first</li><li>second</li></ol>
<pre>  code
    indented</pre>
<table><tr><td>a</td><td>b</td></tr></table>
</body></html>)");
        auto doc = HtmlImporter().import(path("page.html"), {}, {});
        QVERIFY(doc.ok());
        QCOMPARE(doc->title, QStringLiteral("The Page"));
        QCOMPARE(doc->author, QStringLiteral("Ann Smith"));
        const QString expected =
            QStringLiteral("# Main heading\n\nSome bold text here & there.\n\n- one\n\n"
                           "- two items\n\n1. first\n\n2. second\n\n  code\n    indented\n\na | b");
        QCOMPARE(doc->text, expected);
        QCOMPARE(doc->chapters.size(), size_t(1));
        QCOMPARE(doc->chapters[0].title, QStringLiteral("Main heading"));
        // The paragraph's span points at its source line.
        const qint64 at = doc->text.indexOf(QStringLiteral("Some bold"));
        auto span = std::find_if(doc->spans.begin(), doc->spans.end(),
                                 [&](const SourceSpan& s) { return s.charStart == at; });
        QVERIFY(span != doc->spans.end());
        QCOMPARE(span->line, 5);
    }

    void htmlWithoutTextFails() {
        fixtures::writeFile(path("blank.html"), "<html><body><script>x()</script></body></html>");
        auto doc = HtmlImporter().import(path("blank.html"), {}, {});
        QVERIFY(!doc.ok());
        QVERIFY(QString::fromStdString(doc.error().message).contains(QStringLiteral("blank.html")));
    }

    void docxParagraphsHeadingsAndLists() {
        QVERIFY(fixtures::writeDocx(
            path("report.docx"), "Quarterly Report", "Bo Lee",
            {"#1 Summary", "Revenue grew.", "- alpha", "- beta", "#2 Outlook", "Fine & dandy."}));
        auto doc = DocxImporter().import(path("report.docx"), {}, {});
        QVERIFY2(doc.ok(), doc.ok() ? "" : doc.error().message.c_str());
        QCOMPARE(doc->title, QStringLiteral("Quarterly Report"));
        QCOMPARE(doc->author, QStringLiteral("Bo Lee"));
        QCOMPARE(
            doc->text,
            QStringLiteral(
                "# Summary\n\nRevenue grew.\n\n- alpha\n\n- beta\n\n## Outlook\n\nFine & dandy."));
        QCOMPARE(doc->chapters.size(), size_t(2));
        QCOMPARE(doc->chapters[1].title, QStringLiteral("Outlook"));
        QCOMPARE(doc->chapters[1].level, 2);
        QCOMPARE(doc->spans.back().line, 6); // the sixth paragraph
    }

    void corruptDocxFails() {
        fixtures::writeFile(path("broken.docx"), "PK\x03\x04 this is not really a zip");
        auto doc = DocxImporter().import(path("broken.docx"), {}, {});
        QVERIFY(!doc.ok());
        QVERIFY(
            QString::fromStdString(doc.error().message).contains(QStringLiteral("broken.docx")));
        QVERIFY(fixtures::writeZip(path("nobody.docx"), {{"[Content_Types].xml", "<Types/>"}}));
        auto noBody = DocxImporter().import(path("nobody.docx"), {}, {});
        QVERIFY(!noBody.ok());
        QVERIFY(QString::fromStdString(noBody.error().message)
                    .contains(QStringLiteral("word/document.xml")));
    }
};

QTEST_GUILESS_MAIN(TestTextImporters)
#include "test_text_importers.moc"
