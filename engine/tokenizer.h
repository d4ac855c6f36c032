#pragma once
// The SentencePiece-BPE tokenizer of the MiniCPM4 family, bit-exact with the reference Hugging Face
// fast tokenizer ("legacy" Llama behaviour: split at special tokens, then every plain segment is
// written with "▁" for spaces and one "▁" in front, then BPE with byte fallback).

#include "result.h"

#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace sala {

class Tokenizer {
public:
    // dir holds tokenizer.model plus optional tokenizer_config.json / added_tokens.json /
    // special_tokens_map.json (special tokens and their ids; bos/eos/unk names).
    static Result<Tokenizer> load(const std::filesystem::path& dir);

    Tokenizer(Tokenizer&&) noexcept;
    Tokenizer& operator=(Tokenizer&&) noexcept;
    ~Tokenizer();

    // Reference-exact encoding; special-token strings in the text become their ids.
    std::vector<int> encode(std::string_view text, bool addBos) const;
    // Reference decoding: "▁" is a space, byte tokens are joined into UTF-8 (a run of byte tokens
    // that is not valid UTF-8 gives one U+FFFD per byte), one leading space is dropped.
    // Ids outside the vocabulary are ignored.
    std::string decode(std::span<const int> ids, bool skipSpecial = false) const;

    std::string tokenPiece(int id) const; // raw piece text, e.g. "▁Hello" or "<0x0A>"; "" if none
    // The text a token stands for in decoded output ("▁" as a space); "" for byte tokens.
    std::string tokenText(int id) const;
    // The byte of a byte-fallback token such as <0xE4>, or -1.
    int byteValue(int id) const;
    // The id of an exact piece or added token, or -1.
    int pieceId(std::string_view piece) const;

    int vocabSize() const;  // pieces + added tokens (73448 for MiniCPM4)
    int pieceCount() const; // pieces of tokenizer.model alone
    int bosId() const;
    int eosId() const; // the chat end token <|im_end|> when present, else </s>
    int unkId() const;
    int imStartId() const;            // -1 when absent
    int imEndId() const;              // -1 when absent
    std::vector<int> stopIds() const; // </s> and <|im_end|> when present
    bool isSpecial(int id) const;

private:
    struct Impl;
    explicit Tokenizer(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

} // namespace sala
