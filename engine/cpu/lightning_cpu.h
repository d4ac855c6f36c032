#pragma once
// Lightning attention (simple gated linear attention with fixed per-head decays) on the CPU.
// Per head h with decay g = exp(-slope_h) and c = dim^-1/2:
//     S_t = g * S_{t-1} + k_t v_t^T,    o_t = c * q_t^T S_t
// The state S is [dim (keys), dim (values)] in f32 per head.

#include "thread_pool.h"

#include <cstdint>
#include <vector>

namespace sala::cpu {

// ALiBi slope schedule: for n a power of two, slope_h = 2^(-8(h+1)/n).
std::vector<double> lightningSlopes(int heads);

struct LightningArgs {
    const float* q = nullptr; // [tokens, heads * dim], normalised and rotated
    const float* k = nullptr; // [tokens, heads * dim]
    const float* v = nullptr; // [tokens, heads * dim]
    int64_t tokens = 0;
    int heads = 0;
    int dim = 0;
    const double* slopes = nullptr; // [heads]
    float* state = nullptr;         // [heads, dim, dim], read and updated
    float* out = nullptr;           // [tokens, heads * dim]
};

// Token-by-token recurrence (decode).
void lightningRecurrent(ThreadPool& pool, const LightningArgs& a);

// Chunked form (prefill): within a chunk the masked quadratic form, across chunks the
// state. Equal to the recurrence up to rounding.
void lightningChunked(ThreadPool& pool, const LightningArgs& a, int chunk = 64);

} // namespace sala::cpu
