// A folder as one codebase document: tree, headers, skipped files, limits, a huge folder.

#include "code_importer.h"
#include "fixtures.h"

#include <QDir>
#include <QElapsedTimer>
#include <QTemporaryDir>
#include <QTest>

#include <fcntl.h>
#include <unistd.h>

using namespace folio;

class TestCodeImporter : public QObject {
    Q_OBJECT

private slots:
    void assemblesTreeThenFiles() {
        QTemporaryDir tmp;
        const QString root = tmp.filePath("proj");
        QDir().mkpath(root + "/src");
        fixtures::writeFile(root + "/.gitignore", "*.o\n");
        fixtures::writeFile(root + "/README.md", "# Proj\n");
        fixtures::writeFile(root + "/src/main.cpp", "int main() {\n    return 0;\n}\n");
        fixtures::writeFile(root + "/src/main.o", "ignored");
        fixtures::writeFile(root + "/src/logo.png", QByteArray("\x89PNG\0\0data", 10));
        fixtures::writeFile(root + "/src/huge.txt", QByteArray(3000, 'h'));
        fixtures::writeFile(root + "/src/latin1.txt", "caf\xE9\n");
        ImportOptions options;
        options.limits.maxCodeFileBytes = 2000;
        auto doc = CodeImporter().import(root, options, {});
        QVERIFY2(doc.ok(), doc.ok() ? "" : doc.error().message.c_str());
        QCOMPARE(doc->title, QStringLiteral("proj"));
        const QString tree =
            QStringLiteral("Directory tree of proj:\nproj/\n  .gitignore\n  README.md\n  src/\n"
                           "    huge.txt  [too large]\n    latin1.txt\n    logo.png  [binary]\n"
                           "    main.cpp\n");
        QVERIFY2(doc->text.startsWith(tree), qPrintable(doc->text.left(300)));
        QVERIFY(!doc->text.contains(QStringLiteral("main.o")));
        const QString mainHeader = CodeImporter::headerLine("src/main.cpp", "C++");
        QVERIFY(doc->text.contains(mainHeader + "\nint main() {\n    return 0;\n}"));
        QCOMPARE(doc->files.size(), size_t(4));
        QCOMPARE(doc->files[0].path, QStringLiteral(".gitignore"));
        QCOMPARE(doc->files[3].path, QStringLiteral("src/main.cpp"));
        QCOMPARE(doc->files[3].language, QStringLiteral("C++"));
        QVERIFY(doc->text.mid(doc->files[3].charStart).startsWith(mainHeader));
        // The span of main.cpp counts the header as line 0, so its text lines keep their numbers.
        const auto& span = doc->spans.back();
        QCOMPARE(span.file, QStringLiteral("src/main.cpp"));
        QCOMPARE(span.line, 0);
        const QStringList warnings = doc->warnings;
        QVERIFY(std::any_of(warnings.begin(), warnings.end(), [](const QString& w) {
            return w.contains(QStringLiteral("src/huge.txt: skipped"));
        }));
        QVERIFY(std::any_of(warnings.begin(), warnings.end(), [](const QString& w) {
            return w.contains(QStringLiteral("src/latin1.txt: invalid UTF-8"));
        }));
        QCOMPARE(doc->contentHash.size(), qsizetype(64));
    }

    void contentHashFollowsContent() {
        QTemporaryDir tmp;
        fixtures::writeFile(tmp.filePath("a.py"), "print(1)\n");
        auto first = CodeImporter().import(tmp.path(), {}, {});
        auto again = CodeImporter().import(tmp.path(), {}, {});
        fixtures::writeFile(tmp.filePath("a.py"), "print(2)\n");
        auto changed = CodeImporter().import(tmp.path(), {}, {});
        QVERIFY(first.ok() && again.ok() && changed.ok());
        QCOMPARE(first->contentHash, again->contentHash);
        QVERIFY(first->contentHash != changed->contentHash);
    }

    void notAFolderFails() {
        QTemporaryDir tmp;
        fixtures::writeFile(tmp.filePath("f.c"), "x");
        QVERIFY(!CodeImporter().import(tmp.filePath("f.c"), {}, {}).ok());
        QVERIFY(!CodeImporter().import(tmp.filePath("missing"), {}, {}).ok());
    }

    void hundredThousandFilesStayWithinLimits() {
        QTemporaryDir tmp;
        QElapsedTimer timer;
        timer.start();
        for (int d = 0; d < 100; ++d) {
            const QString dir = tmp.filePath(QStringLiteral("d%1").arg(d, 3, 10, QChar(u'0')));
            QDir().mkpath(dir);
            for (int f = 0; f < 1000; ++f) {
                // Plain POSIX calls: creating the files dominates the test's run time.
                const QByteArray name =
                    QFile::encodeName(dir) + "/f" + QByteArray::number(f) + ".txt";
                const int fd = ::open(name.constData(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
                QVERIFY(fd >= 0);
                if (f % 2) QCOMPARE(::write(fd, "x\n", 2), ssize_t(2));
                ::close(fd);
            }
        }
        qInfo("created 100000 files in %lld ms", timer.restart());
        ImportOptions options;
        options.limits.maxCodeFiles = 5000;
        options.limits.maxTreeEntries = 8000;
        auto doc = CodeImporter().import(tmp.path(), options, {});
        qInfo("imported in %lld ms", timer.elapsed());
        QVERIFY(doc.ok());
        QCOMPARE(doc->files.size(), size_t(5000));
        QVERIFY(doc->text.count(u'\n') < 8000 + 3 * 5000 + 10);
        const QStringList warnings = doc->warnings;
        QVERIFY(std::any_of(warnings.begin(), warnings.end(), [](const QString& w) {
            return w.contains(QStringLiteral("limits reached"));
        }));
        const qsizetype firstHeader = doc->text.indexOf(QStringLiteral("====="));
        QVERIFY(firstHeader > 0);
        QVERIFY(QStringView(doc->text).first(firstHeader).count(u'\n') <= 8000 + 3);
    }
};

QTEST_GUILESS_MAIN(TestCodeImporter)
#include "test_code_importer.moc"
