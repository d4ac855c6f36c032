#include "cpu_math.h"

#include "bf16.h"

#include <cmath>
#include <cstring>

namespace sala::cpu {

void decodeRow(const Weight& w, int64_t row, float* out) {
    const int64_t n = w.cols;
    switch (w.dtype) {
    case DType::F32:
        std::memcpy(out, static_cast<const float*>(w.data) + row * n, n * sizeof(float));
        break;
    case DType::BF16: {
        const uint16_t* src = static_cast<const uint16_t*>(w.data) + row * n;
        for (int64_t i = 0; i < n; ++i) out[i] = bf16ToFloat(src[i]);
        break;
    }
    case DType::F16: {
        const uint16_t* src = static_cast<const uint16_t*>(w.data) + row * n;
        for (int64_t i = 0; i < n; ++i) out[i] = f16ToFloat(src[i]);
        break;
    }
    default:
        // bindWeights admits only the three float types above.
        std::memset(out, 0, n * sizeof(float));
        break;
    }
}

float dot(const float* a, const float* b, int64_t n) {
    // Eight independent partial sums: vectorisable and a fixed summation order.
    float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int k = 0; k < 8; ++k) acc[k] += a[i + k] * b[i + k];
    float tail = 0;
    for (; i < n; ++i) tail += a[i] * b[i];
    return ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7])) + tail;
}

void matmulRows(ThreadPool& pool, const float* x, int64_t tokens, const Weight& w, int64_t rowBegin,
                int64_t rowEnd, float* y, int64_t yStride) {
    const int64_t in = w.cols;
    constexpr int64_t kRowsPerTask = 4;
    const int64_t tasks = (rowEnd - rowBegin + kRowsPerTask - 1) / kRowsPerTask;
    pool.parallelFor(tasks, [&](int64_t begin, int64_t end) {
        std::vector<float> rows(static_cast<size_t>(kRowsPerTask * in));
        for (int64_t task = begin; task < end; ++task) {
            const int64_t r0 = rowBegin + task * kRowsPerTask;
            const int64_t count = std::min(kRowsPerTask, rowEnd - r0);
            for (int64_t r = 0; r < count; ++r) decodeRow(w, r0 + r, rows.data() + r * in);
            for (int64_t t = 0; t < tokens; ++t) {
                const float* xt = x + t * in;
                float* yt = y + t * yStride + (r0 - rowBegin);
                for (int64_t r = 0; r < count; ++r) yt[r] = dot(xt, rows.data() + r * in, in);
            }
        }
    });
}

void matmul(ThreadPool& pool, const float* x, int64_t tokens, const Weight& w, float* y) {
    matmulRows(pool, x, tokens, w, 0, w.rows, y, w.rows);
}

void rmsNorm(const float* x, int64_t rows, int64_t width, const float* weight, double eps,
             float* y) {
    for (int64_t r = 0; r < rows; ++r) {
        const float* xr = x + r * width;
        float* yr = y + r * width;
        double sum = 0;
        for (int64_t i = 0; i < width; ++i) sum += double(xr[i]) * xr[i];
        const float inv = static_cast<float>(1.0 / std::sqrt(sum / double(width) + eps));
        for (int64_t i = 0; i < width; ++i) yr[i] = xr[i] * inv * weight[i];
    }
}

void addScaled(float* h, const float* x, int64_t n, float scale) {
    for (int64_t i = 0; i < n; ++i) h[i] += scale * x[i];
}

void siluMul(float* gate, const float* up, int64_t n) {
    for (int64_t i = 0; i < n; ++i) {
        const float g = gate[i];
        gate[i] = g / (1.0f + std::exp(-g)) * up[i];
    }
}

void mulSigmoid(float* x, const float* g, int64_t n) {
    for (int64_t i = 0; i < n; ++i) x[i] *= 1.0f / (1.0f + std::exp(-g[i]));
}

Rope::Rope(int dim, double theta) : dim_(dim), invFreq_(dim / 2) {
    for (int i = 0; i < dim / 2; ++i) invFreq_[i] = std::pow(theta, -2.0 * i / dim);
}

void Rope::apply(float* x, int64_t pos) const {
    const int half = dim_ / 2;
    for (int i = 0; i < half; ++i) {
        const double angle = double(pos) * invFreq_[i];
        const float c = static_cast<float>(std::cos(angle));
        const float s = static_cast<float>(std::sin(angle));
        const float a = x[i];
        const float b = x[i + half];
        x[i] = a * c - b * s;
        x[i + half] = b * c + a * s;
    }
}

std::vector<float> toFloat(const Weight& w) {
    std::vector<float> out(static_cast<size_t>(w.rows * w.cols));
    for (int64_t r = 0; r < w.rows; ++r) decodeRow(w, r, out.data() + r * w.cols);
    return out;
}

} // namespace sala::cpu
