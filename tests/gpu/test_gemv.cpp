// The decode step's matrix-vector product (kernels/gemv.cuh) against its CPU twin: the CPU
// backend's RMSNorm or output gate, rounding to bf16, its dot product per weight row, and SwiGLU
// of pairs of rows; on fresh random inputs with poisoned outputs.
//
// Tolerance: both sides compute in f32 from the same bf16 values, in different summation
// orders (relative error of a dot about 1e-6 here). The RMSNorm's sum of squares may also differ
// in its last bit between the two, which moves an element of x across a bf16 rounding boundary
// now and then (a change of 2^-8 in one term of 4,096). A row is right when it is within 1e-3 of
// its value plus 1e-3 of the rms of all rows; a wrong weight row or a missed chunk is off by
// about the rms.

#include "gemv.cuh"
#include "norms.cuh"

#include "cpu/cpu_math.h"
#include "cuda/gemm.h"
#include "gpu_test_util.h"

#include <cmath>
#include <memory>
#include <string>

using namespace gputest;
namespace fk = folio::kernels;
using bf16 = __nv_bfloat16;
using Kind = fk::GemvInputKind;

Q_DECLARE_METATYPE(fk::GemvInputKind)

namespace {

constexpr float kEps = 1e-6f;

struct Inputs {
    std::vector<float> x;                    // what the product multiplies, rounded to bf16
    std::vector<float> raw;                  // GatedNorm: the attention output
    std::vector<float> residual, normWeight; // RmsNorm, GatedNorm (optional)
    std::vector<float> gate;                 // GatedNorm (optional)
};

// Which parts a GatedNorm input has.
struct Gated {
    bool norm = false, gate = false;
};

// Random inputs of one kind and the x the kernel is expected to build from them.
Inputs makeInputs(Kind kind, int k, Gated gated, std::mt19937& rng) {
    Inputs in;
    if (kind == Kind::Bf16) {
        in.x = roundBf16(randomFloats(size_t(k), rng));
    } else if (kind == Kind::GatedNorm) {
        in.raw = roundBf16(randomFloats(size_t(k), rng, 0.7f));
        in.x = in.raw;
        if (gated.norm) {
            in.normWeight = roundBf16(randomFloats(size_t(k), rng, 0.5f));
            sala::cpu::rmsNorm(in.raw.data(), 1, k, in.normWeight.data(), kEps, in.x.data());
        }
        if (gated.gate) {
            in.gate = roundBf16(randomFloats(size_t(k), rng, 2.0f));
            sala::cpu::mulSigmoid(in.x.data(), in.gate.data(), k);
        }
        in.x = roundBf16(in.x);
    } else {
        in.residual = randomFloats(size_t(k), rng, 3.0f);
        in.normWeight = roundBf16(randomFloats(size_t(k), rng, 0.5f));
        in.x.resize(size_t(k));
        sala::cpu::rmsNorm(in.residual.data(), 1, k, in.normWeight.data(), kEps, in.x.data());
        in.x = roundBf16(in.x);
    }
    return in;
}

// y[r] = alpha * dot(W[r], x) + beta * y0[r]
std::vector<float> twin(const std::vector<float>& w, const std::vector<float>& x, int64_t n, int k,
                        float alpha, float beta, const std::vector<float>& y0) {
    std::vector<float> y(static_cast<size_t>(n));
    for (int64_t r = 0; r < n; ++r) {
        y[size_t(r)] = alpha * sala::cpu::dot(w.data() + r * k, x.data(), k);
        if (beta != 0.0f) y[size_t(r)] += beta * y0[size_t(r)];
    }
    return y;
}

// y[i] = silu(g) * u for g and u rows i and n + i of the product, each rounded to bf16 as a stored
// gate/up product is, and y rounded as launchSiluMul rounds it.
std::vector<float> swigluTwin(const std::vector<float>& w, const std::vector<float>& x, int64_t n,
                              int k, float alpha) {
    const std::vector<float> gateUp = roundBf16(twin(w, x, 2 * n, k, alpha, 0.0f, {}));
    std::vector<float> y(gateUp.begin(), gateUp.begin() + n);
    sala::cpu::siluMul(y.data(), gateUp.data() + n, n);
    return roundBf16(y);
}

// Empty when every row is within its bound (see the tolerance note), else the first that is not.
std::string compareRows(const std::vector<float>& got, const std::vector<float>& want,
                        double relative) {
    double sumSq = 0;
    for (float v : want) sumSq += double(v) * v;
    const double rms = std::sqrt(sumSq / std::max<size_t>(want.size(), 1));
    for (size_t i = 0; i < want.size(); ++i)
        if (!(std::fabs(double(got[i]) - want[i]) <= relative * std::fabs(want[i]) + 1e-3 * rms))
            return "row " + std::to_string(i) + ": got " + std::to_string(got[i]) + ", expected " +
                   std::to_string(want[i]);
    return {};
}

// Device copies of the inputs, and the launch description pointing at them.
struct DeviceInputs {
    DeviceBuffer<bf16> x, normWeight, gate;
    DeviceBuffer<float> residual;
    fk::GemvInput describe(Kind kind) const {
        fk::GemvInput in;
        in.kind = kind;
        in.x = x.get();
        in.residual = residual.get();
        in.normWeight = normWeight.get();
        in.eps = kEps;
        in.gate = gate.get();
        return in;
    }
};

void upload(const Inputs& in, Kind kind, DeviceInputs& d) {
    if (kind == Kind::Bf16) d.x.upload(toBf16(in.x));
    if (kind == Kind::GatedNorm) {
        d.x.upload(toBf16(in.raw));
        if (!in.normWeight.empty()) d.normWeight.upload(toBf16(in.normWeight));
        if (!in.gate.empty()) d.gate.upload(toBf16(in.gate));
    }
    if (kind == Kind::RmsNorm) {
        d.residual.upload(in.residual);
        d.normWeight.upload(toBf16(in.normWeight));
    }
}

} // namespace

class TestGemv : public QObject {
    Q_OBJECT

private slots:
    void matchesCpu_data();
    void matchesCpu();
    void swigluMatchesCpu_data();
    void swigluMatchesCpu();
    void chainedProductsSeeTheirInputs();
    void rejectsBadArguments();
    void benchmark();
    void chainTiming();
};

void TestGemv::matchesCpu_data() {
    QTest::addColumn<Kind>("kind");
    QTest::addColumn<int>("n");
    QTest::addColumn<int>("k");
    QTest::addColumn<bool>("f32");
    QTest::addColumn<float>("alpha");
    QTest::addColumn<float>("beta");
    QTest::addColumn<bool>("withNorm"); // GatedNorm only
    QTest::addColumn<bool>("withGate"); // GatedNorm only
    // The decode step's shapes, each with the input and output it has there.
    QTest::newRow("sparse input projection, normed x")
        << Kind::RmsNorm << 8704 << 4096 << false << 1.0f << 0.0f << false << false;
    QTest::newRow("lightning output, normed and gated, into the residual")
        << Kind::GatedNorm << 4096 << 4096 << true << 0.25f << 1.0f << true << true;
    QTest::newRow("sparse output, gated")
        << Kind::GatedNorm << 4096 << 4096 << true << 0.25f << 1.0f << false << true;
    QTest::newRow("output, normed, not gated")
        << Kind::GatedNorm << 1000 << 264 << false << 1.0f << 0.0f << true << false;
    QTest::newRow("output projection into the residual")
        << Kind::Bf16 << 4096 << 4096 << true << 0.25f << 1.0f << false << false;
    QTest::newRow("down projection into the residual")
        << Kind::Bf16 << 4096 << 16384 << true << 0.25f << 1.0f << false << false;
    QTest::newRow("logits, scaled")
        << Kind::Bf16 << 20011 << 4096 << true << 0.125f << 0.0f << false << false;
    // Rows that end inside a warp's load (264), inside a second step (4104), and a single
    // 16-byte load; many rows per warp.
    QTest::newRow("short rows") << Kind::RmsNorm << 1000 << 264 << false << 1.0f << 0.0f << false
                                << false;
    QTest::newRow("a step and a bit")
        << Kind::Bf16 << 777 << 4104 << true << 1.0f << 0.0f << false << false;
    QTest::newRow("one load per row")
        << Kind::Bf16 << 70001 << 8 << false << 2.0f << 0.0f << false << false;
    // Norm inputs wider than 4,096 take two passes instead of keeping x in registers.
    QTest::newRow("wide normed x")
        << Kind::RmsNorm << 300 << 8200 << false << 1.0f << 0.0f << false << false;
    QTest::newRow("wide output, normed and gated")
        << Kind::GatedNorm << 300 << 6000 << true << 1.0f << 0.0f << true << true;
    QTest::newRow("one row") << Kind::Bf16 << 1 << 4096 << true << 1.0f << 1.0f << false << false;
}

void TestGemv::matchesCpu() {
    GPU_OR_SKIP();
    QFETCH(Kind, kind);
    QFETCH(int, n);
    QFETCH(int, k);
    QFETCH(bool, f32);
    QFETCH(float, alpha);
    QFETCH(float, beta);
    QFETCH(bool, withNorm);
    QFETCH(bool, withGate);
    std::mt19937 rng = freshRng();
    const Inputs in = makeInputs(kind, k, {withNorm, withGate}, rng);
    const std::vector<float> w = roundBf16(randomFloats(size_t(n) * k, rng, 0.05f));
    const std::vector<float> y0 = randomFloats(size_t(n), rng);
    DeviceInputs d;
    upload(in, kind, d);
    DeviceBuffer<bf16> dW;
    dW.upload(toBf16(w));
    DeviceBuffer<float> yF32(f32 ? size_t(n) : 0);
    DeviceBuffer<bf16> yBf16(f32 ? 0 : size_t(n));
    if (f32 && beta != 0.0f)
        yF32.upload(y0);
    else if (f32)
        yF32.poison();
    else
        yBf16.poison();
    fk::GemvOutput out{f32 ? static_cast<void*>(yF32.get()) : yBf16.get(), f32, alpha, beta};
    CUDA_CHECK(fk::launchGemv(d.describe(kind), dW.get(), n, k, out, nullptr));
    CUDA_CHECK(cudaDeviceSynchronize());
    const std::vector<float> got = f32 ? yF32.download() : fromBf16(yBf16.download());
    const std::vector<float> want = twin(w, in.x, n, k, alpha, beta, y0);
    // A bf16 output is also rounded: 2^-8 of each value.
    const std::string why = compareRows(got, want, f32 ? 1e-3 : 1e-3 + 1.0 / 256);
    QVERIFY2(why.empty(), why.c_str());
}

void TestGemv::swigluMatchesCpu_data() {
    QTest::addColumn<Kind>("kind");
    QTest::addColumn<int>("n"); // pairs of rows
    QTest::addColumn<int>("k");
    QTest::addColumn<float>("alpha");
    QTest::newRow("gate/up product of a decode step") << Kind::RmsNorm << 16384 << 4096 << 1.0f;
    // Rows of two steps each (the pair's second row starts mid-sequence), scaled.
    QTest::newRow("a step and a bit, scaled") << Kind::Bf16 << 777 << 4104 << 0.5f;
    QTest::newRow("short rows, many per warp") << Kind::RmsNorm << 5000 << 264 << 1.0f;
    QTest::newRow("one pair") << Kind::Bf16 << 1 << 4096 << 1.0f;
}

// Tolerance: g and u are rounded to bf16 from sums in different orders, so either may land a
// bf16 step (2^-8) away from the twin's, which moves y by up to about 5 steps where g is large
// and negative (the slope of log silu there); y is rounded once more. A wrong pairing or row is
// off by about the rms.
void TestGemv::swigluMatchesCpu() {
    GPU_OR_SKIP();
    QFETCH(Kind, kind);
    QFETCH(int, n);
    QFETCH(int, k);
    QFETCH(float, alpha);
    std::mt19937 rng = freshRng();
    const Inputs in = makeInputs(kind, k, {}, rng);
    const std::vector<float> w = roundBf16(randomFloats(size_t(2 * n) * k, rng, 0.05f));
    DeviceInputs d;
    upload(in, kind, d);
    DeviceBuffer<bf16> dW, y(static_cast<size_t>(n));
    dW.upload(toBf16(w));
    y.poison();
    const fk::GemvOutput out{y.get(), false, alpha, 0.0f, true};
    CUDA_CHECK(fk::launchGemv(d.describe(kind), dW.get(), n, k, out, nullptr));
    CUDA_CHECK(cudaDeviceSynchronize());
    const std::string why =
        compareRows(fromBf16(y.download()), swigluTwin(w, in.x, n, k, alpha), 1e-3 + 6.0 / 256);
    QVERIFY2(why.empty(), why.c_str());
}

// The kernel loads weights before it waits for the kernel before it: its x, written by that
// kernel, must still be read after the write. A norm writes x (poisoned first), a product turns
// it into the next product's x; repeated, as an early read would show only now and then.
void TestGemv::chainedProductsSeeTheirInputs() {
    GPU_OR_SKIP();
    constexpr int kHidden = 4096, kMid = 8192, kRounds = 20;
    std::mt19937 rng = freshRng();
    const std::vector<float> residual = randomFloats(kHidden, rng, 2.0f);
    const std::vector<float> normWeight = roundBf16(randomFloats(kHidden, rng, 0.5f));
    const std::vector<float> w1 = roundBf16(randomFloats(size_t(kMid) * kHidden, rng, 0.05f));
    const std::vector<float> w2 = roundBf16(randomFloats(size_t(kHidden) * kMid, rng, 0.05f));
    std::vector<float> x(kHidden);
    sala::cpu::rmsNorm(residual.data(), 1, kHidden, normWeight.data(), kEps, x.data());
    const std::vector<float> mid = twin(w1, roundBf16(x), kMid, kHidden, 1, 0, {});
    DeviceBuffer<float> dResidual, dOut(kHidden);
    DeviceBuffer<bf16> dNorm, dW1, dW2, dX(kHidden), dMid(kMid);
    dResidual.upload(residual);
    dNorm.upload(toBf16(normWeight));
    dW1.upload(toBf16(w1));
    dW2.upload(toBf16(w2));
    cudaStream_t stream;
    CUDA_CHECK(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
    for (int round = 0; round < kRounds; ++round) {
        CUDA_CHECK(cudaMemsetAsync(dX.get(), 0xFF, kHidden * sizeof(bf16), stream));
        CUDA_CHECK(cudaMemsetAsync(dMid.get(), 0xFF, kMid * sizeof(bf16), stream));
        CUDA_CHECK(cudaMemsetAsync(dOut.get(), 0xFF, kHidden * sizeof(float), stream));
        CUDA_CHECK(fk::launchRmsNorm(dResidual.get(), kHidden, 1, kHidden, dNorm.get(), kEps,
                                     dX.get(), kHidden, nullptr, stream));
        fk::GemvInput first;
        first.x = dX.get();
        CUDA_CHECK(
            fk::launchGemv(first, dW1.get(), kMid, kHidden, {dMid.get(), false, 1, 0}, stream));
        fk::GemvInput second;
        second.x = dMid.get();
        CUDA_CHECK(
            fk::launchGemv(second, dW2.get(), kHidden, kMid, {dOut.get(), true, 1, 0}, stream));
        CUDA_CHECK(cudaStreamSynchronize(stream));
        // The second product is checked against the first's stored output, not the CPU's: with
        // seed 1204053504 an element of x rounds across a bf16 boundary, 435 of the 8,192 middle
        // values then round differently on the two sides, and a row of the second product moves
        // by up to 0.013 (usually 1 to 3 differ). An early read of the middle would see poison.
        const std::vector<float> gotMid = fromBf16(dMid.download());
        std::string why = compareRows(gotMid, mid, 1e-3 + 1.0 / 256);
        if (why.empty())
            why = compareRows(dOut.download(), twin(w2, gotMid, kHidden, kMid, 1, 0, {}), 1e-3);
        QVERIFY2(why.empty(), ("round " + std::to_string(round) + ": " + why).c_str());
    }
    CUDA_CHECK(cudaStreamDestroy(stream));
}

void TestGemv::rejectsBadArguments() {
    GPU_OR_SKIP();
    DeviceBuffer<bf16> w(4096), x(4096);
    DeviceBuffer<float> y(512);
    fk::GemvInput in;
    in.x = x.get();
    const fk::GemvOutput out{y.get(), true, 1.0f, 0.0f};
    const cudaError_t bad = cudaErrorInvalidValue;
    QCOMPARE(fk::launchGemv(in, w.get(), 8, 0, out, nullptr), bad);
    QCOMPARE(fk::launchGemv(in, w.get(), 8, 12, out, nullptr), bad); // not whole 16-byte loads
    QCOMPARE(fk::launchGemv(in, w.get(), 1, fk::kMaxGemvK + 8, out, nullptr), bad);
    QCOMPARE(fk::launchGemv(in, w.get(), -1, 8, out, nullptr), bad);
    QCOMPARE(fk::launchGemv(in, nullptr, 8, 8, out, nullptr), bad);
    QCOMPARE(fk::launchGemv(in, w.get() + 1, 8, 8, out, nullptr), bad); // misaligned rows
    QCOMPARE(fk::launchGemv(in, w.get(), 8, 8, {y.get(), false, 1.0f, 1.0f}, nullptr), bad);
    QCOMPARE(fk::launchGemv(in, w.get(), 8, 8, {nullptr, true, 1.0f, 0.0f}, nullptr), bad);
    fk::GemvInput norm;
    norm.kind = Kind::RmsNorm;
    QCOMPARE(fk::launchGemv(norm, w.get(), 8, 8, out, nullptr), bad); // no residual, no weight
    QCOMPARE(fk::launchGemv(in, w.get(), 8, 8, {y.get(), true, 1.0f, 0.0f, true}, nullptr), bad);
    QCOMPARE(fk::launchGemv(in, w.get(), 0, 8, out, nullptr), cudaSuccess);
    CUDA_CHECK(cudaDeviceSynchronize());
}

// Timing printout only (no assertion): each decode shape through this kernel and through
// cuBLASLt, with the weights not in L2 (the sum of the weights of the loop exceeds it).
void TestGemv::benchmark() {
    GPU_OR_SKIP();
    struct Shape {
        const char* name;
        int n, k;
    };
    const Shape shapes[] = {
        {"sparse input 8704 x 4096", 8704, 4096}, {"lightning input 16384 x 4096", 16384, 4096},
        {"output 4096 x 4096", 4096, 4096},       {"gate/up 32768 x 4096", 32768, 4096},
        {"down 4096 x 16384", 4096, 16384},       {"logits 73448 x 4096", 73448, 4096}};
    sala::cuda::Gemm gemm;
    QVERIFY(gemm.init().ok());
    constexpr int kCopies = 4; // rotate through copies so that no run finds its weights in L2
    for (const Shape& s : shapes) {
        const size_t elems = size_t(s.n) * s.k;
        DeviceBuffer<bf16> w(elems * kCopies), x(size_t(s.k));
        DeviceBuffer<float> y(size_t(s.n));
        CUDA_CHECK(cudaMemset(w.get(), 0, elems * kCopies * sizeof(bf16)));
        CUDA_CHECK(cudaMemset(x.get(), 0, size_t(s.k) * sizeof(bf16)));
        fk::GemvInput in;
        in.x = x.get();
        int copy = 0;
        const double ours = medianMs(
            [&] {
                fk::launchGemv(in, w.get() + elems * (copy++ % kCopies), s.n, s.k,
                               {y.get(), true, 1.0f, 0.0f}, nullptr);
            },
            21, 8);
        const double cublas = medianMs(
            [&] {
                (void)gemm.run(nullptr, 1, s.n, s.k, x.get(), s.k,
                               w.get() + elems * (copy++ % kCopies), y.get(), s.n,
                               sala::cuda::OutType::F32);
            },
            21, 8);
        CUDA_CHECK(cudaDeviceSynchronize());
        const double bytes = double(elems) * sizeof(bf16);
        qInfo("%-30s gemv %7.1f us %6.0f GB/s | cuBLASLt %7.1f us %6.0f GB/s", s.name, ours * 1e3,
              bytes / (ours * 1e-3) / 1e9, cublas * 1e3, bytes / (cublas * 1e-3) / 1e9);
    }
}

// A decode step's products of 8 layers (qkv, O, gate/up, down) back to back, each a programmatic
// dependent of the one before, as a step launches them, against the same chain with plain bf16
// inputs: what building the inputs costs in the chain, where benchmark() times each product alone.
// A timing printout only.
void TestGemv::chainTiming() {
    GPU_OR_SKIP();
    constexpr int H = 4096, I = 16384, Q = 4 * 4096, L = 8;
    struct Product {
        int n, k; // n: output rows (pairs of weight rows for SwiGLU)
        Kind kind;
        bool swiglu;
    };
    const Product ps[] = {{Q, H, Kind::RmsNorm, false},
                          {H, H, Kind::GatedNorm, false},
                          {I, H, Kind::RmsNorm, true},
                          {H, I, Kind::Bf16, false}};
    std::vector<std::unique_ptr<DeviceBuffer<bf16>>> ws;
    double bytes = 0;
    for (int l = 0; l < L; ++l)
        for (const Product& p : ps) {
            const size_t elems = size_t(p.n) * p.k * (p.swiglu ? 2 : 1);
            ws.push_back(std::make_unique<DeviceBuffer<bf16>>(elems));
            CUDA_CHECK(cudaMemset(ws.back()->get(), 0, elems * sizeof(bf16)));
            bytes += double(elems) * sizeof(bf16);
        }
    // Zeros everywhere: every input builds to finite values (RMSNorm of zeros is zero).
    DeviceBuffer<float> residual(H);
    DeviceBuffer<bf16> norm(H), qkv(Q), act(I), plainX(I);
    CUDA_CHECK(cudaMemset(residual.get(), 0, H * sizeof(float)));
    CUDA_CHECK(cudaMemset(norm.get(), 0, H * sizeof(bf16)));
    CUDA_CHECK(cudaMemset(qkv.get(), 0, Q * sizeof(bf16)));
    CUDA_CHECK(cudaMemset(act.get(), 0, I * sizeof(bf16)));
    CUDA_CHECK(cudaMemset(plainX.get(), 0, I * sizeof(bf16)));
    // plain: bit j set where product j takes a ready bf16 x instead of building it.
    auto chain = [&](unsigned plain) {
        cudaError_t e = cudaSuccess;
        for (int l = 0; l < L; ++l)
            for (int j = 0; j < 4; ++j) {
                const Product& p = ps[j];
                fk::GemvInput in;
                in.kind = p.kind;
                in.eps = kEps;
                in.residual = residual.get();
                in.normWeight = norm.get();
                in.x = p.kind == Kind::Bf16 ? act.get() : qkv.get();
                in.gate = qkv.get() + 3 * H;
                if (plain & (1u << j)) {
                    in = fk::GemvInput{};
                    in.x = plainX.get();
                }
                fk::GemvOutput out{residual.get(), true, 1, 1}; // O and down
                if (j == 0) out = {qkv.get(), false, 1, 0};
                if (j == 2) out = {act.get(), false, 1, 0, true};
                const cudaError_t r =
                    fk::launchGemv(in, ws[size_t(l * 4 + j)]->get(), p.n, p.k, out, nullptr);
                if (e == cudaSuccess) e = r;
            }
        return e;
    };
    struct Variant {
        const char* name;
        unsigned plain;
    };
    const Variant variants[] = {{"as a step", 0u}, {"every input plain bf16", 0xFu}};
    std::vector<cudaError_t> errors;
    for (const Variant& v : variants) {
        const double ms = medianMs([&] { errors.push_back(chain(v.plain)); }, 9);
        qInfo("%-24s %8.1f us per layer %6.0f GB/s", v.name, ms * 1e3 / L,
              bytes / (ms * 1e-3) / 1e9);
    }
    CUDA_CHECK(cudaDeviceSynchronize());
    for (cudaError_t e : errors) QCOMPARE(e, cudaSuccess);
}

QTEST_GUILESS_MAIN(TestGemv)
#include "test_gemv.moc"
