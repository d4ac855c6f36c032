#include "cpu_backend.h"

#include "cpu_context.h"

namespace sala::cpu {

CpuBackend::CpuBackend(std::shared_ptr<const Model> model, const BackendOptions& options)
    : model_(std::move(model)), pool_(options.threads), sparse_(sparseParamsOf(model_->config)),
      lightningRope_(model_->config.lightningHeadDim, model_->config.ropeTheta),
      sparseRope_(model_->config.headDim, model_->config.ropeTheta) {
    const ModelConfig& c = model_->config;
    const ModelWeights& w = model_->weights;
    norms_.resize(c.numLayers);
    for (int l = 0; l < c.numLayers; ++l) {
        const LayerWeights& lw = w.layers[l];
        LayerNorms& n = norms_[l];
        n.input = toFloat(lw.inputNorm);
        n.post = toFloat(lw.postNorm);
        if (!lw.qNorm.empty()) n.q = toFloat(lw.qNorm);
        if (!lw.kNorm.empty()) n.k = toFloat(lw.kNorm);
        if (!lw.oNorm.empty()) n.o = toFloat(lw.oNorm);
    }
    finalNorm_ = toFloat(w.finalNorm);
    slopes_ = lightningSlopes(c.lightningHeads);
}

Result<std::unique_ptr<Context>> CpuBackend::createContext() {
    return std::unique_ptr<Context>(std::make_unique<CpuContext>(*this));
}

} // namespace sala::cpu
