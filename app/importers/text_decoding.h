#pragma once
// Turns file bytes into clean text: BOM-aware decoding, invalid UTF-8 located and replaced,
// binary content recognised, line endings normalised.

#include <QByteArray>
#include <QString>

namespace folio {

struct DecodedText {
    QString text;
    bool binary = false;       // contains NUL bytes where text never does
    qint64 invalidOffset = -1; // byte offset of the first invalid UTF-8 sequence, -1 if none
    qint64 invalidSequences = 0;
};

class TextDecoding {
public:
    // Same rule as git: a NUL byte in the first 8000 bytes means binary.
    static bool looksBinary(const QByteArray& bytes);
    // Decodes UTF-8 (or UTF-16 with a BOM); CRLF and lone CR become LF, so line numbers of the
    // source and of the text agree.
    static DecodedText decode(const QByteArray& bytes);
    // Byte offset of the first invalid UTF-8 sequence, or -1.
    static qint64 firstInvalidUtf8(const QByteArray& bytes, qint64* count = nullptr);
    static QString normaliseNewlines(QString text);
};

} // namespace folio
