#include "text_decoding.h"

#include <QStringDecoder>

namespace folio {

bool TextDecoding::looksBinary(const QByteArray& bytes) {
    const qsizetype n = qMin<qsizetype>(bytes.size(), 8000);
    return QByteArrayView(bytes.constData(), n).contains('\0');
}

namespace {

// Length of the valid UTF-8 sequence at `i`, or 0 when the bytes there are not valid UTF-8.
int validSequenceLength(const unsigned char* p, qsizetype i, qsizetype n) {
    const unsigned char c = p[i];
    if (c < 0x80) return 1;
    int len = 0;
    unsigned minValue = 0;
    unsigned value = 0;
    if ((c & 0xE0) == 0xC0)
        len = 2, minValue = 0x80, value = c & 0x1F;
    else if ((c & 0xF0) == 0xE0)
        len = 3, minValue = 0x800, value = c & 0x0F;
    else if ((c & 0xF8) == 0xF0)
        len = 4, minValue = 0x10000, value = c & 0x07;
    else
        return 0;
    if (i + len > n) return 0;
    for (int k = 1; k < len; ++k) {
        if ((p[i + k] & 0xC0) != 0x80) return 0;
        value = (value << 6) | (p[i + k] & 0x3F);
    }
    if (value < minValue || value > 0x10FFFF || (value >= 0xD800 && value <= 0xDFFF)) return 0;
    return len;
}

} // namespace

qint64 TextDecoding::firstInvalidUtf8(const QByteArray& bytes, qint64* count) {
    const auto* p = reinterpret_cast<const unsigned char*>(bytes.constData());
    const qsizetype n = bytes.size();
    qint64 first = -1;
    qint64 bad = 0;
    for (qsizetype i = 0; i < n;) {
        const int len = validSequenceLength(p, i, n);
        if (len == 0) {
            if (first < 0) first = i;
            ++bad;
            ++i;
        } else {
            i += len;
        }
    }
    if (count) *count = bad;
    return first;
}

QString TextDecoding::normaliseNewlines(QString text) {
    if (!text.contains(u'\r')) return text;
    text.replace(QStringLiteral("\r\n"), QStringLiteral("\n"));
    text.replace(u'\r', u'\n');
    return text;
}

DecodedText TextDecoding::decode(const QByteArray& bytes) {
    DecodedText out;
    const bool utf16 = bytes.startsWith("\xFF\xFE") || bytes.startsWith("\xFE\xFF");
    if (!utf16 && looksBinary(bytes)) {
        out.binary = true;
        return out;
    }
    if (utf16) {
        auto encoding =
            bytes.startsWith("\xFF\xFE") ? QStringConverter::Utf16LE : QStringConverter::Utf16BE;
        QStringDecoder decoder(encoding, QStringDecoder::Flag::Default);
        out.text = decoder.decode(bytes.mid(2));
        if (decoder.hasError()) out.invalidOffset = 0, out.invalidSequences = 1;
    } else {
        const bool bom = bytes.startsWith("\xEF\xBB\xBF");
        const QByteArray body = bom ? bytes.mid(3) : bytes;
        out.invalidOffset = firstInvalidUtf8(body, &out.invalidSequences);
        if (out.invalidOffset >= 0 && bom) out.invalidOffset += 3;
        out.text = QString::fromUtf8(body);
    }
    out.text = normaliseNewlines(std::move(out.text));
    return out;
}

} // namespace folio
