#include "chat_render.h"

#include <QFontDatabase>
#include <QTextBlock>
#include <QTextCursor>
#include <QTextDocument>

namespace folio {

SplitAnswer splitThinking(const QString& raw) {
    static const QString open = QStringLiteral("<think>");
    static const QString close = QStringLiteral("</think>");
    SplitAnswer out;
    const qsizetype start = raw.indexOf(open);
    if (start < 0) {
        out.answer = raw;
        return out;
    }
    out.hasThinking = true;
    const qsizetype bodyStart = start + open.size();
    const qsizetype end = raw.indexOf(close, bodyStart);
    if (end < 0) {
        out.thinkingOpen = true;
        out.thinking = raw.mid(bodyStart).trimmed();
        out.answer = raw.left(start).trimmed();
        return out;
    }
    out.thinking = raw.mid(bodyStart, end - bodyStart).trimmed();
    out.answer = (raw.left(start) + raw.mid(end + close.size())).trimmed();
    return out;
}

namespace {

void styleCode(QTextDocument* document) {
    const QFont mono = QFontDatabase::systemFont(QFontDatabase::FixedFont);
    QTextCursor cursor(document);
    for (QTextBlock block = document->begin(); block.isValid(); block = block.next()) {
        const QTextBlockFormat format = block.blockFormat();
        if (!format.hasProperty(QTextFormat::BlockCodeFence) &&
            !format.hasProperty(QTextFormat::BlockCodeLanguage))
            continue;
        cursor.setPosition(block.position());
        cursor.setPosition(block.position() + block.length() - 1, QTextCursor::KeepAnchor);
        QTextCharFormat chars;
        chars.setFont(mono);
        chars.setFontFixedPitch(true);
        cursor.mergeCharFormat(chars);
        QTextBlockFormat tinted = format;
        tinted.setBackground(QColor(240, 240, 240));
        cursor.setBlockFormat(tinted);
    }
}

void linkQuotes(QTextDocument* document, const QList<QuoteLink>& links) {
    for (const QuoteLink& link : links) {
        if (link.quote.isEmpty()) continue;
        QTextCursor found = document->find(link.quote);
        if (found.isNull()) continue;
        QTextCharFormat anchor;
        anchor.setAnchor(true);
        anchor.setAnchorHref(link.href);
        anchor.setForeground(QColor(20, 90, 200));
        anchor.setFontUnderline(true);
        found.mergeCharFormat(anchor);
    }
}

} // namespace

void renderMarkdown(QTextDocument* document, const QString& markdown,
                    const QList<QuoteLink>& links) {
    document->setMarkdown(markdown);
    styleCode(document);
    linkQuotes(document, links);
}

} // namespace folio
