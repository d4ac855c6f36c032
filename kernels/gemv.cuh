#pragma once
// One-token matrix products of a decode step: y = x W^T for one row x, with W [n, k] bf16
// row-major, as the weights are stored.
//
// A decode step reads every weight once, so its products are bound by memory bandwidth. Two
// things make this kernel faster there than a general GEMM:
// - it is a programmatic dependent (see dependent_launch.cuh) whose thread blocks issue their
//   first weight loads before waiting for the preceding kernel: weights never change during a
//   step, so the loads overlap the small kernels (norms, attention) before the product;
// - each thread block builds x itself, from the residual stream through the RMSNorm or the
//   attention output through its gate and norm, and the gate/up product ends in SwiGLU of its
//   pairs of rows (see GemvOutput::swiglu), which takes those kernels out of the step.

#include "kernel_common.cuh"

namespace folio::kernels {

// Longest row (k) the product accepts: x is held in shared memory as bf16.
constexpr int kMaxGemvK = 16384;

enum class GemvInputKind {
    Bf16,      // x = x[0, k)
    RmsNorm,   // x = residual / sqrt(mean(residual^2) + eps) * normWeight, as launchRmsNorm does
    GatedNorm, // x = (normWeight ? rmsnorm(x) * normWeight : x) * (gate ? sigmoid(gate) : 1), as
               // launchGatedNorm does (the attention output before its projection)
};

// x is rounded to bf16 before the product, as the standalone kernels round their output.
struct GemvInput {
    GemvInputKind kind = GemvInputKind::Bf16;
    const bf16* x = nullptr;          // Bf16, GatedNorm
    const float* residual = nullptr;  // RmsNorm
    const bf16* normWeight = nullptr; // RmsNorm; GatedNorm, where null means no norm
    float eps = 0.0f;
    const bf16* gate = nullptr; // GatedNorm, where null means no gate
};

// bf16: y = alpha * (x W^T), beta must be 0. f32: y = alpha * (x W^T) + beta * y, where y is read
// only when beta is not 0 (so an output projection adds itself into the residual stream).
// swiglu: W has 2n rows, the gate rows [0, n) and the up rows [n, 2n), and the bf16 output is
// y[i] = silu(g) * u with g and u the products of rows i and n + i rounded to bf16, as
// launchSiluMul computes it from a stored gate/up product. One warp computes both rows of a
// pair, so the SwiGLU is computed once per element instead of in every thread block of the next
// product.
struct GemvOutput {
    void* y = nullptr;
    bool f32 = false;
    float alpha = 1.0f;
    float beta = 0.0f;
    bool swiglu = false;
};

// Errors: cudaErrorInvalidValue for k outside [8, kMaxGemvK] or not a multiple of 8, negative n,
// null or misaligned pointers (16 bytes each; normWeight and gate may be null for GatedNorm),
// beta != 0 with a bf16 output, or swiglu with an f32 output.
cudaError_t launchGemv(const GemvInput& in, const bf16* w, int64_t n, int k, const GemvOutput& out,
                       cudaStream_t stream);

} // namespace folio::kernels
