#include "lightning_cpu.h"

#include "cpu_math.h"

#include <cmath>

namespace sala::cpu {

std::vector<double> lightningSlopes(int heads) {
    // The ALiBi schedule; for a head count that is not a power of two, the slopes of the
    // nearest lower power of two followed by every other slope of twice that power.
    auto powerOfTwo = [](int n) {
        std::vector<double> s(n);
        const double start = std::pow(2.0, -std::pow(2.0, -(std::log2(double(n)) - 3)));
        for (int i = 0; i < n; ++i) s[i] = std::pow(start, i + 1);
        return s;
    };
    int p = 1;
    while (p * 2 <= heads) p *= 2;
    std::vector<double> slopes = powerOfTwo(p);
    if (p != heads) {
        std::vector<double> extra = powerOfTwo(2 * p);
        for (int i = 0; static_cast<int>(slopes.size()) < heads; i += 2) slopes.push_back(extra[i]);
    }
    return slopes;
}

namespace {

void recurrentHead(const LightningArgs& a, int h) {
    const int d = a.dim;
    const int64_t stride = int64_t(a.heads) * d;
    const float gamma = static_cast<float>(std::exp(-a.slopes[h]));
    const float c = static_cast<float>(1.0 / std::sqrt(double(d)));
    float* S = a.state + int64_t(h) * d * d;
    for (int64_t t = 0; t < a.tokens; ++t) {
        const float* q = a.q + t * stride + int64_t(h) * d;
        const float* k = a.k + t * stride + int64_t(h) * d;
        const float* v = a.v + t * stride + int64_t(h) * d;
        float* o = a.out + t * stride + int64_t(h) * d;
        for (int i = 0; i < d; ++i) {
            float* row = S + int64_t(i) * d;
            for (int j = 0; j < d; ++j) row[j] = gamma * row[j] + k[i] * v[j];
        }
        for (int j = 0; j < d; ++j) o[j] = 0;
        for (int i = 0; i < d; ++i) {
            const float qi = c * q[i];
            const float* row = S + int64_t(i) * d;
            for (int j = 0; j < d; ++j) o[j] += qi * row[j];
        }
    }
}

void chunkedHead(const LightningArgs& a, int h, int chunk, std::vector<float>& scores) {
    const int d = a.dim;
    const int64_t stride = int64_t(a.heads) * d;
    const double slope = a.slopes[h];
    const float c = static_cast<float>(1.0 / std::sqrt(double(d)));
    float* S = a.state + int64_t(h) * d * d;
    auto decay = [slope](int64_t n) { return static_cast<float>(std::exp(-slope * double(n))); };
    auto row = [&](const float* base, int64_t t) { return base + t * stride + int64_t(h) * d; };

    for (int64_t t0 = 0; t0 < a.tokens; t0 += chunk) {
        const int64_t L = std::min<int64_t>(chunk, a.tokens - t0);
        scores.assign(static_cast<size_t>(L), 0.0f);
        for (int64_t i = 0; i < L; ++i) {
            const float* q = row(a.q, t0 + i);
            float* o = a.out + (t0 + i) * stride + int64_t(h) * d;
            // Inter-chunk part: everything before this chunk, through the carried state.
            const float inter = c * decay(i + 1);
            for (int j = 0; j < d; ++j) o[j] = 0;
            for (int kk = 0; kk < d; ++kk) {
                const float qk = inter * q[kk];
                const float* srow = S + int64_t(kk) * d;
                for (int j = 0; j < d; ++j) o[j] += qk * srow[j];
            }
            // Intra-chunk part: the masked quadratic form.
            for (int64_t j = 0; j <= i; ++j)
                scores[j] = c * decay(i - j) * dot(q, row(a.k, t0 + j), d);
            for (int64_t j = 0; j <= i; ++j) {
                const float* v = row(a.v, t0 + j);
                for (int e = 0; e < d; ++e) o[e] += scores[j] * v[e];
            }
        }
        // State update: decay the old state over the chunk and add the chunk's keys.
        const float whole = decay(L);
        for (int64_t n = 0; n < int64_t(d) * d; ++n) S[n] *= whole;
        for (int64_t j = 0; j < L; ++j) {
            const float w = decay(L - 1 - j);
            const float* k = row(a.k, t0 + j);
            const float* v = row(a.v, t0 + j);
            for (int kk = 0; kk < d; ++kk) {
                const float kw = w * k[kk];
                float* srow = S + int64_t(kk) * d;
                for (int e = 0; e < d; ++e) srow[e] += kw * v[e];
            }
        }
    }
}

} // namespace

void lightningRecurrent(ThreadPool& pool, const LightningArgs& a) {
    pool.parallelFor(a.heads, [&](int64_t begin, int64_t end) {
        for (int64_t h = begin; h < end; ++h) recurrentHead(a, static_cast<int>(h));
    });
}

void lightningChunked(ThreadPool& pool, const LightningArgs& a, int chunk) {
    pool.parallelFor(a.heads, [&](int64_t begin, int64_t end) {
        std::vector<float> scores;
        for (int64_t h = begin; h < end; ++h) chunkedHead(a, static_cast<int>(h), chunk, scores);
    });
}

} // namespace sala::cpu
