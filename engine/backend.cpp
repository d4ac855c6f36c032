#include "backend.h"

#include "cpu/cpu_backend.h"

namespace sala {

Result<BackendKind> parseBackendKind(const std::string& name) {
    if (name == "auto") return BackendKind::Auto;
    if (name == "cpu") return BackendKind::Cpu;
    if (name == "cuda") return BackendKind::Cuda;
    return makeError(ErrorCode::InvalidArgument,
                     "unknown backend \"" + name + "\" (expected auto, cpu or cuda)");
}

Result<std::unique_ptr<Backend>> createBackend(BackendKind kind, std::shared_ptr<const Model> model,
                                               const BackendOptions& options) {
    if (!model) return makeError(ErrorCode::InvalidArgument, "no model");
    if (kind == BackendKind::Cuda)
        return makeError(ErrorCode::Unsupported, "this build of Folio has no CUDA backend");
    try {
        return std::unique_ptr<Backend>(
            std::make_unique<cpu::CpuBackend>(std::move(model), options));
    } catch (const std::bad_alloc&) {
        return makeError(ErrorCode::OutOfMemory, "out of memory while preparing the CPU backend");
    }
}

} // namespace sala
