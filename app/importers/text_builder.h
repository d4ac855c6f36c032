#pragma once
// Accumulates a document's text block by block, recording where each block came from.

#include "extracted_document.h"

namespace folio {

class TextBuilder {
public:
    explicit TextBuilder(qint64 maxChars) : maxChars_(maxChars) {}

    // Starts a block (paragraph, heading, page) that comes from `file` at `page`/`line`.
    // Blocks are separated by one blank line.
    void beginBlock(const QString& file, int page, int line);
    // Appends text to the current block; text beyond the character limit is dropped.
    void append(QStringView text);
    // Marks a chapter that starts at the next block.
    void addChapter(const QString& title, int level);

    bool truncated() const { return truncated_; }
    qint64 size() const { return text_.size(); }
    bool endsWithNewline() const { return !text_.isEmpty() && text_.back() == u'\n'; }

    // Moves the text, spans and chapters into `doc`; the builder is empty afterwards.
    void finishInto(ExtractedDocument& doc);

private:
    void closeSpan();

    qint64 maxChars_;
    bool truncated_ = false;
    bool spanOpen_ = false;
    QString text_;
    std::vector<SourceSpan> spans_;
    std::vector<Chapter> chapters_;
    std::vector<Chapter> pendingChapters_;
};

} // namespace folio
