#include "html_to_text.h"

#include <QRegularExpression>
#include <QSet>

#include <libxml/HTMLparser.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include <memory>

namespace folio {

namespace {

QString nodeName(const xmlNode* node) {
    QString name = QString::fromUtf8(reinterpret_cast<const char*>(node->name)).toLower();
    const qsizetype colon = name.indexOf(u':');
    return colon >= 0 ? name.mid(colon + 1) : name;
}

QString attribute(const xmlNode* node, const char* name) {
    xmlChar* value = xmlGetProp(node, reinterpret_cast<const xmlChar*>(name));
    if (!value) return {};
    QString text = QString::fromUtf8(reinterpret_cast<const char*>(value));
    xmlFree(value);
    return text;
}

QString textOf(const xmlNode* node) {
    xmlChar* value = xmlNodeGetContent(node);
    if (!value) return {};
    QString text = QString::fromUtf8(reinterpret_cast<const char*>(value)).simplified();
    xmlFree(value);
    return text;
}

const QSet<QString>& skippedElements() {
    static const QSet<QString> names{"script", "style", "noscript", "template", "head",
                                     "svg",    "math",  "iframe",   "object",   "button"};
    return names;
}

const QSet<QString>& blockElements() {
    static const QSet<QString> names{
        "p",     "div",      "section",    "article", "aside",      "header",  "footer",  "nav",
        "main",  "body",     "blockquote", "figure",  "figcaption", "dl",      "dt",      "dd",
        "table", "thead",    "tbody",      "tfoot",   "tr",         "caption", "address", "hr",
        "form",  "fieldset", "details",    "summary", "center"};
    return names;
}

class Walker {
public:
    Walker(const QString& file, int page, int chapterLevels, TextBuilder& builder)
        : file_(file), page_(page), chapterLevels_(chapterLevels), builder_(builder) {}

    void walk(const xmlNode* node) {
        for (; node; node = node->next) visit(node);
    }
    void finish() { flush(); }
    QString firstHeading;

private:
    void visit(const xmlNode* node) {
        if (node->type == XML_TEXT_NODE || node->type == XML_CDATA_SECTION_NODE) {
            addText(node);
            return;
        }
        if (node->type != XML_ELEMENT_NODE) return;
        const QString name = nodeName(node);
        if (skippedElements().contains(name)) return;
        if (name == QStringLiteral("br")) {
            pending_.append(u'\n');
        } else if (name.size() == 2 && name[0] == u'h' && name[1] >= u'1' && name[1] <= u'6') {
            heading(node, name[1].digitValue());
        } else if (name == QStringLiteral("ul") || name == QStringLiteral("ol")) {
            list(node, name == QStringLiteral("ol"));
        } else if (name == QStringLiteral("li")) {
            listItem(node, QStringLiteral("- "));
        } else if (name == QStringLiteral("pre")) {
            preformatted(node);
        } else if (name == QStringLiteral("td") || name == QStringLiteral("th")) {
            if (!pending_.trimmed().isEmpty()) pending_.append(QStringLiteral(" | "));
            walk(node->children);
        } else if (blockElements().contains(name)) {
            flush();
            walk(node->children);
            flush();
        } else {
            walk(node->children);
        }
    }

    void addText(const xmlNode* node) {
        if (!node->content) return;
        const QString text = QString::fromUtf8(reinterpret_cast<const char*>(node->content));
        if (pendingLine_ == 0 && !text.trimmed().isEmpty()) pendingLine_ = int(xmlGetLineNo(node));
        if (preDepth_ > 0) {
            pending_.append(text);
            return;
        }
        // Collapse runs of white space the way a browser renders them.
        for (QChar c : text) {
            if (c.isSpace() && c != QChar(0xA0)) {
                if (!pending_.isEmpty() && !pending_.back().isSpace()) pending_.append(u' ');
            } else {
                pending_.append(c == QChar(0xA0) ? u' ' : c);
            }
        }
    }

    void heading(const xmlNode* node, int level) {
        flush();
        walk(node->children);
        const QString title = pending_.simplified();
        if (!title.isEmpty()) {
            if (firstHeading.isEmpty()) firstHeading = title;
            if (level <= chapterLevels_) builder_.addChapter(title, level);
            pending_ = QString(level, u'#') + u' ' + title;
        }
        flush();
    }

    void list(const xmlNode* node, bool ordered) {
        flush();
        ++listDepth_;
        int number = 1;
        for (const xmlNode* child = node->children; child; child = child->next) {
            if (child->type == XML_ELEMENT_NODE && nodeName(child) == QStringLiteral("li")) {
                listItem(child,
                         ordered ? QStringLiteral("%1. ").arg(number++) : QStringLiteral("- "));
            } else {
                visit(child);
            }
        }
        --listDepth_;
        flush();
    }

    void listItem(const xmlNode* node, const QString& marker) {
        flush();
        prefix_ = QString(2 * qMax(0, listDepth_ - 1), u' ') + marker;
        walk(node->children);
        flush();
    }

    void preformatted(const xmlNode* node) {
        flush();
        ++preDepth_;
        walk(node->children);
        --preDepth_;
        while (pending_.endsWith(u'\n')) pending_.chop(1);
        if (pending_.startsWith(u'\n')) pending_.remove(0, 1);
        flushRaw(pending_);
    }

    void flush() {
        QString text;
        const QStringList lines = pending_.split(u'\n');
        for (const QString& line : lines) {
            const QString clean = line.trimmed();
            if (clean.isEmpty()) continue;
            if (!text.isEmpty()) text.append(u'\n');
            text.append(clean);
        }
        flushRaw(text);
    }

    void flushRaw(const QString& text) {
        if (!text.trimmed().isEmpty()) {
            builder_.beginBlock(file_, page_, pendingLine_);
            builder_.append(prefix_);
            builder_.append(text);
            prefix_.clear();
        }
        pending_.clear();
        pendingLine_ = 0;
    }

    QString file_;
    int page_;
    int chapterLevels_;
    TextBuilder& builder_;
    QString pending_;
    QString prefix_;
    int pendingLine_ = 0;
    int listDepth_ = 0;
    int preDepth_ = 0;
};

struct DocFree {
    void operator()(xmlDoc* doc) const { xmlFreeDoc(doc); }
};

const xmlNode* findElement(const xmlNode* node, const QString& name) {
    for (; node; node = node->next) {
        if (node->type != XML_ELEMENT_NODE) continue;
        if (nodeName(node) == name) return node;
        if (const xmlNode* found = findElement(node->children, name)) return found;
    }
    return nullptr;
}

void readHead(const xmlNode* root, HtmlInfo& info) {
    const xmlNode* head = findElement(root, QStringLiteral("head"));
    if (!head) return;
    if (const xmlNode* title = findElement(head->children, QStringLiteral("title")))
        info.title = textOf(title);
    for (const xmlNode* n = head->children; n; n = n->next)
        if (n->type == XML_ELEMENT_NODE && nodeName(n) == QStringLiteral("meta") &&
            attribute(n, "name").toLower() == QStringLiteral("author"))
            info.author = attribute(n, "content").simplified();
}

} // namespace

sala::Status HtmlToText::convert(const QByteArray& html, const QString& file, int page,
                                 int chapterLevels, TextBuilder& builder, HtmlInfo* info) {
    static const bool initialised = [] {
        xmlInitParser();
        return true;
    }();
    Q_UNUSED(initialised);
    // Without a declared charset libxml2 assumes Latin-1; the web and EPUB default is UTF-8.
    static const QRegularExpression charset(QStringLiteral("charset|encoding="),
                                            QRegularExpression::CaseInsensitiveOption);
    const bool declared = charset.match(QString::fromLatin1(html.left(2048))).hasMatch();
    std::unique_ptr<xmlDoc, DocFree> doc(
        htmlReadMemory(html.constData(), int(html.size()), nullptr, declared ? nullptr : "UTF-8",
                       HTML_PARSE_RECOVER | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING |
                           HTML_PARSE_NONET | HTML_PARSE_COMPACT));
    const xmlNode* root = doc ? xmlDocGetRootElement(doc.get()) : nullptr;
    if (!root)
        return sala::makeError(sala::ErrorCode::Format,
                               (file + QStringLiteral(": not readable as HTML")).toStdString());
    HtmlInfo local;
    readHead(root, local);
    Walker walker(file, page, chapterLevels, builder);
    walker.walk(root);
    walker.finish();
    local.firstHeading = walker.firstHeading;
    if (info) *info = local;
    return sala::Status::success();
}

} // namespace folio
