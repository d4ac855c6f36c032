// The `library` commands of folio-cli, run in-process against a temporary library file.

#include "fixtures.h"
#include "library_cli.h"

#include <QDir>
#include <QFileInfo>
#include <QSettings>
#include <QTemporaryDir>
#include <QTest>

using namespace folio;

class TestLibraryCli : public QObject {
    Q_OBJECT

private:
    QTemporaryDir tmp_;
    QString out_, err_;

    int runWithDefaultLibrary(const QStringList& args) {
        out_.clear();
        err_.clear();
        QTextStream out(&out_), err(&err_);
        return runLibraryCommand(args, out, err);
    }
    int run(QStringList args) {
        args << "--db" << tmp_.filePath("lib.sqlite");
        return runWithDefaultLibrary(args);
    }

private slots:
    void initTestCase() {
        // A home of this test's own for the default library and the app's settings; set before
        // Qt reads them, since QSettings keeps the folder it found first.
        qputenv("XDG_DATA_HOME", tmp_.filePath("data").toUtf8());
        qputenv("XDG_CONFIG_HOME", tmp_.filePath("config").toUtf8());
    }

    void defaultLibraryIsTheDesktopApps() {
        fixtures::writeFile(tmp_.filePath("note.txt"), "Shared between the app and the CLI.\n");
        QCOMPARE(runWithDefaultLibrary({"import", tmp_.filePath("note.txt")}), 0);
        // Where the app keeps its library when no data folder is chosen.
        QVERIFY(QFileInfo(tmp_.filePath("data/Folio/folio/library.sqlite")).isFile());
        QVERIFY(!QFileInfo::exists(tmp_.filePath("data/folio/library.sqlite")));
        QCOMPARE(runWithDefaultLibrary({"list"}), 0);
        QVERIFY2(out_.contains(tmp_.filePath("note.txt")), qPrintable(out_));

        // A data folder chosen in the app's settings is followed.
        QSettings("Folio", "folio").setValue("storage/dataFolder", tmp_.filePath("chosen"));
        QCOMPARE(runWithDefaultLibrary({"list"}), 0);
        QVERIFY(!out_.contains(tmp_.filePath("note.txt")));
        QVERIFY(QFileInfo(tmp_.filePath("chosen/library.sqlite")).isFile());
        QSettings("Folio", "folio").remove("storage/dataFolder");
    }

    void importListShowSearchRemove() {
        fixtures::writeFile(tmp_.filePath("guide.md"), "# Guide\nHow to brew tea.\n");
        fixtures::writeFile(tmp_.filePath("empty.txt"), {});
        QCOMPARE(run({"import", tmp_.filePath("guide.md"), tmp_.filePath("empty.txt"),
                      "--collection", "kb"}),
                 1);
        QVERIFY2(out_.contains(QStringLiteral("added #1")), qPrintable(out_));
        QVERIFY2(err_.contains(QStringLiteral("empty.txt: the file is empty")), qPrintable(err_));
        QVERIFY(out_.contains(QStringLiteral("1 added")));

        QCOMPARE(run({"list"}), 0);
        QVERIFY(out_.contains(QStringLiteral("Guide")));
        QVERIFY(out_.contains(QStringLiteral("error")));

        QCOMPARE(run({"show", "1"}), 0);
        QVERIFY(out_.contains(QStringLiteral("title:       Guide")));
        QVERIFY(out_.contains(QStringLiteral("collection:  kb")));
        QCOMPARE(run({"show", "1", "--text"}), 0);
        QCOMPARE(out_, QStringLiteral("# Guide\nHow to brew tea.\n"));

        QCOMPARE(run({"search", "brew"}), 0);
        QVERIFY(out_.startsWith(QStringLiteral("1\tGuide\t")));
        QVERIFY(out_.contains(QStringLiteral("[brew]")));

        QCOMPARE(run({"import", tmp_.filePath("guide.md")}), 0);
        QVERIFY(out_.contains(QStringLiteral("unchanged #1")));

        QCOMPARE(run({"remove", "1"}), 0);
        QCOMPARE(run({"show", "1"}), 1);
        QCOMPARE(run({"search", "brew"}), 0);
        QVERIFY(out_.contains(QStringLiteral("no match")));
    }

    void budgetUsesTheTokenizer() {
        const QString tokenizer = QStringLiteral(FOLIO_TEST_DATA_DIR "/tokenizer/minicpm4");
        fixtures::writeFile(tmp_.filePath("short.txt"), "Hello world, this is a short note.\n");
        QCOMPARE(run({"import", tmp_.filePath("short.txt"), "--tokenizer", tokenizer}), 0);
        const QString id = out_.section(u'#', 1, 1).section(u' ', 0, 0);
        QCOMPARE(run({"budget", id, "--context", "1000", "--tokenizer", tokenizer}), 0);
        QVERIFY2(out_.contains(QStringLiteral("fits")), qPrintable(out_));
        QCOMPARE(run({"budget", id, "--context", "3", "--tokenizer", tokenizer}), 1);
        QVERIFY(out_.contains(QStringLiteral("does not fit")));
    }

    void usageErrors() {
        QCOMPARE(run({}), 2);
        QCOMPARE(run({"frobnicate"}), 2);
        QVERIFY(err_.contains(QStringLiteral("unknown command")));
        QCOMPARE(run({"show", "abc"}), 2);
        QCOMPARE(run({"import"}), 2);
        QCOMPARE(run({"list", "--bogus"}), 2);
    }
};

QTEST_GUILESS_MAIN(TestLibraryCli)
#include "test_library_cli.moc"
