#pragma once
// What every compute backend (CPU reference, CUDA) offers: contexts that consume tokens and
// produce logits, with checkpoints and saved states.

#include "load_progress.h"
#include "memory_report.h"
#include "model.h"
#include "result.h"
#include "sampler.h"

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace sala {

struct ForwardOptions {
    bool allLogits = false;  // logits for every token of the call, not just the last
    bool lastHidden = false; // final-norm output of the last token
    bool selections = false; // blocks chosen by the last token in every sparse layer
};

struct ForwardOutput {
    std::vector<float> logits;     // [rows, vocab]
    std::vector<float> hiddenLast; // [hidden], before the logit divisor
    // sparse layer index -> [kvHeads][topkTotal] block ids, ascending, padded with -1
    std::map<int, std::vector<std::vector<int>>> selections;
};

using CheckpointId = int;

class Decoder;

// The state of one token sequence: caches of the sparse layers, states of the linear layers.
class Context {
public:
    virtual ~Context() = default;

    int64_t position() const { return static_cast<int64_t>(tokens_.size()); }
    const std::vector<int>& tokens() const { return tokens_; }

    // Appends tokens (a prefill chunk or one decode step) and computes their outputs.
    virtual Status forward(std::span<const int> tokens, const ForwardOptions& options,
                           ForwardOutput& output) = 0;

    // Appends tokens and draws the next token from the last one's logits with `sampler`
    // (history: every token of the context). Backends that can sample on the device override
    // this so that only the token id crosses to the host.
    virtual Result<int> forwardSample(std::span<const int> tokens, Sampler& sampler) {
        ForwardOutput out;
        SALA_TRY(forward(tokens, ForwardOptions{}, out));
        return sampler.sample(out.logits, tokens_);
    }

    // A run of one-token decode steps drawn with `sampler` (decoder.h); while it lasts the
    // context is used only through it. The plain run is a forwardSample() per step; a backend
    // may return one that runs a step ahead of the host (decoder.h).
    virtual std::unique_ptr<Decoder> decoder(Sampler& sampler);

    // Remembers the current state; rollback() returns to it exactly.
    virtual CheckpointId checkpoint() = 0;
    virtual Status rollback(CheckpointId id) = 0;
    virtual void dropCheckpoint(CheckpointId id) = 0;
    virtual void reset() = 0;

    // Saves the whole state to a file tied to the model's fingerprint, and loads it back.
    virtual Status save(const std::filesystem::path& file) const = 0;
    virtual Status load(const std::filesystem::path& file) = 0;

    virtual MemoryReport memory() const = 0;

    // Makes room for a context of `tokens` tokens up front, so a long prefill does not grow
    // (and transiently double) its caches. Fails clearly when the length cannot fit.
    virtual Status reserve(int64_t tokens) {
        (void)tokens;
        return {};
    }

protected:
    // Why `tokens` cannot be appended to a context (damaged by an earlier failure, no tokens,
    // an id outside the vocabulary), or success.
    static Status checkAppend(std::span<const int> tokens, int vocabSize, bool broken);

    // The entry of checkpoint `id` in a backend's map of checkpoints, if the context can roll
    // back to it.
    template <typename Map>
    Result<typename Map::iterator> rollbackTarget(Map& map, CheckpointId id) {
        auto it = map.find(id);
        if (it == map.end())
            return makeError(ErrorCode::NotFound, "no checkpoint " + std::to_string(id));
        if (it->second.position > position())
            return makeError(ErrorCode::InvalidArgument, "checkpoint " + std::to_string(id) +
                                                             " lies past the current position");
        return it;
    }

    // After a rollback, later checkpoints describe states that no longer exist.
    template <typename Map> void dropCheckpointsPastPosition(Map& map) const {
        std::erase_if(map, [&](const auto& kv) { return kv.second.position > position(); });
    }

    std::vector<int> tokens_;
};

enum class BackendKind { Auto, Cpu, Cuda };

struct BackendOptions {
    int threads = 0;            // CPU threads; 0 = all cores
    uint64_t vramLimit = 0;     // CUDA: bytes the engine may use; 0 = all free memory
    int prefillChunk = 8192;    // CUDA: the largest chunk the workspace is planned for
    bool randomWeights = false; // CUDA: random weights of the model's shapes (benchmarks)
    uint64_t seed = 1;
    bool decodeGraphs = true;   // CUDA: replay each one-token step as one captured CUDA graph
    bool warmUp = true;         // CUDA: load the kernels with a scratch chunk before returning
    bool decodeProducts = true; // CUDA: one-token products through Folio's matrix-vector kernel,
                                // not cuBLASLt (false for comparison)
    // CUDA: in prefill chunks that start at this position or later, a sparse layer selects the
    // blocks of each quarter of the chunk while the quarter before attends (see
    // cuda_selection_overlap.cpp); negative: never.
    int64_t selectionOverlapFrom = 262144;
    // While the backend reads the weights (the CPU backend touches their pages, the CUDA backend
    // uploads them): bytes done of all. Returning false stops the load, and createBackend fails
    // with ErrorCode::Cancelled.
    LoadProgress progress;
};

// True when this build has the CUDA backend and a CUDA GPU is usable; `why` says why not.
bool cudaBackendAvailable(std::string* why = nullptr);

class Backend {
public:
    virtual ~Backend() = default;
    virtual std::string name() const = 0;
    virtual const Model& model() const = 0;
    virtual Result<std::unique_ptr<Context>> createContext() = 0;
};

Result<BackendKind> parseBackendKind(const std::string& name);
Result<std::unique_ptr<Backend>> createBackend(BackendKind kind, std::shared_ptr<const Model> model,
                                               const BackendOptions& options = {});

} // namespace sala
