#pragma once
// How many tokens of context fit in a memory budget, computed before anything is allocated,
// so that a load can be refused with a clear message instead of failing on out-of-memory.

#include "config.h"
#include "result.h"

#include <cstdint>
#include <string>

namespace sala {

struct MemoryPlan {
    uint64_t budget = 0; // bytes the engine may use
    uint64_t weights = 0;
    uint64_t linearState = 0;     // all lightning layers, one sequence
    uint64_t checkpointState = 0; // one saved copy of the linear state
    uint64_t workspace = 0;       // activations of one prefill chunk, GEMM workspace
    uint64_t bytesPerToken = 0;   // KV cache and compressed keys of every sparse layer
    int64_t maxTokens = 0;        // context length that fits
};

struct MemoryPlanOptions {
    int prefillChunk = 8192;
    uint64_t gemmWorkspace = 32ull << 20;
    uint64_t reserve = 256ull << 20; // kept free for the CUDA context, cuBLAS and fragmentation
};

// Bytes of the device workspace for a prefill chunk of `chunk` tokens.
uint64_t chunkWorkspaceBytes(const ModelConfig& config, int64_t chunk);
// KV cache plus compressed keys per token of context, over all sparse layers (bf16).
uint64_t contextBytesPerToken(const ModelConfig& config);

// `weightBytes` is what the backend's copy of the weights takes.
MemoryPlan planMemory(const ModelConfig& config, uint64_t weightBytes, uint64_t budget,
                      const MemoryPlanOptions& options = {});

// Accepts "32G", "32GiB", "512M", "1.5T" or a plain byte count.
Result<uint64_t> parseByteSize(const std::string& text);
std::string formatBytes(uint64_t bytes);

} // namespace sala
