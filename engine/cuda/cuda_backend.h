#pragma once
// The CUDA backend: the whole forward pass on one GPU, bf16 weights and activations with fp32
// accumulation, fp32 residual stream and linear-attention state.

#include "backend.h"
#include "cuda_weights.h"
#include "gemm.h"
#include "memory_plan.h"

#include <memory>

namespace sala::cuda {

struct CudaBackendOptions {
    int device = 0;
    uint64_t vramLimit = 0; // 0: all free memory
    int prefillChunk = 8192;
    bool randomWeights = false; // build random weights of the model's config (benchmarks)
    uint64_t seed = 1;
    bool decodeGraphs = true;   // one-token steps replay a captured graph instead of launching
    bool warmUp = true;         // run one chunk and one step while loading (see warmUp)
    bool decodeProducts = true; // one-token products through launchGemv instead of cuBLASLt
    int64_t selectionOverlapFrom = 262144; // see BackendOptions
};

class CudaBackend final : public Backend {
public:
    // `progress` hears of the weight upload (see BackendOptions::progress); it is not kept.
    static Result<std::unique_ptr<CudaBackend>> create(std::shared_ptr<const Model> model,
                                                       const CudaBackendOptions& options,
                                                       const LoadProgress& progress = {});
    ~CudaBackend() override;

    std::string name() const override { return "cuda"; }
    const Model& model() const override { return *model_; }
    Result<std::unique_ptr<Context>> createContext() override;

    const CudaWeights& weights() const { return weights_; }
    Gemm& gemm() { return gemm_; }
    cudaStream_t stream() const { return stream_; }
    // Where contexts run a sparse layer's block selection beside its attention (highest
    // priority, so that the selection's thread blocks take the SMs' free room first).
    cudaStream_t selectionStream() const { return selectionStream_; }
    const float* slopes() const { return slopes_.as<float>(); }
    const CudaBackendOptions& options() const { return options_; }
    // The plan for the memory free after the weights were placed.
    const MemoryPlan& plan() const { return plan_; }
    std::string deviceName() const { return deviceName_; }
    // Tokens the load-time warm-up ran through its scratch context (0: none).
    int64_t warmUpTokens() const { return warmUpTokens_; }

private:
    CudaBackend() = default;
    Status init(std::shared_ptr<const Model> model, const CudaBackendOptions& options,
                const LoadProgress& progress);
    Status warmUp();

    std::shared_ptr<const Model> model_;
    CudaBackendOptions options_;
    cudaStream_t stream_ = nullptr;
    cudaStream_t selectionStream_ = nullptr;
    CudaWeights weights_;
    DeviceBuffer slopes_;
    Gemm gemm_;
    MemoryPlan plan_;
    std::string deviceName_;
    int64_t warmUpTokens_ = 0;
};

// True when a CUDA device can be used; `why` says why not.
bool cudaAvailable(std::string* why = nullptr);

} // namespace sala::cuda
