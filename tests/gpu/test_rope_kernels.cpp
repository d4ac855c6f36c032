// The q/k norm + RoPE kernels (one group of heads, or a pair of groups with their own weights)
// against the CPU twins applied head by head, on fresh random sections of fused rows with
// poisoned surroundings; tolerances in elementwise_check.h.

#include "rope.cuh"

#include "cpu/cpu_math.h"
#include "elementwise_check.h"
#include "gpu_test_util.h"

#include <string>

using namespace gputest;
namespace fk = folio::kernels;
using bf16 = __nv_bfloat16;

class TestRopeKernels : public QObject {
    Q_OBJECT

private slots:
    void headNormRope_data();
    void headNormRope();
    void headNormRopePair_data();
    void headNormRopePair();
    void rejectsBadArguments();
};

void TestRopeKernels::headNormRope_data() {
    QTest::addColumn<int>("rows");
    QTest::addColumn<int>("heads");
    QTest::addColumn<int>("dim");
    QTest::addColumn<int>("stride");
    QTest::addColumn<int>("col");
    QTest::addColumn<bool>("norm");
    QTest::addColumn<bool>("rope");
    QTest::addColumn<qint64>("start");
    const int fused = 4 * 4096; // q | k | v | gate of a lightning layer
    QTest::newRow("q 32x128") << 7 << 32 << 128 << fused << 0 << true << true << qint64(0);
    QTest::newRow("k 32x128 at 1000")
        << 7 << 32 << 128 << fused << 4096 << true << true << qint64(1000);
    QTest::newRow("k near 2^20") << 9 << 32 << 128 << fused << 4096 << true << true
                                 << qint64((1 << 20) - 4);
    QTest::newRow("q near 2^21") << 9 << 32 << 128 << fused << 0 << true << true
                                 << qint64((1 << 21) - 4);
    QTest::newRow("decode at 1M") << 1 << 32 << 128 << fused << 0 << true << true
                                  << qint64(1048576 + 1234);
    QTest::newRow("rope only near 2^21")
        << 5 << 32 << 128 << 4096 << 0 << false << true << qint64((1 << 21) + 77);
    QTest::newRow("rope only at 3e9")
        << 3 << 4 << 128 << 512 << 0 << false << true << qint64(3000000000LL);
    QTest::newRow("norm only") << 5 << 32 << 128 << fused << 4096 << true << false << qint64(5);
    QTest::newRow("kv heads 2x128")
        << 6 << 2 << 128 << 3 * 256 << 256 << true << true << qint64(300);
    QTest::newRow("tiny 2x16") << 5 << 2 << 16 << 6 * 16 << 32 << true << true << qint64(3);
    QTest::newRow("tiny 2x16 near 2^20")
        << 5 << 2 << 16 << 6 * 16 << 32 << true << true << qint64((1 << 20) - 2);
    QTest::newRow("dim 256") << 3 << 4 << 256 << 2048 << 1024 << true << true << qint64(4096);
    QTest::newRow("dim 64") << 4 << 8 << 64 << 1024 << 512 << true << true << qint64(70000);
    QTest::newRow("dim 20 (pairs)") << 4 << 3 << 20 << 70 << 10 << true << true << qint64(17);
    QTest::newRow("dim 18 (scalar)") << 4 << 3 << 18 << 61 << 3 << true << true << qint64(17);
}

namespace {

struct HeadNormRopeCase {
    int rows, heads, second, dim, stride, col;
    bool norm, secondNorm, rope;
    qint64 start;
};

// The kernel on a fresh random section against the CPU twin applied head by head; `second`
// heads after the first group use their own weight (the pair launcher), or none when 0.
std::string checkHeadNormRope(const HeadNormRopeCase& t) {
    std::mt19937 rng = freshRng();
    const std::vector<bf16> before =
        toBf16(randomFloats(static_cast<size_t>(t.rows) * t.stride, rng, 1.5f));
    const std::vector<float> w = bf16Weights(static_cast<size_t>(t.dim), rng);
    const std::vector<float> w2 = bf16Weights(static_cast<size_t>(t.dim), rng);
    DeviceBuffer<bf16> dX, dW, dW2;
    dX.upload(before);
    dW.upload(toBf16(w));
    dW2.upload(toBf16(w2));
    const bf16* first = t.norm ? dW.get() : nullptr;
    const cudaError_t e =
        t.second == 0
            ? fk::launchHeadNormRope(dX.get() + t.col, t.stride, t.rows, t.heads, t.dim, first,
                                     kEps, t.rope, t.start, kTheta, nullptr)
            : fk::launchHeadNormRopePair(dX.get() + t.col, t.stride, t.rows, t.heads, first,
                                         t.second, t.secondNorm ? dW2.get() : nullptr, t.dim, kEps,
                                         t.rope, t.start, kTheta, nullptr);
    if (e != cudaSuccess) return std::string("launch: ") + cudaGetErrorString(e);
    if (const cudaError_t s = cudaDeviceSynchronize(); s != cudaSuccess)
        return std::string("run: ") + cudaGetErrorString(s);
    const int width = (t.heads + t.second) * t.dim;
    std::vector<float> want = rowsOf(fromBf16(before), t.rows, t.stride, t.col, width);
    const sala::cpu::Rope cpuRope(t.dim, kTheta);
    for (int r = 0; r < t.rows; ++r) {
        for (int h = 0; h < t.heads + t.second; ++h) {
            float* v =
                want.data() + static_cast<size_t>(r) * width + static_cast<size_t>(h) * t.dim;
            const bool firstGroup = h < t.heads;
            if (firstGroup ? t.norm : t.secondNorm)
                sala::cpu::rmsNorm(v, 1, t.dim, (firstGroup ? w : w2).data(), kEps, v);
            if (t.rope) cpuRope.apply(v, t.start + r);
        }
    }
    std::string why;
    const std::vector<float> got =
        section(dX.download(), before, t.rows, t.stride, t.col, width, why);
    return why.empty() ? compareBf16(got, want) : why;
}

} // namespace

void TestRopeKernels::headNormRope() {
    GPU_OR_SKIP();
    QFETCH(int, rows);
    QFETCH(int, heads);
    QFETCH(int, dim);
    QFETCH(int, stride);
    QFETCH(int, col);
    QFETCH(bool, norm);
    QFETCH(bool, rope);
    QFETCH(qint64, start);
    const std::string why =
        checkHeadNormRope({rows, heads, 0, dim, stride, col, norm, false, rope, start});
    QVERIFY2(why.empty(), why.c_str());
}

void TestRopeKernels::headNormRopePair_data() {
    QTest::addColumn<int>("rows");
    QTest::addColumn<int>("heads");
    QTest::addColumn<int>("second");
    QTest::addColumn<int>("dim");
    QTest::addColumn<int>("stride");
    QTest::addColumn<bool>("norm");
    QTest::addColumn<bool>("secondNorm");
    QTest::addColumn<bool>("rope");
    QTest::addColumn<qint64>("start");
    const int fused = 4 * 4096; // q | k | v | gate of a lightning layer
    QTest::newRow("lightning q|k prefill")
        << 7 << 32 << 32 << 128 << fused << true << true << true << qint64(1000);
    QTest::newRow("lightning q|k prefill, a block per row")
        << 70 << 32 << 32 << 128 << fused << true << true << true << qint64(4000);
    QTest::newRow("lightning q|k decode at 1M")
        << 1 << 32 << 32 << 128 << fused << true << true << true << qint64(1048576 + 1234);
    QTest::newRow("sparse q|k rope only")
        << 5 << 32 << 2 << 128 << 32 * 128 + 3 * 256 << false << false << true << qint64(77);
    QTest::newRow("second group only normalised")
        << 4 << 3 << 2 << 64 << 6 * 64 << false << true << false << qint64(0);
    QTest::newRow("first group only normalised")
        << 4 << 2 << 3 << 16 << 5 * 16 + 8 << true << false << true << qint64(3);
    QTest::newRow("dim 18 (scalar)")
        << 3 << 2 << 2 << 18 << 80 << true << true << true << qint64(9);
}

void TestRopeKernels::headNormRopePair() {
    GPU_OR_SKIP();
    QFETCH(int, rows);
    QFETCH(int, heads);
    QFETCH(int, second);
    QFETCH(int, dim);
    QFETCH(int, stride);
    QFETCH(bool, norm);
    QFETCH(bool, secondNorm);
    QFETCH(bool, rope);
    QFETCH(qint64, start);
    const std::string why =
        checkHeadNormRope({rows, heads, second, dim, stride, 0, norm, secondNorm, rope, start});
    QVERIFY2(why.empty(), why.c_str());
}

void TestRopeKernels::rejectsBadArguments() {
    // Rejected before any CUDA call, so this runs without a GPU too. The pointers are never
    // dereferenced.
    static bf16 b[16];
    const cudaError_t bad = cudaErrorInvalidValue;
    QCOMPARE(fk::launchHeadNormRope(b, 64, 1, 1, 15, b, kEps, true, 0, kTheta, nullptr), bad);
    QCOMPARE(fk::launchHeadNormRope(b, 1024, 1, 1, fk::kMaxRopeHeadDim + 2, b, kEps, true, 0,
                                    kTheta, nullptr),
             bad);
    QCOMPARE(fk::launchHeadNormRope(b, 64, 1, 0, 16, b, kEps, true, 0, kTheta, nullptr), bad);
    QCOMPARE(fk::launchHeadNormRope(b, 31, 1, 2, 16, b, kEps, true, 0, kTheta, nullptr), bad);
    QCOMPARE(fk::launchHeadNormRope(b, 64, 1, 2, 16, b, kEps, true, -1, kTheta, nullptr), bad);
    QCOMPARE(fk::launchHeadNormRope(b, 64, 1, 2, 16, b, kEps, true, 0, 0.0, nullptr), bad);
    QCOMPARE(fk::launchHeadNormRope(nullptr, 64, 1, 2, 16, b, kEps, true, 0, kTheta, nullptr), bad);
    // The row must hold both groups of a pair.
    QCOMPARE(fk::launchHeadNormRopePair(b, 63, 1, 2, b, 2, b, 16, kEps, true, 0, kTheta, nullptr),
             bad);
    QCOMPARE(fk::launchHeadNormRopePair(b, 64, 1, 2, b, -1, b, 16, kEps, true, 0, kTheta, nullptr),
             bad);
}

QTEST_GUILESS_MAIN(TestRopeKernels)
#include "test_rope_kernels.moc"
