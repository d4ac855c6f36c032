#include "citation_locator.h"

#include <QRegularExpression>
#include <QStringList>

namespace folio {

namespace {

int wordCount(const QString& text) {
    static const QRegularExpression words(QStringLiteral("[\\w']+"),
                                          QRegularExpression::UseUnicodePropertiesOption);
    int n = 0;
    for (auto it = words.globalMatch(text); it.hasNext(); it.next()) ++n;
    return n;
}

// Typographic variants that models and documents swap freely.
QChar plainChar(QChar ch) {
    switch (ch.unicode()) {
    case 0x2018:
    case 0x2019:
        return u'\'';
    case 0x201C:
    case 0x201D:
        return u'"';
    case 0x2013:
    case 0x2014:
        return u'-';
    case 0x00A0:
        return u' ';
    default:
        return ch.toCaseFolded();
    }
}

// Folds `text`; `origin` (if given) receives the text index of each folded character.
QString fold(const QString& text, std::vector<qsizetype>* origin) {
    QString out;
    out.reserve(text.size());
    bool pendingSpace = false;
    for (qsizetype i = 0; i < text.size(); ++i) {
        const QChar ch = text.at(i);
        if (ch.isSpace()) {
            pendingSpace = !out.isEmpty();
            continue;
        }
        if (pendingSpace) {
            out += u' ';
            if (origin) origin->push_back(i - 1);
            pendingSpace = false;
        }
        out += plainChar(ch);
        if (origin) origin->push_back(i);
    }
    return out;
}

// Ranges of ``` fenced blocks in the answer.
QList<std::pair<qsizetype, qsizetype>> codeFences(const QString& answer) {
    QList<std::pair<qsizetype, qsizetype>> fences;
    qsizetype from = 0;
    while (true) {
        const qsizetype open = answer.indexOf(QLatin1String("```"), from);
        if (open < 0) break;
        qsizetype close = answer.indexOf(QLatin1String("```"), open + 3);
        close = close < 0 ? answer.size() : close + 3;
        fences.append({open, close});
        from = close;
    }
    return fences;
}

bool inside(const QList<std::pair<qsizetype, qsizetype>>& ranges, qsizetype pos) {
    for (const auto& [begin, end] : ranges)
        if (pos >= begin && pos < end) return true;
    return false;
}

void addQuote(QList<Quote>& quotes, const QString& answer, qsizetype start, qsizetype end,
              int minWords) {
    const QString text = answer.mid(start, end - start).trimmed();
    if (wordCount(text) < minWords) return;
    quotes.append(Quote{text, start, end - start});
}

void collectMarked(QList<Quote>& quotes, const QString& answer, int minWords,
                   const QList<std::pair<qsizetype, qsizetype>>& fences) {
    // Straight quotes pair up in order; curly ones open and close distinctly.
    static const QRegularExpression marked(QStringLiteral("\"([^\"\\n]+)\"|“([^”]+)”"));
    for (auto it = marked.globalMatch(answer); it.hasNext();) {
        const QRegularExpressionMatch m = it.next();
        if (inside(fences, m.capturedStart())) continue;
        const int group = m.capturedStart(1) >= 0 ? 1 : 2;
        addQuote(quotes, answer, m.capturedStart(group), m.capturedEnd(group), minWords);
    }
}

void collectBlockquotes(QList<Quote>& quotes, const QString& answer, int minWords,
                        const QList<std::pair<qsizetype, qsizetype>>& fences) {
    QString block;
    qsizetype blockStart = -1, blockEnd = -1;
    auto flush = [&] {
        if (blockStart >= 0 && wordCount(block) >= minWords)
            quotes.append(Quote{block.trimmed(), blockStart, blockEnd - blockStart});
        block.clear();
        blockStart = -1;
    };
    qsizetype lineStart = 0;
    while (lineStart <= answer.size()) {
        qsizetype lineEnd = answer.indexOf(u'\n', lineStart);
        if (lineEnd < 0) lineEnd = answer.size();
        const QString line = answer.mid(lineStart, lineEnd - lineStart);
        const QString stripped = line.trimmed();
        if (stripped.startsWith(u'>') && !inside(fences, lineStart)) {
            const qsizetype offset = line.indexOf(u'>') + 1;
            if (blockStart < 0) blockStart = lineStart + offset;
            block += line.mid(offset).trimmed() + u' ';
            blockEnd = lineEnd;
        } else {
            flush();
        }
        lineStart = lineEnd + 1;
    }
    flush();
}

} // namespace

CitationLocator::CitationLocator(const QString& document) : document_(document) {
    folded_ = fold(document_, &foldedToDoc_);
}

QList<Quote> CitationLocator::extractQuotes(const QString& answer, int minWords) {
    const auto fences = codeFences(answer);
    QList<Quote> quotes;
    collectMarked(quotes, answer, minWords, fences);
    collectBlockquotes(quotes, answer, minWords, fences);
    std::sort(quotes.begin(), quotes.end(),
              [](const Quote& a, const Quote& b) { return a.answerStart < b.answerStart; });
    return quotes;
}

QList<Citation> CitationLocator::locate(const QString& answer, int minWords) const {
    QList<Citation> citations;
    for (const Quote& quote : extractQuotes(answer, minWords)) citations.append(locateQuote(quote));
    return citations;
}

Citation CitationLocator::locateQuote(const Quote& quote) const {
    Citation c;
    c.quote = quote;
    const qsizetype exact = document_.indexOf(quote.text);
    if (exact >= 0) {
        c.match = Citation::Match::Exact;
        c.documentStart = exact;
        c.documentLength = quote.text.size();
        return c;
    }
    // Quotes often end with the answer's own punctuation, or an ellipsis for a trimmed end.
    static const QRegularExpression trailing(QStringLiteral("[\\s.,;:!?…]+$"));
    QString needle = fold(quote.text, nullptr);
    needle.remove(trailing);
    static const QRegularExpression leading(QStringLiteral("^[\\s.…]+"));
    needle.remove(leading);
    if (needle.isEmpty()) return c;
    const qsizetype at = folded_.indexOf(needle);
    if (at < 0) return c;
    const qsizetype first = foldedToDoc_[size_t(at)];
    const qsizetype last = foldedToDoc_[size_t(at + needle.size() - 1)];
    c.match = Citation::Match::Tolerant;
    c.documentStart = first;
    c.documentLength = last - first + 1;
    return c;
}

} // namespace folio
