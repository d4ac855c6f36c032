#pragma once
// The `library` subcommands of folio-cli.

#include <QStringList>
#include <QTextStream>

namespace folio {

// `args` are the words after "library": the subcommand (import, list, show, search, remove,
// budget) and its arguments. Returns the process exit code: 0 on success, 1 when something
// failed (an import with failed files included), 2 for a usage error.
int runLibraryCommand(const QStringList& args, QTextStream& out, QTextStream& err);

} // namespace folio
