#pragma once

#include "cpu_backend.h"

#include <map>

namespace sala::cpu {

class CpuContext final : public Context {
public:
    explicit CpuContext(CpuBackend& backend);

    Status forward(std::span<const int> tokens, const ForwardOptions& options,
                   ForwardOutput& output) override;
    CheckpointId checkpoint() override;
    Status rollback(CheckpointId id) override;
    void dropCheckpoint(CheckpointId id) override;
    void reset() override;
    Status save(const std::filesystem::path& file) const override;
    Status load(const std::filesystem::path& file) override;
    MemoryReport memory() const override;

private:
    struct Checkpoint {
        int64_t position = 0;
        std::vector<std::vector<float>> linearStates;
    };
    struct Scratch; // buffers of one forward call

    Status forwardLayers(std::span<const int> tokens, const ForwardOptions& options,
                         ForwardOutput& output);
    // A sparse layer in two parts: every row's keys and values into the cache, then the
    // outputs of rows [from, count) (all of them, or only the last when nothing reads the
    // others' outputs) into `out`.
    void sparseKeysValues(int layer, Scratch& s, int64_t start, int64_t count);
    void sparseOutputs(int layer, Scratch& s, int64_t start, int64_t from, int64_t count,
                       float* out, ForwardOutput* selections);
    void lightningMixer(int layer, Scratch& s, int64_t start, int64_t count, float* out);
    // q, k and v of `count` tokens into the scratch (and room for the attention output).
    void projectQkv(const LayerWeights& lw, Scratch& s, int64_t count, int64_t qWidth,
                    int64_t kvWidth);
    // k and v alone: a sparse layer projects queries only for the rows whose outputs it needs.
    void projectKeysValues(const LayerWeights& lw, Scratch& s, int64_t count, int64_t kvWidth);
    void mlp(int layer, Scratch& s, int64_t count, float* out);
    void truncateTo(int64_t position);

    CpuBackend& backend_;
    const ModelConfig& config_;
    std::vector<SparseCache> sparse_;        // per layer; empty for lightning layers
    std::vector<std::vector<float>> linear_; // per layer; empty for sparse layers
    std::map<CheckpointId, Checkpoint> checkpoints_;
    CheckpointId nextCheckpoint_ = 1;
    uint64_t workspaceHighWater_ = 0;
    bool broken_ = false; // a forward failed midway; only reset/rollback/load recover
};

} // namespace sala::cpu
