#include "mapped_file.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <utility>

namespace sala {
namespace {

Error ioError(const std::filesystem::path& path, const char* what) {
    int err = errno; // before anything else can overwrite it
    return makeError(ErrorCode::Io, path.string() + ": " + what + ": " + std::strerror(err));
}

} // namespace

MappedFile::~MappedFile() {
    release();
}

MappedFile::MappedFile(MappedFile&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)),
      path_(std::move(other.path_)) {}

MappedFile& MappedFile::operator=(MappedFile&& other) noexcept {
    if (this != &other) {
        release();
        data_ = std::exchange(other.data_, nullptr);
        size_ = std::exchange(other.size_, 0);
        path_ = std::move(other.path_);
    }
    return *this;
}

void MappedFile::release() {
    if (data_ != nullptr) munmap(const_cast<std::byte*>(data_), size_);
    data_ = nullptr;
    size_ = 0;
}

Result<MappedFile> MappedFile::open(const std::filesystem::path& path) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec))
        return makeError(ErrorCode::NotFound, path.string() + ": no such file");
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return ioError(path, "cannot open file");
    struct stat st {};
    if (fstat(fd, &st) != 0) {
        Error e = ioError(path, "cannot query file size");
        ::close(fd);
        return e;
    }
    MappedFile file;
    file.path_ = path;
    file.size_ = static_cast<size_t>(st.st_size);
    // mmap rejects a zero length; an empty file simply has no bytes to look at.
    if (file.size_ > 0) {
        void* p = mmap(nullptr, file.size_, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED) {
            Error e = ioError(path, "cannot map file");
            ::close(fd);
            file.size_ = 0;
            return e;
        }
        file.data_ = static_cast<const std::byte*>(p);
    }
    ::close(fd); // the mapping keeps the file alive
    return file;
}

} // namespace sala
