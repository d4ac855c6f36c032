#pragma once
// Finds the passages an answer quotes and where they are in the source text: exact first, then
// tolerant of whitespace and case. (The app's citations module is not available to the UI yet;
// this is the UI's own locator, kept small.)

#include <QList>
#include <QString>

namespace folio {

struct QuoteMatch {
    QString quote; // as written in the answer
    qint64 start = -1;
    qint64 end = -1; // [start, end) in the source text
};

// Quoted spans of an answer: "…", “…” and Markdown block quotes, at least `minChars` long.
QStringList extractQuotes(const QString& answer, int minChars = 12);
// The place of `quote` in `text`, or start = -1.
QuoteMatch locateQuote(const QString& text, const QString& quote);

} // namespace folio
