#include "commands.h"

#include <cstdio>

#ifdef FOLIO_WITH_LIBRARY
#include "library_cli.h"

#include <QCoreApplication>
#include <QStringList>
#include <QTextStream>
#endif

namespace folio::cli {

int runLibrary(const std::vector<std::string>& args) {
#ifdef FOLIO_WITH_LIBRARY
    int argc = 1;
    char name[] = "folio-cli";
    char* argv[] = {name, nullptr};
    // The library uses Qt's SQL and file APIs, which want an application object.
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("folio"));
    QStringList list;
    for (const std::string& a : args) list << QString::fromStdString(a);
    QTextStream out(stdout);
    QTextStream err(stderr);
    return runLibraryCommand(list, out, err);
#else
    (void)args;
    std::fputs("folio-cli: this build has no document library (built with FOLIO_GUI=OFF)\n",
               stderr);
    return 1;
#endif
}

} // namespace folio::cli
