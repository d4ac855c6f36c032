#include "context_file.h"

#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>

#if defined(__unix__)
#include <fcntl.h>
#endif

namespace sala {
namespace {

constexpr char kMagic[8] = {'F', 'O', 'L', 'I', 'O', 'C', 'T', 'X'};
constexpr char kEndMagic[8] = {'F', 'O', 'L', 'I', 'O', 'E', 'N', 'D'};

struct RawHeader {
    char magic[8];
    uint32_t version;
    uint32_t numLayers;
    uint64_t fingerprint;
    int64_t position;
};

struct RawSection {
    char tag[8]; // "SECTION\0" or the end magic
    uint32_t kind;
    uint32_t layer;
    uint32_t type;
    uint32_t reserved;
    uint64_t bytes;
    uint64_t checksum;
};

constexpr char kSectionTag[8] = {'S', 'E', 'C', 'T', 'I', 'O', 'N', 0};

Error fileError(const std::filesystem::path& p, const std::string& what) {
    return makeError(ErrorCode::Format, p.string() + ": " + what);
}

} // namespace

uint64_t checksum64(const void* data, size_t bytes, uint64_t seed) {
    Checksum64 sum(bytes, seed);
    sum.update(data, bytes);
    return sum.finish();
}

// Word-wise multiply-xor mixing: fast enough for gigabytes and sensitive to any flip. The
// words are the input's consecutive 8-byte groups in native order; a last partial word is
// zero-extended.
Checksum64::Checksum64(uint64_t totalBytes, uint64_t seed)
    : h_(seed ^ 0x9e3779b97f4a7c15ull ^ (totalBytes * 0xff51afd7ed558ccdull)) {}

void Checksum64::mixWord(uint64_t w) {
    h_ ^= w * 0xc2b2ae3d27d4eb4full;
    h_ = ((h_ << 31) | (h_ >> 33)) * 0x9e3779b97f4a7c15ull;
}

void Checksum64::update(const void* data, size_t bytes) {
    const auto* p = static_cast<const unsigned char*>(data);
    if (partialBytes_ > 0) {
        const size_t take = std::min<size_t>(8 - partialBytes_, bytes);
        std::memcpy(partial_ + partialBytes_, p, take);
        partialBytes_ += static_cast<unsigned>(take);
        p += take;
        bytes -= take;
        if (partialBytes_ < 8) return;
        uint64_t w;
        std::memcpy(&w, partial_, 8);
        mixWord(w);
        partialBytes_ = 0;
    }
    size_t i = 0;
    for (; i + 8 <= bytes; i += 8) {
        uint64_t w;
        std::memcpy(&w, p + i, 8);
        mixWord(w);
    }
    std::memcpy(partial_, p + i, bytes - i);
    partialBytes_ = static_cast<unsigned>(bytes - i);
}

uint64_t Checksum64::finish() const {
    uint64_t tail = 0;
    std::memcpy(&tail, partial_, partialBytes_);
    uint64_t h = h_ ^ tail * 0x165667b19e3779f9ull;
    h ^= h >> 29;
    h *= 0xbf58476d1ce4e5b9ull;
    return h ^ (h >> 32);
}

Result<ContextFileWriter> ContextFileWriter::create(const std::filesystem::path& file,
                                                    const ContextFileHeader& header) {
    ContextFileWriter w;
    w.target_ = file;
    w.temp_ = file;
    w.temp_ += ".partial";
    w.file_.reset(std::fopen(w.temp_.c_str(), "wb"));
    if (!w.file_) return makeError(ErrorCode::Io, w.temp_.string() + ": cannot create file");
    RawHeader raw{};
    std::memcpy(raw.magic, kMagic, 8);
    raw.version = kContextFileVersion;
    raw.numLayers = header.numLayers;
    raw.fingerprint = header.fingerprint;
    raw.position = header.position;
    if (std::fwrite(&raw, sizeof raw, 1, w.file_.get()) != 1)
        return makeError(ErrorCode::Io, w.temp_.string() + ": write failed");
    return w;
}

Status ContextFileWriter::write(SectionKind kind, uint32_t layer, SectionType type,
                                const void* data, uint64_t bytes) {
    RawSection s{};
    std::memcpy(s.tag, kSectionTag, 8);
    s.kind = static_cast<uint32_t>(kind);
    s.layer = layer;
    s.type = static_cast<uint32_t>(type);
    s.bytes = bytes;
    s.checksum = checksum64(data, bytes);
    if (std::fwrite(&s, sizeof s, 1, file_.get()) != 1 ||
        (bytes > 0 && std::fwrite(data, 1, bytes, file_.get()) != bytes))
        return makeError(ErrorCode::Io, temp_.string() + ": write failed (disk full?)");
    ++sections_;
    return {};
}

Status ContextFileWriter::finish() {
    RawSection end{};
    std::memcpy(end.tag, kEndMagic, 8);
    end.bytes = sections_;
    bool ok = std::fwrite(&end, sizeof end, 1, file_.get()) == 1;
    ok = std::fflush(file_.get()) == 0 && ok;
    ok = std::fclose(file_.release()) == 0 && ok;
    std::error_code ec;
    if (!ok) {
        std::filesystem::remove(temp_, ec);
        return makeError(ErrorCode::Io, temp_.string() + ": write failed (disk full?)");
    }
    std::filesystem::rename(temp_, target_, ec);
    if (ec) return makeError(ErrorCode::Io, target_.string() + ": " + ec.message());
    return {};
}

Result<ContextFileReader> ContextFileReader::open(const std::filesystem::path& file,
                                                  uint64_t expectedFingerprint) {
    ContextFileReader r;
    r.path_ = file;
    std::error_code ec;
    r.fileSize_ = std::filesystem::file_size(file, ec);
    if (ec) return makeError(ErrorCode::NotFound, file.string() + ": cannot open saved state");
    r.file_.reset(std::fopen(file.c_str(), "rb"));
    if (!r.file_) return makeError(ErrorCode::Io, file.string() + ": cannot open saved state");
#if defined(__unix__)
    // Read front to back: a larger read-ahead keeps the disk busy between pieces.
    posix_fadvise(fileno(r.file_.get()), 0, 0, POSIX_FADV_SEQUENTIAL);
#endif
    RawHeader raw{};
    if (std::fread(&raw, sizeof raw, 1, r.file_.get()) != 1 || std::memcmp(raw.magic, kMagic, 8))
        return fileError(file, "not a Folio saved state");
    if (raw.version != kContextFileVersion)
        return makeError(ErrorCode::Unsupported, file.string() + ": saved-state format version " +
                                                     std::to_string(raw.version) +
                                                     " is not supported (expected " +
                                                     std::to_string(kContextFileVersion) + ")");
    if (raw.fingerprint != expectedFingerprint)
        return makeError(ErrorCode::Mismatch,
                         file.string() + ": the state was saved with a different model");
    if (raw.position < 0) return fileError(file, "negative position");
    r.header_ = {raw.fingerprint, raw.position, raw.numLayers};
    return r;
}

Result<bool> ContextFileReader::next(SectionInfo& info) {
    if (pending_ && std::fseek(file_.get(), static_cast<long>(current_.bytes), SEEK_CUR) != 0)
        return fileError(path_, "truncated");
    pending_ = false;
    RawSection s{};
    if (std::fread(&s, sizeof s, 1, file_.get()) != 1)
        return fileError(path_, "truncated (no end marker)");
    if (!std::memcmp(s.tag, kEndMagic, 8)) {
        if (s.bytes != sectionsSeen_) return fileError(path_, "section count mismatch");
        return false;
    }
    if (std::memcmp(s.tag, kSectionTag, 8)) return fileError(path_, "damaged section header");
    const long here = std::ftell(file_.get());
    if (here < 0 || s.bytes > fileSize_ - static_cast<uint64_t>(here))
        return fileError(path_, "truncated section");
    current_ = {static_cast<SectionKind>(s.kind), s.layer, static_cast<SectionType>(s.type),
                s.bytes};
    currentChecksum_ = s.checksum;
    info = current_;
    pending_ = true;
    ++sectionsSeen_;
    return true;
}

Status ContextFileReader::checkReadable(uint64_t bytes) const {
    if (!pending_ || bytes != current_.bytes)
        return makeError(ErrorCode::Internal, "context file: read outside a section");
    return {};
}

Status ContextFileReader::checkChecksum(uint64_t sum) const {
    if (sum != currentChecksum_) return fileError(path_, "damaged data (checksum mismatch)");
    return {};
}

Status ContextFileReader::read(void* data, uint64_t bytes) {
    SALA_TRY(checkReadable(bytes));
    if (bytes > 0 && std::fread(data, 1, bytes, file_.get()) != bytes)
        return fileError(path_, "truncated section");
    pending_ = false;
    return checkChecksum(checksum64(data, bytes));
}

Status
ContextFileReader::readPieces(uint64_t bytes, void* const* buffers, int bufferCount,
                              size_t pieceBytes,
                              const std::function<Status(const void* piece, size_t n)>& sink) {
    SALA_TRY(checkReadable(bytes));
    if (bufferCount < 1 || pieceBytes == 0)
        return makeError(ErrorCode::InvalidArgument, "context file: no buffers to read into");
    pending_ = false;
    const uint64_t pieces = (bytes + pieceBytes - 1) / pieceBytes;
    auto pieceSize = [&](uint64_t k) {
        return size_t(std::min<uint64_t>(pieceBytes, bytes - k * pieceBytes));
    };
    std::mutex mutex;
    std::condition_variable changed;
    uint64_t filled = 0, released = 0; // pieces read from the file; pieces the sink is done with
    bool stop = false, readFailed = false;
    // The helper fills buffer k % bufferCount once the sink has released piece k - bufferCount.
    std::thread reader([&] {
        for (uint64_t k = 0; k < pieces; ++k) {
            {
                std::unique_lock lock(mutex);
                changed.wait(lock, [&] { return stop || k - released < uint64_t(bufferCount); });
                if (stop) return;
            }
            const size_t n = pieceSize(k);
            const bool ok = std::fread(buffers[k % bufferCount], 1, n, file_.get()) == n;
            std::lock_guard lock(mutex);
            if (!ok)
                readFailed = true;
            else
                filled = k + 1;
            changed.notify_all();
            if (!ok) return;
        }
    });
    Checksum64 sum(bytes);
    Status st;
    for (uint64_t k = 0; k < pieces && st.ok(); ++k) {
        {
            std::unique_lock lock(mutex);
            changed.wait(lock, [&] { return filled > k || readFailed; });
            if (filled <= k) {
                st = fileError(path_, "truncated section");
                break;
            }
        }
        const void* piece = buffers[k % bufferCount];
        sum.update(piece, pieceSize(k));
        st = sink(piece, pieceSize(k));
        std::lock_guard lock(mutex);
        released = k + 1;
        changed.notify_all();
    }
    {
        std::lock_guard lock(mutex);
        stop = true;
        changed.notify_all();
    }
    reader.join();
    if (!st.ok()) return st;
    return checkChecksum(sum.finish());
}

} // namespace sala
