#pragma once
// Limits and switches shared by all importers, and the cancel/progress hooks of one import.

#include <QString>

#include <atomic>
#include <functional>

namespace folio {

struct ImportLimits {
    qint64 maxFileBytes = 256LL << 20;         // a document file larger than this is refused
    qint64 maxCodeFileBytes = 1LL << 20;       // a source file larger than this is skipped
    qint64 maxCodeFiles = 20000;               // files assembled into one codebase
    qint64 maxCodeTotalBytes = 64LL << 20;     // text assembled into one codebase
    qint64 maxTreeEntries = 20000;             // lines of a codebase's directory tree
    qint64 maxTextChars = 64LL << 20;          // characters kept from one document
    qint64 maxArchiveEntryBytes = 64LL << 20;  // uncompressed size of one zip entry read
    qint64 maxArchiveTotalBytes = 512LL << 20; // uncompressed bytes read from one archive
    int maxArchiveEntries = 20000;
};

struct ImportOptions {
    QString password; // for encrypted PDFs
    ImportLimits limits;
};

// Thread-agnostic hooks: the caller may cancel from any thread; progress runs on the importing
// thread and must not block for long.
class ImportControl {
public:
    using ProgressFn = std::function<void(double fraction, const QString& message)>;

    ImportControl() = default;
    explicit ImportControl(const std::atomic<bool>* cancelFlag, ProgressFn progress = {})
        : cancel_(cancelFlag), progress_(std::move(progress)) {}

    bool cancelled() const { return cancel_ && cancel_->load(std::memory_order_relaxed); }
    void progress(double fraction, const QString& message) const {
        if (progress_) progress_(fraction, message);
    }

private:
    const std::atomic<bool>* cancel_ = nullptr;
    ProgressFn progress_;
};

} // namespace folio
