#include "sparse_cpu.h"

#include "cpu_math.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace sala::cpu {

SparseParams sparseParamsOf(const ModelConfig& c) {
    SparseParams p;
    p.heads = c.numHeads;
    p.kvHeads = c.numKvHeads;
    p.dim = c.headDim;
    p.blockSize = c.sparse.blockSize;
    p.initBlocks = c.sparse.initBlocks;
    p.localBlocks = c.sparse.localBlocks();
    p.topkTotal = c.sparse.topkTotal();
    p.kernel1 = c.sparse.kernelSize;
    p.stride1 = c.sparse.kernelStride;
    p.kernel2 = c.sparse.kernelSize2();
    p.stride2 = c.sparse.kernelStride2();
    return p;
}

void SparseCache::reset(int kvHeads) {
    keys.assign(kvHeads, {});
    values.assign(kvHeads, {});
    k1.assign(kvHeads, {});
    k2.assign(kvHeads, {});
    length = 0;
}

namespace {

// Extends `pooled` with the windows completed by the keys now in `keys`.
void extendPooled(std::vector<float>& pooled, const std::vector<float>& keys, int64_t length,
                  int dim, int kernel, int stride) {
    const int64_t have = static_cast<int64_t>(pooled.size()) / dim;
    const int64_t want = compressedCount(length, kernel, stride);
    pooled.resize(static_cast<size_t>(want * dim));
    std::vector<double> sum(dim);
    for (int64_t j = have; j < want; ++j) {
        std::fill(sum.begin(), sum.end(), 0.0);
        for (int64_t u = j * stride; u < j * stride + kernel; ++u)
            for (int e = 0; e < dim; ++e) sum[e] += keys[u * dim + e];
        for (int e = 0; e < dim; ++e) pooled[j * dim + e] = static_cast<float>(sum[e] / kernel);
    }
}

} // namespace

void SparseCache::append(const SparseParams& p, const float* k, const float* v, int64_t tokens) {
    const int d = p.dim;
    for (int g = 0; g < p.kvHeads; ++g) {
        for (int64_t t = 0; t < tokens; ++t) {
            const float* kr = k + (t * p.kvHeads + g) * d;
            const float* vr = v + (t * p.kvHeads + g) * d;
            keys[g].insert(keys[g].end(), kr, kr + d);
            values[g].insert(values[g].end(), vr, vr + d);
        }
    }
    length += tokens;
    updateCompressed(p);
}

void SparseCache::updateCompressed(const SparseParams& p) {
    for (int g = 0; g < p.kvHeads; ++g) {
        extendPooled(k1[g], keys[g], length, p.dim, p.kernel1, p.stride1);
        extendPooled(k2[g], keys[g], length, p.dim, p.kernel2, p.stride2);
    }
}

void SparseCache::truncate(const SparseParams& p, int64_t n) {
    if (n >= length) return;
    const int d = p.dim;
    for (int g = 0; g < p.kvHeads; ++g) {
        keys[g].resize(static_cast<size_t>(n * d));
        values[g].resize(static_cast<size_t>(n * d));
        k1[g].resize(static_cast<size_t>(compressedCount(n, p.kernel1, p.stride1) * d));
        k2[g].resize(static_cast<size_t>(compressedCount(n, p.kernel2, p.stride2) * d));
    }
    length = n;
}

size_t SparseCache::kvBytes() const {
    size_t n = 0;
    for (size_t g = 0; g < keys.size(); ++g) n += (keys[g].size() + values[g].size());
    return n * sizeof(float);
}

size_t SparseCache::compressedBytes() const {
    size_t n = 0;
    for (size_t g = 0; g < k1.size(); ++g) n += (k1[g].size() + k2[g].size());
    return n * sizeof(float);
}

namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

// Stage 1: the probability of each visible level-1 key under a softmax whose normaliser is
// the log-sum-exp over the visible level-2 keys, summed over the query heads of the group.
std::vector<double> stageOneScores(const SparseParams& p, const SparseCache& cache, const float* q,
                                   int64_t pos, int g) {
    const int d = p.dim;
    const int group = p.heads / p.kvHeads;
    const double c = 1.0 / std::sqrt(double(d));
    const int64_t n1 = compressedCount(pos + 1, p.kernel1, p.stride1);
    const int64_t n2 = compressedCount(pos + 1, p.kernel2, p.stride2);
    std::vector<double> scores(static_cast<size_t>(n1), 0.0);
    std::vector<double> logits(static_cast<size_t>(std::max(n1, n2)));
    for (int hh = 0; hh < group; ++hh) {
        const float* qh = q + int64_t(g * group + hh) * d;
        // The level-2 normaliser; with no level-2 key visible yet, fall back to the exact
        // level-1 normaliser rather than dividing by nothing.
        const std::vector<float>& norm = n2 > 0 ? cache.k2[g] : cache.k1[g];
        const int64_t nn = n2 > 0 ? n2 : n1;
        double maxLogit = -std::numeric_limits<double>::infinity();
        for (int64_t j = 0; j < nn; ++j) {
            logits[j] = c * dot(qh, norm.data() + j * d, d);
            maxLogit = std::max(maxLogit, logits[j]);
        }
        double sum = 0;
        for (int64_t j = 0; j < nn; ++j) sum += std::exp(logits[j] - maxLogit);
        const double lse = maxLogit + std::log(sum);
        for (int64_t j = 0; j < n1; ++j)
            scores[j] += std::exp(c * dot(qh, cache.k1[g].data() + j * d, d) - lse);
    }
    return scores;
}

} // namespace

std::vector<int> selectBlocks(const SparseParams& p, const SparseCache& cache, const float* q,
                              int64_t pos, int g) {
    const int qb = static_cast<int>(pos / p.blockSize);
    std::vector<int> chosen;
    auto forced = [&](int b) { return b < p.initBlocks || (b >= qb - p.localBlocks && b <= qb); };
    if (qb + 1 <= p.topkTotal) {
        chosen.resize(qb + 1);
        std::iota(chosen.begin(), chosen.end(), 0);
        return chosen;
    }
    const std::vector<double> s = stageOneScores(p, cache, q, pos, g);
    const int64_t n1 = static_cast<int64_t>(s.size());
    const int per = p.blockSize / p.stride1; // level-1 keys per block: pooling stride
    std::vector<std::pair<double, int>> candidates;
    for (int b = 0; b <= qb; ++b) {
        if (forced(b)) {
            chosen.push_back(b);
            continue;
        }
        // Max-pool with kernel per+1, stride per and padding 1 over the level-1 scores.
        double best = -std::numeric_limits<double>::infinity();
        for (int64_t j = int64_t(b) * per - 1; j <= int64_t(b + 1) * per - 1; ++j)
            if (j >= 0 && j < n1) best = std::max(best, s[j]);
        candidates.emplace_back(best, b);
    }
    const int room = std::max(0, p.topkTotal - static_cast<int>(chosen.size()));
    const size_t take = std::min<size_t>(room, candidates.size());
    // Higher score first; exact ties go to the lower block id.
    std::partial_sort(candidates.begin(), candidates.begin() + take, candidates.end(),
                      [](const auto& a, const auto& b) {
                          return a.first != b.first ? a.first > b.first : a.second < b.second;
                      });
    for (size_t i = 0; i < take; ++i) chosen.push_back(candidates[i].second);
    std::sort(chosen.begin(), chosen.end());
    return chosen;
}

namespace {

// Softmax attention of one query head over the keys u <= pos of the chosen blocks.
void attendHead(const SparseParams& p, const SparseCache& cache, const float* qh, int64_t pos,
                int g, const std::vector<int>& blocks, std::vector<float>& scores, float* out) {
    const int d = p.dim;
    const float c = static_cast<float>(1.0 / std::sqrt(double(d)));
    scores.clear();
    float maxScore = kNegInf;
    for (int b : blocks) {
        const int64_t end = std::min<int64_t>(int64_t(b + 1) * p.blockSize - 1, pos);
        for (int64_t u = int64_t(b) * p.blockSize; u <= end; ++u) {
            const float sc = c * dot(qh, cache.keys[g].data() + u * d, d);
            scores.push_back(sc);
            maxScore = std::max(maxScore, sc);
        }
    }
    std::vector<double> acc(d, 0.0);
    double sum = 0;
    size_t i = 0;
    for (int b : blocks) {
        const int64_t end = std::min<int64_t>(int64_t(b + 1) * p.blockSize - 1, pos);
        for (int64_t u = int64_t(b) * p.blockSize; u <= end; ++u, ++i) {
            const double w = std::exp(double(scores[i]) - maxScore);
            sum += w;
            const float* v = cache.values[g].data() + u * d;
            for (int e = 0; e < d; ++e) acc[e] += w * v[e];
        }
    }
    for (int e = 0; e < d; ++e) out[e] = static_cast<float>(acc[e] / sum);
}

} // namespace

void sparseAttention(ThreadPool& pool, const SparseParams& p, const SparseCache& cache,
                     const float* q, int64_t startPos, int64_t tokens, float* out,
                     std::vector<std::vector<int>>* lastSelection) {
    const int64_t width = int64_t(p.heads) * p.dim;
    const int group = p.heads / p.kvHeads;
    if (lastSelection) lastSelection->assign(p.kvHeads, std::vector<int>(p.topkTotal, -1));
    pool.parallelFor(tokens * p.kvHeads, [&](int64_t begin, int64_t end) {
        std::vector<float> scores;
        for (int64_t task = begin; task < end; ++task) {
            const int64_t t = task / p.kvHeads;
            const int g = static_cast<int>(task % p.kvHeads);
            const int64_t pos = startPos + t;
            const float* qt = q + t * width;
            const std::vector<int> blocks = selectBlocks(p, cache, qt, pos, g);
            for (int hh = 0; hh < group; ++hh) {
                const int64_t off = int64_t(g * group + hh) * p.dim;
                attendHead(p, cache, qt + off, pos, g, blocks, scores, out + t * width + off);
            }
            if (lastSelection && t == tokens - 1) {
                std::vector<int>& sel = (*lastSelection)[g];
                if (sel.size() < blocks.size()) sel.resize(blocks.size(), -1);
                std::copy(blocks.begin(), blocks.end(), sel.begin());
            }
        }
    });
}

void attendBlocks(const SparseParams& p, const SparseCache& cache, const float* qHead, int64_t pos,
                  int g, const std::vector<int>& blocks, float* out) {
    std::vector<int> used;
    for (int b : blocks)
        if (b >= 0) used.push_back(b);
    std::vector<float> scores;
    attendHead(p, cache, qHead, pos, g, used, scores, out);
}

} // namespace sala::cpu
