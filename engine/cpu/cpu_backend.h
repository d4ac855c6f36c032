#pragma once
// The CPU reference backend: f32 arithmetic on the model's bf16/f16/f32 weights. It is the
// oracle for the GPU kernels and the fallback where no CUDA GPU is present.

#include "backend.h"
#include "cpu_math.h"
#include "lightning_cpu.h"
#include "sparse_cpu.h"
#include "thread_pool.h"

#include <memory>
#include <optional>
#include <vector>

namespace sala::cpu {

// Per-layer vectors decoded to f32 once.
struct LayerNorms {
    std::vector<float> input, post, q, k, o;
};

class CpuBackend final : public Backend {
public:
    CpuBackend(std::shared_ptr<const Model> model, const BackendOptions& options);
    std::string name() const override { return "cpu"; }
    const Model& model() const override { return *model_; }
    Result<std::unique_ptr<Context>> createContext() override;

    ThreadPool& pool() { return pool_; }
    const SparseParams& sparseParams() const { return sparse_; }
    const LayerNorms& norms(int layer) const { return norms_[layer]; }
    const std::vector<float>& finalNorm() const { return finalNorm_; }
    const std::vector<double>& slopes() const { return slopes_; }
    const Rope& lightningRope() const { return lightningRope_; }
    const Rope& sparseRope() const { return sparseRope_; }

private:
    std::shared_ptr<const Model> model_;
    ThreadPool pool_;
    SparseParams sparse_;
    std::vector<LayerNorms> norms_;
    std::vector<float> finalNorm_;
    std::vector<double> slopes_;
    Rope lightningRope_;
    Rope sparseRope_;
};

} // namespace sala::cpu
