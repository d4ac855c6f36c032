#include "cuda_backend.h"

#include "cpu/lightning_cpu.h"
#include "cuda_context.h"
#include "sampler.h"

#include <numeric>

namespace sala::cuda {

bool cudaAvailable(std::string* why) {
    int count = 0;
    const cudaError_t e = cudaGetDeviceCount(&count);
    if (e != cudaSuccess || count == 0) {
        if (why) *why = e != cudaSuccess ? cudaGetErrorString(e) : "no CUDA device";
        return false;
    }
    return true;
}

Result<std::unique_ptr<CudaBackend>> CudaBackend::create(std::shared_ptr<const Model> model,
                                                         const CudaBackendOptions& options,
                                                         const LoadProgress& progress) {
    std::unique_ptr<CudaBackend> b(new CudaBackend());
    SALA_TRY(b->init(std::move(model), options, progress));
    return b;
}

CudaBackend::~CudaBackend() {
    if (stream_) cudaStreamDestroy(stream_);
    if (selectionStream_) cudaStreamDestroy(selectionStream_);
}

Status CudaBackend::init(std::shared_ptr<const Model> model, const CudaBackendOptions& options,
                         const LoadProgress& progress) {
    model_ = std::move(model);
    options_ = options;
    std::string why;
    if (!cudaAvailable(&why)) return makeError(ErrorCode::Unsupported, "no CUDA GPU: " + why);
    SALA_CUDA(cudaSetDevice(options.device));
    cudaDeviceProp prop{};
    SALA_CUDA(cudaGetDeviceProperties(&prop, options.device));
    deviceName_ = prop.name;
    SALA_CUDA(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
    int leastPriority = 0, greatestPriority = 0;
    SALA_CUDA(cudaDeviceGetStreamPriorityRange(&leastPriority, &greatestPriority));
    SALA_CUDA(
        cudaStreamCreateWithPriority(&selectionStream_, cudaStreamNonBlocking, greatestPriority));

    const ModelConfig& c = model_->config;
    size_t freeBytes = 0, totalBytes = 0;
    SALA_CUDA(cudaMemGetInfo(&freeBytes, &totalBytes));
    const uint64_t budget =
        options.vramLimit > 0 ? std::min<uint64_t>(options.vramLimit, freeBytes) : freeBytes;
    MemoryPlanOptions planOptions;
    planOptions.prefillChunk = options.prefillChunk;
    plan_ = planMemory(c, deviceWeightBytes(c), budget, planOptions);
    if (plan_.maxTokens <= 0)
        return makeError(ErrorCode::OutOfMemory,
                         "the model needs " + formatBytes(plan_.weights) + " for weights plus " +
                             formatBytes(plan_.workspace + plan_.linearState * 2) +
                             " of working memory, but only " + formatBytes(budget) +
                             " of GPU memory is available");

    auto weights = options.randomWeights ? randomWeights(c, options.seed, stream_)
                                         : uploadWeights(*model_, stream_, progress);
    if (!weights) return weights.error();
    weights_ = std::move(weights).value();

    std::vector<double> slopes = cpu::lightningSlopes(c.lightningHeads);
    std::vector<float> slopesF(slopes.begin(), slopes.end());
    SALA_TRY(slopes_.allocate(slopesF.size() * sizeof(float)));
    SALA_TRY(copyAndWait(slopes_.get(), slopesF.data(), slopes_.bytes(), cudaMemcpyHostToDevice,
                         stream_, "slope upload"));
    SALA_TRY(gemm_.init(planOptions.gemmWorkspace));
    if (!options.warmUp) return {};
    if (Status st = warmUp(); !st.ok())
        return makeError(st.error().code, "warming up the GPU: " + st.error().message);
    return {};
}

// CUDA loads a kernel's module at its first launch. In a process's first prefill that made the
// GPU wait 69 ms in 13 pauses (3.9 ms before one cuBLASLt kernel) on an H100: a fifth of the
// time to first token at 8K. One chunk and one decode step in a scratch context move that
// wait to loading, where the weights already take seconds.
Status CudaBackend::warmUp() {
    const int64_t tokens = std::min<int64_t>(options_.prefillChunk, plan_.maxTokens - 1);
    if (tokens < 1) return {};
    auto ctx = createContext();
    if (!ctx) return ctx.error();
    std::vector<int> ids(static_cast<size_t>(tokens));
    std::iota(ids.begin(), ids.end(), 0);
    for (int& id : ids) id %= model_->config.vocabSize;
    ForwardOutput out;
    SALA_TRY((*ctx)->forward(ids, {}, out));
    SamplingParams greedy;
    greedy.temperature = 0;
    Sampler sampler(greedy);
    auto next = (*ctx)->forwardSample(std::span<const int>(ids.data(), 1), sampler);
    if (!next) return next.error();
    warmUpTokens_ = tokens + 1;
    return {};
}

Result<std::unique_ptr<Context>> CudaBackend::createContext() {
    auto ctx = std::make_unique<CudaContext>(*this);
    SALA_TRY(ctx->init());
    return std::unique_ptr<Context>(std::move(ctx));
}

} // namespace sala::cuda
