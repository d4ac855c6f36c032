#include "source_map.h"

#include <algorithm>

namespace folio {

SourceMap::SourceMap(std::vector<SourceSpan> spans) : spans_(std::move(spans)) {
    std::sort(spans_.begin(), spans_.end(),
              [](const SourceSpan& a, const SourceSpan& b) { return a.charStart < b.charStart; });
}

std::optional<SourceLocation> SourceMap::locateChar(QStringView text, qint64 offset) const {
    const auto it =
        std::upper_bound(spans_.begin(), spans_.end(), offset,
                         [](qint64 value, const SourceSpan& s) { return value < s.charStart; });
    if (it == spans_.begin()) return std::nullopt;
    const SourceSpan& span = *std::prev(it);
    if (offset >= span.charEnd || offset > text.size()) return std::nullopt;
    SourceLocation location{span.file, span.page, span.line};
    location.line += int(text.sliced(span.charStart, offset - span.charStart).count(u'\n'));
    return location;
}

std::optional<SourceLocation> SourceMap::locateToken(QStringView text, qint64 offset) const {
    for (const SourceSpan& span : spans_) {
        if (offset < span.tokenStart || offset >= span.tokenEnd) continue;
        const double share =
            double(offset - span.tokenStart) / double(span.tokenEnd - span.tokenStart);
        const qint64 charOffset =
            span.charStart + qint64(share * double(span.charEnd - span.charStart));
        return locateChar(text, qMin(charOffset, span.charEnd - 1));
    }
    return std::nullopt;
}

} // namespace folio
