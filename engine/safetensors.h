#pragma once
// Reader for the safetensors format: an 8-byte little-endian header length N, N bytes of JSON
// describing every tensor, then the raw little-endian tensor data. The file is memory-mapped
// and every header entry is checked so that no view can point outside the file.

#include "mapped_file.h"
#include "result.h"

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sala {

// The first eight are the common ones; the rest exist so that any file safetensors can write
// opens, and the model binder can then name the dtype it rejects.
enum class DType {
    BF16,
    F16,
    F32,
    I32,
    I64,
    U8,
    F64,
    Bool,
    I8,
    I16,
    U16,
    U32,
    U64,
    F8E4M3,
    F8E5M2
};

size_t dtypeSize(DType dtype);
// The safetensors spelling ("BF16", "F8_E4M3", ...).
const char* dtypeName(DType dtype);
std::optional<DType> parseDType(std::string_view name);

struct TensorView {
    std::string name;
    DType dtype = DType::F32;
    std::vector<int64_t> shape;
    const std::byte* data = nullptr;
    size_t bytes = 0;
    std::string file; // the file the bytes live in, for error messages
    int64_t numel() const;
};

// "[512, 128]"
std::string shapeString(const std::vector<int64_t>& shape);

class SafetensorsFile {
public:
    // Errors: NotFound / Io from opening the file, Format for any malformed header or entry
    // (the message names the file and, where there is one, the tensor).
    static Result<SafetensorsFile> open(const std::filesystem::path& path);

    // Sorted by name. Views stay valid while this object (or the one it is moved into) lives.
    const std::vector<TensorView>& tensors() const { return tensors_; }
    const TensorView* find(std::string_view name) const;
    // The header bytes exactly as stored (including any trailing padding).
    const std::string& headerJson() const { return header_; }
    const std::map<std::string, std::string>& metadata() const { return metadata_; }
    const std::filesystem::path& path() const { return file_.path(); }
    // Offset of the data area from the start of the file.
    size_t dataOffset() const { return 8 + header_.size(); }
    const MappedFile& mapping() const { return file_; }

private:
    MappedFile file_;
    std::string header_;
    std::vector<TensorView> tensors_;
    std::map<std::string, std::string> metadata_;
};

// Headers above this size are refused: real ones are a few hundred kilobytes at most.
inline constexpr uint64_t kMaxSafetensorsHeaderBytes = 100'000'000;

} // namespace sala
