#include "epub_importer.h"

#include "html_to_text.h"
#include "zip_archive.h"

#include <QDir>
#include <QFileInfo>
#include <QUrl>
#include <QXmlStreamReader>

namespace folio {

using sala::ErrorCode;

namespace {

// Resolves an href relative to the entry `base`; empty when it leaves the archive.
QString resolveHref(const QString& base, const QString& href) {
    QString target = QUrl::fromPercentEncoding(href.section(u'#', 0, 0).toUtf8());
    if (target.isEmpty() || target.contains(QStringLiteral("://"))) return {};
    const QString dir = QFileInfo(base).path();
    const QString joined =
        (dir == QStringLiteral(".") || dir.isEmpty()) ? target : dir + u'/' + target;
    QString clean = QDir::cleanPath(joined);
    if (clean.startsWith(QStringLiteral("../")) || clean == QStringLiteral("..") ||
        clean.startsWith(u'/'))
        return {};
    return clean;
}

QString xmlError(const QXmlStreamReader& xml) {
    return QStringLiteral("%1 (line %2)").arg(xml.errorString()).arg(xml.lineNumber());
}

} // namespace

Result<QString> EpubImporter::packagePath(ZipArchive& zip, const QString& path) {
    auto container = zip.read(QStringLiteral("META-INF/container.xml"));
    if (!container) return container.error();
    QXmlStreamReader xml(*container);
    while (!xml.atEnd()) {
        xml.readNext();
        if (!xml.isStartElement() || xml.name() != QStringLiteral("rootfile")) continue;
        const QString clean =
            resolveHref(QString(), xml.attributes().value(QStringLiteral("full-path")).toString());
        if (!clean.isEmpty()) return clean;
    }
    return importError(ErrorCode::Format, path,
                       xml.hasError()
                           ? QStringLiteral("bad META-INF/container.xml: ") + xmlError(xml)
                           : QStringLiteral("META-INF/container.xml names no package"));
}

Result<EpubImporter::Package> EpubImporter::readPackage(ZipArchive& zip, const QString& path,
                                                        const QString& opf) {
    auto bytes = zip.read(opf);
    if (!bytes) return bytes.error();
    Package package;
    QXmlStreamReader xml(*bytes);
    bool inMetadata = false;
    while (!xml.atEnd()) {
        xml.readNext();
        if (xml.isEndElement() && xml.name() == QStringLiteral("metadata")) inMetadata = false;
        if (!xml.isStartElement()) continue;
        const auto name = xml.name();
        const auto attrs = xml.attributes();
        if (name == QStringLiteral("metadata")) {
            inMetadata = true;
        } else if (inMetadata && name == QStringLiteral("title") && package.title.isEmpty()) {
            package.title =
                xml.readElementText(QXmlStreamReader::IncludeChildElements).simplified();
        } else if (inMetadata && name == QStringLiteral("creator") && package.author.isEmpty()) {
            package.author =
                xml.readElementText(QXmlStreamReader::IncludeChildElements).simplified();
        } else if (name == QStringLiteral("item")) {
            ManifestItem item{resolveHref(opf, attrs.value(QStringLiteral("href")).toString()),
                              attrs.value(QStringLiteral("media-type")).toString(),
                              attrs.value(QStringLiteral("properties")).toString()};
            package.manifest.insert(attrs.value(QStringLiteral("id")).toString(), item);
        } else if (name == QStringLiteral("spine")) {
            package.ncxId = attrs.value(QStringLiteral("toc")).toString();
        } else if (name == QStringLiteral("itemref")) {
            package.spine << attrs.value(QStringLiteral("idref")).toString();
        }
    }
    if (xml.hasError())
        return importError(ErrorCode::Format, path,
                           QStringLiteral("bad package file %1: %2").arg(opf, xmlError(xml)));
    if (package.spine.isEmpty())
        return importError(ErrorCode::Format, path,
                           QStringLiteral("the package %1 has an empty spine").arg(opf));
    return package;
}

QHash<QString, QString> EpubImporter::readToc(ZipArchive& zip, const Package& package) {
    QHash<QString, QString> titles;
    QString tocEntry;
    bool isNav = false;
    for (const ManifestItem& item : package.manifest)
        if (item.properties.split(u' ').contains(QStringLiteral("nav")))
            tocEntry = item.href, isNav = true;
    if (tocEntry.isEmpty() && package.manifest.contains(package.ncxId))
        tocEntry = package.manifest.value(package.ncxId).href;
    if (tocEntry.isEmpty() || !zip.contains(tocEntry)) return titles;
    auto bytes = zip.read(tocEntry);
    if (!bytes) return titles;
    QXmlStreamReader xml(*bytes);
    QString pendingLabel;
    int navDepth = 0;
    while (!xml.atEnd() && !xml.hasError()) {
        xml.readNext();
        if (isNav && xml.isEndElement() && xml.name() == QStringLiteral("nav")) --navDepth;
        if (!xml.isStartElement()) continue;
        if (isNav) {
            if (xml.name() == QStringLiteral("nav")) ++navDepth;
            if (navDepth <= 0 || xml.name() != QStringLiteral("a")) continue;
            const QString href = xml.attributes().value(QStringLiteral("href")).toString();
            const QString label =
                xml.readElementText(QXmlStreamReader::IncludeChildElements).simplified();
            const QString target = resolveHref(tocEntry, href);
            if (!target.isEmpty() && !titles.contains(target)) titles.insert(target, label);
        } else if (xml.name() == QStringLiteral("text")) {
            pendingLabel = xml.readElementText().simplified();
        } else if (xml.name() == QStringLiteral("content")) {
            const QString target =
                resolveHref(tocEntry, xml.attributes().value(QStringLiteral("src")).toString());
            if (!target.isEmpty() && !titles.contains(target)) titles.insert(target, pendingLabel);
        }
    }
    return titles;
}

Result<ExtractedDocument> EpubImporter::import(const QString& path, const ImportOptions& options,
                                               const ImportControl& control) {
    auto zip = ZipArchive::open(path, options.limits);
    if (!zip) return zip.error();
    auto opf = packagePath(*zip, path);
    if (!opf) return opf.error();
    auto package = readPackage(*zip, path, *opf);
    if (!package) return package.error();
    const QHash<QString, QString> toc = readToc(*zip, *package);
    ExtractedDocument doc;
    doc.kind = kind();
    TextBuilder builder(options.limits.maxTextChars);
    const qsizetype count = package->spine.size();
    for (qsizetype i = 0; i < count; ++i) {
        if (control.cancelled()) return cancelledError(path);
        const ManifestItem item = package->manifest.value(package->spine[i]);
        if (item.href.isEmpty() || !zip->contains(item.href)) {
            doc.warnings << QStringLiteral("spine item '%1' is missing from the archive")
                                .arg(item.href.isEmpty() ? package->spine[i] : item.href);
            continue;
        }
        if (!item.mediaType.contains(QStringLiteral("html"))) continue;
        auto bytes = zip->read(item.href);
        if (!bytes) return bytes.error();
        const QString title = toc.value(item.href);
        if (!title.isEmpty()) builder.addChapter(title, 1);
        const sala::Status converted =
            HtmlToText::convert(*bytes, item.href, 0, title.isEmpty() ? 1 : 0, builder, nullptr);
        if (!converted.ok()) doc.warnings << QString::fromStdString(converted.error().message);
        control.progress(double(i + 1) / double(count), item.href);
    }
    if (builder.truncated())
        doc.warnings << QStringLiteral("text cut at %1 characters").arg(builder.size());
    builder.finishInto(doc);
    if (doc.text.isEmpty())
        return importError(ErrorCode::Format, path, QStringLiteral("the book has no text"));
    doc.title = package->title.isEmpty() ? QFileInfo(path).completeBaseName() : package->title;
    doc.author = package->author;
    return doc;
}

} // namespace folio
