// The weight products of a forward pass. In a one-token chunk (a decode step) each runs as
// launchGemv, whose thread blocks build their input themselves (the RMSNorm of the residual
// stream, or the attention output's norm and gate) and start streaming weights before the kernel
// ahead of them ends; the gate/up product ends in SwiGLU. Longer chunks run the norm or SwiGLU
// kernel and a cuBLASLt product.

#include "activations.cuh"
#include "cuda_context.h"
#include "gemv.cuh"
#include "norms.cuh"

namespace sala::cuda {

namespace k = folio::kernels;

bool CudaContext::gemvFor(int64_t rows, int64_t width, const bf16* w) const {
    return rows == 1 && backend_.options().decodeProducts && width % 8 == 0 &&
           width <= k::kMaxGemvK && reinterpret_cast<uintptr_t>(w) % 16 == 0;
}

namespace {

k::GemvInput normedResidual(const float* residual, const bf16* normWeight, double eps) {
    k::GemvInput in;
    in.kind = k::GemvInputKind::RmsNorm;
    in.residual = residual;
    in.normWeight = normWeight;
    in.eps = static_cast<float>(eps);
    return in;
}

} // namespace

Status CudaContext::normProduct(int64_t T, const bf16* normWeight, const bf16* w, int64_t n,
                                bf16* y, int64_t ldy) {
    const int64_t H = config_.hiddenSize;
    const float eps = static_cast<float>(config_.rmsNormEps);
    if (gemvFor(T, H, w)) {
        const k::GemvInput in = normedResidual(ws_.h.as<float>(), normWeight, config_.rmsNormEps);
        SALA_CUDA(k::launchGemv(in, w, n, int(H), {y, false, 1.0f, 0.0f}, stream_));
        return {};
    }
    SALA_CUDA(k::launchRmsNorm(ws_.h.as<float>(), H, T, int(H), normWeight, eps, ws_.x.as<bf16>(),
                               H, nullptr, stream_));
    return backend_.gemm().run(stream_, T, n, H, ws_.x.as<bf16>(), H, w, y, ldy > 0 ? ldy : n,
                               OutType::BF16);
}

Status CudaContext::product(int64_t T, const bf16* x, int64_t width, const bf16* w, int64_t n,
                            void* y, OutType out, float alpha, float beta) {
    if (gemvFor(T, width, w)) {
        k::GemvInput in;
        in.x = x;
        SALA_CUDA(
            k::launchGemv(in, w, n, int(width), {y, out == OutType::F32, alpha, beta}, stream_));
        return {};
    }
    return backend_.gemm().run(stream_, T, n, width, x, width, w, y, n, out, alpha, beta);
}

// Lightning layers norm their output and gate it, sparse layers gate it (where the model has
// the gate and the norm).
Status CudaContext::outputProduct(int l, int64_t T) {
    const ModelConfig& c = config_;
    const CudaLayer& layer = backend_.weights().layers[l];
    const bool lightning = layer.kind != LayerKind::Sparse;
    const int64_t width = lightning ? c.lightningWidth() : c.attnWidth();
    const bf16* norm = lightning && c.useOutputNorm ? layer.oNorm : nullptr;
    const float eps = static_cast<float>(c.rmsNormEps);
    const bf16* gate = layer.gateOffset >= 0 ? ws_.proj.as<bf16>() + layer.gateOffset : nullptr;
    bf16* out = ws_.attn.as<bf16>();
    const float r = static_cast<float>(c.residualScale());
    if (gemvFor(T, width, layer.wO)) {
        k::GemvInput in;
        in.kind = k::GemvInputKind::GatedNorm;
        in.x = out;
        in.normWeight = norm;
        in.eps = eps;
        in.gate = gate;
        SALA_CUDA(k::launchGemv(in, layer.wO, c.hiddenSize, int(width),
                                {ws_.h.get(), true, r, 1.0f}, stream_));
        return {};
    }
    SALA_CUDA(
        k::launchGatedNorm(out, width, T, int(width), norm, eps, gate, layer.inRows, stream_));
    return product(T, out, width, layer.wO, c.hiddenSize, ws_.h.get(), OutType::F32, r, 1.0f);
}

Status CudaContext::swiglu(int64_t T, const bf16* normWeight, const bf16* wGateUp) {
    const int64_t H = config_.hiddenSize;
    const int64_t I = config_.intermediateSize;
    bf16* act = ws_.act.as<bf16>();
    if (gemvFor(T, H, wGateUp)) {
        const k::GemvInput in = normedResidual(ws_.h.as<float>(), normWeight, config_.rmsNormEps);
        SALA_CUDA(k::launchGemv(in, wGateUp, I, int(H), {act, false, 1.0f, 0.0f, true}, stream_));
        return {};
    }
    bf16* gateUp = ws_.proj.as<bf16>();
    SALA_TRY(normProduct(T, normWeight, wGateUp, 2 * I, gateUp));
    SALA_CUDA(k::launchSiluMul(gateUp, 2 * I, T, int(I), act, I, stream_));
    return {};
}

} // namespace sala::cuda
