#pragma once

#include <cstdint>

namespace sala {

// Bytes held by the engine, by category. Device figures are zero on the CPU backend.
struct MemoryReport {
    uint64_t weights = 0;
    uint64_t kvCache = 0;
    uint64_t compressedKeys = 0;
    uint64_t linearState = 0;
    uint64_t checkpoints = 0; // saved linear states of checkpoints
    uint64_t workspace = 0;   // scratch buffers, high-water mark
    uint64_t deviceFree = 0;
    uint64_t deviceTotal = 0;

    uint64_t total() const {
        return weights + kvCache + compressedKeys + linearState + checkpoints + workspace;
    }
};

} // namespace sala
