#pragma once
// The saved-state file of a context, shared by all backends:
//   header: magic "FOLIOCTX", format version, model fingerprint, position, layer count
//   sections: kind, layer, element type, byte count, checksum, payload
//   trailer: magic "FOLIOEND", section count
// Files are written under a temporary name and renamed, so a crash never leaves a
// half-written state under the real name.

#include "result.h"

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <memory>

namespace sala {

inline constexpr uint32_t kContextFileVersion = 1;

struct ContextFileHeader {
    uint64_t fingerprint = 0;
    int64_t position = 0;
    uint32_t numLayers = 0;
};

enum class SectionKind : uint32_t { Tokens = 1, Keys = 2, Values = 3, LinearState = 4 };
enum class SectionType : uint32_t { I32 = 0, F32 = 1, BF16 = 2 };

struct SectionInfo {
    SectionKind kind{};
    uint32_t layer = 0;
    SectionType type{};
    uint64_t bytes = 0;
};

uint64_t checksum64(const void* data, size_t bytes, uint64_t seed = 0);

// checksum64 of `totalBytes` given in consecutive parts of any sizes.
class Checksum64 {
public:
    explicit Checksum64(uint64_t totalBytes, uint64_t seed = 0);
    void update(const void* data, size_t bytes);
    uint64_t finish() const;

private:
    void mixWord(uint64_t w);
    uint64_t h_;
    unsigned char partial_[8] = {}; // the start of a word that the next part completes
    unsigned partialBytes_ = 0;
};

struct FileCloser {
    void operator()(std::FILE* f) const { std::fclose(f); }
};

class ContextFileWriter {
public:
    static Result<ContextFileWriter> create(const std::filesystem::path& file,
                                            const ContextFileHeader& header);
    Status write(SectionKind kind, uint32_t layer, SectionType type, const void* data,
                 uint64_t bytes);
    // Writes the trailer, flushes and moves the file into place.
    Status finish();

private:
    std::filesystem::path target_, temp_;
    std::unique_ptr<std::FILE, FileCloser> file_;
    uint64_t sections_ = 0;
};

class ContextFileReader {
public:
    // Refuses files of another format version or another model.
    static Result<ContextFileReader> open(const std::filesystem::path& file,
                                          uint64_t expectedFingerprint);
    const ContextFileHeader& header() const { return header_; }
    // The next section's description, or false at the trailer.
    Result<bool> next(SectionInfo& info);
    // Reads the current section's payload (exactly info.bytes) and verifies its checksum.
    Status read(void* data, uint64_t bytes);
    // Reads the current section's payload in pieces of at most `pieceBytes`, into the
    // `buffers` in turn (each at least pieceBytes long), and hands each piece to `sink` in
    // order. A helper thread reads the following pieces from the disk while the sink and the
    // checksum work on the current one, so a large section costs about the slowest of the
    // three rather than their sum. The checksum is verified after the last piece: until this
    // returns success, what the sink received may be damaged. A sink error stops the reading
    // and is returned.
    Status readPieces(uint64_t bytes, void* const* buffers, int bufferCount, size_t pieceBytes,
                      const std::function<Status(const void* piece, size_t n)>& sink);

private:
    // Whether `bytes` is the whole payload of a section that next() announced and nothing read.
    Status checkReadable(uint64_t bytes) const;
    // Whether `sum` is the payload checksum the section header gave.
    Status checkChecksum(uint64_t sum) const;

    std::filesystem::path path_;
    std::unique_ptr<std::FILE, FileCloser> file_;
    ContextFileHeader header_;
    uint64_t fileSize_ = 0;
    uint64_t sectionsSeen_ = 0;
    SectionInfo current_;
    uint64_t currentChecksum_ = 0;
    bool pending_ = false;
};

} // namespace sala
