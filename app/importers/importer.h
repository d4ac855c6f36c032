#pragma once
// The interface every importer implements.

#include "extracted_document.h"
#include "import_options.h"
#include "result.h"

#include <QString>

namespace folio {

using sala::Result;

class Importer {
public:
    virtual ~Importer() = default;
    // The document kind this importer produces ("pdf", "epub", "markdown", "code", ...).
    virtual QString kind() const = 0;
    // Extracts one file (or, for codebases, one folder). Errors name the file and what is wrong;
    // a cancelled import returns ErrorCode::Cancelled.
    virtual Result<ExtractedDocument> import(const QString& path, const ImportOptions& options,
                                             const ImportControl& control) = 0;
};

// Builds the error value importers return, with the file name in front of the message.
sala::Error importError(sala::ErrorCode code, const QString& path, const QString& message);
sala::Error cancelledError(const QString& path);

} // namespace folio
