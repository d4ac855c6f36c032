#pragma once
// Turning a model's raw answer into what the chat shows: the `<think>` part split off, Markdown
// rendered with monospaced code, quoted passages made into links.

#include <QList>
#include <QString>

class QTextDocument;

namespace folio {

struct SplitAnswer {
    QString thinking;
    QString answer;
    bool hasThinking = false;
    bool thinkingOpen = false; // `<think>` seen but not yet closed (still streaming)
};

SplitAnswer splitThinking(const QString& raw);

struct QuoteLink {
    QString quote; // text as it appears in the rendered answer
    QString href;
};

// setMarkdown plus a monospaced font and a tinted background for code; then every quote of
// `links` found in the rendered text becomes an anchor.
void renderMarkdown(QTextDocument* document, const QString& markdown,
                    const QList<QuoteLink>& links = {});

} // namespace folio
