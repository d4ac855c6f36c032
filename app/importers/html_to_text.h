#pragma once
// HTML and XHTML to clean text with libxml2's forgiving HTML parser: headings become "# Title"
// lines, paragraphs are separated by blank lines, list items start with "- " or "1. ", scripts
// and styles are dropped, whitespace is collapsed as a browser would.

#include "result.h"
#include "text_builder.h"

#include <QByteArray>

namespace folio {

struct HtmlInfo {
    QString title;  // <title>
    QString author; // <meta name="author">
    QString firstHeading;
};

class HtmlToText {
public:
    // Appends the text of `html` to `builder`; spans name `file` and `page` and the source line
    // of each block. Headings up to `chapterLevels` deep become chapters (0: none).
    static sala::Status convert(const QByteArray& html, const QString& file, int page,
                                int chapterLevels, TextBuilder& builder, HtmlInfo* info);
};

} // namespace folio
