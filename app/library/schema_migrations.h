#pragma once
// The library schema, as a list of migrations. PRAGMA user_version holds the version reached;
// each migration runs in its own transaction, so a failed one leaves the previous version intact.

#include "result.h"

#include <QStringList>

#include <vector>

namespace folio {

class LibraryDatabase;

class SchemaMigrations {
public:
    struct Migration {
        int version;
        QStringList statements;
    };

    static const std::vector<Migration>& all();
    static int latestVersion();
    // Brings the database to the latest version; refuses one written by a newer Folio.
    static sala::Status migrate(LibraryDatabase& db);
};

} // namespace folio
