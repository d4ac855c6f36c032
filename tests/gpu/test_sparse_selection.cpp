// InfLLM-V2 compressed keys and block selection against their CPU twins
// (sala::cpu::SparseCache::append / updateCompressed and sala::cpu::selectBlocks).
//
// Compressed keys: the GPU sums bf16 keys in fp32 and rounds the mean to bf16 once, so each
// element is within half a bf16 ulp (2^-8 relative) of the exact mean plus fp32 summation
// noise (1e-6 absolute covers it at unit scale); the relative L2 error is then ~1e-3, checked
// against 4e-3. Selection: both sides score the same bf16 queries and the GPU's own bf16
// compressed keys, so they differ only by fp32-vs-double arithmetic (~1e-6 relative) and
// can disagree only where two candidates are that close: at least 99.5% of (query, group)
// sets must be identical, and every set must be structurally right (forced blocks present,
// ascending, padded, no future block). Where every candidate ties, agreement must be exact.

#include "sparse_compress.cuh"
#include "sparse_selection_fixture.h"

#include <QtTest>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

using namespace gputest;
using folio::kernels::bf16;
using sala::cpu::compressedCount;

namespace {

constexpr double kCompressL2Tol = 4e-3;

// Runs the GPU selection; every output starts as a sentinel so unwritten entries show. With
// `workspace`, also returns what the selection left in its (poisoned) workspace.
void gpuSelect(const SparseSelectParams& p, const SelectionContext& c, const bf16* q,
               int64_t rowStride, int64_t tokens, int64_t start, size_t workspaceBytes,
               std::vector<int32_t>& out, std::vector<char>* workspace = nullptr) {
    DeviceBuffer<int32_t> blocks(size_t(tokens) * p.kvHeads * p.topkTotal);
    CUDA_CHECK(cudaMemset(blocks.get(), 0x7f, blocks.size() * sizeof(int32_t)));
    DeviceBuffer<char> ws(std::max<size_t>(workspaceBytes, 1));
    ws.poison();
    CUDA_CHECK(folio::kernels::launchSparseSelect(p, q, rowStride, tokens, start, c.k1.get(),
                                                  c.n1 * p.dim, c.k2.get(), c.n2 * p.dim,
                                                  blocks.get(), ws.get(), workspaceBytes, nullptr));
    CUDA_CHECK(cudaDeviceSynchronize());
    out = blocks.download();
    if (workspace) *workspace = ws.download();
}

// A context of `length` tokens holding random compressed keys only (the raw keys are not needed
// where nothing is compressed).
void randomCompressedKeys(SelectionContext& c, const SparseSelectParams& p, int64_t length,
                          std::mt19937& rng) {
    c.length = length;
    c.n1 = compressedCount(length, p.kernel1, p.stride1);
    c.n2 = compressedCount(length, p.kernel2, p.stride2);
    c.k1.upload(toBf16(randomFloats(size_t(p.kvHeads) * c.n1 * p.dim, rng, 0.5f)));
    c.k2.upload(toBf16(randomFloats(size_t(p.kvHeads) * c.n2 * p.dim, rng, 0.5f)));
}

// The forced blocks of a query in block qb: [0, initEnd) and [firstLocal, qb]; `free` slots are
// left for the best scored blocks in between.
struct ForcedBlocks {
    int64_t initEnd, firstLocal, free;
};

ForcedBlocks forcedBlocks(const SparseSelectParams& p, int64_t qb) {
    ForcedBlocks f;
    f.initEnd = std::min<int64_t>(p.initBlocks, qb + 1);
    f.firstLocal = std::max<int64_t>(p.initBlocks, qb - p.localBlocks);
    f.free = p.topkTotal - f.initEnd - std::max<int64_t>(0, qb - f.firstLocal + 1);
    return f;
}

// Multiply-adds of stage 1 for queries at positions [start, start + tokens).
double stageOneFlops(const SparseSelectParams& p, int64_t start, int64_t tokens) {
    double keys = 0;
    for (int64_t pos = start; pos < start + tokens; ++pos)
        if (pos / p.blockSize + 1 > p.topkTotal)
            keys += compressedCount(pos + 1, p.kernel1, p.stride1) +
                    compressedCount(pos + 1, p.kernel2, p.stride2);
    return keys * 2.0 * p.heads * p.dim;
}

} // namespace

class TestSparseSelection : public QObject {
    Q_OBJECT

private slots:
    void compressIncremental_data();
    void compressIncremental();
    void selectMatchesCpu_data();
    void selectMatchesCpu();
    void smallWorkspaceAndDecode();
    void allTiesPickLowestIds_data();
    void allTiesPickLowestIds();
    void topkExactOnItsScores_data();
    void topkExactOnItsScores();
    void rejectsBadArguments();
    void timing();
};

void TestSparseSelection::compressIncremental_data() {
    QTest::addColumn<SparseSelectParams>("p");
    QTest::addColumn<int>("length");
    QTest::newRow("tiny") << tinyShape() << 5000;
    QTest::newRow("real") << realShape() << 20000;
}

// Chunked appends: after each, only the windows it completed are compressed, as the engine
// does; the twin appends the same chunks.
void TestSparseSelection::compressIncremental() {
    GPU_OR_SKIP();
    QFETCH(SparseSelectParams, p);
    QFETCH(int, length);
    std::mt19937 rng = freshRng();
    const std::vector<float> keys = structuredKeys(p, length, rng);
    const int64_t cap1 = compressedCount(length, p.kernel1, p.stride1) + 8;
    const int64_t cap2 = compressedCount(length, p.kernel2, p.stride2) + 8;
    DeviceBuffer<bf16> dKeys;
    dKeys.upload(headMajor(keys, p, length));
    DeviceBuffer<bf16> k1(size_t(p.kvHeads) * cap1 * p.dim), k2(size_t(p.kvHeads) * cap2 * p.dim);
    k1.poison();
    k2.poison();
    sala::cpu::SparseCache cache;
    cache.reset(p.kvHeads);
    const sala::cpu::SparseParams cp = cpuParams(p);
    std::uniform_int_distribution<int> chunkLen(1, 700);
    int64_t done = 0;
    for (int step = 0; done < length; ++step) {
        const int64_t n = std::min<int64_t>(length - done, step % 3 == 0 ? 1 : chunkLen(rng));
        const std::vector<float> zeros(size_t(n) * p.kvHeads * p.dim, 0.0f);
        cache.append(cp, &keys[done * p.kvHeads * p.dim], zeros.data(), n);
        for (int level = 0; level < 2; ++level) {
            const int kernel = level ? p.kernel2 : p.kernel1;
            const int stride = level ? p.stride2 : p.stride1;
            const int64_t first = compressedCount(done, kernel, stride);
            const int64_t count = compressedCount(done + n, kernel, stride) - first;
            CUDA_CHECK(folio::kernels::launchCompressKeys(
                dKeys.get(), int64_t(length) * p.dim, p.kvHeads, p.dim, kernel, stride, first,
                count, (level ? k2 : k1).get(), (level ? cap2 : cap1) * p.dim, nullptr));
        }
        done += n;
    }
    for (int level = 0; level < 2; ++level) {
        const std::vector<float> got = fromBf16((level ? k2 : k1).download());
        const int64_t cap = level ? cap2 : cap1;
        std::vector<float> gotValid, want;
        for (int g = 0; g < p.kvHeads; ++g) {
            const std::vector<float>& ref = level ? cache.k2[g] : cache.k1[g];
            const int64_t n = int64_t(ref.size()) / p.dim;
            for (int64_t i = 0; i < cap * p.dim; ++i) {
                const float x = got[g * cap * p.dim + i];
                if (i >= n * p.dim) {
                    QVERIFY2(std::isnan(x), "a window past the last complete one was written");
                    continue;
                }
                const float w = ref[i];
                if (!(std::fabs(x - w) <= std::ldexp(std::fabs(w), -8) + 1e-6f))
                    QFAIL(qPrintable(QString("level %1 head %2 window %3 feature %4: %5 vs %6")
                                         .arg(level + 1)
                                         .arg(g)
                                         .arg(i / p.dim)
                                         .arg(i % p.dim)
                                         .arg(x)
                                         .arg(w)));
                gotValid.push_back(x);
                want.push_back(w);
            }
        }
        const double err = relativeL2(gotValid.data(), want.data(), want.size());
        qInfo("level %d: %zu values, relative L2 %.3g", level + 1, want.size(), err);
        QVERIFY(err < kCompressL2Tol);
    }
}

void TestSparseSelection::selectMatchesCpu_data() {
    QTest::addColumn<SparseSelectParams>("p");
    QTest::addColumn<int>("start");
    QTest::addColumn<int>("tokens");
    QTest::newRow("tiny") << tinyShape() << 18000 << 2048;
    QTest::newRow("real") << realShape() << 18000 << 1024;
    // Queries on both sides of the first position with more than topkTotal blocks.
    QTest::newRow("tiny, across the dense boundary") << tinyShape() << 0 << 400;
    QTest::newRow("real, across the dense boundary") << realShape() << 5000 << 2000;
    QTest::newRow("level-1 fallback") << lateK2Shape() << 40 << 600;
}

// A prefill chunk against the twin, its own keys already cached: in the middle of a ~20k context,
// or straddling the first position that has more than topkTotal blocks.
void TestSparseSelection::selectMatchesCpu() {
    GPU_OR_SKIP();
    QFETCH(SparseSelectParams, p);
    QFETCH(int, start);
    QFETCH(int, tokens);
    std::mt19937 rng = freshRng();
    SelectionContext c;
    buildContext(c, p, structuredKeys(p, start + tokens, rng));
    if (QTest::currentTestFailed()) return;
    Queries q;
    makeQueries(q, p, tokens, 3.0f, rng);
    std::vector<int32_t> got;
    gpuSelect(p, c, q.device.get(), q.rowStride, tokens, start,
              folio::kernels::sparseSelectWorkspace(p, tokens, start + tokens - 1), got);
    if (QTest::currentTestFailed()) return;
    checkStructure(p, got, start, tokens);
    if (QTest::currentTestFailed()) return;
    const std::vector<int32_t> want =
        cpuSelect(p, cpuCache(p, c), q.host.data(), q.rowStride, tokens, start);
    QVERIFY(sameSets(p, got, want, start) >= kSameSetsMin);
}

// A workspace of a few queries forces many slices, each of which splits its key range over
// CTAs; single-token calls do the same as decode steps do.
void TestSparseSelection::smallWorkspaceAndDecode() {
    GPU_OR_SKIP();
    const SparseSelectParams p = realShape();
    const int64_t start = 19000, tokens = 96, decodes = 16;
    std::mt19937 rng = freshRng();
    SelectionContext c;
    buildContext(c, p, structuredKeys(p, start + tokens + decodes, rng));
    if (QTest::currentTestFailed()) return;
    Queries q;
    makeQueries(q, p, tokens + decodes, 3.0f, rng);
    const int64_t last = start + tokens + decodes - 1;
    const size_t small = folio::kernels::sparseSelectWorkspace(p, 3, last);
    QVERIFY(small < folio::kernels::sparseSelectWorkspace(p, tokens, last));
    std::vector<int32_t> got;
    gpuSelect(p, c, q.device.get(), q.rowStride, tokens, start, small, got);
    if (QTest::currentTestFailed()) return;
    for (int64_t t = tokens; t < tokens + decodes; ++t) {
        std::vector<int32_t> one;
        gpuSelect(p, c, q.device.get() + t * q.rowStride, q.rowStride, 1, start + t,
                  folio::kernels::sparseSelectWorkspace(p, 1, start + t), one);
        if (QTest::currentTestFailed()) return;
        got.insert(got.end(), one.begin(), one.end());
    }
    checkStructure(p, got, start, tokens + decodes);
    if (QTest::currentTestFailed()) return;
    const std::vector<int32_t> want =
        cpuSelect(p, cpuCache(p, c), q.host.data(), q.rowStride, tokens + decodes, start);
    QVERIFY(sameSets(p, got, want, start) >= kSameSetsMin);
}

void TestSparseSelection::allTiesPickLowestIds_data() {
    QTest::addColumn<SparseSelectParams>("p");
    QTest::addColumn<int>("start");
    QTest::addColumn<int>("tokens");
    QTest::newRow("tiny") << tinyShape() << 3000 << 512;
    QTest::newRow("real") << realShape() << 12000 << 512;
    // One token: the split top-k (3 and 3 segments), whose ties must also keep the lowest ids.
    QTest::newRow("real decode") << realShape() << 40000 << 1;
    QTest::newRow("tiny decode") << tinyShape() << 9000 << 1;
}

// Every key equal: every candidate scores the same, so the lowest ids must win, exactly.
void TestSparseSelection::allTiesPickLowestIds() {
    GPU_OR_SKIP();
    QFETCH(SparseSelectParams, p);
    QFETCH(int, start);
    QFETCH(int, tokens);
    std::mt19937 rng = freshRng();
    const int width = p.kvHeads * p.dim;
    const std::vector<float> one = roundBf16(randomFloats(width, rng, 1.0f));
    std::vector<float> keys(size_t(start + tokens) * width);
    for (size_t i = 0; i < keys.size(); ++i) keys[i] = one[i % width];
    SelectionContext c;
    buildContext(c, p, keys);
    if (QTest::currentTestFailed()) return;
    Queries q;
    makeQueries(q, p, tokens, 3.0f, rng);
    std::vector<int32_t> got;
    gpuSelect(p, c, q.device.get(), q.rowStride, tokens, start,
              folio::kernels::sparseSelectWorkspace(p, tokens, start + tokens - 1), got);
    if (QTest::currentTestFailed()) return;
    checkStructure(p, got, start, tokens);
    if (QTest::currentTestFailed()) return;
    std::vector<int32_t> expected(got.size(), -1);
    for (int64_t row = 0; row < tokens * p.kvHeads; ++row) {
        const int64_t qb = (start + row / p.kvHeads) / p.blockSize;
        const ForcedBlocks f = forcedBlocks(p, qb);
        int n = 0;
        for (int64_t b = 0; b <= qb; ++b)
            if (b < p.initBlocks || b >= f.firstLocal || b < p.initBlocks + f.free)
                expected[row * p.topkTotal + n++] = int32_t(b);
    }
    QCOMPARE(sameSets(p, got, expected, start), 1.0);
    const std::vector<int32_t> want =
        cpuSelect(p, cpuCache(p, c), q.host.data(), q.rowStride, tokens, start);
    QCOMPARE(sameSets(p, got, want, start), 1.0);
}

void TestSparseSelection::topkExactOnItsScores_data() {
    QTest::addColumn<SparseSelectParams>("p");
    QTest::addColumn<int>("length");
    QTest::addColumn<int>("tokens");
    QTest::newRow("decode at 1M (split, 32 segments)") << realShape() << (1 << 20) << 1;
    QTest::newRow("decode at 100k (one wide CTA per row)") << realShape() << 100000 << 1;
    QTest::newRow("decode at 262k (one wide CTA, 4,096 blocks)") << realShape() << 262144 << 1;
    QTest::newRow("decode at 262k + 1 (split, 4,097 blocks)") << realShape() << 262145 << 1;
    QTest::newRow("8 tokens at 300k (split)") << realShape() << 300000 << 8;
    QTest::newRow("64 tokens at 100k (one CTA per row)") << realShape() << 100000 << 64;
    QTest::newRow("tiny decode (one wide CTA per row)") << tinyShape() << 9000 << 1;
}

// The block choice against the block scores the GPU computed itself (left at the start of the
// workspace, [tokens][kvHeads][blocks] as order-preserving uint32): forced blocks plus the best
// candidates, ties to the lowest ids, exactly; this isolates the top-k from score rounding.
void TestSparseSelection::topkExactOnItsScores() {
    GPU_OR_SKIP();
    QFETCH(SparseSelectParams, p);
    QFETCH(int, length);
    QFETCH(int, tokens);
    std::mt19937 rng = freshRng();
    SelectionContext c;
    randomCompressedKeys(c, p, length, rng);
    Queries q;
    makeQueries(q, p, tokens, 3.0f, rng);
    const int64_t start = length - tokens;
    std::vector<int32_t> got;
    std::vector<char> raw;
    gpuSelect(p, c, q.device.get(), q.rowStride, tokens, start,
              folio::kernels::sparseSelectWorkspace(p, tokens, length - 1), got, &raw);
    if (QTest::currentTestFailed()) return;
    const int64_t nbStride = (length - 1) / p.blockSize + 1;
    std::vector<uint32_t> keys(size_t(tokens) * p.kvHeads * nbStride);
    std::memcpy(keys.data(), raw.data(), keys.size() * sizeof(uint32_t));
    for (int64_t row = 0; row < int64_t(tokens) * p.kvHeads; ++row) {
        const int64_t qb = (start + row / p.kvHeads) / p.blockSize, nb = qb + 1;
        const ForcedBlocks f = forcedBlocks(p, qb);
        QVERIFY(nb > p.topkTotal && f.free > 0);
        const uint32_t* k = keys.data() + row * nbStride;
        std::vector<int64_t> order;
        for (int64_t b = f.initEnd; b < f.firstLocal; ++b) order.push_back(b);
        std::stable_sort(order.begin(), order.end(),
                         [&](int64_t a, int64_t b) { return k[a] > k[b]; });
        std::vector<int32_t> want;
        for (int64_t b = 0; b < f.initEnd; ++b) want.push_back(int32_t(b));
        for (int64_t i = 0; i < f.free; ++i) want.push_back(int32_t(order[i]));
        for (int64_t b = f.firstLocal; b < nb; ++b) want.push_back(int32_t(b));
        std::sort(want.begin(), want.end());
        const std::vector<int32_t> have(got.begin() + row * p.topkTotal,
                                        got.begin() + (row + 1) * p.topkTotal);
        QVERIFY2(have == want, qPrintable(QString("row %1 differs").arg(row)));
    }
}

void TestSparseSelection::rejectsBadArguments() {
    GPU_OR_SKIP();
    using folio::kernels::launchCompressKeys;
    using folio::kernels::launchSparseSelect;
    DeviceBuffer<bf16> buf(1 << 16);
    DeviceBuffer<int32_t> blocks(1 << 12);
    DeviceBuffer<char> ws(1 << 20);
    CUDA_CHECK(cudaMemset(buf.get(), 0, buf.size() * sizeof(bf16)));
    const SparseSelectParams real = realShape();
    const int64_t stride = 64 * real.dim;
    auto select = [&](const SparseSelectParams& p, const bf16* k1, size_t wsBytes, int64_t pos) {
        return launchSparseSelect(p, buf.get(), 0, 1, pos, k1, stride, buf.get(), stride,
                                  blocks.get(), ws.get(), wsBytes, nullptr);
    };
    const int64_t sparsePos = 100 * 64;
    QCOMPARE(select(real, buf.get(), 1 << 20, sparsePos), cudaSuccess);
    SparseSelectParams p = real;
    p.dim = 96;
    QCOMPARE(select(p, buf.get(), 1 << 20, sparsePos), cudaErrorInvalidValue);
    p = real;
    p.kvHeads = 8; // 4 heads per group
    QCOMPARE(select(p, buf.get(), 1 << 20, sparsePos), cudaErrorInvalidValue);
    p = real;
    p.topkTotal = p.localBlocks + p.initBlocks; // no room for the query's own block
    QCOMPARE(select(p, buf.get(), 1 << 20, sparsePos), cudaErrorInvalidValue);
    p = real;
    p.blockSize = 40; // not a multiple of stride1
    QCOMPARE(select(p, buf.get(), 1 << 20, sparsePos), cudaErrorInvalidValue);
    QCOMPARE(select(real, buf.get(), 16, sparsePos), cudaErrorInvalidValue);
    QCOMPARE(select(real, buf.get() + 1, 1 << 20, sparsePos), cudaErrorInvalidValue);
    // Dense queries need neither compressed keys nor a workspace.
    QCOMPARE(launchSparseSelect(real, buf.get(), 0, 1, 64, nullptr, 0, nullptr, 0, blocks.get(),
                                nullptr, 0, nullptr),
             cudaSuccess);
    QCOMPARE(launchCompressKeys(buf.get(), 0, 2, 128, 0, 16, 0, 4, buf.get(), 0, nullptr),
             cudaErrorInvalidValue);
    QCOMPARE(launchCompressKeys(buf.get(), 0, 2, 128, 32, 16, -1, 4, buf.get(), 0, nullptr),
             cudaErrorInvalidValue);
    QCOMPARE(launchCompressKeys(nullptr, 0, 2, 128, 32, 16, 0, 0, nullptr, 0, nullptr),
             cudaSuccess);
    CUDA_CHECK(cudaDeviceSynchronize());
}

// Real shape at the end of a 1M-token context (random compressed keys; the raw keys are not
// needed): prefill slices, a decode step, and the compression of one 32k chunk.
void TestSparseSelection::timing() {
    GPU_OR_SKIP();
    const SparseSelectParams p = realShape();
    const int64_t length = int64_t(1) << 20;
    std::mt19937 rng = freshRng();
    SelectionContext c;
    randomCompressedKeys(c, p, length, rng);
    const int64_t tokens = 4096, start = length - tokens;
    Queries q;
    makeQueries(q, p, tokens, 3.0f, rng);
    const size_t wsBytes = folio::kernels::sparseSelectWorkspace(p, tokens, length - 1);
    DeviceBuffer<char> ws(wsBytes);
    DeviceBuffer<int32_t> blocks(size_t(tokens) * p.kvHeads * p.topkTotal);
    CUDA_CHECK(cudaMemset(blocks.get(), 0x7f, blocks.size() * sizeof(int32_t)));
    auto run = [&](int64_t n, int64_t s0) {
        return folio::kernels::launchSparseSelect(
            p, q.device.get() + (s0 - start) * q.rowStride, q.rowStride, n, s0, c.k1.get(),
            c.n1 * p.dim, c.k2.get(), c.n2 * p.dim, blocks.get(), ws.get(), wsBytes, nullptr);
    };
    CUDA_CHECK(run(tokens, start));
    CUDA_CHECK(cudaDeviceSynchronize());
    const std::vector<int32_t> got = blocks.download();
    checkStructure(p, got, start, tokens);
    if (QTest::currentTestFailed()) return;
    // The last few queries against the twin (each scores all 65k level-1 keys on the CPU).
    const int64_t checked = 4;
    sala::cpu::SparseCache cache;
    cache.reset(p.kvHeads);
    const std::vector<float> k1 = fromBf16(c.k1.download()), k2 = fromBf16(c.k2.download());
    for (int g = 0; g < p.kvHeads; ++g) {
        cache.k1[g].assign(k1.begin() + g * c.n1 * p.dim, k1.begin() + (g + 1) * c.n1 * p.dim);
        cache.k2[g].assign(k2.begin() + g * c.n2 * p.dim, k2.begin() + (g + 1) * c.n2 * p.dim);
    }
    const int64_t t0 = tokens - checked;
    std::vector<int32_t> want =
        cpuSelect(p, cache, q.host.data() + t0 * q.rowStride, q.rowStride, checked, start + t0);
    std::vector<int32_t> tail(got.begin() + t0 * p.kvHeads * p.topkTotal, got.end());
    // A decode step for the last position must choose what the chunk chose for it.
    CUDA_CHECK(run(1, length - 1));
    const std::vector<int32_t> decode = blocks.download();
    const size_t rowsOfOne = size_t(p.kvHeads) * p.topkTotal;
    tail.insert(tail.end(), decode.begin(), decode.begin() + rowsOfOne);
    want.insert(want.end(), want.end() - rowsOfOne, want.end());
    qInfo("1M context, last %lld queries and one decode step vs the CPU twin:", (long long)checked);
    QVERIFY(sameSets(p, tail, want, start + t0) >= 0.75);

    // The decode step's own form (position in device memory, launch shape for its capacity)
    // must choose what the general form chose.
    DeviceBuffer<int64_t> position(1);
    position.upload(std::vector<int64_t>{length - 1});
    const size_t stepWs = folio::kernels::sparseSelectWorkspace(p, 1, length - 1);
    auto step = [&] {
        return folio::kernels::launchSparseSelectStep(
            p, q.device.get() + (tokens - 1) * q.rowStride, position.get(), length - 1, c.k1.get(),
            c.n1 * p.dim, c.k2.get(), c.n2 * p.dim, blocks.get(), ws.get(), stepWs, nullptr);
    };
    CUDA_CHECK(cudaMemset(blocks.get(), 0x7f, blocks.size() * sizeof(int32_t)));
    CUDA_CHECK(step());
    CUDA_CHECK(cudaDeviceSynchronize());
    const std::vector<int32_t> stepped = blocks.download();
    const std::vector<int32_t> stepRows(stepped.begin(), stepped.begin() + rowsOfOne);
    checkStructure(p, stepRows, length - 1, 1);
    QVERIFY(sameSets(p, stepRows, std::vector<int32_t>(decode.begin(), decode.begin() + rowsOfOne),
                     length - 1) >= 0.5);

    const double prefillMs = medianMs([&] { run(tokens, start); }, 5);
    const double decodeMs = medianMs([&] { run(1, length - 1); }, 21);
    const double stepMs = medianMs(step, 21);
    CUDA_CHECK(cudaGetLastError());
    const double tflops = stageOneFlops(p, start, tokens) / (prefillMs * 1e-3) / 1e12;
    qInfo("select, 1M context: %lld-token chunk %.2f ms (%.1f us/token, stage-1 %.0f TFLOP/s);"
          " decode step %.3f ms general, %.3f ms the step's form; workspace %.1f MiB",
          (long long)tokens, prefillMs, prefillMs * 1e3 / tokens, tflops, decodeMs, stepMs,
          wsBytes / 1048576.0);

    const int64_t chunk = 32768;
    DeviceBuffer<bf16> keys(size_t(p.kvHeads) * chunk * p.dim);
    CUDA_CHECK(cudaMemset(keys.get(), 0, keys.size() * sizeof(bf16)));
    auto compress = [&] {
        folio::kernels::launchCompressKeys(keys.get(), chunk * p.dim, p.kvHeads, p.dim, p.kernel1,
                                           p.stride1, 0, chunk / p.stride1 - 1, c.k1.get(),
                                           c.n1 * p.dim, nullptr);
        folio::kernels::launchCompressKeys(keys.get(), chunk * p.dim, p.kvHeads, p.dim, p.kernel2,
                                           p.stride2, 0, chunk / p.stride2 - 1, c.k2.get(),
                                           c.n2 * p.dim, nullptr);
    };
    const double compressMs = medianMs(compress, 11);
    CUDA_CHECK(cudaGetLastError());
    qInfo("compress k1+k2 of a %lld-token chunk: %.3f ms", (long long)chunk, compressMs);
}

QTEST_GUILESS_MAIN(TestSparseSelection)
#include "test_sparse_selection.moc"
