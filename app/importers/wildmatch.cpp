#include "wildmatch.h"

#include <cctype>
#include <cstring>

namespace folio {

namespace {

enum Outcome { NoMatch, Matched, AbortAll, AbortToDoubleStar };

using uchar = unsigned char;

bool classMatches(const uchar* name, size_t length, uchar c, bool* known) {
    const auto is = [&](const char* cls) {
        return length == std::strlen(cls) && std::memcmp(name, cls, length) == 0;
    };
    *known = true;
    if (is("alnum")) return std::isalnum(c);
    if (is("alpha")) return std::isalpha(c);
    if (is("blank")) return c == ' ' || c == '\t';
    if (is("cntrl")) return std::iscntrl(c);
    if (is("digit")) return std::isdigit(c);
    if (is("graph")) return std::isgraph(c);
    if (is("lower")) return std::islower(c);
    if (is("print")) return std::isprint(c);
    if (is("punct")) return std::ispunct(c);
    if (is("space")) return std::isspace(c);
    if (is("upper")) return std::isupper(c);
    if (is("xdigit")) return std::isxdigit(c);
    *known = false;
    return false;
}

// Matches a bracket expression; `p` points at '[' and is left on the closing ']'.
Outcome matchBracket(const uchar*& p, uchar t) {
    uchar pc = *++p;
    const bool negated = pc == '!' || pc == '^';
    if (negated) pc = *++p;
    uchar previous = 0;
    bool matched = false;
    do {
        if (!pc) return AbortAll;
        if (pc == '\\') {
            pc = *++p;
            if (!pc) return AbortAll;
            if (t == pc) matched = true;
        } else if (pc == '-' && previous && p[1] && p[1] != ']') {
            pc = *++p;
            if (pc == '\\') {
                pc = *++p;
                if (!pc) return AbortAll;
            }
            if (t <= pc && t >= previous) matched = true;
            pc = 0; // a range cannot start another range
        } else if (pc == '[' && p[1] == ':') {
            const uchar* start = p + 2;
            const uchar* q = start;
            while (*q && *q != ']') ++q;
            if (!*q) return AbortAll;
            if (q - start < 1 || q[-1] != ':') {
                // No ":]": the '[' is an ordinary member of the set.
                if (t == '[') matched = true;
            } else {
                bool known = false;
                if (classMatches(start, size_t(q - start - 1), t, &known)) matched = true;
                if (!known) return AbortAll;
                p = q;
                pc = 0;
            }
        } else if (t == pc) {
            matched = true;
        }
        previous = pc;
        pc = *++p;
    } while (pc != ']');
    return (matched == negated || t == '/') ? NoMatch : Matched;
}

Outcome doMatch(const uchar* p, const uchar* text);

Outcome matchStar(const uchar*& p, const uchar*& text, const uchar* patternStart, bool* consumed) {
    *consumed = false;
    bool crossSlash = false;
    if (*++p == '*') {
        const uchar* before = p - 2;
        while (*++p == '*') {
        }
        if ((before < patternStart || *before == '/') &&
            (*p == '\0' || *p == '/' || (p[0] == '\\' && p[1] == '/'))) {
            // "**/" may also match no directory at all.
            if (p[0] == '/' && doMatch(p + 1, text) == Matched) return Matched;
            crossSlash = true;
        }
    }
    if (*p == '\0') {
        if (!crossSlash && std::strchr(reinterpret_cast<const char*>(text), '/'))
            return AbortToDoubleStar;
        return Matched;
    }
    if (!crossSlash && *p == '/') {
        const char* slash = std::strchr(reinterpret_cast<const char*>(text), '/');
        if (!slash) return AbortAll;
        text = reinterpret_cast<const uchar*>(slash);
        *consumed = true; // the caller matches the slash itself
        return NoMatch;
    }
    for (uchar t = *text; t; t = *++text) {
        const Outcome outcome = doMatch(p, text);
        if (outcome != NoMatch) {
            if (!crossSlash || outcome != AbortToDoubleStar) return outcome;
        } else if (!crossSlash && t == '/') {
            return AbortToDoubleStar;
        }
    }
    return AbortAll;
}

Outcome doMatch(const uchar* p, const uchar* text) {
    const uchar* patternStart = p;
    for (; *p; ++text, ++p) {
        const uchar t = *text;
        if (t == '\0' && *p != '*') return AbortAll;
        switch (*p) {
        case '\\':
            ++p;
            if (t != *p) return NoMatch;
            break;
        case '?':
            if (t == '/') return NoMatch;
            break;
        case '[': {
            const Outcome outcome = matchBracket(p, t);
            if (outcome != Matched) return outcome;
            break;
        }
        case '*': {
            bool consumed = false;
            const Outcome outcome = matchStar(p, text, patternStart, &consumed);
            if (!consumed) return outcome;
            if (*text != *p) return NoMatch; // the pattern's '/' against the text's '/'
            break;
        }
        default:
            if (t != *p) return NoMatch;
        }
    }
    return *text ? NoMatch : Matched;
}

} // namespace

bool Wildmatch::match(const QByteArray& pattern, const QByteArray& text) {
    return doMatch(reinterpret_cast<const uchar*>(pattern.constData()),
                   reinterpret_cast<const uchar*>(text.constData())) == Matched;
}

} // namespace folio
