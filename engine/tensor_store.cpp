#include "tensor_store.h"

#include "file_util.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <map>
#include <set>

namespace sala {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

constexpr const char* kIndexName = "model.safetensors.index.json";
constexpr const char* kSingleName = "model.safetensors";
constexpr size_t kFingerprintSample = 64 * 1024;

using ShardMap = TensorStore::ShardMap;

Error formatError(const fs::path& file, const std::string& what) {
    return makeError(ErrorCode::Format, file.string() + ": " + what);
}

// An index may only point at files inside the model folder.
bool isPlainFileName(const std::string& name) {
    fs::path p(name);
    return !name.empty() && p.filename() == p && name != "." && name != "..";
}

Result<ShardMap> readIndex(const fs::path& indexPath) {
    auto text = readTextFile(indexPath);
    if (!text) return text.error();
    Json root = Json::parse(*text, nullptr, /*allow_exceptions=*/false);
    if (root.is_discarded()) return formatError(indexPath, "not valid JSON");
    if (!root.is_object()) return formatError(indexPath, "the top level must be a JSON object");
    auto wm = root.find("weight_map");
    if (wm == root.end() || !wm->is_object())
        return formatError(indexPath, "missing object \"weight_map\"");
    if (wm->empty()) return formatError(indexPath, "\"weight_map\" is empty");
    ShardMap shards;
    for (auto it = wm->begin(); it != wm->end(); ++it) {
        if (!it->is_string() || !isPlainFileName(it->get<std::string>()))
            return formatError(indexPath, "tensor \"" + it.key() + "\": shard " + it->dump() +
                                              " must be a file name in the model folder");
        shards[it->get<std::string>()].push_back(it.key());
    }
    return shards;
}

uint64_t fnv1a(uint64_t h, const void* data, size_t n) {
    const auto* p = static_cast<const unsigned char*>(data);
    for (size_t i = 0; i < n; ++i) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

// Length first, so that the boundaries between the hashed pieces are part of the hash.
uint64_t fnv1aPiece(uint64_t h, const void* data, size_t n) {
    uint64_t len = n;
    h = fnv1a(h, &len, sizeof len);
    return fnv1a(h, data, n);
}

} // namespace

Result<TensorStore> TensorStore::openFile(const fs::path& file) {
    auto f = SafetensorsFile::open(file);
    if (!f) return f.error();
    TensorStore store;
    store.source_ = file.string();
    store.files_.push_back(std::move(*f));
    SALA_TRY(store.index());
    return store;
}

Result<TensorStore> TensorStore::openFolder(const fs::path& dir) {
    std::error_code ec;
    if (!fs::is_directory(dir, ec))
        return makeError(ErrorCode::NotFound, dir.string() + ": no such folder");
    const bool sharded = fs::exists(dir / kIndexName, ec);
    if (!sharded && !fs::exists(dir / kSingleName, ec))
        return makeError(ErrorCode::NotFound, dir.string() + ": neither " +
                                                  std::string(kSingleName) + " nor " + kIndexName +
                                                  " found");
    auto store = sharded ? openShards(dir) : openFile(dir / kSingleName);
    if (!store) return store.error();
    store->source_ = dir.string();
    if (fs::is_regular_file(dir / "config.json", ec)) {
        auto config = readTextFile(dir / "config.json");
        if (!config) return config.error();
        store->configText_ = std::move(*config);
    }
    return store;
}

Result<TensorStore> TensorStore::openShards(const fs::path& dir) {
    const fs::path indexPath = dir / kIndexName;
    auto shards = readIndex(indexPath);
    if (!shards) return shards.error();
    TensorStore store;
    for (const auto& [shard, names] : *shards) {
        auto f = SafetensorsFile::open(dir / shard);
        if (!f && f.error().code == ErrorCode::NotFound)
            return makeError(ErrorCode::NotFound, (dir / shard).string() + ": shard listed in " +
                                                      indexPath.string() + " does not exist");
        if (!f) return f.error();
        store.files_.push_back(std::move(*f));
    }
    SALA_TRY(store.index());
    SALA_TRY(store.checkIndex(*shards, indexPath));
    return store;
}

// The index and the shards must agree exactly: a tensor the index misplaces or omits would be
// silently dropped or picked up by other loaders.
Status TensorStore::checkIndex(const ShardMap& shards, const fs::path& indexPath) const {
    std::set<std::string_view> listed;
    for (const auto& [shard, names] : shards) {
        for (const auto& name : names) {
            const TensorView* t = find(name);
            if (t == nullptr || fs::path(t->file).filename() != shard)
                return formatError(indexPath, "tensor \"" + name + "\" is mapped to " + shard +
                                                  ", which does not contain it");
            listed.insert(name);
        }
    }
    for (const auto& f : files_)
        for (const auto& t : f.tensors())
            if (!listed.contains(t.name))
                return formatError(f.path(), "tensor \"" + t.name + "\" is not listed in " +
                                                 indexPath.string());
    return {};
}

Status TensorStore::index() {
    byName_.clear();
    for (const auto& f : files_) {
        for (const auto& t : f.tensors()) {
            auto [it, inserted] = byName_.emplace(t.name, &t);
            if (!inserted)
                return makeError(ErrorCode::Format, "tensor \"" + t.name + "\" is in both " +
                                                        it->second->file + " and " + t.file);
        }
    }
    return {};
}

const TensorView* TensorStore::find(std::string_view name) const {
    auto it = byName_.find(name);
    return it == byName_.end() ? nullptr : it->second;
}

std::vector<std::string> TensorStore::names() const {
    std::vector<std::string> out;
    out.reserve(byName_.size());
    for (const auto& [name, t] : byName_) out.emplace_back(name);
    std::sort(out.begin(), out.end());
    return out;
}

size_t TensorStore::totalBytes() const {
    size_t total = 0;
    for (const auto& [name, t] : byName_) total += t->bytes;
    return total;
}

uint64_t TensorStore::fingerprint() const {
    uint64_t h = 0xcbf29ce484222325ull;
    for (const auto& f : files_) {
        h = fnv1aPiece(h, f.headerJson().data(), f.headerJson().size());
        const std::byte* data = f.mapping().data() + f.dataOffset();
        const size_t size = f.mapping().size() - f.dataOffset();
        const size_t sample = std::min(size, kFingerprintSample);
        h = fnv1aPiece(h, data, sample);
        h = fnv1aPiece(h, data + size - sample, sample);
    }
    return fnv1aPiece(h, configText_.data(), configText_.size());
}

Status TensorStore::readPages(const LoadProgress& progress) const {
    uint64_t total = 0;
    for (const auto& f : files_) total += f.mapping().size();
    SALA_TRY(reportLoad(progress, 0, total));
    constexpr size_t kSection = size_t(64) << 20;
    constexpr size_t kPage = 4096; // the smallest page size: larger pages are read once each too
    uint64_t done = 0;
    unsigned char sink = 0;
    for (const auto& f : files_) {
        // Volatile: the reads are the point, their values are not.
        const auto* data = reinterpret_cast<const volatile unsigned char*>(f.mapping().data());
        const size_t size = f.mapping().size();
        for (size_t at = 0; at < size; at += kSection) {
            const size_t end = std::min(size, at + kSection);
            for (size_t p = at; p < end; p += kPage) sink ^= data[p];
            done += end - at;
            SALA_TRY(reportLoad(progress, done, total));
        }
    }
    (void)sink;
    return {};
}

} // namespace sala
