#pragma once
// Reference computations and draw statistics for the sampler tests.

#include "sampler.h"

#include <QtTest>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>
#include <set>
#include <vector>

namespace sampling_test {

using sala::Sampler;
using sala::SamplingParams;

inline constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
inline constexpr float kInf = std::numeric_limits<float>::infinity();
inline constexpr int kVocab = 73448; // MiniCPM-SALA

inline SamplingParams sampling(float temperature, uint64_t seed = 1) {
    SamplingParams p;
    p.temperature = temperature;
    p.seed = seed;
    return p;
}

inline SamplingParams greedyParams() {
    return sampling(0.0f);
}

inline std::vector<float> randomLogits(size_t n, uint32_t seed, float scale = 3.0f) {
    std::mt19937 gen(seed);
    std::normal_distribution<float> normal(0.0f, scale);
    std::vector<float> out(n);
    for (float& v : out) v = normal(gen);
    return out;
}

// Logits whose softmax at temperature 1 is exactly `probs` (up to rounding).
inline std::vector<float> logitsFor(const std::vector<double>& probs) {
    std::vector<float> out;
    for (double p : probs) out.push_back(p > 0 ? static_cast<float>(std::log(p)) : -kInf);
    return out;
}

// Reference softmax(logits / T) restricted to `keep` (all tokens when empty), in double.
inline std::vector<double> softmax(const std::vector<float>& logits, double t,
                                   const std::set<int>& keep = {}) {
    double top = -kInf;
    for (float l : logits) top = std::max(top, static_cast<double>(l));
    std::vector<double> p(logits.size(), 0.0);
    double sum = 0;
    for (size_t i = 0; i < logits.size(); ++i) {
        if (!keep.empty() && !keep.count(static_cast<int>(i))) continue;
        p[i] = std::exp((logits[i] - top) / t);
        sum += p[i];
    }
    for (double& v : p) v /= sum;
    return p;
}

inline std::vector<int> idsByLogitDesc(const std::vector<float>& logits) {
    std::vector<int> ids(logits.size());
    std::iota(ids.begin(), ids.end(), 0);
    std::stable_sort(ids.begin(), ids.end(), [&](int a, int b) { return logits[a] > logits[b]; });
    return ids;
}

// The smallest best-first prefix holding at least `topP` of softmax(logits / t).
inline std::set<int> nucleusOf(const std::vector<float>& logits, double t, double topP) {
    const auto probs = softmax(logits, t);
    std::set<int> nucleus;
    double mass = 0;
    for (int id : idsByLogitDesc(logits)) {
        nucleus.insert(id);
        mass += probs[id];
        if (mass >= topP) break;
    }
    return nucleus;
}

// Draws `n` tokens; an empty vector means a call failed.
inline std::vector<int> drawCounts(Sampler& sampler, const std::vector<float>& logits, int n,
                                   const std::vector<int>& history = {}) {
    std::vector<int> counts(logits.size(), 0);
    for (int i = 0; i < n; ++i) {
        auto r = sampler.sample(logits, history);
        if (!r.ok() || *r < 0 || *r >= static_cast<int>(logits.size())) return {};
        ++counts[*r];
    }
    return counts;
}

inline std::set<int> drawnSet(const std::vector<int>& counts) {
    std::set<int> out;
    for (size_t i = 0; i < counts.size(); ++i)
        if (counts[i] > 0) out.insert(static_cast<int>(i));
    return out;
}

// Pearson statistic over the cells with non-zero expected probability.
inline double chiSquare(const std::vector<int>& counts, const std::vector<double>& probs, int n,
                        int* degrees) {
    double stat = 0;
    int cells = 0;
    for (size_t i = 0; i < counts.size(); ++i) {
        if (probs[i] <= 0) continue;
        const double expected = probs[i] * n;
        stat += (counts[i] - expected) * (counts[i] - expected) / expected;
        ++cells;
    }
    *degrees = cells - 1;
    return stat;
}

// Upper quantile of chi-square with `df` degrees of freedom at about p = 0.9995
// (Wilson-Hilferty), so a correct sampler fails for roughly one seed in two thousand.
inline double chiSquareCritical(int df) {
    const double z = 3.29;
    const double a = 2.0 / (9.0 * df);
    return df * std::pow(1.0 - a + z * std::sqrt(a), 3.0);
}

inline void verifyDistribution(const std::vector<int>& counts, const std::vector<double>& probs,
                               int n) {
    QVERIFY2(!counts.empty(), "a sample() call failed or returned an out-of-range id");
    for (size_t i = 0; i < probs.size(); ++i)
        if (probs[i] == 0) QCOMPARE(counts[i], 0);
    int df = 0;
    const double stat = chiSquare(counts, probs, n, &df);
    if (df == 0) return; // a single possible token: the zero-count checks above say it all
    const double critical = chiSquareCritical(df);
    QVERIFY2(stat < critical, qPrintable(QString("chi-square %1 >= %2 with %3 degrees of freedom")
                                             .arg(stat)
                                             .arg(critical)
                                             .arg(df)));
}

} // namespace sampling_test
