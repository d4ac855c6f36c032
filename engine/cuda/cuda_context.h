#pragma once

#include "cuda_backend.h"

#include <map>

namespace sala::cuda {

// Device state of one sequence: per sparse layer the K/V cache and compressed keys, per
// lightning layer the fp32 state; plus the workspace of a forward call.
class CudaContext final : public Context {
public:
    explicit CudaContext(CudaBackend& backend);
    Status init();

    Status forward(std::span<const int> tokens, const ForwardOptions& options,
                   ForwardOutput& output) override;
    Result<int> forwardSample(std::span<const int> tokens, Sampler& sampler) override;
    CheckpointId checkpoint() override;
    Status rollback(CheckpointId id) override;
    void dropCheckpoint(CheckpointId id) override;
    void reset() override;
    Status save(const std::filesystem::path& file) const override;
    Status load(const std::filesystem::path& file) override;
    MemoryReport memory() const override;

    // Tokens the caches can hold without growing.
    int64_t capacity() const { return capacity_; }
    // Grows the caches to hold `tokens` (within the backend's memory plan).
    Status reserve(int64_t tokens) override;

private:
    struct SparseState {
        DeviceBuffer keys, values, k1, k2; // [kvHeads][capacity(,1,2)][dim] bf16
    };
    struct Workspace {
        DeviceBuffer ids, h, x, proj, attn, act, blocks, select, decode, logits, hidden;
        DeviceBuffer sample, history; // sampling workspace; recent tokens and the drawn one
        int64_t tokens = 0;           // rows the buffers hold
        uint64_t bytes() const;
    };
    struct Checkpoint {
        int64_t position = 0;
        DeviceBuffer linear; // every lightning state, back to back
    };

    Status ensureWorkspace(int64_t tokens, int64_t logitRows);
    Status run(std::span<const int> tokens, const ForwardOptions& options, ForwardOutput& output,
               bool copyLogits);
    Status forwardLayers(std::span<const int> tokens, const ForwardOptions& options,
                         ForwardOutput& output, bool copyLogits);
    Status sparseLayer(int layer, int64_t start, int64_t count, ForwardOutput* selections);
    Status lightningLayer(int layer, int64_t start, int64_t count);
    Status mlp(int layer, int64_t count);
    Status compress(int layer, int64_t before, int64_t after);
    Status copyLinearStates(bool toCheckpoint, DeviceBuffer& checkpoint);
    int64_t compressedCapacity(int kernel, int stride) const;

    CudaBackend& backend_;
    const ModelConfig& config_;
    cudaStream_t stream_;
    std::vector<SparseState> sparse_;
    std::vector<DeviceBuffer> linear_;
    int64_t capacity_ = 0;
    Workspace ws_;
    std::map<CheckpointId, Checkpoint> checkpoints_;
    CheckpointId nextCheckpoint_ = 1;
    bool broken_ = false;
};

} // namespace sala::cuda
