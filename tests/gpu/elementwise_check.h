#pragma once
// Comparison helpers of the GPU suites for the elementwise kernels (norms, RoPE, activations,
// conversions) against their CPU twins.
//
// Tolerance: the CPU twins compute in f32 (sums in double) and the kernels in f32, so the only
// sizeable difference is the final rounding to bf16, at most 2^-8 of each value (relative L2
// about 1.5e-3 for random data). kBf16RelL2 = 4e-3 leaves room for that and nothing more: an
// angle off by 0.01 rad, a missed element or a wrong weight index each exceed it. Each element
// must also be within 2^-7 of its value (+1e-3 of the rms), so one unwritten or wrong element
// fails even where the L2 average would hide it. f32 outputs (norm as f32) use 1e-5; the
// embedding and the conversions are exact.

#include <cuda_bf16.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace gputest {

constexpr double kBf16RelL2 = 4e-3;
constexpr double kF32RelL2 = 1e-5;
constexpr float kEps = 1e-6f;
constexpr double kTheta = 10000.0;

uint16_t bits(__nv_bfloat16 v);
std::vector<__nv_bfloat16> poisonedBf16(size_t n);

// Empty when got matches want (see the tolerance note above), else what is wrong and where.
std::string compare(const std::vector<float>& got, const std::vector<float>& want, double relL2,
                    double elementRel);
std::string compareBf16(const std::vector<float>& got, const std::vector<float>& want);

// The [col, col + width) columns of a [rows, stride] bf16 buffer as floats; `why` is set when an
// element outside them differs from `before` (the kernel wrote where it must not).
std::vector<float> section(const std::vector<__nv_bfloat16>& after,
                           const std::vector<__nv_bfloat16>& before, int64_t rows, int64_t stride,
                           int64_t col, int64_t width, std::string& why);

// Norm weights: 1 + N(0, 0.3), rounded to bf16.
std::vector<float> bf16Weights(size_t n, std::mt19937& rng);

// The [col, col + width) columns of a [rows, stride] matrix, packed.
std::vector<float> rowsOf(const std::vector<float>& full, int64_t rows, int64_t stride, int64_t col,
                          int64_t width);

} // namespace gputest
