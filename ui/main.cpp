// The Folio desktop app.
#include "app_icon.h"
#include "library_location.h"
#include "main_window.h"

#include <QApplication>
#include <QCommandLineParser>

namespace {

void describeCommandLine(QCommandLineParser& parser) {
    parser.setApplicationDescription(
        QStringLiteral("Folio, a desktop assistant for long documents: ask questions about whole "
                       "books, codebases and PDFs at once."));
    parser.addHelpOption();
    parser.addVersionOption();
    parser.addPositionalArgument(
        QStringLiteral("files"),
        QStringLiteral("Files or folders to import into the library (the one folio-cli library "
                       "uses) when the window opens."),
        QStringLiteral("[FILE...]"));
}

void setIdentity() {
    QCoreApplication::setOrganizationName(QLatin1String(folio::kSettingsOrganization));
    QCoreApplication::setApplicationName(QLatin1String(folio::kSettingsApplication));
    QCoreApplication::setApplicationVersion(QStringLiteral(FOLIO_VERSION));
}

// --help and --version are answered before the GUI starts, so they work where no display is
// (a terminal over ssh, a package check); they exit the process.
void answerWithoutDisplay(int argc, char** argv) {
    QStringList args;
    for (int i = 0; i < argc; ++i) args << QString::fromLocal8Bit(argv[i]);
    QCommandLineParser parser;
    describeCommandLine(parser);
    // Qt's own GUI options (-platform, -style…) are unknown here; the GUI's parse reports
    // what is really wrong.
    parser.parse(args);
    const bool version = parser.isSet(QStringLiteral("version"));
    const bool help = parser.isSet(QStringLiteral("help"));
    if (!version && !help && !parser.isSet(QStringLiteral("help-all"))) return;
    QCoreApplication app(argc, argv);
    setIdentity();
    if (version) parser.showVersion();
    if (help) parser.showHelp();
    // Only process() prints the help with Qt's options (Qt Core's here, as no GUI starts).
    parser.process(app);
}

} // namespace

int main(int argc, char** argv) {
    answerWithoutDisplay(argc, argv);
    QApplication app(argc, argv);
    setIdentity();
    QApplication::setApplicationDisplayName(QStringLiteral("Folio"));
    // Ties the windows to folio.desktop, whose name and icon the desktop shows for them.
    QGuiApplication::setDesktopFileName(QStringLiteral("folio"));
    QApplication::setWindowIcon(folio::appIcon());

    QCommandLineParser parser;
    describeCommandLine(parser);
    parser.process(app);

    folio::MainWindow window;
    window.show();
    window.importPaths(parser.positionalArguments());
    return app.exec();
}
