#pragma once
// Leads from a character or token offset of a document's text back to its source.

#include "extracted_document.h"

#include <optional>
#include <vector>

namespace folio {

struct SourceLocation {
    QString file;
    int page = 0; // 0: the source has no pages
    int line = 0; // 0: unknown
};

class SourceMap {
public:
    explicit SourceMap(std::vector<SourceSpan> spans);

    // The place of character `offset` of `text` (the document's full text); nothing when the
    // offset lies outside every span (the separators between blocks).
    std::optional<SourceLocation> locateChar(QStringView text, qint64 offset) const;
    // The place of token `offset`: the line where its span starts, refined by the share of the
    // span's tokens before the offset when the span covers several lines.
    std::optional<SourceLocation> locateToken(QStringView text, qint64 offset) const;

    // Fills in token offsets from per-span token counts, as the pipeline does at import.
    template <typename CountFn>
    static void assignTokens(QStringView text, std::vector<SourceSpan>& spans, CountFn count) {
        qint64 position = 0;
        qint64 tokens = 0;
        for (SourceSpan& span : spans) {
            tokens += count(text.sliced(position, span.charStart - position));
            span.tokenStart = tokens;
            tokens += count(text.sliced(span.charStart, span.charEnd - span.charStart));
            span.tokenEnd = tokens;
            position = span.charEnd;
        }
    }

private:
    std::vector<SourceSpan> spans_;
};

} // namespace folio
