// Git's ignore rules: the glob matcher, one ignore file, and a walk over nested ones.

#include "code_walker.h"
#include "fixtures.h"
#include "ignore_rules.h"
#include "wildmatch.h"

#include <QDir>
#include <QFile>
#include <QTemporaryDir>
#include <QTest>

using namespace folio;

namespace {

bool ignored(const IgnoreRules& rules, const QString& path, bool dir = false) {
    return rules.match(path, dir) == IgnoreRules::Verdict::Ignored;
}

} // namespace

class TestIgnoreRules : public QObject {
    Q_OBJECT

private slots:
    void wildmatch_data() {
        QTest::addColumn<QString>("pattern");
        QTest::addColumn<QString>("text");
        QTest::addColumn<bool>("matches");
        // Cases from the gitignore documentation and git's wildmatch rules.
        QTest::newRow("star within component") << "foo/*"
                                               << "foo/test.json" << true;
        QTest::newRow("star stops at slash") << "foo/*"
                                             << "foo/bar/hello.c" << false;
        QTest::newRow("leading double star") << "**/foo"
                                             << "a/b/foo" << true;
        QTest::newRow("leading double star, no dir") << "**/foo"
                                                     << "foo" << true;
        QTest::newRow("trailing double star") << "abc/**"
                                              << "abc/x/y" << true;
        QTest::newRow("trailing double star needs inside") << "abc/**"
                                                           << "abc" << false;
        QTest::newRow("middle double star zero dirs") << "a/**/b"
                                                      << "a/b" << true;
        QTest::newRow("middle double star many dirs") << "a/**/b"
                                                      << "a/x/y/b" << true;
        QTest::newRow("double star glued is a star") << "a**b"
                                                     << "a/b" << false;
        QTest::newRow("question mark") << "a?c"
                                       << "abc" << true;
        QTest::newRow("question mark not slash") << "a?c"
                                                 << "a/c" << false;
        QTest::newRow("range") << "[a-c]x"
                               << "bx" << true;
        QTest::newRow("range miss") << "[a-c]x"
                                    << "dx" << false;
        QTest::newRow("negated set") << "[!a-c]x"
                                     << "dx" << true;
        QTest::newRow("caret negation") << "[^a]x"
                                        << "ax" << false;
        QTest::newRow("class") << "[[:digit:]]*"
                               << "7up" << true;
        QTest::newRow("class miss") << "[[:digit:]]*"
                                    << "up" << false;
        QTest::newRow("escaped star") << "a\\*"
                                      << "a*" << true;
        QTest::newRow("escaped star literal") << "a\\*"
                                              << "ab" << false;
        QTest::newRow("bracket with ]") << "[]a]"
                                        << "]" << true;
        QTest::newRow("set never matches slash") << "a[/]b"
                                                 << "a/b" << false;
        QTest::newRow("unterminated set") << "[ab"
                                          << "a" << false;
    }
    void wildmatch() {
        QFETCH(QString, pattern);
        QFETCH(QString, text);
        QFETCH(bool, matches);
        QCOMPARE(Wildmatch::match(pattern.toUtf8(), text.toUtf8()), matches);
    }

    void patternsFollowGitignoreRules() {
        const IgnoreRules rules = IgnoreRules::parse("# comment\n"
                                                     "*.log\n"
                                                     "!important.log\n"
                                                     "/root-only\n"
                                                     "doc/frotz/\n"
                                                     "build/\n"
                                                     "\\#hash\n"
                                                     "trail   \n"
                                                     "keep\\ \n"
                                                     "\r\n",
                                                     QString());
        QVERIFY(ignored(rules, "x.log"));
        QVERIFY(ignored(rules, "deep/dir/x.log"));
        QVERIFY(!ignored(rules, "deep/important.log"));
        QCOMPARE(rules.match("deep/important.log", false), IgnoreRules::Verdict::Included);
        QVERIFY(ignored(rules, "root-only"));
        QVERIFY(!ignored(rules, "sub/root-only"));
        QVERIFY(ignored(rules, "doc/frotz", true));
        QVERIFY(!ignored(rules, "a/doc/frotz", true)); // a slash in the middle anchors the pattern
        QVERIFY(ignored(rules, "build", true));
        QVERIFY(ignored(rules, "x/build", true));
        QVERIFY(!ignored(rules, "build", false)); // only directories
        QVERIFY(ignored(rules, "#hash"));
        QVERIFY(ignored(rules, "trail"));
        QVERIFY(ignored(rules, "keep "));
        QVERIFY(!ignored(rules, "keep"));
        QCOMPARE(rules.match("other.txt", false), IgnoreRules::Verdict::Unmatched);
    }

    void patternsOfNestedFilesAreRelativeToTheirFolder() {
        const IgnoreRules rules = IgnoreRules::parse("/gen\n*.tmp\n", QStringLiteral("src/lib"));
        QVERIFY(ignored(rules, "src/lib/gen", true));
        QVERIFY(!ignored(rules, "src/lib/x/gen", true));
        QVERIFY(ignored(rules, "src/lib/x/a.tmp"));
        QVERIFY(!ignored(rules, "src/a.tmp")); // outside its folder
    }

    void walkHonoursNestedIgnoreFilesAndExclude() {
        QTemporaryDir tmp;
        const QString root = tmp.path();
        for (const char* d : {".git/info", "build", "src/sub", "docs"}) QDir(root).mkpath(d);
        fixtures::writeFile(root + "/.gitignore", "*.log\nbuild/\n!keep.log\n/only_root.txt\n");
        fixtures::writeFile(root + "/.git/info/exclude", "secret.txt\n");
        fixtures::writeFile(root + "/.git/HEAD", "ref: refs/heads/main\n");
        for (const char* f : {"a.log", "keep.log", "only_root.txt", "secret.txt", "build/out.o",
                              "src/main.cpp", "src/only_root.txt", "src/x.tmp", "src/debug.log",
                              "src/sub/y.tmp", "src/sub/z.c", "docs/b.md"})
            fixtures::writeFile(root + "/" + f, "x\n");
        fixtures::writeFile(root + "/src/.gitignore", "*.tmp\n!debug.log\n");
        QVERIFY(QFile::link(root, root + "/src/loop"));

        CodeWalker walker(root);
        QStringList seen;
        QVERIFY(walker.walk([&](const WalkEntry& e) { return seen << e.relativePath, true; }, {}));
        const QStringList expected{".gitignore",        "docs",     "docs/b.md",
                                   "keep.log",          "src",      "src/.gitignore",
                                   "src/debug.log",     "src/loop", "src/main.cpp",
                                   "src/only_root.txt", "src/sub",  "src/sub/z.c"};
        QCOMPARE(seen, expected);
        QCOMPARE(walker.warnings().size(), qsizetype(1));
        QVERIFY(walker.warnings()[0].contains(QStringLiteral("src/loop: symbolic link loop")));
    }

    void walkCanBeCancelled() {
        QTemporaryDir tmp;
        for (int i = 0; i < 10; ++i) fixtures::writeFile(tmp.filePath(QString::number(i)), "x");
        std::atomic<bool> cancel{false};
        int visited = 0;
        CodeWalker walker(tmp.path());
        const bool finished = walker.walk(
            [&](const WalkEntry&) {
                if (++visited == 3) cancel = true;
                return true;
            },
            ImportControl(&cancel));
        QVERIFY(!finished);
        QCOMPARE(visited, 3);
    }
};

QTEST_GUILESS_MAIN(TestIgnoreRules)
#include "test_ignore_rules.moc"
