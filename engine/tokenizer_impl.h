#pragma once
// The state behind sala::Tokenizer, shared by tokenizer_files.cpp (which fills it from the
// tokenizer folder) and tokenizer.cpp (which encodes and decodes with it); internal to engine/.

#include "tokenizer.h"

#include <nlohmann/json_fwd.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace sala {

namespace tokenizer_detail {

inline uint64_t pairKey(int left, int right) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) |
           static_cast<uint32_t>(right);
}

struct Merge {
    int rank = 0;
    int id = 0;
};

// Open addressing with linear probing: merge lookups dominate encoding time.
class MergeTable {
public:
    void build(const std::vector<std::pair<uint64_t, Merge>>& entries) {
        size_t capacity = 16;
        while (capacity < 2 * entries.size()) capacity *= 2;
        slots_.assign(capacity, Slot{});
        mask_ = capacity - 1;
        for (const auto& [key, merge] : entries) {
            size_t i = slotOf(key);
            while (slots_[i].key != kEmpty && slots_[i].key != key) i = (i + 1) & mask_;
            slots_[i] = Slot{key, merge};
        }
    }
    const Merge* find(uint64_t key) const {
        if (slots_.empty()) return nullptr;
        for (size_t i = slotOf(key);; i = (i + 1) & mask_) {
            if (slots_[i].key == key) return &slots_[i].merge;
            if (slots_[i].key == kEmpty) return nullptr;
        }
    }

private:
    static constexpr uint64_t kEmpty = ~uint64_t{0}; // ids are non-negative ints: never a key
    struct Slot {
        uint64_t key = kEmpty;
        Merge merge;
    };
    size_t slotOf(uint64_t key) const {
        return static_cast<size_t>((key * 0x9E3779B97F4A7C15ull) >> 32) & mask_;
    }
    std::vector<Slot> slots_;
    size_t mask_ = 0;
};

struct AddedToken {
    std::string content;
    int id = 0;
};

} // namespace tokenizer_detail

struct Tokenizer::Impl {
    std::vector<std::string> pieces; // by id, added tokens included; "" for unassigned ids
    std::vector<char> special;
    std::vector<int> byteOf;                       // the byte of a byte-fallback piece, else -1
    std::unordered_map<std::string, int> pieceIds; // tokenizer.model pieces only
    std::unordered_map<std::string, int> addedIds;
    tokenizer_detail::MergeTable merges;
    std::vector<char> mergeable; // by piece id: whether the piece is half of some merge
    std::array<int, 256> byteIds{};
    bool byteFallback = false;
    std::vector<tokenizer_detail::AddedToken> added; // strings split out of text before BPE
    int pieceCount = 0;
    int unk = -1, bos = -1, eos = -1, endOfText = -1, imStart = -1, imEnd = -1;
    int modelUnk = -1, modelBos = -1, modelEos = -1; // as tokenizer.model declares them
    std::optional<std::string> bosName, eosName, unkName;

    Status loadModel(const std::filesystem::path& file);
    void buildMerges(const std::vector<float>& scores);
    Status addToken(const std::string& content, int64_t id, bool isSpecial,
                    const std::string& source);
    Status readConfig(const std::filesystem::path& dir);
    Status readTokenizerConfig(const std::filesystem::path& file);
    Status readAddedTokens(const std::filesystem::path& file);
    Status readSpecialTokensMap(const std::filesystem::path& file);
    Status readNames(const nlohmann::json& json, const std::string& src,
                     std::vector<std::string>* names);
    void resolveIds();
    int lookup(const std::string& name) const;

    struct Symbol {
        int id, prev, next;
    };
    void mergeRun(std::vector<Symbol>& symbols, std::vector<int>& out) const;
    void encodeSegment(std::string_view text, std::vector<int>& out) const;
    void encodeText(std::string_view text, std::vector<int>& out) const;
};

} // namespace sala
