#include "tokenizer.h"

#include "file_util.h"
#include "stream_decoder.h"

#include <nlohmann/json.hpp>
#include <sentencepiece_processor.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <functional>
#include <optional>
#include <queue>
#include <unordered_map>

namespace sala {

namespace {

using Json = nlohmann::json;
namespace fs = std::filesystem;

constexpr std::string_view kMetaSpace = "\xE2\x96\x81"; // "▁"
constexpr std::string_view kReplacement = "\xEF\xBF\xBD";
// Added token ids may follow the pieces, but not so far that the id tables become absurd.
constexpr int64_t kMaxAddedIdSpan = 1 << 20;
constexpr int kBpeModelType = 2;

bool isValidUtf8(std::string_view s) {
    for (size_t i = 0; i < s.size();) {
        const int n = utf8SequenceLength(s.substr(i));
        if (n <= 0) return false;
        i += static_cast<size_t>(n);
    }
    return true;
}

// Calls onField(field, wireType, varint, bytes) for each top-level protobuf field; false when
// the data is not well-formed protobuf.
bool scanProto(std::string_view data,
               const std::function<void(uint64_t, int, uint64_t, std::string_view)>& onField) {
    size_t i = 0;
    auto varint = [&](uint64_t& v) {
        v = 0;
        for (int shift = 0; shift < 64 && i < data.size(); shift += 7) {
            const auto b = static_cast<unsigned char>(data[i++]);
            v |= static_cast<uint64_t>(b & 0x7F) << shift;
            if (b < 0x80) return true;
        }
        return false;
    };
    while (i < data.size()) {
        uint64_t key = 0, value = 0;
        if (!varint(key)) return false;
        const int wire = static_cast<int>(key & 7);
        std::string_view bytes;
        if (wire == 0) {
            if (!varint(value)) return false;
        } else if (wire == 1 || wire == 5) {
            const size_t n = wire == 1 ? 8 : 4;
            if (data.size() - i < n) return false;
            i += n;
        } else if (wire == 2) {
            if (!varint(value) || value > data.size() - i) return false;
            bytes = data.substr(i, value);
            i += value;
        } else {
            return false;
        }
        onField(key >> 3, wire, value, bytes);
    }
    return true;
}

// The trainer's model type (1 unigram, 2 BPE, ...), or -1 when it can not be read.
int sentencePieceModelType(std::string_view model) {
    int type = 1; // the protobuf default
    bool trainerOk = true;
    const bool ok = scanProto(model, [&](uint64_t field, int wire, uint64_t, std::string_view b) {
        if (field != 2 || wire != 2) return; // ModelProto.trainer_spec
        trainerOk = trainerOk && scanProto(b, [&](uint64_t f, int w, uint64_t v, std::string_view) {
                        if (f == 3 && w == 0) type = static_cast<int>(v); // TrainerSpec.model_type
                    });
    });
    return ok && trainerOk ? type : -1;
}

uint64_t pairKey(int left, int right) {
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

// A JSON file of the tokenizer folder; null when the file does not exist.
Result<Json> readJsonFile(const fs::path& file) {
    std::error_code ec;
    if (!fs::exists(file, ec)) return Json();
    auto text = readTextFile(file);
    if (!text) return text.error();
    Json json = Json::parse(*text, nullptr, false);
    if (json.is_discarded()) return makeError(ErrorCode::Format, file.string() + ": invalid JSON");
    if (!json.is_object())
        return makeError(ErrorCode::Format, file.string() + ": expected a JSON object");
    return json;
}

// A token name given as "text" or {"content": "text"}; nullopt when absent or null.
Result<std::optional<std::string>> tokenName(const Json& v, const std::string& what) {
    if (v.is_null()) return std::optional<std::string>();
    if (v.is_string()) return std::optional<std::string>(v.get<std::string>());
    if (v.is_object()) {
        auto it = v.find("content");
        if (it != v.end() && it->is_string())
            return std::optional<std::string>(it->get<std::string>());
    }
    return makeError(ErrorCode::Format, what + " must be a string or an object with \"content\"");
}

Json field(const Json& obj, const char* key) {
    auto it = obj.find(key);
    return it == obj.end() ? Json() : *it;
}

} // namespace

struct Tokenizer::Impl {
    std::vector<std::string> pieces; // by id, added tokens included; "" for unassigned ids
    std::vector<char> special;
    std::vector<int> byteOf;                       // the byte of a byte-fallback piece, else -1
    std::unordered_map<std::string, int> pieceIds; // tokenizer.model pieces only
    std::unordered_map<std::string, int> addedIds;
    MergeTable merges;
    std::vector<char> mergeable; // by piece id: whether the piece is half of some merge
    std::array<int, 256> byteIds{};
    bool byteFallback = false;
    std::vector<AddedToken> added; // strings split out of text before BPE
    int pieceCount = 0;
    int unk = -1, bos = -1, eos = -1, endOfText = -1, imStart = -1, imEnd = -1;
    int modelUnk = -1, modelBos = -1, modelEos = -1; // as tokenizer.model declares them
    std::optional<std::string> bosName, eosName, unkName;

    Status loadModel(const fs::path& file);
    void buildMerges(const std::vector<float>& scores);
    Status addToken(const std::string& content, int64_t id, bool isSpecial,
                    const std::string& source);
    Status readConfig(const fs::path& dir);
    Status readTokenizerConfig(const fs::path& file);
    Status readAddedTokens(const fs::path& file);
    Status readSpecialTokensMap(const fs::path& file);
    Status readNames(const Json& json, const std::string& src, std::vector<std::string>* names);
    void resolveIds();
    int lookup(const std::string& name) const;

    struct Symbol {
        int id, prev, next;
    };
    void mergeRun(std::vector<Symbol>& symbols, std::vector<int>& out) const;
    void encodeSegment(std::string_view text, std::vector<int>& out) const;
    void encodeText(std::string_view text, std::vector<int>& out) const;
};

Status Tokenizer::Impl::loadModel(const fs::path& file) {
    auto bytes = readTextFile(file);
    if (!bytes) return bytes.error();
    sentencepiece::SentencePieceProcessor sp;
    const auto status = sp.LoadFromSerializedProto(*bytes);
    if (!status.ok() || sp.GetPieceSize() <= 0)
        return makeError(ErrorCode::Format, file.string() + ": not a valid SentencePiece model (" +
                                                std::string(status.message()) + ")");
    const int type = sentencePieceModelType(*bytes);
    if (type != kBpeModelType)
        return makeError(ErrorCode::Unsupported,
                         file.string() + ": only BPE SentencePiece models are supported (type " +
                             std::to_string(type) + ")");
    pieceCount = sp.GetPieceSize();
    pieces.resize(pieceCount);
    special.assign(pieceCount, 0);
    byteOf.assign(pieceCount, -1);
    byteIds.fill(-1);
    std::vector<float> scores(pieceCount);
    for (int id = 0; id < pieceCount; ++id) {
        pieces[id] = sp.IdToPiece(id);
        pieceIds[pieces[id]] = id;
        const float score = sp.GetScore(id);
        scores[id] = std::isnan(score) ? -INFINITY : score;
        unsigned value = 0;
        const std::string& p = pieces[id];
        if (sp.IsByte(id) && p.size() == 6 &&
            std::from_chars(p.data() + 3, p.data() + 5, value, 16).ec == std::errc() &&
            value < 256) {
            byteOf[id] = static_cast<int>(value);
            byteIds[value] = id;
        }
    }
    byteFallback = std::none_of(byteIds.begin(), byteIds.end(), [](int id) { return id < 0; });
    buildMerges(scores);
    modelUnk = sp.unk_id();
    modelBos = sp.bos_id();
    modelEos = sp.eos_id();
    for (int id = 0; id < pieceCount; ++id) {
        // Control and unknown pieces (<s>, </s>, <unk>) are special tokens of the reference.
        if (sp.IsControl(id) || sp.IsUnknown(id)) SALA_TRY(addToken(pieces[id], id, true, ""));
    }
    return Status::success();
}

// The merge table the reference derives from the pieces: every split of a piece into two pieces
// is a merge; earlier merges have higher piece scores, then lower piece ids, then lower ids of
// the two halves.
void Tokenizer::Impl::buildMerges(const std::vector<float>& scores) {
    struct Candidate {
        float score;
        int merged, left, right;
    };
    std::vector<Candidate> candidates;
    for (int id = 0; id < pieceCount; ++id) {
        const std::string& p = pieces[id];
        for (size_t cut = 1; cut < p.size(); ++cut) {
            if ((static_cast<unsigned char>(p[cut]) & 0xC0) == 0x80) continue; // inside a char
            auto left = pieceIds.find(p.substr(0, cut));
            auto right = pieceIds.find(p.substr(cut));
            if (left == pieceIds.end() || right == pieceIds.end()) continue;
            candidates.push_back({scores[id], pieceIds[p], left->second, right->second});
        }
    }
    std::sort(candidates.begin(), candidates.end(), [](const Candidate& a, const Candidate& b) {
        if (a.score != b.score) return a.score > b.score;
        if (a.merged != b.merged) return a.merged < b.merged;
        if (a.left != b.left) return a.left < b.left;
        return a.right < b.right;
    });
    std::vector<std::pair<uint64_t, Merge>> entries;
    entries.reserve(candidates.size());
    mergeable.assign(pieceCount, 0);
    for (size_t rank = 0; rank < candidates.size(); ++rank) {
        const auto& c = candidates[rank];
        entries.push_back({pairKey(c.left, c.right), Merge{static_cast<int>(rank), c.merged}});
        mergeable[c.left] = mergeable[c.right] = 1;
    }
    merges.build(entries);
}

Status Tokenizer::Impl::addToken(const std::string& content, int64_t id, bool isSpecial,
                                 const std::string& source) {
    const std::string where = source.empty() ? std::string("tokenizer.model") : source;
    if (content.empty())
        return makeError(ErrorCode::Format,
                         where + ": empty token text for id " + std::to_string(id));
    if (id < 0 || id >= pieceCount + kMaxAddedIdSpan)
        return makeError(ErrorCode::Format, where + ": token id " + std::to_string(id) + " of \"" +
                                                content + "\" is out of range");
    const auto index = static_cast<size_t>(id);
    if (index >= pieces.size()) {
        pieces.resize(index + 1);
        special.resize(index + 1, 0);
        byteOf.resize(index + 1, -1);
    }
    if (!pieces[index].empty() && pieces[index] != content)
        return makeError(ErrorCode::Mismatch, where + ": token id " + std::to_string(id) +
                                                  " is \"" + content + "\" but already \"" +
                                                  pieces[index] + "\"");
    auto known = addedIds.find(content);
    if (known != addedIds.end() && known->second != id)
        return makeError(ErrorCode::Mismatch, where + ": token \"" + content + "\" has id " +
                                                  std::to_string(id) + " but already " +
                                                  std::to_string(known->second));
    pieces[index] = content;
    special[index] = special[index] || isSpecial;
    if (known == addedIds.end()) {
        addedIds.emplace(content, static_cast<int>(id));
        added.push_back({content, static_cast<int>(id)});
    }
    return Status::success();
}

Status Tokenizer::Impl::readTokenizerConfig(const fs::path& file) {
    auto json = readJsonFile(file);
    if (!json) return json.error();
    if (json->is_null()) return Status::success();
    const std::string src = file.string();
    const Json decoder = field(*json, "added_tokens_decoder");
    if (!decoder.is_null() && !decoder.is_object())
        return makeError(ErrorCode::Format, src + ": \"added_tokens_decoder\" must be an object");
    for (const auto& [key, entry] : decoder.items()) {
        int64_t id = -1;
        const auto parsed = std::from_chars(key.data(), key.data() + key.size(), id);
        if (parsed.ec != std::errc() || parsed.ptr != key.data() + key.size())
            return makeError(ErrorCode::Format,
                             src + ": added_tokens_decoder key \"" + key + "\" is not a token id");
        const Json content = entry.is_object() ? field(entry, "content") : Json();
        const Json isSpecial = entry.is_object() ? field(entry, "special") : Json();
        if (!content.is_string() || !(isSpecial.is_null() || isSpecial.is_boolean()))
            return makeError(ErrorCode::Format, src + ": added_tokens_decoder entry \"" + key +
                                                    "\" needs a string \"content\"");
        SALA_TRY(addToken(content.get<std::string>(), id,
                          isSpecial.is_boolean() && isSpecial.get<bool>(), src));
    }
    return readNames(*json, src, nullptr);
}

// The bos/eos/unk token names of a configuration file.
Status Tokenizer::Impl::readNames(const Json& json, const std::string& src,
                                  std::vector<std::string>* names) {
    for (auto [key, target] : {std::pair{"bos_token", &bosName}, std::pair{"eos_token", &eosName},
                               std::pair{"unk_token", &unkName}}) {
        auto name = tokenName(field(json, key), src + ": \"" + key + "\"");
        if (!name) return name.error();
        if (!*name) continue;
        *target = **name;
        if (names) names->push_back(**name);
    }
    return Status::success();
}

Status Tokenizer::Impl::readAddedTokens(const fs::path& file) {
    auto json = readJsonFile(file);
    if (!json) return json.error();
    for (const auto& [content, id] : json->items()) {
        if (!id.is_number_integer())
            return makeError(ErrorCode::Format,
                             file.string() + ": the id of \"" + content + "\" must be an integer");
        SALA_TRY(addToken(content, id.get<int64_t>(), false, file.string()));
    }
    return Status::success();
}

Status Tokenizer::Impl::readSpecialTokensMap(const fs::path& file) {
    auto json = readJsonFile(file);
    if (!json) return json.error();
    if (json->is_null()) return Status::success();
    const std::string src = file.string();
    std::vector<std::string> names;
    SALA_TRY(readNames(*json, src, &names));
    const Json extra = field(*json, "additional_special_tokens");
    if (!extra.is_null() && !extra.is_array())
        return makeError(ErrorCode::Format,
                         src + ": \"additional_special_tokens\" must be an array");
    for (const auto& entry : extra) {
        auto name = tokenName(entry, src + ": an additional special token");
        if (!name) return name.error();
        if (*name) names.push_back(**name);
    }
    // Names that are neither pieces nor added tokens name nothing this vocabulary can produce.
    for (const auto& name : names) {
        const int id = lookup(name);
        if (id >= 0) SALA_TRY(addToken(name, id, true, src));
    }
    return Status::success();
}

int Tokenizer::Impl::lookup(const std::string& name) const {
    if (auto it = addedIds.find(name); it != addedIds.end()) return it->second;
    if (auto it = pieceIds.find(name); it != pieceIds.end()) return it->second;
    return -1;
}

void Tokenizer::Impl::resolveIds() {
    auto pick = [&](const std::optional<std::string>& name, const char* fallback, int spId) {
        if (name && lookup(*name) >= 0) return lookup(*name);
        if (lookup(fallback) >= 0) return lookup(fallback);
        return spId >= 0 && spId < pieceCount ? spId : -1;
    };
    unk = pick(unkName, "<unk>", modelUnk);
    bos = pick(bosName, "<s>", modelBos);
    endOfText = pick(std::nullopt, "</s>", modelEos);
    imStart = lookup("<|im_start|>");
    imEnd = lookup("<|im_end|>");
    eos = imEnd >= 0 ? imEnd : pick(eosName, "</s>", modelEos);
}

Status Tokenizer::Impl::readConfig(const fs::path& dir) {
    SALA_TRY(readTokenizerConfig(dir / "tokenizer_config.json"));
    SALA_TRY(readAddedTokens(dir / "added_tokens.json"));
    return readSpecialTokensMap(dir / "special_tokens_map.json");
}

// BPE over a run of symbols: always the best-ranked adjacent pair, leftmost first, as the
// reference does.
void Tokenizer::Impl::mergeRun(std::vector<Symbol>& symbols, std::vector<int>& out) const {
    using Entry = std::pair<int, int>; // rank, position
    std::priority_queue<Entry, std::vector<Entry>, std::greater<>> queue;
    auto consider = [&](int pos) {
        const int next = symbols[pos].next;
        if (next < 0) return;
        if (const Merge* m = merges.find(pairKey(symbols[pos].id, symbols[next].id)))
            queue.push({m->rank, pos});
    };
    for (int pos = 0; pos + 1 < static_cast<int>(symbols.size()); ++pos) consider(pos);
    while (!queue.empty()) {
        const auto [rank, pos] = queue.top();
        queue.pop();
        Symbol& s = symbols[pos];
        if (s.id < 0 || s.next < 0) continue;
        const Merge* m = merges.find(pairKey(s.id, symbols[s.next].id));
        if (!m || m->rank != rank) continue; // stale entry
        const int gone = s.next;
        s.id = m->id;
        s.next = symbols[gone].next;
        if (s.next >= 0) symbols[s.next].prev = pos;
        symbols[gone].id = -1;
        if (s.prev >= 0) consider(s.prev);
        consider(pos);
    }
    for (int pos = symbols.empty() ? -1 : 0; pos >= 0; pos = symbols[pos].next)
        out.push_back(symbols[pos].id);
    symbols.clear();
}

// One plain segment, written the reference way: "▁" in front and for every space. A symbol that
// is in no merge splits the segment into runs that merge independently (keeps the queue small).
void Tokenizer::Impl::encodeSegment(std::string_view text, std::vector<int>& out) const {
    if (text.empty()) return;
    std::vector<Symbol> symbols;
    auto push = [&](int id) {
        if (!mergeable[id]) {
            mergeRun(symbols, out);
            out.push_back(id);
            return;
        }
        const int index = static_cast<int>(symbols.size());
        if (index > 0) symbols.back().next = index;
        symbols.push_back({id, index - 1, -1});
    };
    bool lastUnknown = false;
    auto pushChar = [&](std::string_view ch) {
        if (auto it = pieceIds.find(std::string(ch)); it != pieceIds.end()) {
            push(it->second);
            lastUnknown = false;
        } else if (byteFallback) {
            for (char c : ch) push(byteIds[static_cast<unsigned char>(c)]);
            lastUnknown = false;
        } else if (!lastUnknown && unk >= 0) { // unknown characters in a row make one <unk>
            push(unk);
            lastUnknown = true;
        }
    };
    pushChar(kMetaSpace);
    for (size_t i = 0; i < text.size();) {
        // A byte that starts no valid character stands alone and falls back to its byte token.
        const size_t n = static_cast<size_t>(std::max(1, utf8SequenceLength(text.substr(i))));
        const std::string_view ch = text.substr(i, n);
        pushChar(ch == " " ? kMetaSpace : ch);
        i += n;
    }
    mergeRun(symbols, out);
}

// Splits at added tokens (leftmost match, the longest of those starting there).
void Tokenizer::Impl::encodeText(std::string_view text, std::vector<int>& out) const {
    std::vector<size_t> next(added.size(), 0);
    for (size_t k = 0; k < added.size(); ++k) next[k] = text.find(added[k].content);
    size_t pos = 0;
    while (pos < text.size()) {
        int best = -1;
        for (size_t k = 0; k < added.size(); ++k) {
            if (next[k] < pos) next[k] = text.find(added[k].content, pos);
            if (next[k] == std::string_view::npos) continue;
            if (best < 0 || next[k] < next[best] ||
                (next[k] == next[best] && added[k].content.size() > added[best].content.size()))
                best = static_cast<int>(k);
        }
        const size_t end = best < 0 ? text.size() : next[best];
        encodeSegment(text.substr(pos, end - pos), out);
        if (best < 0) break;
        out.push_back(added[best].id);
        pos = end + added[best].content.size();
    }
}

Tokenizer::Tokenizer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;
Tokenizer::~Tokenizer() = default;

Result<Tokenizer> Tokenizer::load(const fs::path& dir) {
    std::error_code ec;
    if (!fs::is_directory(dir, ec))
        return makeError(ErrorCode::NotFound, dir.string() + ": tokenizer folder not found");
    const fs::path model = dir / "tokenizer.model";
    if (!fs::is_regular_file(model, ec))
        return makeError(ErrorCode::NotFound,
                         dir.string() + ": no tokenizer.model in the tokenizer folder");
    auto impl = std::make_unique<Impl>();
    SALA_TRY(impl->loadModel(model));
    SALA_TRY(impl->readConfig(dir));
    impl->resolveIds();
    if (impl->bos < 0 || impl->eos < 0)
        return makeError(ErrorCode::Format, dir.string() + ": the tokenizer has no " +
                                                (impl->bos < 0 ? "BOS" : "EOS") + " token");
    return Tokenizer(std::move(impl));
}

std::vector<int> Tokenizer::encode(std::string_view text, bool addBos) const {
    std::vector<int> ids;
    if (addBos) ids.push_back(impl_->bos);
    impl_->encodeText(text, ids);
    return ids;
}

std::string Tokenizer::decode(std::span<const int> ids, bool skipSpecial) const {
    std::string out, run;
    // The reference turns a whole run of byte tokens into text at once.
    auto endRun = [&] {
        if (isValidUtf8(run)) {
            out += run;
        } else {
            for (size_t k = 0; k < run.size(); ++k) out += kReplacement;
        }
        run.clear();
    };
    for (int id : ids) {
        if (id < 0 || id >= vocabSize() || impl_->pieces[id].empty()) continue;
        if (skipSpecial && impl_->special[id]) continue;
        if (const int b = byteValue(id); b >= 0) {
            run.push_back(static_cast<char>(b));
            continue;
        }
        endRun();
        out += tokenText(id);
    }
    endRun();
    if (!out.empty() && out.front() == ' ') out.erase(0, 1);
    return out;
}

std::string Tokenizer::tokenPiece(int id) const {
    if (id < 0 || id >= vocabSize()) return {};
    return impl_->pieces[id];
}

std::string Tokenizer::tokenText(int id) const {
    if (byteValue(id) >= 0 || id < 0 || id >= vocabSize()) return {};
    const std::string_view piece = impl_->pieces[id];
    std::string text;
    text.reserve(piece.size());
    for (size_t i = 0; i < piece.size();) {
        if (piece.substr(i, kMetaSpace.size()) == kMetaSpace) {
            text += ' ';
            i += kMetaSpace.size();
        } else {
            text += piece[i++];
        }
    }
    return text;
}

int Tokenizer::byteValue(int id) const {
    return id >= 0 && id < vocabSize() ? impl_->byteOf[id] : -1;
}

int Tokenizer::pieceId(std::string_view piece) const {
    return impl_->lookup(std::string(piece));
}

int Tokenizer::vocabSize() const {
    return static_cast<int>(impl_->pieces.size());
}
int Tokenizer::pieceCount() const {
    return impl_->pieceCount;
}
int Tokenizer::bosId() const {
    return impl_->bos;
}
int Tokenizer::eosId() const {
    return impl_->eos;
}
int Tokenizer::unkId() const {
    return impl_->unk;
}
int Tokenizer::imStartId() const {
    return impl_->imStart;
}
int Tokenizer::imEndId() const {
    return impl_->imEnd;
}

std::vector<int> Tokenizer::stopIds() const {
    std::vector<int> ids;
    for (int id : {impl_->endOfText, impl_->imEnd, impl_->eos})
        if (id >= 0 && std::find(ids.begin(), ids.end(), id) == ids.end()) ids.push_back(id);
    return ids;
}

bool Tokenizer::isSpecial(int id) const {
    return id >= 0 && id < vocabSize() && impl_->special[id];
}

} // namespace sala
