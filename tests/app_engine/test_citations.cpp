// Quotes in answers found in the source: exact, tolerant of case and whitespace, or not at all.

#include "citation_locator.h"

#include <QTest>

using namespace folio;

namespace {

const QString kDocument =
    QStringLiteral("Chapter One\n\n"
                   "It was a bright cold day in April, and the clocks were striking thirteen.\n"
                   "Winston Smith, his chin nuzzled into his breast in an effort to escape the\n"
                   "vile wind, slipped quickly through the glass doors of Victory Mansions.\n");

} // namespace

class TestCitations : public QObject {
    Q_OBJECT
private slots:
    void extractsQuoteKinds() {
        const QString answer = QStringLiteral(
            "The book opens: \"It was a bright cold day in April\". Later “slipped quickly "
            "through the glass doors” says it.\n"
            "Too short: \"in April\".\n"
            "> Winston Smith, his chin nuzzled\n"
            "> into his breast\n"
            "\n"
            "```\nprint(\"this is code not a quote\")\n```\n");
        const QList<Quote> quotes = CitationLocator::extractQuotes(answer);
        QCOMPARE(quotes.size(), 3);
        QCOMPARE(quotes[0].text, QString("It was a bright cold day in April"));
        QCOMPARE(answer.mid(quotes[0].answerStart, quotes[0].answerLength), quotes[0].text);
        QCOMPARE(quotes[1].text, QString("slipped quickly through the glass doors"));
        QCOMPARE(quotes[2].text, QString("Winston Smith, his chin nuzzled into his breast"));
    }

    void exactMatch() {
        CitationLocator locator(kDocument);
        const auto citations =
            locator.locate("It begins with \"the clocks were striking thirteen.\"");
        QCOMPARE(citations.size(), 1);
        const Citation& c = citations[0];
        QCOMPARE(c.match, Citation::Match::Exact);
        QCOMPARE(kDocument.mid(c.documentStart, c.documentLength),
                 QString("the clocks were striking thirteen."));
    }

    void tolerantMatchAcrossLinesAndCase() {
        CitationLocator locator(kDocument);
        // The source breaks the line after "escape the"; the answer has one space and other case.
        const auto citations =
            locator.locate("He wanted “an effort to escape  THE vile wind,” as the text says.");
        QCOMPARE(citations.size(), 1);
        const Citation& c = citations[0];
        QCOMPARE(c.match, Citation::Match::Tolerant);
        QCOMPARE(kDocument.mid(c.documentStart, c.documentLength),
                 QString("an effort to escape the\nvile wind"));
    }

    void curlyApostrophesMatchStraightOnes() {
        const QString doc = QStringLiteral("She said it's the end of the road for us.");
        CitationLocator locator(doc);
        const auto citations = locator.locate(QStringLiteral("“it’s the end of the road”"));
        QCOMPARE(citations.size(), 1);
        QCOMPARE(citations[0].match, Citation::Match::Tolerant);
        QCOMPARE(doc.mid(citations[0].documentStart, citations[0].documentLength),
                 QString("it's the end of the road"));
    }

    void notFound() {
        CitationLocator locator(kDocument);
        const auto citations =
            locator.locate("The text says \"the clocks were striking fourteen\" here.");
        QCOMPARE(citations.size(), 1);
        QCOMPARE(citations[0].match, Citation::Match::NotFound);
        QCOMPARE(citations[0].documentStart, qsizetype(-1));
        QVERIFY(!citations[0].found());
    }

    void noQuotesNoCitations() {
        CitationLocator locator(kDocument);
        QVERIFY(locator.locate("A plain answer with no quotation at all.").isEmpty());
        QVERIFY(locator.locate("").isEmpty());
        QVERIFY(CitationLocator(QString()).locate("\"one two three four\"").first().match ==
                Citation::Match::NotFound);
    }
};

QTEST_GUILESS_MAIN(TestCitations)
#include "test_citations.moc"
