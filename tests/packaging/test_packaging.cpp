// The installed tree and the Debian package, as a user and a desktop see them: this build folder
// is installed into a temporary prefix (and packaged with CPack), then the programs are run and
// the desktop entry, icon, man page, samples and demo model are read back from there.

#include <QDeadlineTimer>
#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QFileInfo>
#include <QProcess>
#include <QRegularExpression>
#include <QSet>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>
#include <QXmlStreamReader>

namespace {

struct Outcome {
    bool finished = false;
    int exitCode = -1;
    QString out;
    QString err;
    QString describe() const {
        return finished ? QStringLiteral("exit %1\n%2\n%3").arg(exitCode).arg(out, err)
                        : QStringLiteral("did not finish\n%1\n%2").arg(out, err);
    }
};

// An install or package run from inside a packaging job must not land in someone's DESTDIR.
QProcessEnvironment cleanEnvironment() {
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.remove(QStringLiteral("DESTDIR"));
    return env;
}

Outcome runProgram(const QString& program, const QStringList& args, int timeoutMs = 120000,
                   const QProcessEnvironment& env = cleanEnvironment()) {
    QProcess process;
    process.setProcessEnvironment(env);
    process.start(program, args);
    Outcome outcome;
    if (!process.waitForStarted(10000)) {
        outcome.err = process.errorString();
        return outcome;
    }
    outcome.finished = process.waitForFinished(timeoutMs);
    if (!outcome.finished) {
        process.kill();
        process.waitForFinished(5000);
    }
    outcome.exitCode = process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -1;
    outcome.out = QString::fromUtf8(process.readAllStandardOutput());
    outcome.err = QString::fromUtf8(process.readAllStandardError());
    return outcome;
}

// A user of their own: settings, data and caches under `home`, so nothing of this machine's
// user is read or changed.
QProcessEnvironment freshHome(const QString& home) {
    QProcessEnvironment env = cleanEnvironment();
    env.insert(QStringLiteral("HOME"), home);
    env.insert(QStringLiteral("XDG_CONFIG_HOME"), home + QStringLiteral("/config"));
    env.insert(QStringLiteral("XDG_DATA_HOME"), home + QStringLiteral("/data"));
    env.insert(QStringLiteral("XDG_CACHE_HOME"), home + QStringLiteral("/cache"));
    env.insert(QStringLiteral("HF_HOME"), home + QStringLiteral("/hf"));
    return env;
}

void stop(QProcess& process) {
    process.terminate();
    if (!process.waitForFinished(5000)) {
        process.kill();
        process.waitForFinished(5000);
    }
}

// For the window, "runs" means: starts offscreen with a fresh home and is still up after a few
// seconds (missing libraries or plugins end it at once).
QString startsAndStays(const QString& program) {
    QTemporaryDir home;
    QProcessEnvironment env = freshHome(home.path());
    env.insert(QStringLiteral("QT_QPA_PLATFORM"), QStringLiteral("offscreen"));
    QProcess process;
    process.setProcessEnvironment(env);
    process.start(program, {});
    if (!process.waitForStarted(10000)) return process.errorString();
    if (process.waitForFinished(4000))
        return QStringLiteral("exited at once with %1: %2")
            .arg(process.exitCode())
            .arg(QString::fromUtf8(process.readAllStandardError()));
    stop(process);
    return QString();
}

QSet<QString> relativeFiles(const QString& root) {
    QSet<QString> files;
    QDirIterator it(root, QDir::Files | QDir::Hidden, QDirIterator::Subdirectories);
    while (it.hasNext()) files.insert(QDir(root).relativeFilePath(it.next()));
    return files;
}

// Key/value pairs of one group of a desktop entry, in the file's own syntax.
QMap<QString, QString> desktopGroup(const QString& path, const QString& group,
                                    QString* firstGroup) {
    QFile file(path);
    QMap<QString, QString> values;
    if (!file.open(QIODevice::ReadOnly | QIODevice::Text)) return values;
    QString current;
    const QStringList lines = QString::fromUtf8(file.readAll()).split(u'\n');
    for (const QString& line : lines) {
        if (line.isEmpty() || line.startsWith(u'#')) continue;
        if (line.startsWith(u'[')) {
            current = line.mid(1, line.indexOf(u']') - 1);
            if (firstGroup->isEmpty()) *firstGroup = current;
            continue;
        }
        const qsizetype eq = line.indexOf(u'=');
        if (current == group && eq > 0) values.insert(line.left(eq).trimmed(), line.mid(eq + 1));
    }
    return values;
}

// Width and height from a PNG's IHDR chunk; {0, 0} when the file is no PNG.
QSize pngSize(const QString& path) {
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) return {};
    const QByteArray head = file.read(24);
    if (head.size() < 24 || !head.startsWith("\x89PNG\r\n\x1a\n") || head.mid(12, 4) != "IHDR")
        return {};
    auto be32 = [&](int at) {
        return (uchar(head[at]) << 24) | (uchar(head[at + 1]) << 16) | (uchar(head[at + 2]) << 8) |
               uchar(head[at + 3]);
    };
    return QSize(be32(16), be32(20));
}

} // namespace

class TestPackaging : public QObject {
    Q_OBJECT

private:
    QTemporaryDir prefix_;
    QString buildDir_ = QStringLiteral(FOLIO_BUILD_DIR);
    QString sourceDir_ = QStringLiteral(FOLIO_SOURCE_DIR);
    bool guiBuilt_ = FOLIO_GUI_BUILT;

    QString installed(const QString& relative) const { return prefix_.filePath(relative); }
    // Without the app there is nothing for a desktop to launch: no entry, no icon.
    bool desktopPartsApply() const {
        if (guiBuilt_) return true;
        return !QFileInfo::exists(installed(QStringLiteral("share/applications/folio.desktop"))) &&
               !QFileInfo::exists(installed(QStringLiteral("share/icons/hicolor")));
    }
    QString manPageText(QString* problem) const;

private slots:
    void initTestCase() {
        QVERIFY(prefix_.isValid());
        const Outcome install = runProgram(
            QStringLiteral(FOLIO_CMAKE_COMMAND),
            {QStringLiteral("--install"), buildDir_, QStringLiteral("--prefix"), prefix_.path()});
        QVERIFY2(install.finished && install.exitCode == 0, qPrintable(install.describe()));
    }

    void commandLineToolsRunFromThePrefix_data() {
        QTest::addColumn<QString>("program");
        QTest::addColumn<QString>("expected");
        QTest::newRow("folio-cli") << "folio-cli"
                                   << "Usage: folio-cli COMMAND";
        QTest::newRow("folio-bench") << "folio-bench"
                                     << "--random-weights";
    }

    void commandLineToolsRunFromThePrefix() {
        QFETCH(QString, program);
        QFETCH(QString, expected);
        const QString path = installed(QStringLiteral("bin/") + program);
        QVERIFY2(QFileInfo(path).isExecutable(), qPrintable(path));
        const Outcome help = runProgram(path, {QStringLiteral("--help")});
        QVERIFY2(help.finished && help.exitCode == 0, qPrintable(help.describe()));
        QVERIFY2(help.out.contains(expected), qPrintable(help.out));
    }

    void desktopAppStartsFromThePrefix() {
        const QString app = installed(QStringLiteral("bin/folio"));
        if (!guiBuilt_) {
            QVERIFY2(!QFileInfo::exists(app), "folio is installed by a build without the app");
            QSKIP("built with FOLIO_GUI=OFF: no desktop app");
        }
        QVERIFY(QFileInfo(app).isExecutable());
        const QString problem = startsAndStays(app);
        QVERIFY2(problem.isEmpty(), qPrintable(problem));
    }

    void desktopAppAnswersHelpAndVersionWithoutADisplay() {
        if (!guiBuilt_) QSKIP("built with FOLIO_GUI=OFF: no desktop app");
        const QString app = installed(QStringLiteral("bin/folio"));
        // As in a terminal with no graphical session: no display and no platform chosen.
        QProcessEnvironment env = cleanEnvironment();
        for (const char* name : {"QT_QPA_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY"})
            env.remove(QLatin1String(name));

        const Outcome version = runProgram(app, {QStringLiteral("--version")}, 30000, env);
        QVERIFY2(version.finished && version.exitCode == 0, qPrintable(version.describe()));
        QCOMPARE(version.out.trimmed(), QStringLiteral("folio " FOLIO_PROJECT_VERSION));

        const Outcome help = runProgram(app, {QStringLiteral("--help")}, 30000, env);
        QVERIFY2(help.finished && help.exitCode == 0, qPrintable(help.describe()));
        QVERIFY2(help.out.contains(QStringLiteral("Usage: ")) &&
                     help.out.contains(QStringLiteral("[FILE...]")) &&
                     help.out.contains(QStringLiteral("--version")),
                 qPrintable(help.out));

        // A wrong option is told before the window opens, not passed over.
        env.insert(QStringLiteral("QT_QPA_PLATFORM"), QStringLiteral("offscreen"));
        const Outcome wrong = runProgram(app, {QStringLiteral("--no-such-option")}, 30000, env);
        QVERIFY2(wrong.finished && wrong.exitCode == 1 &&
                     wrong.err.contains(QStringLiteral("no-such-option")),
                 qPrintable(wrong.describe()));
    }

    // Files named on the command line (as the desktop entry's %F passes them) are imported into
    // the library that folio-cli works on too.
    void desktopAppImportsTheFilesItIsGiven() {
        if (!guiBuilt_) QSKIP("built with FOLIO_GUI=OFF: no desktop app");
        QTemporaryDir home;
        QFile note(home.filePath(QStringLiteral("note.txt")));
        QVERIFY(note.open(QIODevice::WriteOnly));
        note.write("A note handed to Folio on its command line.\n");
        note.close();
        const QProcessEnvironment env = freshHome(home.path());
        QProcessEnvironment offscreen = env;
        offscreen.insert(QStringLiteral("QT_QPA_PLATFORM"), QStringLiteral("offscreen"));

        QProcess app;
        app.setProcessEnvironment(offscreen);
        app.setWorkingDirectory(home.path());
        app.start(installed(QStringLiteral("bin/folio")), {QStringLiteral("note.txt")});
        QVERIFY2(app.waitForStarted(10000), qPrintable(app.errorString()));
        // The app resolves the name in its working folder, whose path has no symbolic links.
        const QString imported = QFileInfo(note).canonicalFilePath();
        const QString cli = installed(QStringLiteral("bin/folio-cli"));
        Outcome list;
        QDeadlineTimer deadline(60000);
        while (!deadline.hasExpired() && app.state() == QProcess::Running) {
            list = runProgram(cli, {QStringLiteral("library"), QStringLiteral("list")}, 30000, env);
            if (list.out.contains(imported)) break;
            QTest::qWait(300);
        }
        const bool running = app.state() == QProcess::Running;
        stop(app);
        QVERIFY2(running, qPrintable(QString::fromUtf8(app.readAllStandardError())));
        QVERIFY2(list.out.contains(imported), qPrintable(list.describe()));
        QVERIFY(
            QFileInfo::exists(home.filePath(QStringLiteral("data/Folio/folio/library.sqlite"))));
    }

    void desktopEntryLaunchesTheAppWithItsIcon() {
        QVERIFY2(desktopPartsApply(), "a build without the app installs a desktop entry or icon");
        if (!guiBuilt_) QSKIP("built with FOLIO_GUI=OFF: no desktop entry");
        const QString path = installed(QStringLiteral("share/applications/folio.desktop"));
        QString firstGroup;
        const auto entry = desktopGroup(path, QStringLiteral("Desktop Entry"), &firstGroup);
        QCOMPARE(firstGroup, QStringLiteral("Desktop Entry"));
        QCOMPARE(entry.value(QStringLiteral("Type")), QStringLiteral("Application"));
        QCOMPARE(entry.value(QStringLiteral("Name")), QStringLiteral("Folio"));
        QCOMPARE(entry.value(QStringLiteral("Terminal")), QStringLiteral("false"));
        QVERIFY(!entry.value(QStringLiteral("Comment")).isEmpty());
        const QStringList categories =
            entry.value(QStringLiteral("Categories")).split(u';', Qt::SkipEmptyParts);
        QVERIFY2(categories.contains(QStringLiteral("Office")), qPrintable(categories.join(u';')));
        // %F: files opened with Folio from a file manager reach it as arguments.
        QCOMPARE(entry.value(QStringLiteral("Exec")), QStringLiteral("folio %F"));
        const QString exec = entry.value(QStringLiteral("Exec")).section(u' ', 0, 0);
        QVERIFY(QFileInfo(installed(QStringLiteral("bin/") + exec)).isExecutable());
        const QString icon = entry.value(QStringLiteral("Icon"));
        QVERIFY2(QFileInfo::exists(installed(QStringLiteral("share/icons/hicolor/scalable/apps/") +
                                             icon + QStringLiteral(".svg"))),
                 qPrintable(icon));
    }

    void desktopEntryPassesDesktopFileValidate() {
        const QString validator =
            QStandardPaths::findExecutable(QStringLiteral("desktop-file-validate"));
        if (!guiBuilt_) QSKIP("built with FOLIO_GUI=OFF: no desktop entry");
        if (validator.isEmpty())
            QSKIP("desktop-file-validate (desktop-file-utils) is not installed");
        const Outcome check =
            runProgram(validator, {installed(QStringLiteral("share/applications/folio.desktop"))});
        QVERIFY2(check.finished && check.exitCode == 0, qPrintable(check.describe()));
        QVERIFY2(check.out.trimmed().isEmpty() && check.err.trimmed().isEmpty(),
                 qPrintable(check.describe()));
    }

    void iconIsAnSvgWithBitmapRenderings() {
        if (!guiBuilt_) QSKIP("built with FOLIO_GUI=OFF: no icon");
        QFile svg(installed(QStringLiteral("share/icons/hicolor/scalable/apps/folio.svg")));
        QVERIFY(svg.open(QIODevice::ReadOnly));
        QXmlStreamReader xml(&svg);
        QVERIFY(xml.readNextStartElement());
        QCOMPARE(xml.name().toString(), QStringLiteral("svg"));
        QVERIFY(!xml.attributes().value(QStringLiteral("viewBox")).isEmpty());
        while (!xml.atEnd()) xml.readNext();
        QVERIFY2(!xml.hasError(), qPrintable(xml.errorString()));

        const QString sizes = QStringLiteral(FOLIO_PNG_ICON_SIZES);
        if (sizes.isEmpty()) QSKIP("rsvg-convert was not found at configure time: SVG icon only");
        for (const QString& size : sizes.split(u' ', Qt::SkipEmptyParts)) {
            const QString png =
                installed(QStringLiteral("share/icons/hicolor/%1x%1/apps/folio.png").arg(size));
            QCOMPARE(pngSize(png), QSize(size.toInt(), size.toInt()));
        }
    }

    void manPageCoversEveryCommandAndOption() {
        QString problem;
        const QString page = manPageText(&problem);
        QVERIFY2(problem.isEmpty(), qPrintable(problem));
        QVERIFY(page.contains(QStringLiteral(".TH FOLIO-CLI 1")));
        QVERIFY2(page.contains(QStringLiteral("\"Folio " FOLIO_PROJECT_VERSION "\"")),
                 "the man page does not carry the project's version");
        // In troff a literal minus is written \-; what a reader types is the plain form.
        QString plain = page;
        plain.replace(QStringLiteral("\\-"), QStringLiteral("-"));

        const QString cli = installed(QStringLiteral("bin/folio-cli"));
        const Outcome usage = runProgram(cli, {QStringLiteral("--help")});
        QVERIFY2(usage.exitCode == 0, qPrintable(usage.describe()));
        const QRegularExpression commandLine(QStringLiteral("^  ([a-z][a-z-]+) "),
                                             QRegularExpression::MultilineOption);
        QStringList commands;
        for (const auto& m : commandLine.globalMatch(usage.out)) commands << m.captured(1);
        QVERIFY2(commands.size() >= 4, qPrintable(usage.out));

        QString helpTexts = usage.out;
        for (const QString& command : commands) {
            QVERIFY2(plain.contains(QStringLiteral(".SS ") + command), qPrintable(command));
            const Outcome help = runProgram(cli, {command, QStringLiteral("--help")});
            // Only the library needs the app's parts; without them it says so and fails.
            if (help.exitCode == 0)
                helpTexts += help.out;
            else
                QVERIFY2(command == QStringLiteral("library") && !guiBuilt_,
                         qPrintable(help.describe()));
        }
        const QRegularExpression option(QStringLiteral("--[a-z][a-z-]*[a-z]"));
        QStringList missing;
        for (const auto& m : option.globalMatch(helpTexts))
            if (!plain.contains(m.captured(0)) && !missing.contains(m.captured(0)))
                missing << m.captured(0);
        QVERIFY2(missing.isEmpty(), qPrintable(missing.join(u' ')));

        const QString man = QStandardPaths::findExecutable(QStringLiteral("man"));
        if (man.isEmpty()) QSKIP("man is not installed: the page was not rendered");
        QProcessEnvironment env = cleanEnvironment();
        env.insert(QStringLiteral("MANWIDTH"), QStringLiteral("80"));
        env.insert(QStringLiteral("LC_ALL"), QStringLiteral("C.UTF-8"));
        const QString file =
            QFileInfo::exists(installed(QStringLiteral("share/man/man1/folio-cli.1.gz")))
                ? installed(QStringLiteral("share/man/man1/folio-cli.1.gz"))
                : installed(QStringLiteral("share/man/man1/folio-cli.1"));
        const Outcome rendered =
            runProgram(man, {QStringLiteral("--warnings"), QStringLiteral("-l"), file}, 60000, env);
        QVERIFY2(rendered.exitCode == 0 && rendered.err.isEmpty(), qPrintable(rendered.describe()));
        QVERIFY(rendered.out.contains(QStringLiteral("EXIT STATUS")));
    }

    void samplesAreInstalledWithTheirSources() {
        const QString source = sourceDir_ + QStringLiteral("/resources/samples");
        const QString target = installed(QStringLiteral("share/folio/samples"));
        const QSet<QString> files = relativeFiles(target);
        QCOMPARE(files, relativeFiles(source));
        QVERIFY(files.contains(QStringLiteral("README.md")));

        QFile readme(target + QStringLiteral("/README.md"));
        QVERIFY(readme.open(QIODevice::ReadOnly));
        const QString record = QString::fromUtf8(readme.readAll());
        qint64 total = 0;
        QSet<QString> kinds;
        for (const QString& name : files) {
            const QFileInfo info(target + u'/' + name);
            QVERIFY2(info.size() > 0, qPrintable(name));
            total += info.size();
            if (name == QStringLiteral("README.md")) continue;
            QVERIFY2(record.contains(name),
                     qPrintable(name + " has no source and licence in README.md"));
            kinds.insert(info.suffix());
        }
        QVERIFY2(total < 1024 * 1024, qPrintable(QString::number(total)));
        QVERIFY(kinds.contains(QStringLiteral("pdf")));
        QVERIFY(kinds.contains(QStringLiteral("md")) || kinds.contains(QStringLiteral("txt")));
    }

    void demoModelIsInstalledWhenPresent() {
        const QString source = sourceDir_ + QStringLiteral("/resources/demo-model");
        if (!QFileInfo(source).isDir())
            QSKIP("resources/demo-model does not exist in this checkout");
        QSet<QString> expected = relativeFiles(source);
        for (auto it = expected.begin(); it != expected.end();)
            it = QFileInfo(*it).fileName().startsWith(QStringLiteral(".git")) ? expected.erase(it)
                                                                              : std::next(it);
        QCOMPARE(relativeFiles(installed(QStringLiteral("share/folio/demo-model"))), expected);
    }

    void debianPackageHoldsTheTreeAndRuns() {
        const QString dpkgDeb = QStandardPaths::findExecutable(QStringLiteral("dpkg-deb"));
        if (dpkgDeb.isEmpty() ||
            QStandardPaths::findExecutable(QStringLiteral("dpkg-shlibdeps")).isEmpty())
            QSKIP("dpkg-deb and dpkg-shlibdeps (dpkg-dev) are needed to build a .deb");
        QTemporaryDir work;
        const Outcome pack = runProgram(
            QStringLiteral(FOLIO_CPACK_COMMAND),
            {QStringLiteral("-G"), QStringLiteral("DEB"), QStringLiteral("--config"),
             buildDir_ + QStringLiteral("/CPackConfig.cmake"), QStringLiteral("-B"), work.path()},
            240000);
        QVERIFY2(pack.finished && pack.exitCode == 0, qPrintable(pack.describe()));
        const QStringList debs =
            QDir(work.path()).entryList({QStringLiteral("folio_*.deb")}, QDir::Files);
        QCOMPARE(debs.size(), 1);
        const QString deb = work.filePath(debs.first());
        QVERIFY2(debs.first().startsWith(QStringLiteral("folio_" FOLIO_PROJECT_VERSION "_")),
                 qPrintable(debs.first()));

        auto field = [&](const QString& name) {
            return runProgram(dpkgDeb, {QStringLiteral("-f"), deb, name}).out.trimmed();
        };
        QCOMPARE(field(QStringLiteral("Package")), QStringLiteral("folio"));
        QCOMPARE(field(QStringLiteral("Version")), QStringLiteral(FOLIO_PROJECT_VERSION));
        QCOMPARE(field(QStringLiteral("Section")), QStringLiteral("text"));
        QVERIFY2(field(QStringLiteral("Maintainer"))
                     .contains(QRegularExpression(QStringLiteral("<.+@.+>"))),
                 "the Maintainer field needs a name and an e-mail address");
        const QString depends = field(QStringLiteral("Depends"));
        // Versioned entries come from dpkg-shlibdeps reading the programs.
        QVERIFY2(depends.contains(QStringLiteral("libc6 (>=")), qPrintable(depends));
        QVERIFY2(depends.contains(QStringLiteral("libsentencepiece0")), qPrintable(depends));
        if (guiBuilt_) {
            for (const char* package : {"libqt6widgets6", "libqt6charts6", "libpoppler-qt6-3",
                                        "qt6-qpa-plugins", "libqt6sql6-sqlite"})
                QVERIFY2(depends.contains(QLatin1String(package)), qPrintable(depends));
        }

        const QString root = work.filePath(QStringLiteral("root"));
        const Outcome extract = runProgram(dpkgDeb, {QStringLiteral("-x"), deb, root});
        QVERIFY2(extract.exitCode == 0, qPrintable(extract.describe()));
        // The package holds what `cmake --install` installs, under /usr.
        QCOMPARE(relativeFiles(root + QStringLiteral("/usr")), relativeFiles(prefix_.path()));
        const Outcome help =
            runProgram(root + QStringLiteral("/usr/bin/folio-cli"), {QStringLiteral("--help")});
        QVERIFY2(help.exitCode == 0 && help.out.contains(QStringLiteral("generate")),
                 qPrintable(help.describe()));
        if (guiBuilt_) {
            const QString problem = startsAndStays(root + QStringLiteral("/usr/bin/folio"));
            QVERIFY2(problem.isEmpty(), qPrintable(problem));
        }
    }
};

QString TestPackaging::manPageText(QString* problem) const {
    const QString gz = installed(QStringLiteral("share/man/man1/folio-cli.1.gz"));
    if (QFileInfo::exists(gz)) {
        const Outcome unzip = runProgram(QStringLiteral("gzip"), {QStringLiteral("-dc"), gz});
        if (unzip.exitCode != 0) *problem = unzip.describe();
        return unzip.out;
    }
    QFile plain(installed(QStringLiteral("share/man/man1/folio-cli.1")));
    if (!plain.open(QIODevice::ReadOnly)) {
        *problem = QStringLiteral("no man page under share/man/man1");
        return QString();
    }
    return QString::fromUtf8(plain.readAll());
}

QTEST_GUILESS_MAIN(TestPackaging)
#include "test_packaging.moc"
