#pragma once
// Test-only writer of safetensors files and model folders, so that tests can build valid,
// altered and malformed inputs without Python.

#include "safetensors.h"

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace testutil {

struct TensorData {
    std::string name;
    std::string dtype; // as written in the header, so tests can also write unknown names
    std::vector<int64_t> shape;
    std::string bytes;
};

struct WriteOptions {
    std::map<std::string, std::string> metadata;
    size_t align = 8;    // the data area starts at a multiple of this (padding spaces)
    size_t extraPad = 0; // spaces added after alignment, to misalign the data on purpose
    size_t gap = 0;      // unused bytes left between consecutive tensors
};

// The header JSON the writer would produce for `tensors`, before padding.
std::string headerFor(const std::vector<TensorData>& tensors, const WriteOptions& options = {});
std::string serialize(const std::vector<TensorData>& tensors, const WriteOptions& options = {});
// Arbitrary header text and data; `declaredLength` overrides the length prefix.
std::string rawFile(const std::string& header, const std::string& data = {},
                    std::optional<uint64_t> declaredLength = std::nullopt);

bool writeBytes(const std::filesystem::path& file, const std::string& bytes);
std::string readBytes(const std::filesystem::path& file);

// Copies every tensor of a safetensors file, in data order.
std::vector<TensorData> readTensors(const std::filesystem::path& file);
TensorData* findTensor(std::vector<TensorData>& tensors, const std::string& name);
bool removeTensor(std::vector<TensorData>& tensors, const std::string& name);
// Re-encodes a BF16 tensor as exact F32.
void bf16ToF32(TensorData& t);

// A model folder: config.json plus model.safetensors, or `shards` shard files and an index.
bool writeModelFolder(const std::filesystem::path& dir, const std::string& configText,
                      const std::vector<TensorData>& tensors, int shards = 1,
                      const WriteOptions& options = {});
std::string shardName(int i, int n);

} // namespace testutil
