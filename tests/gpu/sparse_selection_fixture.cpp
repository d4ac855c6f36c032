#include "sparse_selection_fixture.h"

#include "sparse_compress.cuh"
#include "thread_pool.h"

#include <algorithm>
#include <iterator>

namespace gputest {

using sala::cpu::compressedCount;

SparseSelectParams tinyShape() {
    return {32, 2, 16, 16, 1, 2, 6, 8, 4, 32, 16};
}
SparseSelectParams realShape() {
    return {32, 2, 128, 64, 1, 32, 96, 32, 16, 128, 64};
}
SparseSelectParams lateK2Shape() {
    return {32, 2, 16, 16, 1, 2, 6, 8, 4, 256, 128};
}

sala::cpu::SparseParams cpuParams(const SparseSelectParams& p) {
    sala::cpu::SparseParams c;
    c.heads = p.heads, c.kvHeads = p.kvHeads, c.dim = p.dim, c.blockSize = p.blockSize;
    c.initBlocks = p.initBlocks, c.localBlocks = p.localBlocks, c.topkTotal = p.topkTotal;
    c.kernel1 = p.kernel1, c.stride1 = p.stride1, c.kernel2 = p.kernel2, c.stride2 = p.stride2;
    return c;
}

namespace {

sala::ThreadPool& pool() {
    static sala::ThreadPool p;
    return p;
}

} // namespace

std::vector<float> structuredKeys(const SparseSelectParams& p, int64_t n, std::mt19937& rng) {
    const int width = p.kvHeads * p.dim;
    std::vector<float> keys = randomFloats(size_t(n) * width, rng, 0.5f);
    std::uniform_real_distribution<float> amp(0.0f, 1.5f);
    for (int64_t seg = 0; seg * p.stride1 < n; ++seg) {
        const std::vector<float> topic = randomFloats(width, rng, amp(rng));
        for (int64_t u = seg * p.stride1; u < std::min(n, (seg + 1) * p.stride1); ++u)
            for (int e = 0; e < width; ++e) keys[u * width + e] += topic[e];
    }
    return roundBf16(keys);
}

std::vector<__nv_bfloat16> headMajor(const std::vector<float>& keys, const SparseSelectParams& p,
                                     int64_t capacity) {
    const int64_t n = int64_t(keys.size()) / (p.kvHeads * p.dim);
    std::vector<float> out(size_t(p.kvHeads) * capacity * p.dim, 0.0f);
    for (int g = 0; g < p.kvHeads; ++g)
        for (int64_t u = 0; u < n; ++u)
            std::copy_n(&keys[(u * p.kvHeads + g) * p.dim], p.dim,
                        &out[(g * capacity + u) * p.dim]);
    return toBf16(out);
}

void buildContext(SelectionContext& c, const SparseSelectParams& p,
                  const std::vector<float>& keys) {
    c.length = int64_t(keys.size()) / (p.kvHeads * p.dim);
    c.n1 = compressedCount(c.length, p.kernel1, p.stride1);
    c.n2 = compressedCount(c.length, p.kernel2, p.stride2);
    c.keys.upload(headMajor(keys, p, c.length));
    c.k1.resize(size_t(p.kvHeads) * c.n1 * p.dim);
    c.k2.resize(size_t(p.kvHeads) * c.n2 * p.dim);
    c.k1.poison();
    c.k2.poison();
    const int64_t stride = c.length * p.dim;
    CUDA_CHECK(folio::kernels::launchCompressKeys(c.keys.get(), stride, p.kvHeads, p.dim, p.kernel1,
                                                  p.stride1, 0, c.n1, c.k1.get(), c.n1 * p.dim,
                                                  nullptr));
    CUDA_CHECK(folio::kernels::launchCompressKeys(c.keys.get(), stride, p.kvHeads, p.dim, p.kernel2,
                                                  p.stride2, 0, c.n2, c.k2.get(), c.n2 * p.dim,
                                                  nullptr));
    CUDA_CHECK(cudaDeviceSynchronize());
    const std::vector<float> k1 = fromBf16(c.k1.download()), k2 = fromBf16(c.k2.download());
    c.k1Host.assign(p.kvHeads, {});
    c.k2Host.assign(p.kvHeads, {});
    for (int g = 0; g < p.kvHeads; ++g) {
        c.k1Host[g].assign(k1.begin() + g * c.n1 * p.dim, k1.begin() + (g + 1) * c.n1 * p.dim);
        c.k2Host[g].assign(k2.begin() + g * c.n2 * p.dim, k2.begin() + (g + 1) * c.n2 * p.dim);
    }
}

sala::cpu::SparseCache cpuCache(const SparseSelectParams& p, const SelectionContext& c) {
    sala::cpu::SparseCache cache;
    cache.reset(p.kvHeads);
    cache.k1 = c.k1Host;
    cache.k2 = c.k2Host;
    cache.length = c.length;
    return cache;
}

void makeQueries(Queries& q, const SparseSelectParams& p, int64_t tokens, float scale,
                 std::mt19937& rng) {
    q.tokens = tokens;
    q.rowStride = int64_t(p.heads + 2 * p.kvHeads) * p.dim;
    q.host = roundBf16(randomFloats(size_t(tokens * q.rowStride), rng, scale));
    q.device.upload(toBf16(q.host));
}

std::vector<int32_t> cpuSelect(const SparseSelectParams& p, const sala::cpu::SparseCache& cache,
                               const float* q, int64_t rowStride, int64_t tokens, int64_t start) {
    const sala::cpu::SparseParams cp = cpuParams(p);
    std::vector<int32_t> out(size_t(tokens) * p.kvHeads * p.topkTotal, -1);
    pool().parallelFor(tokens * p.kvHeads, [&](int64_t begin, int64_t end) {
        for (int64_t row = begin; row < end; ++row) {
            const int64_t t = row / p.kvHeads;
            const int g = static_cast<int>(row % p.kvHeads);
            const std::vector<int> b =
                sala::cpu::selectBlocks(cp, cache, q + t * rowStride, start + t, g);
            std::copy_n(b.begin(), std::min<size_t>(b.size(), p.topkTotal),
                        out.begin() + row * p.topkTotal);
        }
    });
    return out;
}

void checkStructure(const SparseSelectParams& p, const std::vector<int32_t>& blocks, int64_t start,
                    int64_t tokens) {
    for (int64_t row = 0; row < tokens * p.kvHeads; ++row) {
        const int32_t* r = &blocks[row * p.topkTotal];
        const int64_t qb = (start + row / p.kvHeads) / p.blockSize;
        const int64_t count = std::min<int64_t>(qb + 1, p.topkTotal);
        for (int i = 0; i < p.topkTotal; ++i) {
            const bool ok =
                i < count ? (r[i] >= 0 && r[i] <= qb && (i == 0 || r[i] > r[i - 1])) : r[i] == -1;
            if (!ok)
                QFAIL(qPrintable(QString("row %1 (position %2) slot %3 holds %4 (qb %5)")
                                     .arg(row)
                                     .arg(start + row / p.kvHeads)
                                     .arg(i)
                                     .arg(r[i])
                                     .arg(qb)));
        }
        for (int64_t b = 0; b <= qb; ++b) {
            const bool forced = b < p.initBlocks || b >= qb - p.localBlocks;
            if (forced && !std::binary_search(r, r + count, int32_t(b)))
                QFAIL(qPrintable(QString("row %1 misses forced block %2").arg(row).arg(b)));
        }
    }
}

double sameSets(const SparseSelectParams& p, const std::vector<int32_t>& got,
                const std::vector<int32_t>& want, int64_t start) {
    const int64_t rows = int64_t(want.size()) / p.topkTotal;
    int64_t same = 0, shown = 0;
    for (int64_t row = 0; row < rows; ++row) {
        const auto a = got.begin() + row * p.topkTotal, b = want.begin() + row * p.topkTotal;
        if (std::equal(a, a + p.topkTotal, b)) {
            ++same;
        } else if (shown++ < 3) {
            std::vector<int32_t> onlyGpu, onlyCpu;
            std::set_difference(a, a + p.topkTotal, b, b + p.topkTotal,
                                std::back_inserter(onlyGpu));
            std::set_difference(b, b + p.topkTotal, a, a + p.topkTotal,
                                std::back_inserter(onlyCpu));
            qInfo("position %lld group %lld: %zu blocks differ (first gpu %d, cpu %d)",
                  (long long)(start + row / p.kvHeads), (long long)(row % p.kvHeads),
                  onlyGpu.size(), onlyGpu.empty() ? -1 : onlyGpu[0],
                  onlyCpu.empty() ? -1 : onlyCpu[0]);
        }
    }
    qInfo("%lld of %lld selections identical", (long long)same, (long long)rows);
    return rows ? double(same) / rows : 1.0;
}

} // namespace gputest
