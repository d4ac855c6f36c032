#include "fixtures.h"

#include <QCryptographicHash>
#include <QFile>
#include <QPainter>
#include <QPdfWriter>

#include <zip.h>

#include <memory>

namespace fixtures {

void writeFile(const QString& path, const QByteArray& bytes) {
    QFile file(path);
    if (file.open(QIODevice::WriteOnly)) file.write(bytes);
}

bool writeZip(const QString& path, const QList<Entry>& entries) {
    int error = 0;
    zip_t* archive =
        zip_open(QFile::encodeName(path).constData(), ZIP_CREATE | ZIP_TRUNCATE, &error);
    if (!archive) return false;
    // libzip reads the buffers at zip_close, so they must live until then.
    std::vector<QByteArray> keep;
    keep.reserve(size_t(entries.size()));
    for (qsizetype i = 0; i < entries.size(); ++i) {
        keep.push_back(entries[i].second);
        zip_source_t* source = zip_source_buffer(archive, keep.back().constData(),
                                                 zip_uint64_t(keep.back().size()), 0);
        const zip_int64_t index = zip_file_add(archive, entries[i].first.toUtf8().constData(),
                                               source, ZIP_FL_ENC_UTF_8 | ZIP_FL_OVERWRITE);
        if (index < 0) {
            zip_source_free(source);
            zip_discard(archive);
            return false;
        }
        if (i == 0) zip_set_file_compression(archive, zip_uint64_t(index), ZIP_CM_STORE, 0);
    }
    return zip_close(archive) == 0;
}

QList<Entry> epubEntries(const QString& title, const QString& author,
                         const QList<EpubChapter>& chapters) {
    QList<Entry> entries;
    entries << Entry{"mimetype", "application/epub+zip"};
    entries << Entry{"META-INF/container.xml",
                     R"(<?xml version="1.0"?>
<container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">
  <rootfiles><rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/></rootfiles>
</container>)"};
    QString manifest, spine, nav;
    for (qsizetype i = 0; i < chapters.size(); ++i) {
        manifest +=
            QStringLiteral("<item id=\"c%1\" href=\"%2\" media-type=\"application/xhtml+xml\"/>\n")
                .arg(i)
                .arg(chapters[i].file);
        spine += QStringLiteral("<itemref idref=\"c%1\"/>\n").arg(i);
        nav += QStringLiteral("<li><a href=\"%1\">%2</a></li>\n")
                   .arg(chapters[i].file, chapters[i].title);
        entries << Entry{
            "OEBPS/" + chapters[i].file,
            QStringLiteral("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                           "<html xmlns=\"http://www.w3.org/1999/xhtml\"><head><title>%1</title>"
                           "</head>\n<body>\n%2\n</body></html>\n")
                .arg(chapters[i].title, chapters[i].body)
                .toUtf8()};
    }
    entries << Entry{
        "OEBPS/nav.xhtml",
        QStringLiteral("<?xml version=\"1.0\"?><html xmlns=\"http://www.w3.org/1999/xhtml\" "
                       "xmlns:epub=\"http://www.idpf.org/2007/ops\"><body><nav epub:type=\"toc\">"
                       "<ol>%1</ol></nav></body></html>")
            .arg(nav)
            .toUtf8()};
    entries << Entry{
        "OEBPS/content.opf",
        QStringLiteral("<?xml version=\"1.0\"?>\n<package xmlns=\"http://www.idpf.org/2007/opf\" "
                       "version=\"3.0\"><metadata xmlns:dc=\"http://purl.org/dc/elements/1.1/\">"
                       "<dc:title>%1</dc:title><dc:creator>%2</dc:creator></metadata>\n"
                       "<manifest><item id=\"nav\" href=\"nav.xhtml\" properties=\"nav\" "
                       "media-type=\"application/xhtml+xml\"/>\n%3</manifest>\n"
                       "<spine>%4</spine></package>")
            .arg(title, author, manifest, spine)
            .toUtf8()};
    return entries;
}

bool writeEpub(const QString& path, const QString& title, const QString& author,
               const QList<EpubChapter>& chapters) {
    return writeZip(path, epubEntries(title, author, chapters));
}

bool writeDocx(const QString& path, const QString& title, const QString& author,
               const QStringList& paragraphs) {
    QString body;
    for (const QString& p : paragraphs) {
        QString text = p;
        QString props;
        if (text.size() > 3 && text.startsWith(u'#') && text[1].isDigit() && text[2] == u' ') {
            props = QStringLiteral("<w:pPr><w:pStyle w:val=\"Heading%1\"/></w:pPr>").arg(text[1]);
            text = text.mid(3);
        } else if (text.startsWith(QStringLiteral("- "))) {
            props = QStringLiteral(
                "<w:pPr><w:numPr><w:ilvl w:val=\"0\"/><w:numId w:val=\"1\"/></w:numPr></w:pPr>");
            text = text.mid(2);
        }
        body += QStringLiteral("<w:p>%1<w:r><w:t xml:space=\"preserve\">%2</w:t></w:r></w:p>\n")
                    .arg(props, text.toHtmlEscaped());
    }
    const QString document =
        QStringLiteral("<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<w:document "
                       "xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\">"
                       "<w:body>\n%1</w:body></w:document>")
            .arg(body);
    const QString core =
        QStringLiteral(
            "<?xml version=\"1.0\"?><cp:coreProperties "
            "xmlns:cp=\"http://schemas.openxmlformats.org/"
            "package/2006/metadata/core-properties\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\">"
            "<dc:title>%1</dc:title><dc:creator>%2</dc:creator></cp:coreProperties>")
            .arg(title, author);
    return writeZip(path, {{"[Content_Types].xml", "<?xml version=\"1.0\"?><Types/>"},
                           {"word/document.xml", document.toUtf8()},
                           {"docProps/core.xml", core.toUtf8()}});
}

bool writePdf(const QString& path, const QString& title, const QStringList& pages) {
    QPdfWriter writer(path);
    writer.setTitle(title);
    writer.setResolution(72);
    QPainter painter;
    if (!painter.begin(&writer)) return false;
    QFont font(QStringLiteral("DejaVu Sans"));
    font.setPointSize(12);
    painter.setFont(font);
    for (qsizetype i = 0; i < pages.size(); ++i) {
        if (i > 0) writer.newPage();
        if (pages[i].isEmpty()) {
            painter.fillRect(QRect(50, 50, 200, 200), Qt::gray);
            continue;
        }
        const QStringList lines = pages[i].split(u'\n');
        for (qsizetype l = 0; l < lines.size(); ++l)
            painter.drawText(72, 72 + 20 * int(l), lines[l]);
    }
    return painter.end();
}

namespace {

const unsigned char kPadding[32] = {
    0x28, 0xBF, 0x4E, 0x5E, 0x4E, 0x75, 0x8A, 0x41, 0x64, 0x00, 0x4E, 0x56, 0xFF, 0xFA, 0x01, 0x08,
    0x2E, 0x2E, 0x00, 0xB6, 0xD0, 0x68, 0x3E, 0x80, 0x2F, 0x0C, 0xA9, 0xFE, 0x64, 0x53, 0x69, 0x7A};

QByteArray rc4(const QByteArray& key, const QByteArray& data) {
    unsigned char s[256];
    for (int i = 0; i < 256; ++i) s[i] = static_cast<unsigned char>(i);
    for (int i = 0, j = 0; i < 256; ++i) {
        j = (j + s[i] + static_cast<unsigned char>(key[i % key.size()])) & 255;
        std::swap(s[i], s[j]);
    }
    QByteArray out = data;
    for (int n = 0, i = 0, j = 0; n < out.size(); ++n) {
        i = (i + 1) & 255;
        j = (j + s[i]) & 255;
        std::swap(s[i], s[j]);
        out[n] = char(out[n] ^ s[(s[i] + s[j]) & 255]);
    }
    return out;
}

QByteArray padded(const QByteArray& password) {
    return (password + QByteArray(reinterpret_cast<const char*>(kPadding), 32)).left(32);
}

QByteArray md5(const QByteArray& data) {
    return QCryptographicHash::hash(data, QCryptographicHash::Md5);
}

// Numbers the objects from 1 in list order (object 1 must be the catalog) and writes the
// cross-reference table from the byte offsets measured while writing.
QByteArray assemblePdf(const QList<QByteArray>& objects, const QByteArray& trailerExtra) {
    QByteArray pdf = "%PDF-1.4\n";
    QList<qsizetype> offsets;
    for (qsizetype i = 0; i < objects.size(); ++i) {
        offsets << pdf.size();
        pdf += QByteArray::number(i + 1) + " 0 obj\n" + objects[i] + "\nendobj\n";
    }
    const qsizetype xref = pdf.size();
    pdf += "xref\n0 " + QByteArray::number(objects.size() + 1) + "\n0000000000 65535 f \n";
    for (qsizetype offset : offsets)
        pdf += QByteArray::number(offset).rightJustified(10, '0') + " 00000 n \n";
    pdf += "trailer\n<< /Size " + QByteArray::number(objects.size() + 1) + " /Root 1 0 R " +
           trailerExtra + " >>\n";
    pdf += "startxref\n" + QByteArray::number(xref) + "\n%%EOF\n";
    return pdf;
}

QByteArray pdfString(const QString& text) {
    QByteArray out = text.toLatin1();
    out.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)");
    return "(" + out + ")";
}

QByteArray ref(qsizetype object) {
    return QByteArray::number(object) + " 0 R";
}

// Lines of Helvetica text from the top of a letter-sized page downwards.
QByteArray pageContent(const QString& text) {
    QByteArray ops = "BT /F1 12 Tf 16 TL 72 720 Td";
    const QStringList lines = text.split(u'\n');
    for (qsizetype i = 0; i < lines.size(); ++i)
        ops += (i == 0 ? " " : " T* ") + pdfString(lines[i]) + " Tj";
    ops += " ET";
    if (text.isEmpty()) ops = "0.5 g 50 50 200 200 re f";
    return "<< /Length " + QByteArray::number(ops.size()) + " >>\nstream\n" + ops + "\nendstream";
}

// The outline as a tree: parent index (-1 for top level) and children of each entry and of
// the root (last slot). A deeper level attaches to the nearest shallower entry before it.
struct OutlineTree {
    QList<qsizetype> parent;
    QList<QList<qsizetype>> children;
};

OutlineTree outlineTree(const QList<PdfOutlineEntry>& outline) {
    OutlineTree tree;
    tree.children.resize(outline.size() + 1);
    QList<qsizetype> open;
    for (qsizetype i = 0; i < outline.size(); ++i) {
        while (!open.isEmpty() && outline[open.back()].level >= outline[i].level) open.removeLast();
        tree.parent << (open.isEmpty() ? -1 : open.back());
        tree.children[open.isEmpty() ? outline.size() : open.back()] << i;
        open << i;
    }
    return tree;
}

qsizetype descendants(const OutlineTree& tree, qsizetype node) {
    qsizetype count = 0;
    for (qsizetype child : tree.children[node]) count += 1 + descendants(tree, child);
    return count;
}

QByteArray outlineItem(const QList<PdfOutlineEntry>& outline, const OutlineTree& tree, qsizetype i,
                       qsizetype firstItem, qsizetype outlinesRoot,
                       const QList<qsizetype>& pageObjects) {
    const qsizetype parent = tree.parent[i];
    const QList<qsizetype>& siblings = tree.children[parent < 0 ? outline.size() : parent];
    const qsizetype at = siblings.indexOf(i);
    QByteArray item = "<< /Title " + pdfString(outline[i].title) + " /Parent " +
                      ref(parent < 0 ? outlinesRoot : firstItem + parent);
    if (at > 0) item += " /Prev " + ref(firstItem + siblings[at - 1]);
    if (at + 1 < siblings.size()) item += " /Next " + ref(firstItem + siblings[at + 1]);
    if (!tree.children[i].isEmpty())
        item += " /First " + ref(firstItem + tree.children[i].front()) + " /Last " +
                ref(firstItem + tree.children[i].back()) + " /Count " +
                QByteArray::number(descendants(tree, i));
    if (outline[i].page > 0) item += " /Dest [" + ref(pageObjects[outline[i].page - 1]) + " /Fit]";
    return item + " >>";
}

} // namespace

bool writeOutlinedPdf(const QString& path, const QString& title, const QStringList& pages,
                      const QList<PdfOutlineEntry>& outline) {
    // 1 catalog, 2 page tree, 3 outline root, 4 font, 5 info, then page and content pairs,
    // then one object per outline entry.
    const qsizetype firstPage = 6;
    const qsizetype firstItem = firstPage + 2 * pages.size();
    const OutlineTree tree = outlineTree(outline);
    const QList<qsizetype>& top = tree.children[outline.size()];
    QList<qsizetype> pageObjects;
    QByteArray kids;
    for (qsizetype i = 0; i < pages.size(); ++i) {
        pageObjects << firstPage + 2 * i;
        kids += " " + ref(pageObjects.back());
    }
    QByteArray root = "<< /Type /Outlines";
    if (!top.isEmpty())
        root += " /First " + ref(firstItem + top.front()) + " /Last " +
                ref(firstItem + top.back()) + " /Count " +
                QByteArray::number(descendants(tree, outline.size()));
    QList<QByteArray> objects{
        "<< /Type /Catalog /Pages 2 0 R /Outlines 3 0 R /PageMode /UseOutlines >>",
        "<< /Type /Pages /Kids [" + kids + " ] /Count " + QByteArray::number(pages.size()) + " >>",
        root + " >>",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        "<< /Title " + pdfString(title) + " >>",
    };
    for (qsizetype i = 0; i < pages.size(); ++i) {
        objects << "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents " +
                       ref(pageObjects[i] + 1) + " /Resources << /Font << /F1 4 0 R >> >> >>";
        objects << pageContent(pages[i]);
    }
    for (qsizetype i = 0; i < outline.size(); ++i)
        objects << outlineItem(outline, tree, i, firstItem, 3, pageObjects);
    QFile file(path);
    return file.open(QIODevice::WriteOnly) && file.write(assemblePdf(objects, "/Info 5 0 R")) > 0 &&
           file.flush();
}

void writeEncryptedPdf(const QString& path, const QString& userPassword, const QString& text) {
    // Standard security handler, revision 2 (PDF 1.7 reference, algorithms 3.1 to 3.4).
    const QByteArray id = md5("folio-test");
    const QByteArray owner =
        rc4(md5(padded("owner-secret")).left(5), padded(userPassword.toLatin1()));
    const qint32 permissions = -4;
    QByteArray p(4, 0);
    for (int i = 0; i < 4; ++i) p[i] = char((permissions >> (8 * i)) & 0xFF);
    const QByteArray key = md5(padded(userPassword.toLatin1()) + owner + p + id).left(5);
    const QByteArray user = rc4(key, QByteArray(reinterpret_cast<const char*>(kPadding), 32));
    const QByteArray content = "BT /F1 18 Tf 72 700 Td (" + text.toLatin1() + ") Tj ET";
    const QByteArray objectKey = md5(key + QByteArray("\x04\x00\x00\x00\x00", 5)).left(10);
    const QByteArray encrypted = rc4(objectKey, content);

    QList<QByteArray> objects{
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        "/Resources << /Font << /F1 5 0 R >> >> >>",
        "<< /Length " + QByteArray::number(encrypted.size()) + " >>\nstream\n" + encrypted +
            "\nendstream",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        "<< /Filter /Standard /V 1 /R 2 /O <" + owner.toHex() + "> /U <" + user.toHex() +
            "> /P -4 >>",
    };
    writeFile(path, assemblePdf(objects,
                                "/Encrypt 6 0 R /ID [<" + id.toHex() + "> <" + id.toHex() + ">]"));
}

} // namespace fixtures
