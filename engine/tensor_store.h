#pragma once
// Every tensor of a model: one safetensors file, or the shards a Hugging Face
// `model.safetensors.index.json` lists.

#include "load_progress.h"
#include "result.h"
#include "safetensors.h"

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace sala {

class TensorStore {
public:
    // `dir` holds model.safetensors.index.json (sharded; it wins if both exist) or
    // model.safetensors. config.json, when present, is read too: it is part of the fingerprint.
    // Errors: NotFound (folder, weights file or a shard missing), Format (bad index or safetensors
    // file, a tensor the index names missing from its shard, a tensor in two shards or in a shard
    // without an index entry), Io.
    static Result<TensorStore> openFolder(const std::filesystem::path& dir);
    static Result<TensorStore> openFile(const std::filesystem::path& file);

    const TensorView* find(std::string_view name) const;
    std::vector<std::string> names() const; // sorted
    size_t size() const { return byName_.size(); }
    size_t totalBytes() const;
    // The folder or file opened, for error messages.
    const std::string& source() const { return source_; }
    const std::vector<SafetensorsFile>& files() const { return files_; }
    const std::string& configText() const { return configText_; }

    // Identifies the model for saved context states: FNV-1a 64 over each file's header text, a
    // sample of its data (the first and last 64 KiB, so that retrained weights with the same
    // layout differ) and the config text. Fixed order: files by name. Stable across reopen.
    uint64_t fingerprint() const;

    // Reads every page of the weight files once, in order, so that the disk reads happen while
    // the model loads, with progress and a way to stop, instead of during the first prefill.
    // Errors: Cancelled, when `progress` says stop.
    Status readPages(const LoadProgress& progress) const;

    // shard file name -> the tensor names the index assigns to it
    using ShardMap = std::map<std::string, std::vector<std::string>>;

private:
    static Result<TensorStore> openShards(const std::filesystem::path& dir);
    Status index();
    Status checkIndex(const ShardMap& shards, const std::filesystem::path& indexPath) const;

    std::string source_;
    std::vector<SafetensorsFile> files_; // sorted by file name
    std::string configText_;
    // Points into files_' tensor lists, whose storage survives moves of this object.
    std::unordered_map<std::string_view, const TensorView*> byName_;
};

} // namespace sala
