#include "elementwise_check.h"

#include "gpu_test_util.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace gputest {

using bf16 = __nv_bfloat16;

uint16_t bits(bf16 v) {
    uint16_t b;
    std::memcpy(&b, &v, sizeof b);
    return b;
}

std::vector<bf16> poisonedBf16(size_t n) {
    std::vector<bf16> v(n);
    std::memset(static_cast<void*>(v.data()), 0xFF, n * sizeof(bf16));
    return v;
}

std::string compare(const std::vector<float>& got, const std::vector<float>& want, double relL2,
                    double elementRel) {
    if (got.size() != want.size()) return "size mismatch";
    const double err = relativeL2(got.data(), want.data(), got.size());
    double sumSq = 0;
    for (float w : want) sumSq += double(w) * w;
    const double rms = std::sqrt(sumSq / std::max<size_t>(1, want.size()));
    for (size_t i = 0; i < got.size(); ++i) {
        const double bound = elementRel * std::fabs(want[i]) + 1e-3 * rms;
        if (!(std::fabs(double(got[i]) - want[i]) <= bound))
            return "element " + std::to_string(i) + ": got " + std::to_string(got[i]) +
                   ", expected " + std::to_string(want[i]) + " (rel L2 " + std::to_string(err) +
                   ")";
    }
    if (!(err <= relL2)) return "relative L2 " + std::to_string(err);
    return {};
}

std::string compareBf16(const std::vector<float>& got, const std::vector<float>& want) {
    return compare(got, want, kBf16RelL2, 1.0 / 128);
}

std::vector<float> section(const std::vector<bf16>& after, const std::vector<bf16>& before,
                           int64_t rows, int64_t stride, int64_t col, int64_t width,
                           std::string& why) {
    std::vector<float> out;
    out.reserve(static_cast<size_t>(rows * width));
    for (int64_t r = 0; r < rows; ++r) {
        for (int64_t c = 0; c < stride; ++c) {
            const size_t i = static_cast<size_t>(r * stride + c);
            if (c >= col && c < col + width)
                out.push_back(__bfloat162float(after[i]));
            else if (bits(after[i]) != bits(before[i]) && why.empty())
                why = "row " + std::to_string(r) + " column " + std::to_string(c) +
                      " outside the section was changed";
        }
    }
    return out;
}

std::vector<float> bf16Weights(size_t n, std::mt19937& rng) {
    std::vector<float> w = randomFloats(n, rng, 0.3f);
    for (float& x : w) x += 1.0f;
    return roundBf16(w);
}

std::vector<float> rowsOf(const std::vector<float>& full, int64_t rows, int64_t stride, int64_t col,
                          int64_t width) {
    std::vector<float> out(static_cast<size_t>(rows * width));
    for (int64_t r = 0; r < rows; ++r)
        std::copy_n(full.begin() + r * stride + col, width, out.begin() + r * width);
    return out;
}

} // namespace gputest
