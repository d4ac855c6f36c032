#pragma once
// Dense building blocks of the CPU backend: f32 arithmetic on bf16/f16/f32 weights.
// Every output element is computed by one thread in a fixed order, so results do not
// depend on the thread count or on how many tokens share a call.

#include "model_weights.h"
#include "thread_pool.h"

#include <cstdint>
#include <vector>

namespace sala::cpu {

// Converts `count` elements of a weight row to f32.
void decodeRow(const Weight& w, int64_t row, float* out);

// y[t, o] = sum_i x[t, i] * w[o, i]   (x: [tokens, w.cols], y: [tokens, w.rows])
void matmul(ThreadPool& pool, const float* x, int64_t tokens, const Weight& w, float* y);

// Like matmul, but only rows [rowBegin, rowEnd) of the output features (for logits of a
// vocabulary slice, or for tests).
void matmulRows(ThreadPool& pool, const float* x, int64_t tokens, const Weight& w, int64_t rowBegin,
                int64_t rowEnd, float* y, int64_t yStride);

// y = x / sqrt(mean(x^2) + eps) * weight, row by row over `width` elements.
void rmsNorm(const float* x, int64_t rows, int64_t width, const float* weight, double eps,
             float* y);

// x <- x * (residual scale) added to h: h += scale * x
void addScaled(float* h, const float* x, int64_t n, float scale);

// gate[i] <- silu(gate[i]) * up[i]
void siluMul(float* gate, const float* up, int64_t n);

// x[i] <- x[i] * sigmoid(g[i])
void mulSigmoid(float* x, const float* g, int64_t n);

float dot(const float* a, const float* b, int64_t n);

// Rotary embedding, rotate-half layout over the full head width `dim`, in place on one head
// vector at absolute position `pos`. Angles are formed in double (position * inverse
// frequency) and rounded to float only as cos/sin.
class Rope {
public:
    Rope(int dim, double theta);
    void apply(float* x, int64_t pos) const;

private:
    int dim_;
    std::vector<double> invFreq_;
};

// Weight vector as f32 (norm weights are tiny; they are decoded once per use).
std::vector<float> toFloat(const Weight& w);

} // namespace sala::cpu
