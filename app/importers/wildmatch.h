#pragma once
// Git's glob matcher for ignore patterns, with git's WM_PATHNAME semantics: '*' and '?' stay
// within one path component, "**" between slashes spans directories, "[...]" sets take ranges,
// negation ('!' or '^') and [:class:] names, and '\' escapes the next character.

#include <QByteArray>

namespace folio {

class Wildmatch {
public:
    // Both strings are UTF-8 bytes; matching is byte-wise and case-sensitive, as git does on
    // Linux with core.ignoreCase off.
    static bool match(const QByteArray& pattern, const QByteArray& text);
};

} // namespace folio
