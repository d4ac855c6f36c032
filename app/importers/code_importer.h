#pragma once
// A folder or git checkout as one document: the directory tree first, then every text file
// under a header line "===== path (Language) =====". Ignored files, binaries, oversized files
// and anything past the codebase limits are left out, with warnings.

#include "importer.h"

namespace folio {

class CodeImporter : public Importer {
public:
    QString kind() const override { return QStringLiteral("code"); }
    Result<ExtractedDocument> import(const QString& path, const ImportOptions& options,
                                     const ImportControl& control) override;

    static QString headerLine(const QString& relativePath, const QString& language);
};

} // namespace folio
