#include "bench_snapshot.h"

#include "bench_clock.h"

#include "sampler.h"

#include <fcntl.h>
#include <unistd.h>

namespace folio::bench {

namespace {

sala::Result<int> drawGreedy(sala::Context& context, int token) {
    sala::SamplingParams greedy;
    greedy.temperature = 0;
    sala::Sampler sampler(greedy);
    return context.forwardSample(std::span<const int>(&token, 1), sampler);
}

// Forces the file to the disk and asks the kernel to drop its cached pages, so that reopening
// reads the disk as it would days later rather than memory filled a moment ago.
bool flushAndEvict(const std::filesystem::path& file) {
    const int fd = ::open(file.c_str(), O_RDONLY);
    if (fd < 0) return false;
    const bool synced = ::fsync(fd) == 0;
    const bool dropped = ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED) == 0;
    ::close(fd);
    return synced && dropped;
}

} // namespace

SnapshotTiming measureSnapshot(sala::Backend& backend, std::unique_ptr<sala::Context>& context,
                               int next, const std::filesystem::path& folder) {
    SnapshotTiming t;
    std::error_code ec;
    std::filesystem::create_directories(folder, ec);
    const auto file = folder / ("folio-bench-" + std::to_string(context->position()) + ".folioctx");
    auto start = Clock::now();
    if (auto st = context->save(file); !st.ok()) {
        t.error = "save: " + st.error().message;
        context.reset();
        return t;
    }
    t.saveSeconds = secondsSince(start);
    start = Clock::now();
    t.evicted = flushAndEvict(file);
    t.syncSeconds = secondsSince(start);
    t.fileBytes = std::filesystem::file_size(file, ec);
    auto expected = drawGreedy(*context, next);
    context.reset();
    start = Clock::now();
    auto reopened = backend.createContext();
    if (!reopened) {
        t.error = "new context: " + reopened.error().message;
    } else if (auto st = (*reopened)->load(file); !st.ok()) {
        t.error = "load: " + st.error().message;
    } else {
        t.reopenSeconds = secondsSince(start);
        auto got = drawGreedy(**reopened, next);
        t.sameNextToken = expected && got && *expected == *got;
    }
    std::filesystem::remove(file, ec);
    return t;
}

} // namespace folio::bench
