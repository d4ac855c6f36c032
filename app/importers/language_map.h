#pragma once
// The language name shown in a codebase's file headers, guessed from the file name.

#include <QString>

namespace folio {

class LanguageMap {
public:
    // "C++", "Python", ...; "Text" when nothing fits.
    static QString languageOf(const QString& fileName);
};

} // namespace folio
