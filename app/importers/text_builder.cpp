#include "text_builder.h"

namespace folio {

void TextBuilder::beginBlock(const QString& file, int page, int line) {
    while (text_.endsWith(u' ') || text_.endsWith(u'\t')) text_.chop(1);
    closeSpan();
    if (!text_.isEmpty()) {
        if (!text_.endsWith(u'\n')) text_.append(u'\n');
        if (!text_.endsWith(QStringLiteral("\n\n"))) text_.append(u'\n');
    }
    SourceSpan span;
    span.charStart = text_.size();
    span.file = file;
    span.page = page;
    span.line = line;
    spans_.push_back(std::move(span));
    spanOpen_ = true;
    for (Chapter& chapter : pendingChapters_) {
        chapter.charStart = text_.size();
        chapters_.push_back(std::move(chapter));
    }
    pendingChapters_.clear();
}

void TextBuilder::append(QStringView text) {
    if (truncated_ || text.isEmpty()) return;
    const qint64 room = maxChars_ - text_.size();
    if (text.size() > room) {
        truncated_ = true;
        text = text.first(qMax<qint64>(0, room));
    }
    text_.append(text);
}

void TextBuilder::addChapter(const QString& title, int level) {
    Chapter chapter;
    chapter.title = title.simplified();
    chapter.level = level;
    pendingChapters_.push_back(std::move(chapter));
}

void TextBuilder::closeSpan() {
    if (!spanOpen_) return;
    spans_.back().charEnd = text_.size();
    if (spans_.back().charEnd == spans_.back().charStart) spans_.pop_back();
    spanOpen_ = false;
}

void TextBuilder::finishInto(ExtractedDocument& doc) {
    while (text_.endsWith(u'\n') || text_.endsWith(u' ') || text_.endsWith(u'\t')) text_.chop(1);
    closeSpan();
    for (Chapter& chapter : pendingChapters_) {
        chapter.charStart = text_.size();
        chapters_.push_back(std::move(chapter));
    }
    pendingChapters_.clear();
    for (SourceSpan& span : spans_) span.charEnd = qMin<qint64>(span.charEnd, text_.size());
    doc.text = std::move(text_);
    doc.spans = std::move(spans_);
    doc.chapters = std::move(chapters_);
    text_.clear();
    spans_.clear();
    chapters_.clear();
}

} // namespace folio
