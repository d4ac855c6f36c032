// Embedding, RMSNorm, SwiGLU, output norm/gate and conversions against their CPU twins
// (engine/cpu/cpu_math.h), on fresh random inputs with poisoned outputs; tolerances in
// elementwise_check.h. The q/k norm + RoPE kernels: test_rope_kernels.cpp.

#include "activations.cuh"
#include "embedding.cuh"
#include "norms.cuh"
#include "rope.cuh" // timed with the others in benchmark()

#include "bf16.h"
#include "cpu/cpu_math.h"
#include "elementwise_check.h"
#include "gpu_test_util.h"

#include <cmath>
#include <string>

using namespace gputest;
namespace fk = folio::kernels;
using bf16 = __nv_bfloat16;

namespace {

// A residual-stream-like row: mostly N(0, scale) with a few large outlier channels.
std::vector<float> residualRows(int64_t rows, int64_t stride, std::mt19937& rng, float scale) {
    std::vector<float> x = randomFloats(static_cast<size_t>(rows * stride), rng, scale);
    for (int64_t r = 0; r < rows; ++r)
        for (int64_t c = 7; c < stride; c += 997) x[static_cast<size_t>(r * stride + c)] *= 25.0f;
    return x;
}

void report(const QByteArray& what, double ms, double bytes) {
    qInfo("%-48s %9.2f us  %7.0f GB/s", what.constData(), ms * 1e3, bytes / (ms * 1e-3) / 1e9);
}

} // namespace

class TestBasicKernels : public QObject {
    Q_OBJECT

private slots:
    void embedding_data();
    void embedding();
    void embeddingBadIdsGiveNanRows();
    void rmsNorm_data();
    void rmsNorm();
    void siluMul_data();
    void siluMul();
    void gatedNorm_data();
    void gatedNorm();
    void conversions_data();
    void conversions();
    void rejectsBadArguments();
    void benchmark();
};

void TestBasicKernels::embedding_data() {
    QTest::addColumn<int>("hidden");
    QTest::addColumn<int>("vocab");
    QTest::addColumn<int>("tokens");
    QTest::newRow("hidden 4096") << 4096 << 1000 << 37;
    QTest::newRow("hidden 4096 decode") << 4096 << 1000 << 1;
    QTest::newRow("hidden 64") << 64 << 300 << 5;
    QTest::newRow("hidden 16") << 16 << 50 << 3;
    QTest::newRow("hidden 6 (pairs)") << 6 << 20 << 4;
    QTest::newRow("hidden 99 (scalar)") << 99 << 20 << 4;
}

void TestBasicKernels::embedding() {
    GPU_OR_SKIP();
    QFETCH(int, hidden);
    QFETCH(int, vocab);
    QFETCH(int, tokens);
    std::mt19937 rng = freshRng();
    const std::vector<bf16> table =
        toBf16(randomFloats(static_cast<size_t>(vocab) * hidden, rng, 0.05f));
    std::uniform_int_distribution<int32_t> pick(0, vocab - 1);
    std::vector<int32_t> ids(static_cast<size_t>(tokens));
    for (int32_t& id : ids) id = pick(rng);
    ids.front() = vocab - 1; // the last row must be reachable
    const float scale = 12.0f;
    DeviceBuffer<bf16> dTable;
    DeviceBuffer<int32_t> dIds;
    DeviceBuffer<float> dH(static_cast<size_t>(tokens) * hidden);
    dTable.upload(table);
    dIds.upload(ids);
    dH.poison();
    CUDA_CHECK(fk::launchEmbedding(dTable.get(), vocab, hidden, dIds.get(), tokens, scale, dH.get(),
                                   nullptr));
    CUDA_CHECK(cudaDeviceSynchronize());
    const std::vector<float> got = dH.download();
    const sala::Weight w{sala::DType::BF16, table.data(), vocab, hidden};
    std::vector<float> want(static_cast<size_t>(hidden));
    for (int t = 0; t < tokens; ++t) {
        sala::cpu::decodeRow(w, ids[static_cast<size_t>(t)], want.data());
        for (int i = 0; i < hidden; ++i) {
            const float expect = want[static_cast<size_t>(i)] * scale;
            const float g = got[static_cast<size_t>(t) * hidden + i];
            if (std::memcmp(&g, &expect, sizeof g) != 0)
                QFAIL(qPrintable(QString("token %1 element %2: got %3, expected %4")
                                     .arg(t)
                                     .arg(i)
                                     .arg(g)
                                     .arg(expect)));
        }
    }
}

void TestBasicKernels::embeddingBadIdsGiveNanRows() {
    GPU_OR_SKIP();
    std::mt19937 rng = freshRng();
    const int hidden = 64, vocab = 10;
    const std::vector<bf16> table = toBf16(randomFloats(static_cast<size_t>(vocab) * hidden, rng));
    const std::vector<int32_t> ids = {3, -1, vocab, 1 << 30, vocab - 1};
    DeviceBuffer<bf16> dTable;
    DeviceBuffer<int32_t> dIds;
    DeviceBuffer<float> dH(ids.size() * hidden);
    dTable.upload(table);
    dIds.upload(ids);
    cudaMemset(dH.get(), 0, dH.size() * sizeof(float)); // zeros: NaN must come from the kernel
    CUDA_CHECK(fk::launchEmbedding(dTable.get(), vocab, hidden, dIds.get(), int64_t(ids.size()),
                                   1.0f, dH.get(), nullptr));
    const std::vector<float> got = dH.download();
    for (size_t t = 0; t < ids.size(); ++t) {
        const bool bad = ids[t] < 0 || ids[t] >= vocab;
        for (int i = 0; i < hidden; ++i) {
            const float g = got[t * hidden + i];
            if (bad)
                QVERIFY2(std::isnan(g), qPrintable(QString("row %1 should be NaN").arg(t)));
            else
                QCOMPARE(g, __bfloat162float(table[static_cast<size_t>(ids[t]) * hidden + i]));
        }
    }
}

void TestBasicKernels::rmsNorm_data() {
    QTest::addColumn<int>("rows");
    QTest::addColumn<int>("width");
    QTest::addColumn<int>("xStride");
    QTest::addColumn<int>("outStride");
    QTest::addColumn<bool>("withF32");
    QTest::newRow("hidden 4096") << 37 << 4096 << 4096 << 4096 << true;
    QTest::newRow("hidden 4096 decode") << 1 << 4096 << 4096 << 4096 << false;
    QTest::newRow("width 16384") << 3 << 16384 << 16384 << 16384 << true;
    QTest::newRow("width 128") << 65 << 128 << 128 << 128 << true;
    QTest::newRow("width 16") << 4 << 16 << 16 << 16 << false;
    QTest::newRow("strided") << 5 << 4096 << 3 * 4096 + 8 << 4096 + 64 << true;
    QTest::newRow("width 6 (pairs)") << 3 << 6 << 10 << 6 << true;
    QTest::newRow("width 999 (scalar)") << 3 << 999 << 1001 << 1003 << true;
}

void TestBasicKernels::rmsNorm() {
    GPU_OR_SKIP();
    QFETCH(int, rows);
    QFETCH(int, width);
    QFETCH(int, xStride);
    QFETCH(int, outStride);
    QFETCH(bool, withF32);
    std::mt19937 rng = freshRng();
    const std::vector<float> x = residualRows(rows, xStride, rng, 2.0f);
    const std::vector<float> w = bf16Weights(static_cast<size_t>(width), rng);
    DeviceBuffer<float> dX, dOutF32(withF32 ? static_cast<size_t>(rows) * width : 0);
    DeviceBuffer<bf16> dW, dOut(static_cast<size_t>(rows) * outStride);
    dX.upload(x);
    dW.upload(toBf16(w));
    dOut.poison();
    if (withF32) dOutF32.poison();
    CUDA_CHECK(fk::launchRmsNorm(dX.get(), xStride, rows, width, dW.get(), kEps, dOut.get(),
                                 outStride, dOutF32.get(), nullptr));
    CUDA_CHECK(cudaDeviceSynchronize());
    const std::vector<float> packed = rowsOf(x, rows, xStride, 0, width);
    std::vector<float> want(packed.size());
    sala::cpu::rmsNorm(packed.data(), rows, width, w.data(), kEps, want.data());
    std::string why;
    const std::vector<float> got =
        section(dOut.download(), poisonedBf16(dOut.size()), rows, outStride, 0, width, why);
    QVERIFY2(why.empty(), why.c_str());
    why = compareBf16(got, want);
    QVERIFY2(why.empty(), why.c_str());
    if (withF32) {
        why = compare(dOutF32.download(), want, kF32RelL2, 1e-5);
        QVERIFY2(why.empty(), ("f32 output: " + why).c_str());
    }
}

void TestBasicKernels::siluMul_data() {
    QTest::addColumn<int>("rows");
    QTest::addColumn<int>("inter");
    QTest::addColumn<int>("rowStride");
    QTest::addColumn<int>("outStride");
    QTest::newRow("inter 16384") << 9 << 16384 << 32768 << 16384;
    QTest::newRow("inter 16384 decode") << 1 << 16384 << 32768 << 16384;
    QTest::newRow("inter 64") << 4 << 64 << 128 << 64;
    QTest::newRow("strided") << 3 << 256 << 1000 << 300;
    QTest::newRow("inter 33 (scalar)") << 3 << 33 << 67 << 35;
    QTest::newRow("70000 rows") << 70000 << 16 << 32 << 16;
}

void TestBasicKernels::siluMul() {
    GPU_OR_SKIP();
    QFETCH(int, rows);
    QFETCH(int, inter);
    QFETCH(int, rowStride);
    QFETCH(int, outStride);
    std::mt19937 rng = freshRng();
    const std::vector<float> gateUp =
        roundBf16(randomFloats(static_cast<size_t>(rows) * rowStride, rng, 2.0f));
    DeviceBuffer<bf16> dIn, dOut(static_cast<size_t>(rows) * outStride);
    dIn.upload(toBf16(gateUp));
    dOut.poison();
    CUDA_CHECK(
        fk::launchSiluMul(dIn.get(), rowStride, rows, inter, dOut.get(), outStride, nullptr));
    CUDA_CHECK(cudaDeviceSynchronize());
    std::vector<float> want = rowsOf(gateUp, rows, rowStride, 0, inter);
    const std::vector<float> up = rowsOf(gateUp, rows, rowStride, inter, inter);
    sala::cpu::siluMul(want.data(), up.data(), int64_t(want.size()));
    std::string why;
    const std::vector<float> got =
        section(dOut.download(), poisonedBf16(dOut.size()), rows, outStride, 0, inter, why);
    QVERIFY2(why.empty(), why.c_str());
    why = compareBf16(got, want);
    QVERIFY2(why.empty(), why.c_str());
}

void TestBasicKernels::gatedNorm_data() {
    QTest::addColumn<int>("rows");
    QTest::addColumn<int>("width");
    QTest::addColumn<int>("oStride");
    QTest::addColumn<int>("gateStride");
    QTest::addColumn<bool>("norm");
    QTest::addColumn<bool>("gate");
    QTest::newRow("lightning 4096") << 7 << 4096 << 4096 << 5 * 4096 << true << true;
    QTest::newRow("lightning decode") << 1 << 4096 << 4096 << 5 * 4096 << true << true;
    QTest::newRow("sparse gate only") << 7 << 4096 << 4096 << 4096 + 512 << false << true;
    QTest::newRow("norm only") << 3 << 4096 << 4096 << 0 << true << false;
    QTest::newRow("tiny 2x16") << 5 << 32 << 32 << 96 << true << true;
    QTest::newRow("strided") << 4 << 1024 << 1536 << 2048 << true << true;
    QTest::newRow("width 35 (scalar)") << 3 << 35 << 37 << 39 << true << true;
}

void TestBasicKernels::gatedNorm() {
    GPU_OR_SKIP();
    QFETCH(int, rows);
    QFETCH(int, width);
    QFETCH(int, oStride);
    QFETCH(int, gateStride);
    QFETCH(bool, norm);
    QFETCH(bool, gate);
    std::mt19937 rng = freshRng();
    const std::vector<bf16> before =
        toBf16(randomFloats(static_cast<size_t>(rows) * oStride, rng, 0.5f));
    const std::vector<float> g =
        roundBf16(randomFloats(static_cast<size_t>(rows) * gateStride, rng, 2.0f));
    const std::vector<float> w = bf16Weights(static_cast<size_t>(width), rng);
    DeviceBuffer<bf16> dO, dG, dW;
    dO.upload(before);
    dG.upload(toBf16(g));
    dW.upload(toBf16(w));
    CUDA_CHECK(fk::launchGatedNorm(dO.get(), oStride, rows, width, norm ? dW.get() : nullptr, kEps,
                                   gate ? dG.get() : nullptr, gateStride, nullptr));
    CUDA_CHECK(cudaDeviceSynchronize());
    std::vector<float> want = rowsOf(fromBf16(before), rows, oStride, 0, width);
    if (norm) sala::cpu::rmsNorm(want.data(), rows, width, w.data(), kEps, want.data());
    if (gate) {
        const std::vector<float> gates = rowsOf(g, rows, gateStride, 0, width);
        sala::cpu::mulSigmoid(want.data(), gates.data(), int64_t(want.size()));
    }
    std::string why;
    const std::vector<float> got = section(dO.download(), before, rows, oStride, 0, width, why);
    QVERIFY2(why.empty(), why.c_str());
    why = compareBf16(got, want);
    QVERIFY2(why.empty(), why.c_str());
}

void TestBasicKernels::conversions_data() {
    QTest::addColumn<int>("n");
    QTest::addColumn<int>("offset"); // elements: 1 breaks the 16-byte alignment
    QTest::newRow("2^20 + 5") << (1 << 20) + 5 << 0;
    QTest::newRow("misaligned") << 1000 << 1;
    QTest::newRow("3 elements") << 3 << 0;
}

void TestBasicKernels::conversions() {
    GPU_OR_SKIP();
    QFETCH(int, n);
    QFETCH(int, offset);
    std::mt19937 rng = freshRng();
    std::vector<float> x = randomFloats(static_cast<size_t>(n + offset), rng, 3.0f);
    const float specials[] = {INFINITY, -INFINITY, NAN, 0.0f, -0.0f, 1e-40f, 3.4e38f, -1.00390625f};
    for (size_t i = 0; i < std::size(specials) && i + offset < x.size(); ++i)
        x[i + offset] = specials[i];
    DeviceBuffer<float> dF(x.size()), dBack(x.size());
    DeviceBuffer<bf16> dB(x.size());
    dF.upload(x);
    dB.poison();
    dBack.poison();
    CUDA_CHECK(fk::launchF32ToBf16(dF.get() + offset, dB.get() + offset, n, nullptr));
    CUDA_CHECK(fk::launchBf16ToF32(dB.get() + offset, dBack.get() + offset, n, nullptr));
    CUDA_CHECK(cudaDeviceSynchronize());
    const std::vector<bf16> b = dB.download();
    const std::vector<float> back = dBack.download();
    for (int i = offset; i < n + offset; ++i) {
        const size_t k = static_cast<size_t>(i);
        if (std::isnan(x[k])) {
            QVERIFY2(std::isnan(__bfloat162float(b[k])) && std::isnan(back[k]), "NaN lost");
            continue;
        }
        const uint16_t want = sala::floatToBf16(x[k]);
        if (bits(b[k]) != want || back[k] != sala::bf16ToFloat(want))
            QFAIL(qPrintable(QString("element %1 (%2): bf16 %3, expected %4; back %5")
                                 .arg(i)
                                 .arg(x[k])
                                 .arg(bits(b[k]))
                                 .arg(want)
                                 .arg(back[k])));
    }
    if (offset > 0) QCOMPARE(bits(b[0]), uint16_t(0xFFFF)); // before the range: untouched
}

void TestBasicKernels::rejectsBadArguments() {
    // Rejected before any CUDA call, so this runs without a GPU too. The pointers are never
    // dereferenced.
    static float f[16];
    static bf16 b[16];
    static int32_t ids[1];
    const cudaError_t bad = cudaErrorInvalidValue;
    QCOMPARE(fk::launchEmbedding(b, 1, 0, ids, 1, 1.0f, f, nullptr), bad);
    QCOMPARE(fk::launchEmbedding(b, 1, 8, ids, -1, 1.0f, f, nullptr), bad);
    QCOMPARE(fk::launchEmbedding(nullptr, 1, 8, ids, 1, 1.0f, f, nullptr), bad);
    QCOMPARE(fk::launchEmbedding(nullptr, 1, 8, ids, 0, 1.0f, f, nullptr), cudaSuccess);
    QCOMPARE(fk::launchRmsNorm(f, 8, 1, 0, b, kEps, b, 8, nullptr, nullptr), bad);
    QCOMPARE(fk::launchRmsNorm(f, 1 << 20, 1, fk::kMaxNormWidth + 1, b, kEps, b, 1 << 20, nullptr,
                               nullptr),
             bad);
    QCOMPARE(fk::launchRmsNorm(f, 4, 1, 8, b, kEps, b, 8, nullptr, nullptr), bad);
    QCOMPARE(fk::launchRmsNorm(f, 8, 1, 8, b, kEps, b, 4, nullptr, nullptr), bad);
    QCOMPARE(fk::launchRmsNorm(f, 8, -1, 8, b, kEps, b, 8, nullptr, nullptr), bad);
    QCOMPARE(fk::launchRmsNorm(nullptr, 8, 1, 8, b, kEps, b, 8, nullptr, nullptr), bad);
    QCOMPARE(fk::launchRmsNorm(f, 8, 0, 8, b, kEps, b, 8, nullptr, nullptr), cudaSuccess);
    QCOMPARE(fk::launchSiluMul(b, 15, 1, 8, b, 8, nullptr), bad);
    QCOMPARE(fk::launchSiluMul(b, 16, 1, 8, b, 7, nullptr), bad);
    QCOMPARE(fk::launchSiluMul(b, 16, 1, 0, b, 8, nullptr), bad);
    QCOMPARE(fk::launchSiluMul(nullptr, 16, 1, 8, b, 8, nullptr), bad);
    QCOMPARE(fk::launchGatedNorm(b, 8, 1, 8, b, kEps, b, 4, nullptr), bad);
    QCOMPARE(fk::launchGatedNorm(b, 4, 1, 8, b, kEps, b, 8, nullptr), bad);
    QCOMPARE(fk::launchGatedNorm(nullptr, 8, 1, 8, b, kEps, b, 8, nullptr), bad);
    QCOMPARE(fk::launchF32ToBf16(f, b, -1, nullptr), bad);
    QCOMPARE(fk::launchBf16ToF32(nullptr, f, 4, nullptr), bad);
    QCOMPARE(fk::launchBf16ToF32(nullptr, nullptr, 0, nullptr), cudaSuccess);
}

void TestBasicKernels::benchmark() {
    if (qEnvironmentVariableIsEmpty("FOLIO_GPU_BENCH")) QSKIP("set FOLIO_GPU_BENCH=1 to time");
    GPU_OR_SKIP();
    const int64_t T = 8192, H = 4096, I = 16384, V = 73448;
    DeviceBuffer<bf16> table(static_cast<size_t>(V * H)), a(static_cast<size_t>(T * 2 * I)),
        b(static_cast<size_t>(T * I)), w(static_cast<size_t>(I));
    DeviceBuffer<float> h(static_cast<size_t>(T * H)), h2(static_cast<size_t>(T * H));
    // 0x3C bytes: 1.1e-2 as bf16 and as f32, finite through every kernel.
    cudaMemset(table.get(), 0x3C, table.size() * sizeof(bf16));
    cudaMemset(a.get(), 0x3C, a.size() * sizeof(bf16));
    cudaMemset(w.get(), 0x3C, w.size() * sizeof(bf16));
    cudaMemset(h.get(), 0x3C, h.size() * sizeof(float));
    std::vector<int32_t> spread(static_cast<size_t>(T)); // distinct rows: no L2 reuse
    for (int64_t t = 0; t < T; ++t) spread[static_cast<size_t>(t)] = int32_t(t * 7919 % V);
    DeviceBuffer<int32_t> ids;
    ids.upload(spread);
    std::vector<cudaError_t> errors;
    for (const int64_t rows : {T, int64_t(1)}) {
        const double r = double(rows);
        const QByteArray tag = rows == 1 ? " decode" : " 8192 rows";
        auto time = [&](const char* what, double bytes, auto launch) {
            report(what + tag, medianMs([&] { errors.push_back(launch()); }, 7, 20), bytes);
        };
        time("embedding 4096", r * H * 6, [&] {
            return fk::launchEmbedding(table.get(), V, H, ids.get(), rows, 12.0f, h2.get(), 0);
        });
        time("rmsNorm 4096 -> bf16", r * H * 6, [&] {
            return fk::launchRmsNorm(h.get(), H, rows, H, w.get(), kEps, b.get(), H, nullptr, 0);
        });
        time("rmsNorm 4096 -> bf16 + f32", r * H * 10, [&] {
            return fk::launchRmsNorm(h.get(), H, rows, H, w.get(), kEps, b.get(), H, h2.get(), 0);
        });
        time("headNormRope 32x128 in a 4x4096 row", r * H * 4, [&] {
            return fk::launchHeadNormRope(a.get(), 4 * H, rows, 32, 128, w.get(), kEps, true,
                                          1 << 20, kTheta, 0);
        });
        time("siluMul 16384", r * I * 6,
             [&] { return fk::launchSiluMul(a.get(), 2 * I, rows, int(I), b.get(), I, 0); });
        time("gatedNorm 4096 norm + gate", r * H * 6, [&] {
            return fk::launchGatedNorm(b.get(), H, rows, H, w.get(), kEps, a.get(), 4 * H, 0);
        });
        time("f32 -> bf16 (rows x 4096)", r * H * 6,
             [&] { return fk::launchF32ToBf16(h.get(), b.get(), rows * H, 0); });
    }
    CUDA_CHECK(cudaDeviceSynchronize());
    for (cudaError_t e : errors) QCOMPARE(e, cudaSuccess);
}

QTEST_GUILESS_MAIN(TestBasicKernels)
#include "test_basic_kernels.moc"
