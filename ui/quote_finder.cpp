#include "quote_finder.h"

#include <QRegularExpression>

namespace folio {

QStringList extractQuotes(const QString& answer, int minChars) {
    QStringList quotes;
    static const QRegularExpression quoted(QStringLiteral("[\"“]([^\"”\\n]+)[\"”]"));
    for (auto it = quoted.globalMatch(answer); it.hasNext();) {
        const QString q = it.next().captured(1).trimmed();
        if (q.size() >= minChars && !quotes.contains(q)) quotes << q;
    }
    for (const QString& line : answer.split(u'\n')) {
        if (!line.startsWith(QLatin1String("> "))) continue;
        const QString q = line.mid(2).trimmed();
        if (q.size() >= minChars && !quotes.contains(q)) quotes << q;
    }
    return quotes;
}

QuoteMatch locateQuote(const QString& text, const QString& quote) {
    QuoteMatch match{quote};
    if (quote.isEmpty()) return match;
    if (const qsizetype at = text.indexOf(quote); at >= 0) {
        match.start = at;
        match.end = at + quote.size();
        return match;
    }
    // Tolerant pass: compare both as lower-case words separated by single spaces, keeping the
    // source offset of every normalised character.
    QString normal;
    QList<qint64> offsets;
    bool space = true;
    for (qsizetype i = 0; i < text.size(); ++i) {
        if (text[i].isSpace()) {
            if (!space) {
                normal += u' ';
                offsets << i;
            }
            space = true;
            continue;
        }
        normal += text[i].toLower();
        offsets << i;
        space = false;
    }
    const QString needle = quote.simplified().toLower();
    const qsizetype at = normal.indexOf(needle);
    if (at < 0 || needle.isEmpty()) return match;
    match.start = offsets[at];
    match.end = offsets[at + needle.size() - 1] + 1;
    return match;
}

} // namespace folio
