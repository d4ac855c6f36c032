// Block-sparse attention kernels (InfLLM-V2 stage 2) against the CPU twin
// sala::cpu::attendBlocks, on bf16-rounded inputs and random block lists.
//
// Tolerance: relative L2 < 1e-2 over everything compared and < 2e-2 for every single token.
// The kernels round the output to bf16 (relative error up to 2^-9) and feed the softmax
// weights to the tensor cores as bf16 (another ~2^-9 per weight, averaging out), so errors of
// ~3e-3 are expected; a wrong key, block or scale shows up far above 2e-2.

#include "gpu_test_util.h"

#include "cpu/sparse_cpu.h"
#include "sparse_attention.cuh"
#include "thread_pool.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <set>

using namespace gputest;
using folio::kernels::bf16;

namespace {

struct Shape {
    int heads, kvHeads, dim, blockSize, topk;
};

// The key/value cache of one layer as the kernels see it, plus the CPU twin's copy. Rows at
// or past `length` hold NaN: a kernel reading any key after the last query would show it.
struct HostCache {
    Shape s{};
    int64_t capacity = 0, length = 0;
    std::vector<bf16> k, v;
    sala::cpu::SparseCache cpu;
};

HostCache makeCache(const Shape& s, int64_t length, std::mt19937& rng) {
    HostCache c;
    c.s = s;
    c.length = length;
    c.capacity = length + 40;
    c.cpu.reset(s.kvHeads);
    c.cpu.length = length;
    const float nan = std::numeric_limits<float>::quiet_NaN();
    auto fill = [&](std::vector<bf16>& dst, std::vector<float>& cpu) {
        cpu = roundBf16(randomFloats(size_t(length) * s.dim, rng));
        std::vector<float> head(cpu);
        head.resize(size_t(c.capacity) * s.dim, nan);
        const std::vector<bf16> bits = toBf16(head);
        dst.insert(dst.end(), bits.begin(), bits.end());
    };
    for (int g = 0; g < s.kvHeads; ++g) {
        fill(c.k, c.cpu.keys[g]);
        fill(c.v, c.cpu.values[g]);
    }
    return c;
}

// `count` distinct ids from [0, hi].
std::vector<int> sampleDistinct(std::mt19937& rng, int hi, int count) {
    std::set<int> picked;
    if (count * 2 > hi + 1) {
        std::vector<int> all(hi + 1);
        for (int i = 0; i <= hi; ++i) all[i] = i;
        std::shuffle(all.begin(), all.end(), rng);
        picked.insert(all.begin(), all.begin() + count);
    }
    while (int(picked.size()) < count) picked.insert(int(rng() % (hi + 1)));
    return {picked.begin(), picked.end()};
}

// Lists shaped like the selection's output, [tokens][kvHeads][topk]: ascending ids up to the
// query's own block (always present, so partially visible), block 0 most of the time, -1
// padding when fewer blocks are chosen. Runs of up to `maxRun` tokens share a base choice,
// and single tokens add or drop a block.
std::vector<int32_t> makeBlockLists(const Shape& s, int64_t tokens, int64_t start, int maxRun,
                                    std::mt19937& rng) {
    std::vector<int32_t> lists(size_t(tokens) * s.kvHeads * s.topk, -1);
    std::vector<std::vector<int>> base(s.kvHeads);
    int64_t runEnd = 0;
    for (int64_t t = 0; t < tokens; ++t) {
        const int qb = int((start + t) / s.blockSize);
        if (t >= runEnd) {
            runEnd = t + 1 + rng() % maxRun;
            for (auto& b : base)
                b = sampleDistinct(rng, qb, std::min(qb + 1, s.topk - int(rng() % 3)));
        }
        for (int g = 0; g < s.kvHeads; ++g) {
            std::set<int> chosen(base[g].begin(), base[g].end());
            chosen.insert(qb);
            auto dropOne = [&] {
                const auto it = std::next(chosen.begin(), rng() % chosen.size());
                if (*it != qb) chosen.erase(it);
            };
            if (rng() % 4 != 0) chosen.insert(0);
            if (rng() % 3 == 0) chosen.insert(int(rng() % (qb + 1)));
            if (rng() % 5 == 0) dropOne();
            while (int(chosen.size()) > s.topk) dropOne();
            std::copy(chosen.begin(), chosen.end(),
                      lists.begin() + (size_t(t) * s.kvHeads + g) * s.topk);
        }
    }
    return lists;
}

// Lists as the selection makes them on random scores, [tokens][kvHeads][topk]: block 0, the
// 33 local blocks up to the query's own, and the rest drawn at random from the blocks between,
// so neighbouring tokens share only the forced blocks.
std::vector<int32_t> makeSelectionLists(const Shape& s, int64_t tokens, int64_t start,
                                        std::mt19937& rng) {
    constexpr int kLocal = 33;
    std::vector<int32_t> lists(size_t(tokens) * s.kvHeads * s.topk, -1);
    for (int64_t t = 0; t < tokens; ++t) {
        const int qb = int((start + t) / s.blockSize);
        for (int g = 0; g < s.kvHeads; ++g) {
            std::set<int> chosen{0};
            for (int b = std::max(0, qb - kLocal + 1); b <= qb; ++b) chosen.insert(b);
            const int between = qb - kLocal; // blocks 1 .. qb - kLocal
            const int want = std::min<int>(s.topk - int(chosen.size()), std::max(0, between));
            for (int b : sampleDistinct(rng, between - 1, want)) chosen.insert(b + 1);
            std::copy(chosen.begin(), chosen.end(),
                      lists.begin() + (size_t(t) * s.kvHeads + g) * s.topk);
        }
    }
    return lists;
}

std::vector<int> listOf(const std::vector<int32_t>& lists, const Shape& s, int64_t t, int g) {
    const auto first = lists.begin() + (size_t(t) * s.kvHeads + g) * s.topk;
    return {first, first + s.topk};
}

// The CPU twin for the chosen tokens: [checked][heads * dim].
std::vector<float> reference(const HostCache& c, const std::vector<float>& q, int64_t qStride,
                             const std::vector<int32_t>& lists, int64_t start,
                             const std::vector<int64_t>& tokens) {
    const Shape& s = c.s;
    sala::cpu::SparseParams p;
    p.heads = s.heads;
    p.kvHeads = s.kvHeads;
    p.dim = s.dim;
    p.blockSize = s.blockSize;
    p.topkTotal = s.topk;
    const int width = s.heads * s.dim, group = s.heads / s.kvHeads;
    std::vector<float> out(tokens.size() * width);
    static sala::ThreadPool pool;
    pool.parallelFor(int64_t(tokens.size()) * s.heads, [&](int64_t begin, int64_t end) {
        for (int64_t task = begin; task < end; ++task) {
            const int64_t i = task / s.heads, t = tokens[i];
            const int h = int(task % s.heads);
            sala::cpu::attendBlocks(p, c.cpu, q.data() + t * qStride + h * s.dim, start + t,
                                    h / group, listOf(lists, s, t, h / group),
                                    out.data() + i * width + h * s.dim);
        }
    });
    return out;
}

bool isPoison(bf16 x) {
    uint16_t bits;
    memcpy(&bits, &x, 2);
    return bits == 0xFFFF;
}

// Every output element written and finite, the gaps of the rows left alone; then the chosen
// tokens against the twin, overall and token by token.
void checkOutput(const std::vector<bf16>& got, int64_t rows, int64_t stride, int width,
                 const std::vector<int64_t>& tokens, const std::vector<float>& expected) {
    for (int64_t r = 0; r < rows; ++r) {
        for (int64_t e = 0; e < stride; ++e) {
            const bf16 x = got[r * stride + e];
            const bool ok = e < width ? std::isfinite(__bfloat162float(x)) : isPoison(x);
            if (!ok)
                QFAIL(qPrintable(QString(e < width ? "row %1 col %2 not written or not finite"
                                                   : "row %1 gap col %2 overwritten")
                                     .arg(r)
                                     .arg(e)));
        }
    }
    std::vector<float> picked(expected.size());
    double worst = 0;
    for (size_t i = 0; i < tokens.size(); ++i) {
        for (int e = 0; e < width; ++e)
            picked[i * width + e] = __bfloat162float(got[tokens[i] * stride + e]);
        const double err = relativeL2(&picked[i * width], &expected[i * width], width);
        worst = std::max(worst, err);
        QVERIFY2(err < 2e-2, qPrintable(QString("token %1: rel L2 %2").arg(tokens[i]).arg(err)));
    }
    const double err = relativeL2(picked.data(), expected.data(), picked.size());
    qInfo("rel L2 %.2e over %zu tokens (worst token %.2e)", err, tokens.size(), worst);
    QVERIFY2(err < 1e-2, qPrintable(QString("rel L2 %1").arg(err)));
}

// All tokens when few, else the first and last ones, block boundaries and random ones.
std::vector<int64_t> tokensToCheck(int64_t tokens, int64_t start, int blockSize, size_t limit,
                                   std::mt19937& rng) {
    std::set<int64_t> pick;
    if (size_t(tokens) <= limit) {
        for (int64_t t = 0; t < tokens; ++t) pick.insert(t);
        return {pick.begin(), pick.end()};
    }
    for (int64_t t = 0; t < 8; ++t) pick.insert(t), pick.insert(tokens - 1 - t);
    for (int64_t t = 0; t < tokens && pick.size() < limit / 2; ++t)
        if ((start + t) % blockSize == 0) pick.insert(t);
    while (pick.size() < limit) pick.insert(int64_t(rng() % tokens));
    return {pick.begin(), pick.end()};
}

struct PrefillData {
    HostCache cache;
    std::vector<float> q;
    std::vector<int32_t> lists;
    int64_t qStride = 0, outStride = 0;
    DeviceBuffer<bf16> dq, dk, dv, dout;
    DeviceBuffer<int32_t> dlists;
};

void makePrefill(PrefillData& d, const Shape& s, int64_t tokens, int64_t start, int maxRun,
                 std::mt19937& rng) {
    d.cache = makeCache(s, start + tokens, rng);
    // q sits in a fused row next to k and v, as the engine's projection leaves it.
    d.qStride = int64_t(s.heads + 2 * s.kvHeads) * s.dim;
    d.outStride = int64_t(s.heads) * s.dim + 8;
    d.q = roundBf16(randomFloats(size_t(tokens) * d.qStride, rng, 1.5f));
    d.lists = maxRun > 0 ? makeBlockLists(s, tokens, start, maxRun, rng)
                         : makeSelectionLists(s, tokens, start, rng);
    d.dq.upload(toBf16(d.q));
    d.dk.upload(d.cache.k);
    d.dv.upload(d.cache.v);
    d.dlists.upload(d.lists);
    d.dout.resize(size_t(tokens) * d.outStride);
}

// The prefill's launch shapes: warps per thread block, K/V tiles in flight.
struct Variant {
    int warps, stages;
};
constexpr Variant kVariants[] = {{4, 2}, {4, 3}, {4, 4}, {8, 3}, {8, 4}};

cudaError_t runPrefill(PrefillData& d, const Shape& s, int64_t tokens, int64_t start, Variant v,
                       cudaStream_t stream = nullptr) {
    return folio::kernels::detail::launchSparseAttentionPrefillWarps(
        d.dq.get(), d.qStride, tokens, start, s.heads, s.kvHeads, s.dim, d.dk.get(), d.dv.get(),
        d.cache.capacity * s.dim, d.dlists.get(), s.topk, s.blockSize, d.dout.get(), d.outStride,
        v.warps, v.stages, stream);
}

// Multiply-adds of q·K plus P·V actually due (visible keys of the chosen blocks).
double usefulFlops(const PrefillData& d, const Shape& s, int64_t tokens, int64_t start) {
    double keys = 0;
    for (int64_t t = 0; t < tokens; ++t)
        for (int g = 0; g < s.kvHeads; ++g)
            for (int b : listOf(d.lists, s, t, g))
                if (b >= 0)
                    keys += double(std::clamp<int64_t>(start + t - int64_t(b) * s.blockSize + 1, 0,
                                                       s.blockSize));
    return keys * (s.heads / s.kvHeads) * s.dim * 4.0;
}

struct DecodeData {
    HostCache cache;
    std::vector<float> q;
    std::vector<int32_t> lists;
    DeviceBuffer<bf16> dq, dk, dv, dout;
    DeviceBuffer<int32_t> dlists;
    DeviceBuffer<float> ws;
};

void makeDecode(DecodeData& d, const Shape& s, int64_t position, std::mt19937& rng) {
    d.cache = makeCache(s, position + 1, rng);
    d.q = roundBf16(randomFloats(size_t(s.heads) * s.dim, rng, 1.5f));
    d.lists = makeBlockLists(s, 1, position, 1, rng);
    d.dq.upload(toBf16(d.q));
    d.dk.upload(d.cache.k);
    d.dv.upload(d.cache.v);
    d.dlists.upload(d.lists);
    d.dout.resize(size_t(s.heads) * s.dim);
    d.ws.resize(folio::kernels::sparseDecodeWorkspace(s.heads, s.dim, s.topk) / sizeof(float));
}

using folio::kernels::detail::DecodePath;

// Partials poisoned, so that a kernel that reads one it did not write fails; the arrival words
// zero, as the workspace's contract asks.
void poisonWorkspace(DecodeData& d, const Shape& s) {
    d.ws.poison();
    CUDA_CHECK(
        folio::kernels::resetSparseDecodeWorkspace(d.ws.get(), s.heads, s.dim, s.topk, nullptr));
    CUDA_CHECK(cudaDeviceSynchronize()); // before work on other streams
}

cudaError_t runDecode(DecodeData& d, const Shape& s, int64_t position, cudaStream_t stream,
                      DecodePath path = DecodePath::Fastest) {
    return folio::kernels::detail::launchSparseAttentionDecodePath(
        d.dq.get(), s.heads, s.kvHeads, s.dim, position, d.dk.get(), d.dv.get(),
        d.cache.capacity * s.dim, d.dlists.get(), s.topk, s.blockSize, d.dout.get(), d.ws.get(),
        d.ws.size() * sizeof(float), path, stream);
}

// The clustered path needs a Hopper build and card and one 16-head tile per group; elsewhere it
// must refuse, not compute something else.
bool clusteredExpected(const Shape& s) {
    int device = 0, major = 0;
    cudaGetDevice(&device);
    cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, device);
    return major >= 9 && s.heads / s.kvHeads <= 16;
}

void checkDecode(DecodeData& d, const Shape& s, int64_t position) {
    const std::vector<float> want =
        reference(d.cache, d.q, int64_t(s.heads) * s.dim, d.lists, position, {0});
    checkOutput(d.dout.download(), 1, int64_t(s.heads) * s.dim, s.heads * s.dim, {0}, want);
}

const Shape kReal{32, 2, 128, 64, 96};

} // namespace

class TestSparseAttention : public QObject {
    Q_OBJECT

private slots:
    void rejectsBadArguments();
    void prefill_data();
    void prefill();
    void decode_data();
    void decode();
    void decodeInCudaGraph();
    void timingRealShape();
};

void TestSparseAttention::rejectsBadArguments() {
    // Checked before anything touches the device, so this runs without a GPU too.
    using namespace folio::kernels;
    alignas(16) static bf16 fake[64];
    static int32_t ids[8];
    static float ws[4096];
    const cudaError_t bad = cudaErrorInvalidValue;
    auto prefill = [&](int heads, int kvHeads, int dim, const bf16* keys, int64_t stride) {
        return launchSparseAttentionPrefill(fake, stride, 4, 0, heads, kvHeads, dim, keys, fake,
                                            1024, ids, 8, 16, fake, stride, nullptr);
    };
    QCOMPARE(prefill(32, 2, 24, fake, 2048), bad);     // unsupported head dim
    QCOMPARE(prefill(32, 3, 16, fake, 2048), bad);     // heads not a multiple of kvHeads
    QCOMPARE(prefill(32, 2, 16, fake + 1, 2048), bad); // misaligned keys
    QCOMPARE(prefill(32, 2, 16, fake, 511), bad);      // odd / too short row stride
    QCOMPARE(launchSparseAttentionPrefill(fake, 512, 4, 0, 32, 2, 16, fake, fake, 1024, nullptr, 8,
                                          16, fake, 512, nullptr),
             bad);
    QCOMPARE(launchSparseAttentionPrefill(fake, 512, 0, 0, 32, 2, 16, fake, fake, 1024, ids, 8, 16,
                                          fake, 512, nullptr),
             cudaSuccess); // nothing to do
    const size_t need = sparseDecodeWorkspace(32, 16, 8);
    QCOMPARE(need, size_t(8 * 32 * 18 * sizeof(float) + 32 * sizeof(unsigned)));
    QCOMPARE(launchSparseAttentionDecode(fake, 32, 2, 16, 100, fake, fake, 1024, ids, 8, 16, fake,
                                         ws, need - 4, nullptr),
             bad);
    QCOMPARE(launchSparseAttentionDecode(fake, 32, 2, 16, 100, fake, fake, 1024, ids, 0, 16, fake,
                                         ws, need, nullptr),
             bad);
}

void TestSparseAttention::prefill_data() {
    QTest::addColumn<int>("heads");
    QTest::addColumn<int>("kvHeads");
    QTest::addColumn<int>("dim");
    QTest::addColumn<int>("blockSize");
    QTest::addColumn<int>("topk");
    QTest::addColumn<qint64>("tokens");
    QTest::addColumn<qint64>("start");
    QTest::addColumn<int>("maxRun");
    QTest::newRow("tiny topk6") << 32 << 2 << 16 << 16 << 6 << qint64(300) << qint64(0) << 8;
    QTest::newRow("tiny topk11 start 517")
        << 32 << 2 << 16 << 16 << 11 << qint64(1000) << qint64(517) << 4;
    QTest::newRow("head dim 128, 16/1")
        << 16 << 1 << 128 << 16 << 8 << qint64(400) << qint64(0) << 8;
    QTest::newRow("group 3") << 12 << 4 << 64 << 32 << 7 << qint64(500) << qint64(100) << 3;
    QTest::newRow("group 1") << 8 << 8 << 32 << 64 << 5 << qint64(300) << qint64(50) << 2;
    QTest::newRow("group 32") << 32 << 1 << 64 << 16 << 9 << qint64(200) << qint64(40) << 5;
    QTest::newRow("real from 0") << 32 << 2 << 128 << 64 << 96 << qint64(2048) << qint64(0) << 16;
    QTest::newRow("real start 12000")
        << 32 << 2 << 128 << 64 << 96 << qint64(4096) << qint64(12000) << 32;
    // maxRun 0: the lists of the selection on random scores (only forced blocks shared).
    QTest::newRow("real start 30000, selection lists")
        << 32 << 2 << 128 << 64 << 96 << qint64(1500) << qint64(30000) << 0;
}

void TestSparseAttention::prefill() {
    GPU_OR_SKIP();
    QFETCH(int, heads);
    QFETCH(int, kvHeads);
    QFETCH(int, dim);
    QFETCH(int, blockSize);
    QFETCH(int, topk);
    QFETCH(qint64, tokens);
    QFETCH(qint64, start);
    QFETCH(int, maxRun);
    const Shape s{heads, kvHeads, dim, blockSize, topk};
    std::mt19937 rng = freshRng();
    PrefillData d;
    makePrefill(d, s, tokens, start, maxRun, rng);
    const std::vector<int64_t> check = tokensToCheck(tokens, start, blockSize, 64, rng);
    const std::vector<float> want = reference(d.cache, d.q, d.qStride, d.lists, start, check);
    for (const Variant v : kVariants) {
        d.dout.poison();
        CUDA_CHECK(runPrefill(d, s, tokens, start, v));
        CUDA_CHECK(cudaDeviceSynchronize());
        checkOutput(d.dout.download(), tokens, d.outStride, heads * dim, check, want);
        if (QTest::currentTestFailed())
            qWarning("failed with %d warps per block, %d stages", v.warps, v.stages);
    }
    d.dout.poison();
    CUDA_CHECK(folio::kernels::launchSparseAttentionPrefill(
        d.dq.get(), d.qStride, tokens, start, heads, kvHeads, dim, d.dk.get(), d.dv.get(),
        d.cache.capacity * dim, d.dlists.get(), topk, blockSize, d.dout.get(), d.outStride,
        nullptr));
    CUDA_CHECK(cudaDeviceSynchronize());
    checkOutput(d.dout.download(), tokens, d.outStride, heads * dim, check, want);
}

void TestSparseAttention::decode_data() {
    QTest::addColumn<int>("heads");
    QTest::addColumn<int>("kvHeads");
    QTest::addColumn<int>("dim");
    QTest::addColumn<int>("blockSize");
    QTest::addColumn<int>("topk");
    QTest::addColumn<qint64>("position");
    QTest::newRow("tiny mid-block") << 32 << 2 << 16 << 16 << 6 << qint64(200);
    QTest::newRow("tiny block start") << 32 << 2 << 16 << 16 << 6 << qint64(208);
    QTest::newRow("tiny block end") << 32 << 2 << 16 << 16 << 11 << qint64(223);
    QTest::newRow("tiny few blocks") << 32 << 2 << 16 << 16 << 11 << qint64(40);
    QTest::newRow("tiny position 0") << 32 << 2 << 16 << 16 << 6 << qint64(0);
    QTest::newRow("head dim 128, 16/1") << 16 << 1 << 128 << 16 << 8 << qint64(397);
    QTest::newRow("group 3") << 12 << 4 << 64 << 32 << 7 << qint64(321);
    QTest::newRow("group 32") << 32 << 1 << 64 << 16 << 9 << qint64(300);
    QTest::newRow("real early") << 32 << 2 << 128 << 64 << 96 << qint64(1000);
    QTest::newRow("real mid-block") << 32 << 2 << 128 << 64 << 96 << qint64(100031);
    QTest::newRow("real block start") << 32 << 2 << 128 << 64 << 96 << qint64(131072);
    // More chosen blocks than the combine holds in registers (4 warps x 24): a second pass.
    QTest::newRow("161 blocks") << 32 << 2 << 64 << 16 << 161 << qint64(20000);
}

void TestSparseAttention::decode() {
    GPU_OR_SKIP();
    QFETCH(int, heads);
    QFETCH(int, kvHeads);
    QFETCH(int, dim);
    QFETCH(int, blockSize);
    QFETCH(int, topk);
    QFETCH(qint64, position);
    const Shape s{heads, kvHeads, dim, blockSize, topk};
    std::mt19937 rng = freshRng();
    DecodeData d;
    makeDecode(d, s, position, rng);
    for (const DecodePath path : {DecodePath::Split, DecodePath::Clustered}) {
        d.dout.poison();
        poisonWorkspace(d, s);
        const cudaError_t e = runDecode(d, s, position, nullptr, path);
        if (path == DecodePath::Clustered && e == cudaErrorNotSupported) {
            // Builds without sm_90 code refuse it too, so only the shape is held to account.
            if (clusteredExpected(s)) qInfo("clustered decode not available in this build");
            continue;
        }
        if (path == DecodePath::Clustered) QVERIFY(clusteredExpected(s));
        CUDA_CHECK(e);
        CUDA_CHECK(cudaDeviceSynchronize());
        checkDecode(d, s, position);
    }
}

void TestSparseAttention::decodeInCudaGraph() {
    GPU_OR_SKIP();
    std::mt19937 rng = freshRng();
    const int64_t position = 70000 + 17;
    DecodeData d;
    makeDecode(d, kReal, position, rng);
    cudaStream_t stream;
    CUDA_CHECK(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
    cudaGraph_t graph = nullptr;
    cudaGraphExec_t exec = nullptr;
    CUDA_CHECK(cudaStreamBeginCapture(stream, cudaStreamCaptureModeGlobal));
    const cudaError_t launched = runDecode(d, kReal, position, stream);
    CUDA_CHECK(cudaStreamEndCapture(stream, &graph));
    CUDA_CHECK(launched);
    CUDA_CHECK(cudaGraphInstantiate(&exec, graph, 0));
    // Replays see the current contents of the buffers: a second query must give its own
    // answer.
    for (int replay = 0; replay < 2; ++replay) {
        if (replay) {
            d.q = roundBf16(randomFloats(d.q.size(), rng, 1.5f));
            d.dq.upload(toBf16(d.q));
        }
        d.dout.poison();
        poisonWorkspace(d, kReal);
        CUDA_CHECK(cudaGraphLaunch(exec, stream));
        CUDA_CHECK(cudaStreamSynchronize(stream));
        checkDecode(d, kReal, position);
    }
    cudaGraphExecDestroy(exec);
    cudaGraphDestroy(graph);
    cudaStreamDestroy(stream);
}

void TestSparseAttention::timingRealShape() {
    GPU_OR_SKIP();
    std::mt19937 rng = freshRng();
    const int64_t tokens = 8192;
    // Every query sees 96 full blocks or more. maxRun 0: the selection's lists on random
    // scores, the last chunk of a 128K prefill, where the cache no longer fits in L2.
    const struct {
        int maxRun;
        int64_t start;
    } cases[] = {{64, 57344}, {1, 57344}, {0, 131072 - tokens}};
    for (const auto& c : cases) {
        const int64_t start = c.start;
        PrefillData d;
        makePrefill(d, kReal, tokens, start, c.maxRun, rng);
        const double flops = usefulFlops(d, kReal, tokens, start);
        for (const Variant v : kVariants) {
            d.dout.poison();
            CUDA_CHECK(runPrefill(d, kReal, tokens, start, v));
            const double ms = medianMs([&] { runPrefill(d, kReal, tokens, start, v); }, 10);
            CUDA_CHECK(cudaGetLastError());
            qInfo("prefill 8192 tokens x 96 blocks x 64 keys from %lld, lists shared in runs of "
                  "<= %d (0: selection-like), %d warps/block, %d stages: median %.3f ms, %.1f "
                  "TFLOP/s useful",
                  static_cast<long long>(start), c.maxRun, v.warps, v.stages, ms,
                  flops / ms * 1e-9);
        }
        // The timed output is still checked, so this test can fail like the others.
        const std::vector<int64_t> check = tokensToCheck(tokens, start, 64, 32, rng);
        checkOutput(d.dout.download(), tokens, d.outStride, kReal.heads * kReal.dim, check,
                    reference(d.cache, d.q, d.qStride, d.lists, start, check));
    }
    DecodeData d;
    const int64_t position = 131071 - 20;
    makeDecode(d, kReal, position, rng);
    for (const DecodePath path : {DecodePath::Split, DecodePath::Clustered}) {
        d.dout.poison();
        poisonWorkspace(d, kReal);
        if (runDecode(d, kReal, position, nullptr, path) == cudaErrorNotSupported) continue;
        const double ms = medianMs([&] { runDecode(d, kReal, position, nullptr, path); }, 200);
        CUDA_CHECK(cudaGetLastError());
        qInfo("decode, 96 blocks x 64 keys per kv head: median %.1f us (%s)", ms * 1e3,
              path == DecodePath::Split ? "partials + combine" : "one cluster per kv group");
        checkDecode(d, kReal, position);
    }
}

QTEST_GUILESS_MAIN(TestSparseAttention)
#include "test_sparse_attention.moc"
