#pragma once
// Read-only memory mapping of a whole file: model weights are used in place, never copied.

#include "result.h"

#include <cstddef>
#include <filesystem>
#include <string>

namespace sala {

class MappedFile {
public:
    MappedFile() = default;
    ~MappedFile();
    MappedFile(MappedFile&& other) noexcept;
    MappedFile& operator=(MappedFile&& other) noexcept;
    MappedFile(const MappedFile&) = delete;
    MappedFile& operator=(const MappedFile&) = delete;

    // Errors: NotFound (no such regular file), Io (cannot open or map it).
    static Result<MappedFile> open(const std::filesystem::path& path);

    // nullptr for an empty file.
    const std::byte* data() const { return data_; }
    size_t size() const { return size_; }
    const std::filesystem::path& path() const { return path_; }

private:
    void release();

    const std::byte* data_ = nullptr;
    size_t size_ = 0;
    std::filesystem::path path_;
};

} // namespace sala
