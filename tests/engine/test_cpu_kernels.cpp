// The building blocks of the CPU backend against direct formulas.

#include "cpu/lightning_cpu.h"
#include "cpu/sparse_cpu.h"
#include "golden_case.h"

#include <QtTest>

#include <cmath>
#include <random>

class TestCpuKernels : public QObject {
    Q_OBJECT
private slots:
    void slopesFollowAlibiSchedule();
    void chunkedLightningMatchesRecurrence();
    void lightningMatchesParallelForm();
    void compressedKeysAreWindowMeans();
    void selectionForcesInitAndLocalBlocks();
    void selectionTiesGoToLowerBlock();
    void denseWhenFewBlocks();
};

namespace {

std::vector<float> randomVector(size_t n, std::mt19937& rng, float scale = 1) {
    std::normal_distribution<float> dist(0, scale);
    std::vector<float> v(n);
    for (float& x : v) x = dist(rng);
    return v;
}

sala::cpu::SparseParams smallSparse() {
    sala::cpu::SparseParams p;
    p.heads = 4;
    p.kvHeads = 2;
    p.dim = 8;
    p.blockSize = 16;
    p.initBlocks = 1;
    p.localBlocks = 2;
    p.topkTotal = 6;
    p.kernel1 = 8;
    p.stride1 = 4;
    p.kernel2 = 32;
    p.stride2 = 16;
    return p;
}

} // namespace

void TestCpuKernels::slopesFollowAlibiSchedule() {
    const auto s = sala::cpu::lightningSlopes(32);
    QCOMPARE(s.size(), size_t(32));
    for (int h = 0; h < 32; ++h) QVERIFY(std::abs(s[h] - std::pow(2.0, -(h + 1) / 4.0)) < 1e-12);
    const auto s8 = sala::cpu::lightningSlopes(8);
    QVERIFY(std::abs(s8[0] - 0.5) < 1e-12);
    const auto s6 = sala::cpu::lightningSlopes(6); // 4 of the power-of-two set, then 2 of 8's
    QCOMPARE(s6.size(), size_t(6));
    QVERIFY(std::abs(s6[4] - std::pow(2.0, -1.0)) < 1e-12);
    QVERIFY(std::abs(s6[5] - std::pow(2.0, -3.0)) < 1e-12);
}

void TestCpuKernels::chunkedLightningMatchesRecurrence() {
    std::mt19937 rng(QRandomGenerator::global()->generate());
    sala::ThreadPool pool(2);
    for (int tokens : {1, 5, 64, 150}) {
        const int heads = 4, dim = 16;
        const size_t n = size_t(tokens) * heads * dim;
        auto q = randomVector(n, rng), k = randomVector(n, rng), v = randomVector(n, rng);
        const auto slopes = sala::cpu::lightningSlopes(heads);
        auto state0 = randomVector(size_t(heads) * dim * dim, rng);
        std::vector<float> s1 = state0, s2 = state0;
        std::vector<float> o1(n, NAN), o2(n, NAN);
        sala::cpu::LightningArgs a{q.data(), k.data(),      v.data(),  tokens,   heads,
                                   dim,      slopes.data(), s1.data(), o1.data()};
        sala::cpu::lightningRecurrent(pool, a);
        a.state = s2.data();
        a.out = o2.data();
        sala::cpu::lightningChunked(pool, a, 64);
        const double e = sala::relativeL2(o2.data(), o1.data(), n);
        QVERIFY2(e < 1e-5, qPrintable(QString::number(e)));
        QVERIFY(sala::relativeL2(s2.data(), s1.data(), s1.size()) < 1e-5);
    }
}

void TestCpuKernels::lightningMatchesParallelForm() {
    // o_t = c * sum_{s<=t} g^(t-s) (q_t . k_s) v_s, from a zero state.
    std::mt19937 rng(QRandomGenerator::global()->generate());
    sala::ThreadPool pool(1);
    const int tokens = 40, heads = 2, dim = 8;
    const size_t n = size_t(tokens) * heads * dim;
    auto q = randomVector(n, rng), k = randomVector(n, rng), v = randomVector(n, rng);
    const auto slopes = sala::cpu::lightningSlopes(heads);
    std::vector<float> state(size_t(heads) * dim * dim, 0.0f), out(n, NAN);
    sala::cpu::LightningArgs a{q.data(), k.data(),      v.data(),     tokens,    heads,
                               dim,      slopes.data(), state.data(), out.data()};
    sala::cpu::lightningChunked(pool, a, 16);
    std::vector<float> ref(n);
    const double c = 1 / std::sqrt(double(dim));
    for (int t = 0; t < tokens; ++t)
        for (int h = 0; h < heads; ++h)
            for (int e = 0; e < dim; ++e) {
                double acc = 0;
                for (int s = 0; s <= t; ++s) {
                    double qk = 0;
                    for (int i = 0; i < dim; ++i)
                        qk += double(q[(t * heads + h) * dim + i]) * k[(s * heads + h) * dim + i];
                    acc += std::exp(-slopes[h] * (t - s)) * qk * v[(s * heads + h) * dim + e];
                }
                ref[(t * heads + h) * dim + e] = float(c * acc);
            }
    QVERIFY(sala::relativeL2(out.data(), ref.data(), n) < 1e-5);
}

void TestCpuKernels::compressedKeysAreWindowMeans() {
    std::mt19937 rng(QRandomGenerator::global()->generate());
    const auto p = smallSparse();
    sala::cpu::SparseCache cache;
    cache.reset(p.kvHeads);
    const int total = 100;
    auto k = randomVector(size_t(total) * p.kvHeads * p.dim, rng);
    auto v = randomVector(k.size(), rng);
    // Appended in uneven pieces, the compressed keys equal the closed form.
    cache.append(p, k.data(), v.data(), 3);
    cache.append(p, k.data() + 3 * p.kvHeads * p.dim, v.data() + 3 * p.kvHeads * p.dim, 60);
    cache.append(p, k.data() + 63 * p.kvHeads * p.dim, v.data() + 63 * p.kvHeads * p.dim, 37);
    QCOMPARE(cache.length, int64_t(total));
    const int64_t n1 = sala::cpu::compressedCount(total, p.kernel1, p.stride1);
    QCOMPARE(n1, int64_t((total - 8) / 4 + 1));
    for (int g = 0; g < p.kvHeads; ++g) {
        QCOMPARE(int64_t(cache.k1[g].size()), n1 * p.dim);
        for (int64_t j = 0; j < n1; ++j)
            for (int e = 0; e < p.dim; ++e) {
                double sum = 0;
                for (int u = 0; u < p.kernel1; ++u)
                    sum += k[((j * p.stride1 + u) * p.kvHeads + g) * p.dim + e];
                QVERIFY(std::abs(cache.k1[g][j * p.dim + e] - sum / p.kernel1) < 1e-5);
            }
    }
    cache.truncate(p, 50);
    QCOMPARE(int64_t(cache.k1[0].size()), sala::cpu::compressedCount(50, 8, 4) * p.dim);
    QCOMPARE(int64_t(cache.k2[0].size()), sala::cpu::compressedCount(50, 32, 16) * p.dim);
}

void TestCpuKernels::selectionForcesInitAndLocalBlocks() {
    std::mt19937 rng(QRandomGenerator::global()->generate());
    const auto p = smallSparse();
    sala::cpu::SparseCache cache;
    cache.reset(p.kvHeads);
    const int total = 300; // 19 blocks, more than topkTotal
    auto k = randomVector(size_t(total) * p.kvHeads * p.dim, rng);
    auto v = randomVector(k.size(), rng);
    cache.append(p, k.data(), v.data(), total);
    auto q = randomVector(size_t(p.heads) * p.dim, rng);
    for (int64_t pos : {120, 200, 299}) {
        const int qb = int(pos / p.blockSize);
        const auto chosen = sala::cpu::selectBlocks(p, cache, q.data(), pos, 1);
        QCOMPARE(int(chosen.size()), p.topkTotal);
        QVERIFY(std::is_sorted(chosen.begin(), chosen.end()));
        QCOMPARE(chosen.front(), 0);
        for (int b = qb - p.localBlocks; b <= qb; ++b)
            QVERIFY(std::find(chosen.begin(), chosen.end(), b) != chosen.end());
        QVERIFY(chosen.back() == qb);
    }
}

void TestCpuKernels::selectionTiesGoToLowerBlock() {
    // Identical keys everywhere: every candidate scores the same, so the lowest ids win.
    const auto p = smallSparse();
    sala::cpu::SparseCache cache;
    cache.reset(p.kvHeads);
    const int total = 320;
    std::vector<float> k(size_t(total) * p.kvHeads * p.dim, 0.25f), v(k.size(), 1.0f);
    cache.append(p, k.data(), v.data(), total);
    std::vector<float> q(size_t(p.heads) * p.dim, 0.5f);
    const auto chosen = sala::cpu::selectBlocks(p, cache, q.data(), 319, 0);
    // Forced: 0 and 17..19; the two free places go to blocks 1 and 2.
    QCOMPARE(chosen, (std::vector<int>{0, 1, 2, 17, 18, 19}));
}

void TestCpuKernels::denseWhenFewBlocks() {
    std::mt19937 rng(QRandomGenerator::global()->generate());
    const auto p = smallSparse();
    sala::cpu::SparseCache cache;
    cache.reset(p.kvHeads);
    const int total = 90; // 6 blocks = topkTotal: all of them
    auto k = randomVector(size_t(total) * p.kvHeads * p.dim, rng);
    auto v = randomVector(k.size(), rng);
    cache.append(p, k.data(), v.data(), total);
    auto q = randomVector(size_t(p.heads) * p.dim, rng);
    QCOMPARE(sala::cpu::selectBlocks(p, cache, q.data(), 89, 0),
             (std::vector<int>{0, 1, 2, 3, 4, 5}));
    // Dense softmax attention over every key up to the query.
    sala::ThreadPool pool(1);
    std::vector<float> out(size_t(p.heads) * p.dim, NAN);
    sala::cpu::sparseAttention(pool, p, cache, q.data(), 89, 1, out.data(), nullptr);
    for (int h = 0; h < p.heads; ++h) {
        const int g = h / (p.heads / p.kvHeads);
        std::vector<double> w(total);
        double mx = -1e300, sum = 0;
        for (int u = 0; u < total; ++u) {
            double s = 0;
            for (int e = 0; e < p.dim; ++e)
                s += double(q[h * p.dim + e]) * k[(u * p.kvHeads + g) * p.dim + e];
            w[u] = s / std::sqrt(double(p.dim));
            mx = std::max(mx, w[u]);
        }
        for (double& x : w) sum += (x = std::exp(x - mx));
        for (int e = 0; e < p.dim; ++e) {
            double acc = 0;
            for (int u = 0; u < total; ++u) acc += w[u] * v[(u * p.kvHeads + g) * p.dim + e];
            QVERIFY(std::abs(out[h * p.dim + e] - acc / sum) < 1e-5);
        }
    }
}

QTEST_GUILESS_MAIN(TestCpuKernels)
#include "test_cpu_kernels.moc"
