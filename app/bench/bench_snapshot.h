#pragma once
// Saving a prefilled context to a state file and reopening it, as the app does when it evicts a
// resident document and later needs it again instead of prefilling it a second time.

#include "backend.h"

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

namespace folio::bench {

struct SnapshotTiming {
    uint64_t fileBytes = 0;
    double saveSeconds = 0;   // state written through the page cache
    double syncSeconds = 0;   // then forced to the disk
    double reopenSeconds = 0; // new context + load, the file evicted from the page cache first
    bool evicted = false;     // whether the kernel accepted the eviction request
    bool sameNextToken = false;
    std::string error;
};

// Saves `context` (holding everything before `next`, which it has not read yet) into `folder`,
// frees it, opens the file in a new context and checks that both draw the same greedy token after
// `next`. The context is released either way, so the reopened one never shares the device with it.
SnapshotTiming measureSnapshot(sala::Backend& backend, std::unique_ptr<sala::Context>& context,
                               int next, const std::filesystem::path& folder);

} // namespace folio::bench
