#include "stream_decoder.h"

namespace sala {
namespace {
constexpr std::string_view kReplacement = "\xEF\xBF\xBD";
}

int utf8SequenceLength(std::string_view s) {
    if (s.empty()) return 0;
    const auto lead = static_cast<unsigned char>(s[0]);
    if (lead < 0x80) return 1;
    int length = 0;
    unsigned char lo = 0x80, hi = 0xBF; // allowed range of the second byte
    if (lead >= 0xC2 && lead <= 0xDF) {
        length = 2;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
        length = 3;
        if (lead == 0xE0) lo = 0xA0; // overlong
        if (lead == 0xED) hi = 0x9F; // surrogates
    } else if (lead >= 0xF0 && lead <= 0xF4) {
        length = 4;
        if (lead == 0xF0) lo = 0x90; // overlong
        if (lead == 0xF4) hi = 0x8F; // beyond U+10FFFF
    } else {
        return -1;
    }
    for (int k = 1; k < length; ++k) {
        if (static_cast<size_t>(k) >= s.size()) return 0;
        const auto b = static_cast<unsigned char>(s[k]);
        if (b < (k == 1 ? lo : 0x80) || b > (k == 1 ? hi : 0xBF)) return -1;
    }
    return length;
}

StreamDecoder::StreamDecoder(const Tokenizer& tokenizer, bool skipSpecial)
    : tokenizer_(&tokenizer), skipSpecial_(skipSpecial) {}

std::string StreamDecoder::push(int id) {
    // Like decode: unknown ids and skipped specials are invisible, even inside a byte run.
    if (tokenizer_->tokenPiece(id).empty()) return {};
    if (skipSpecial_ && tokenizer_->isSpecial(id)) return {};
    if (const int b = tokenizer_->byteValue(id); b >= 0) {
        pending_.push_back(static_cast<char>(b));
        return emit(takeBytes(false));
    }
    std::string text = takeBytes(true);
    text += tokenizer_->tokenText(id);
    return emit(std::move(text));
}

std::string StreamDecoder::flush() {
    std::string text = emit(takeBytes(true));
    atStart_ = true;
    return text;
}

// The complete characters at the front of the held bytes; with `final`, everything.
std::string StreamDecoder::takeBytes(bool final) {
    std::string out;
    size_t i = 0;
    while (i < pending_.size()) {
        const int n = utf8SequenceLength(std::string_view(pending_).substr(i));
        if (n > 0) {
            out.append(pending_, i, static_cast<size_t>(n));
            i += static_cast<size_t>(n);
        } else if (n < 0 || final) {
            out += kReplacement;
            ++i;
        } else {
            break; // an unfinished character waits for its next bytes
        }
    }
    pending_.erase(0, i);
    return out;
}

// decode drops one leading space of the whole text; here that is the first text emitted.
std::string StreamDecoder::emit(std::string text) {
    if (atStart_ && !text.empty()) {
        atStart_ = false;
        if (text.front() == ' ') text.erase(0, 1);
    }
    return text;
}

} // namespace sala
