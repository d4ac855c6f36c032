#pragma once

#include "captured_graph.h"
#include "cuda_backend.h"
#include "kernel_common.cuh"
#include "sparse_compress.cuh"

#include <map>

namespace sala::cuda {

// Device state of one sequence: per sparse layer the K/V cache and compressed keys, per
// lightning layer the fp32 state; plus the workspace of a forward call.
class CudaContext final : public Context {
public:
    explicit CudaContext(CudaBackend& backend);
    ~CudaContext() override;
    CudaContext(const CudaContext&) = delete;
    CudaContext& operator=(const CudaContext&) = delete;
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
    // How many times the decode-step graph was captured (it is recaptured only when the buffers
    // it was recorded with move), and how many steps replayed it.
    int graphCaptures() const { return stepGraph_.captures(); }
    int64_t graphReplays() const { return graphReplays_; }
    // Sparse layers whose selection ran beside their attention (cuda_selection_overlap.cpp).
    int64_t overlappedLayers() const { return overlappedLayers_; }
    static constexpr int kSelectionParts = 4;

private:
    struct SparseState {
        DeviceBuffer keys, values, k1, k2; // [kvHeads][capacity(,1,2)][dim] bf16
    };
    struct Workspace {
        DeviceBuffer ids, h, x, proj, attn, act, blocks, select, decode, logits, hidden;
        DeviceBuffer sample, history; // sampling workspace; recent tokens and the drawn one
        DeviceBuffer step;            // a graph step's token (int32) and position (int64)
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
    // Launches the whole pass for `count` tokens whose ids are on the device; `rows` last rows
    // get logits.
    Status enqueueForward(const int32_t* ids, int64_t count, folio::kernels::Position start,
                          int64_t rows, ForwardOutput* selections);
    Status graphStep(int token);
    Status sparseLayer(int layer, folio::kernels::Position start, int64_t count,
                       ForwardOutput* selections);
    // The block selection of rows [first, first + count) of a chunk at `start` (a decode step's
    // one row when `start` is on the device), on `stream`.
    Status sparseSelect(int layer, folio::kernels::Position start, int64_t first, int64_t count,
                        cudaStream_t stream);
    // The prefill attention of rows [first, first + count) of a chunk at `start`, and the
    // attention of one row (a decode step's, or a one-token chunk's).
    Status attendRows(int layer, int64_t start, int64_t first, int64_t count);
    Status attendOne(int layer, folio::kernels::Position position);
    bool overlapsSelection(folio::kernels::Position start, int64_t count) const;
    Status selectWhileAttending(int layer, int64_t start, int64_t count);
    // The parts of sparseLayer: the rotation of q and k where the model has it, and the
    // selection and attention of `count` queries whose keys are in the cache.
    Status sparseRope(int layer, folio::kernels::Position start, int64_t count);
    Status sparseAttend(int layer, folio::kernels::Position start, int64_t count,
                        ForwardOutput* selections);
    Status copyLastSelection(int layer, int64_t count, ForwardOutput& selections);
    // The last layer of a chunk of `count` > 1 tokens of which only the last needs an output
    // (cuda_last_layer.cpp): every row leaves its keys and values or linear state behind, the
    // last alone goes on through attention, output projection and MLP, as row 0.
    Status lastLayerForLastToken(int layer, int64_t start, int64_t count,
                                 ForwardOutput* selections);
    Status sparseKeysValues(int layer, int64_t start, int64_t count);
    Status moveLastRowToFront(void* rows, int64_t count, size_t rowBytes);
    Status lightningLayer(int layer, folio::kernels::Position start, int64_t count);
    Status mlp(int layer, int64_t count);
    // The weight products (cuda_products.cpp): y = x W^T for `rows` rows of x, W [n, width].
    bool gemvFor(int64_t rows, int64_t width, const bf16* w) const;
    // y = rmsnorm(residual stream) W^T, bf16; rows of y `ldy` apart (0: n), where rows > 1.
    Status normProduct(int64_t rows, const bf16* normWeight, const bf16* w, int64_t n, bf16* y,
                       int64_t ldy = 0);
    Status product(int64_t rows, const bf16* x, int64_t width, const bf16* w, int64_t n, void* y,
                   OutType out, float alpha = 1.0f, float beta = 0.0f);
    // residual stream += residual scale * (attention output, normed and gated) Wo^T
    Status outputProduct(int layer, int64_t rows);
    // The workspace's activations = swiglu(rmsnorm(residual stream) Wgateup^T), bf16.
    Status swiglu(int64_t rows, const bf16* normWeight, const bf16* wGateUp);
    // Appends the chunk's keys and values to the layer's cache and compresses the windows they
    // complete; compress() does the second part alone (for keys loaded from a file).
    Status appendAndCompress(int layer, folio::kernels::Position start, int64_t count);
    Status compress(int layer, int64_t start, int64_t count);
    // The layer's compressed keys of level 0 or 1 as the compression kernels take them.
    folio::kernels::CompressLevel compressLevel(int layer, int level) const;
    Status copyLinearStates(bool toCheckpoint, DeviceBuffer& checkpoint);
    int64_t compressedCapacity(int kernel, int stride) const;

    CudaBackend& backend_;
    const ModelConfig& config_;
    cudaStream_t stream_;
    std::vector<SparseState> sparse_;
    std::vector<DeviceBuffer> linear_;
    int64_t capacity_ = 0;
    Workspace ws_;
    // Bumped whenever a buffer that a captured step graph refers to is reallocated.
    uint64_t buffersGeneration_ = 1;
    CapturedGraph stepGraph_;
    int64_t graphReplays_ = 0;
    struct {
        int32_t token;
        int32_t unused;
        int64_t position;
    } stepHost_{};
    std::map<CheckpointId, Checkpoint> checkpoints_;
    CheckpointId nextCheckpoint_ = 1;
    bool broken_ = false;
    // [0]: the chunk's inputs are ready; [1 + p]: part p's blocks are chosen.
    cudaEvent_t partEvents_[kSelectionParts + 1] = {};
    int64_t overlappedLayers_ = 0;
};

} // namespace sala::cuda
