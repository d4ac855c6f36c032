// Loading: the tokenizer folder's files (the SentencePiece model, tokenizer_config.json,
// added_tokens.json, special_tokens_map.json) into Tokenizer::Impl.

#include "tokenizer.h"
#include "tokenizer_impl.h"

#include "file_util.h"

#include <nlohmann/json.hpp>
#include <sentencepiece_processor.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <functional>
#include <optional>

namespace sala {

namespace {

using Json = nlohmann::json;
namespace fs = std::filesystem;
using tokenizer_detail::Merge;
using tokenizer_detail::pairKey;

// Added token ids may follow the pieces, but not so far that the id tables become absurd.
constexpr int64_t kMaxAddedIdSpan = 1 << 20;
constexpr int kBpeModelType = 2;

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

} // namespace sala
