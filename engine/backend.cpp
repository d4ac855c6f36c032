#include "backend.h"

#include "cpu/cpu_backend.h"
#ifdef FOLIO_HAVE_CUDA
#include "cuda/cuda_backend.h"
#endif

namespace sala {

Result<BackendKind> parseBackendKind(const std::string& name) {
    if (name == "auto") return BackendKind::Auto;
    if (name == "cpu") return BackendKind::Cpu;
    if (name == "cuda") return BackendKind::Cuda;
    return makeError(ErrorCode::InvalidArgument,
                     "unknown backend \"" + name + "\" (expected auto, cpu or cuda)");
}

bool cudaBackendAvailable(std::string* why) {
#ifdef FOLIO_HAVE_CUDA
    return cuda::cudaAvailable(why);
#else
    if (why) *why = "this build of Folio has no CUDA backend";
    return false;
#endif
}

namespace {

Result<std::unique_ptr<Backend>> createCuda(std::shared_ptr<const Model> model,
                                            const BackendOptions& options) {
#ifdef FOLIO_HAVE_CUDA
    cuda::CudaBackendOptions o;
    o.vramLimit = options.vramLimit;
    o.prefillChunk = options.prefillChunk;
    o.randomWeights = options.randomWeights;
    o.decodeGraphs = options.decodeGraphs;
    o.warmUp = options.warmUp;
    o.decodeProducts = options.decodeProducts;
    o.selectionOverlapFrom = options.selectionOverlapFrom;
    o.seed = options.seed;
    auto backend = cuda::CudaBackend::create(std::move(model), o, options.progress);
    if (!backend) return backend.error();
    return std::unique_ptr<Backend>(std::move(backend).value());
#else
    (void)model;
    (void)options;
    return makeError(ErrorCode::Unsupported, "this build of Folio has no CUDA backend");
#endif
}

} // namespace

Status Context::checkAppend(std::span<const int> tokens, int vocabSize, bool broken) {
    if (broken)
        return makeError(ErrorCode::Internal, "the context was damaged by an earlier failure; "
                                              "reset it or roll back to a checkpoint");
    if (tokens.empty()) return makeError(ErrorCode::InvalidArgument, "no tokens to process");
    for (int t : tokens)
        if (t < 0 || t >= vocabSize)
            return makeError(ErrorCode::InvalidArgument,
                             "token id " + std::to_string(t) + " is outside the vocabulary");
    return {};
}

Result<std::unique_ptr<Backend>> createBackend(BackendKind kind, std::shared_ptr<const Model> model,
                                               const BackendOptions& options) {
    if (!model) return makeError(ErrorCode::InvalidArgument, "no model");
    if (model->weights.layers.empty() && !options.randomWeights)
        return makeError(ErrorCode::InvalidArgument, "the model has no weights loaded");
    if (kind == BackendKind::Cuda || (kind == BackendKind::Auto && cudaBackendAvailable()))
        return createCuda(std::move(model), options);
    if (options.randomWeights)
        return makeError(ErrorCode::Unsupported, "random weights need the CUDA backend");
    SALA_TRY(model->store.readPages(options.progress));
    try {
        return std::unique_ptr<Backend>(
            std::make_unique<cpu::CpuBackend>(std::move(model), options));
    } catch (const std::bad_alloc&) {
        return makeError(ErrorCode::OutOfMemory, "out of memory while preparing the CPU backend");
    }
}

} // namespace sala
