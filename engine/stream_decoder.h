#pragma once
// Turns generated tokens into text one token at a time.

#include "tokenizer.h"

#include <string>
#include <string_view>

namespace sala {

// Each push returns the text the token adds. Bytes of byte-fallback tokens are held back until
// they complete a UTF-8 character, so no output ever holds a broken sequence; bytes that can not
// become a character come out as U+FFFD, one per byte. For valid text the outputs of all pushes
// plus flush() concatenate to Tokenizer::decode(ids, skipSpecial), leading-space rule included.
// The tokenizer must outlive the decoder.
class StreamDecoder {
public:
    explicit StreamDecoder(const Tokenizer& tokenizer, bool skipSpecial = false);

    std::string push(int id);
    // Emits what is still held back (an unfinished character becomes U+FFFD per byte) and starts
    // a new text.
    std::string flush();

private:
    std::string takeBytes(bool final);
    std::string emit(std::string text);

    const Tokenizer* tokenizer_;
    bool skipSpecial_;
    bool atStart_ = true; // the first character of the text has not been emitted yet
    std::string pending_; // bytes of byte tokens not yet emitted
};

// Length of the UTF-8 character at the start of `s`: > 0 when complete and valid, 0 when `s` is
// empty or a valid but unfinished start, -1 when its first byte can not start a valid character.
int utf8SequenceLength(std::string_view s);

} // namespace sala
