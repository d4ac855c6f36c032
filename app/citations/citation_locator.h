#pragma once
// Finds the passages an answer quotes in the source document: exact match first, then one that
// ignores case and differences in whitespace. Ranges are character offsets into the document
// (QString indices), which the library's SourceMap turns into pages and lines.

#include <QList>
#include <QString>

#include <vector>

namespace folio {

struct Quote {
    QString text;
    qsizetype answerStart = 0; // where the quoted text lies in the answer
    qsizetype answerLength = 0;
};

struct Citation {
    enum class Match { Exact, Tolerant, NotFound };
    Quote quote;
    Match match = Match::NotFound;
    qsizetype documentStart = -1; // -1 when not found
    qsizetype documentLength = 0;
    bool found() const { return match != Match::NotFound; }
};

class CitationLocator {
public:
    explicit CitationLocator(const QString& document);

    // Text in "straight" or “curly” double quotes and runs of "> " blockquote lines, with at
    // least `minWords` words. Fenced code blocks are skipped: their quote marks are code.
    static QList<Quote> extractQuotes(const QString& answer, int minWords = 4);

    QList<Citation> locate(const QString& answer, int minWords = 4) const;
    Citation locateQuote(const Quote& quote) const;

private:
    QString document_;
    QString folded_;                     // case-folded, whitespace runs as one space
    std::vector<qsizetype> foldedToDoc_; // document index of each folded character
};

} // namespace folio
