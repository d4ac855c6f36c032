#include "safetensors_writer.h"

#include "bf16.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <sstream>

namespace testutil {
namespace {

using Json = nlohmann::json;

std::string lengthPrefix(uint64_t n) {
    std::string s(8, '\0');
    for (int i = 0; i < 8; ++i) s[i] = static_cast<char>((n >> (8 * i)) & 0xff);
    return s;
}

} // namespace

std::string headerFor(const std::vector<TensorData>& tensors, const WriteOptions& options) {
    Json header = Json::object();
    uint64_t offset = 0;
    for (const auto& t : tensors) {
        header[t.name] = {{"dtype", t.dtype},
                          {"shape", t.shape},
                          {"data_offsets", {offset, offset + t.bytes.size()}}};
        offset += t.bytes.size() + options.gap;
    }
    if (!options.metadata.empty()) header["__metadata__"] = options.metadata;
    return header.dump();
}

std::string serialize(const std::vector<TensorData>& tensors, const WriteOptions& options) {
    std::string header = headerFor(tensors, options);
    while ((8 + header.size()) % options.align != 0) header += ' ';
    header.append(options.extraPad, ' ');
    std::string data;
    for (const auto& t : tensors) {
        data += t.bytes;
        data.append(options.gap, '\x5a');
    }
    return rawFile(header, data);
}

std::string rawFile(const std::string& header, const std::string& data,
                    std::optional<uint64_t> declaredLength) {
    return lengthPrefix(declaredLength.value_or(header.size())) + header + data;
}

bool writeBytes(const std::filesystem::path& file, const std::string& bytes) {
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    return static_cast<bool>(out);
}

std::string readBytes(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::vector<TensorData> readTensors(const std::filesystem::path& file) {
    std::vector<TensorData> out;
    auto f = sala::SafetensorsFile::open(file);
    if (!f) return out;
    std::vector<const sala::TensorView*> views;
    for (const auto& t : f->tensors()) views.push_back(&t);
    std::sort(views.begin(), views.end(), [](auto* a, auto* b) { return a->data < b->data; });
    for (const auto* t : views)
        out.push_back({t->name, sala::dtypeName(t->dtype), t->shape,
                       std::string(reinterpret_cast<const char*>(t->data), t->bytes)});
    return out;
}

TensorData* findTensor(std::vector<TensorData>& tensors, const std::string& name) {
    for (auto& t : tensors)
        if (t.name == name) return &t;
    return nullptr;
}

bool removeTensor(std::vector<TensorData>& tensors, const std::string& name) {
    auto it = std::find_if(tensors.begin(), tensors.end(),
                           [&](const TensorData& t) { return t.name == name; });
    if (it == tensors.end()) return false;
    tensors.erase(it);
    return true;
}

void bf16ToF32(TensorData& t) {
    std::string out(t.bytes.size() * 2, '\0');
    for (size_t i = 0; i < t.bytes.size() / 2; ++i) {
        uint16_t bits;
        std::memcpy(&bits, t.bytes.data() + 2 * i, 2);
        float f = sala::bf16ToFloat(bits);
        std::memcpy(out.data() + 4 * i, &f, 4);
    }
    t.dtype = "F32";
    t.bytes = std::move(out);
}

std::string shardName(int i, int n) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "model-%05d-of-%05d.safetensors", i + 1, n);
    return buf;
}

bool writeModelFolder(const std::filesystem::path& dir, const std::string& configText,
                      const std::vector<TensorData>& tensors, int shards,
                      const WriteOptions& options) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (!configText.empty() && !writeBytes(dir / "config.json", configText)) return false;
    if (shards <= 1) return writeBytes(dir / "model.safetensors", serialize(tensors, options));
    Json index = {{"metadata", {{"total_size", 0}}}, {"weight_map", Json::object()}};
    uint64_t total = 0;
    for (int s = 0; s < shards; ++s) {
        std::vector<TensorData> part;
        for (size_t i = s; i < tensors.size(); i += shards) {
            part.push_back(tensors[i]);
            index["weight_map"][tensors[i].name] = shardName(s, shards);
            total += tensors[i].bytes.size();
        }
        if (!writeBytes(dir / shardName(s, shards), serialize(part, options))) return false;
    }
    index["metadata"]["total_size"] = total;
    return writeBytes(dir / "model.safetensors.index.json", index.dump(2));
}

} // namespace testutil
