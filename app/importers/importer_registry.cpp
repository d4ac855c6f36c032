#include "importer_registry.h"

#include "code_importer.h"
#include "docx_importer.h"
#include "epub_importer.h"
#include "html_importer.h"
#include "pdf_importer.h"
#include "plain_text_importer.h"
#include "text_decoding.h"

#include <QFile>
#include <QFileInfo>

namespace folio {

ImporterRegistry::ImporterRegistry() {
    add(std::make_unique<PdfImporter>());
    add(std::make_unique<EpubImporter>());
    add(std::make_unique<DocxImporter>());
    add(std::make_unique<HtmlImporter>());
    add(std::make_unique<PlainTextImporter>(QStringLiteral("text")));
    add(std::make_unique<PlainTextImporter>(QStringLiteral("markdown")));
    add(std::make_unique<PlainTextImporter>(QStringLiteral("rst")));
    add(std::make_unique<CodeImporter>());
}

void ImporterRegistry::add(std::unique_ptr<Importer> importer) {
    const QString kind = importer->kind();
    importers_.insert(kind, std::shared_ptr<Importer>(std::move(importer)));
}

Importer* ImporterRegistry::importer(const QString& kind) const {
    return importers_.value(kind).get();
}

QString ImporterRegistry::kindForFile(const QString& path, bool sniff) {
    static const QHash<QString, QString> byExtension{
        {"pdf", "pdf"},  {"epub", "epub"},  {"docx", "docx"},   {"html", "html"},
        {"htm", "html"}, {"xhtml", "html"}, {"md", "markdown"}, {"markdown", "markdown"},
        {"rst", "rst"},  {"txt", "text"},   {"text", "text"},
    };
    const QFileInfo info(path);
    if (info.isDir()) return QStringLiteral("code");
    const QString kind = byExtension.value(info.suffix().toLower());
    if (!kind.isEmpty() || !sniff) return kind;
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) return QStringLiteral("text"); // the importer will say why
    const QByteArray head = file.read(8000);
    if (head.startsWith("%PDF-")) return QStringLiteral("pdf");
    if (head.isEmpty() || !TextDecoding::looksBinary(head)) return QStringLiteral("text");
    return {};
}

} // namespace folio
