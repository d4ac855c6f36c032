// GPU sampling against its CPU twin (sala::Sampler) and against the exact rule the kernels
// document: candidates ordered by logit descending (so probability descending), equal logits by
// id ascending; the draw takes the first whose cumulative normalised weight exceeds u.
#include "gpu_test_util.h"
#include "sampler.h"
#include "sampling.cuh"
#include "sampling_reference.h"

#include <QtTest>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <tuple>

using folio::kernels::GpuSamplingParams;
using namespace gputest;

namespace {

constexpr int kRealVocab = 73448;
constexpr int kTestVocab = 512;
constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr int32_t kUnwritten = 0x5A5A5A5A; // what the poisoned token slots hold

sala::SamplingParams params(float t, int k = 0, float p = 1.0f, float minP = 0.0f,
                            float penalty = 1.0f) {
    sala::SamplingParams s;
    s.temperature = t;
    s.topK = k;
    s.topP = p;
    s.minP = minP;
    s.repetitionPenalty = penalty;
    s.repetitionWindow = 0; // the GPU gets the window already cut
    return s;
}

GpuSamplingParams toGpu(const sala::SamplingParams& p) {
    return {p.temperature, p.topK, p.topP, p.minP, p.repetitionPenalty};
}

// A float in [0, 1) from the top 24 bits, as a caller of launchSample would draw it.
float uniformFrom(std::mt19937_64& rng) {
    return static_cast<float>(rng() >> 40) * 0x1p-24f;
}

enum class Shape { Gauss, Quantised, Peaked, WithInf };

const char* nameOf(Shape s) {
    switch (s) {
    case Shape::Gauss:
        return "gauss+NaN";
    case Shape::Quantised:
        return "quantised";
    case Shape::Peaked:
        return "peaked";
    case Shape::WithInf:
        return "with +inf";
    }
    return "?";
}

std::vector<float> makeRow(int vocab, Shape shape, std::mt19937& rng, float scale = 3.0f) {
    std::vector<float> v = randomFloats(vocab, rng, scale);
    std::uniform_int_distribution<int> id(0, vocab - 1);
    switch (shape) {
    case Shape::Gauss:
        for (int i = 0; i < vocab / 100 + 1; ++i) v[id(rng)] = std::nanf("");
        break;
    case Shape::Quantised: // large groups of equal logits, and a tie for the maximum
        for (float& x : v) x = std::round(x);
        v[id(rng)] = v[id(rng)] = 12.0f;
        break;
    case Shape::Peaked:
        for (int i = 0; i < 5; ++i) v[id(rng)] += 8.0f;
        break;
    case Shape::WithInf:
        for (int i = 0; i < 3; ++i) v[id(rng)] = kInf;
        break;
    }
    return v;
}

// Repeats tokens on purpose: the penalty must apply once per distinct token.
std::vector<int> makeHistory(const std::vector<float>& row, int n, std::mt19937& rng) {
    const int vocab = static_cast<int>(row.size());
    std::uniform_int_distribution<int> id(0, vocab - 1);
    std::vector<int> pool(std::max(1, n / 3));
    for (int& t : pool) t = id(rng);
    pool[0] = static_cast<int>(std::max_element(row.begin(), row.end()) - row.begin());
    std::vector<int> h(n);
    std::uniform_int_distribution<size_t> pickPool(0, pool.size() - 1);
    for (int& t : h) t = pool[pickPool(rng)];
    return h;
}

// ----- the GPU side ---------------------------------------------------------------------------

class GpuSampler {
public:
    explicit GpuSampler(int vocab)
        : vocab_(vocab), workspace_(folio::kernels::sampleWorkspace(vocab, 0)) {}

    void setRow(const std::vector<float>& logits, const std::vector<int>& history) {
        logits_.upload(logits);
        history_.upload(std::vector<int32_t>(history.begin(), history.end()));
    }

    // One launch per uniform into its own (poisoned) token slot; with deviceUniforms the value
    // is read from device memory, as a replayed graph does.
    cudaError_t draw(const GpuSamplingParams& p, const std::vector<float>& us, bool deviceUniforms,
                     std::vector<int32_t>& tokens) {
        uniforms_.upload(us);
        tokens_.resize(us.size());
        cudaError_t e = cudaMemset(tokens_.get(), 0x5A, us.size() * sizeof(int32_t));
        for (size_t i = 0; i < us.size() && e == cudaSuccess; ++i)
            e = launch(p, us[i], deviceUniforms ? uniforms_.get() + i : nullptr, tokens_.get() + i,
                       nullptr);
        if (e == cudaSuccess) e = cudaDeviceSynchronize();
        tokens = tokens_.download();
        return e != cudaSuccess ? e : cudaGetLastError();
    }

    cudaError_t launch(const GpuSamplingParams& p, float u, const float* uDevice, int32_t* out,
                       cudaStream_t stream) {
        return folio::kernels::launchSample(logits_.get(), vocab_, p, history_.get(),
                                            static_cast<int>(history_.size()), u, uDevice, out,
                                            workspace_.get(), workspace_.size(), stream);
    }

private:
    int vocab_;
    DeviceBuffer<uint8_t> workspace_;
    DeviceBuffer<float> logits_;
    DeviceBuffer<int32_t> history_;
    DeviceBuffer<float> uniforms_;
    DeviceBuffer<int32_t> tokens_;
};

std::vector<float> someUniforms(int n, std::mt19937_64& rng) {
    std::vector<float> us{0.0f, std::nextafter(1.0f, 0.0f)};
    while (static_cast<int>(us.size()) < n) us.push_back(uniformFrom(rng));
    return us;
}

// Two-sample chi-square (equal sample sizes); categories with fewer than 10 draws in all are
// pooled. The critical value is the Wilson-Hilferty approximation at p = 0.001.
bool samePopulation(const std::vector<int>& a, const std::vector<int>& b, std::string& report) {
    double stat = 0.0, pooledA = 0.0, pooledB = 0.0;
    int categories = 0;
    const auto add = [&](double x, double y) {
        if (x + y > 0) stat += (x - y) * (x - y) / (x + y), ++categories;
    };
    for (size_t i = 0; i < a.size(); ++i) {
        if (a[i] + b[i] >= 10) {
            add(a[i], b[i]);
        } else {
            pooledA += a[i];
            pooledB += b[i];
        }
    }
    add(pooledA, pooledB);
    const double df = std::max(1, categories - 1), z = 3.0902;
    const double crit = df * std::pow(1.0 - 2.0 / (9.0 * df) + z * std::sqrt(2.0 / (9.0 * df)), 3);
    report = "chi2 " + std::to_string(stat) + " df " + std::to_string(df) + " critical " +
             std::to_string(crit);
    return stat < crit;
}

} // namespace

class TestSamplingKernels : public QObject {
    Q_OBJECT

private:
    void checkWritten(const std::vector<int32_t>& tokens, int vocab, const std::string& what) {
        for (int32_t t : tokens) {
            QVERIFY2(t != kUnwritten, ("token slot never written: " + what).c_str());
            QVERIFY2(t >= 0 && t < vocab, ("token out of range: " + what).c_str());
        }
    }

private slots:
    void initTestCase() { GPU_OR_SKIP(); }

    void greedyMatchesCpuArgmax() {
        std::mt19937 rng = freshRng();
        for (int vocab : {kTestVocab, kRealVocab}) {
            GpuSampler gpu(vocab);
            for (Shape shape : {Shape::Gauss, Shape::Quantised, Shape::WithInf}) {
                for (float penalty : {1.0f, 1.5f, 0.7f}) {
                    for (int rep = 0; rep < 8; ++rep) {
                        std::vector<float> row = makeRow(vocab, shape, rng);
                        if (rep == 0) { // NaN on the best logit, signed zeros as the maximum
                            for (float& x : row) x = -std::abs(x) - 1.0f;
                            row[7] = std::nanf("");
                            row[11] = -0.0f;
                            row[13] = 0.0f;
                        }
                        const std::vector<int> hist = makeHistory(row, 40, rng);
                        const sala::SamplingParams sp = params(0.0f, 0, 1.0f, 0.0f, penalty);
                        sala::Sampler cpu(sp);
                        const auto want = cpu.sample(row, hist);
                        QVERIFY(want.ok());
                        gpu.setRow(row, hist);
                        std::vector<int32_t> got;
                        CUDA_CHECK(gpu.draw(toGpu(sp), {0.5f}, false, got));
                        const std::string what = std::string(nameOf(shape)) + " vocab " +
                                                 std::to_string(vocab) + " penalty " +
                                                 std::to_string(penalty);
                        checkWritten(got, vocab, what);
                        QVERIFY2(got[0] == *want, what.c_str());
                    }
                }
            }
        }
    }

    void drawFollowsExactRule() {
        struct Case {
            const char* name;
            sala::SamplingParams p;
        };
        const Case cases[] = {
            {"plain T=1", params(1.0f)},
            {"top-k 40", params(0.7f, 40)},
            {"top-p 0.9", params(1.3f, 0, 0.9f)},
            {"min-p 0.05", params(0.9f, 0, 1.0f, 0.05f)},
            {"all + penalty", params(0.8f, 100, 0.8f, 0.02f, 1.3f)},
            {"flat T=60 top-p", params(60.0f, 0, 0.95f)}, // bins overflow shared memory
            {"top-k 3000", params(1.0f, 3000)},
            {"cold T=0.05", params(0.05f, 0, 0.99f)},
        };
        std::mt19937 rng = freshRng();
        std::mt19937_64 urng(rng());
        for (int vocab : {kTestVocab, kRealVocab}) {
            GpuSampler gpu(vocab);
            for (const Case& c : cases) {
                for (Shape shape :
                     {Shape::Gauss, Shape::Quantised, Shape::Peaked, Shape::WithInf}) {
                    const std::vector<float> row = makeRow(vocab, shape, rng);
                    const std::vector<int> hist = makeHistory(row, 64, rng);
                    const Candidates ref = referenceCandidates(row, c.p, hist);
                    QVERIFY(!ref.ids.empty());
                    gpu.setRow(row, hist);
                    const std::vector<float> us =
                        someUniforms(vocab == kRealVocab ? 60 : 200, urng);
                    std::vector<int32_t> got, gotHost;
                    CUDA_CHECK(gpu.draw(toGpu(c.p), us, true, got));
                    // The by-value uniform must give the same tokens as the device one.
                    const std::vector<float> first(us.begin(), us.begin() + 10);
                    CUDA_CHECK(gpu.draw(toGpu(c.p), first, false, gotHost));
                    const std::string what = std::string(c.name) + ", " + nameOf(shape) +
                                             ", vocab " + std::to_string(vocab);
                    checkWritten(got, vocab, what);
                    QVERIFY2(std::equal(gotHost.begin(), gotHost.end(), got.begin()),
                             ("by-value and device uniforms disagree: " + what).c_str());
                    int tolerated = 0;
                    for (size_t i = 0; i < us.size(); ++i) {
                        const int want = referenceDraw(ref, us[i]);
                        if (got[i] == want) continue;
                        const std::string msg = what + ": u " + std::to_string(us[i]) + " gpu " +
                                                std::to_string(got[i]) + " rule " +
                                                std::to_string(want);
                        QVERIFY2(nearBoundary(ref, want, got[i], us[i]), msg.c_str());
                        ++tolerated;
                    }
                    QVERIFY2(tolerated <= static_cast<int>(us.size()) / 50 + 1, what.c_str());
                }
            }
        }
    }

    void topKStaysInBestK() {
        std::mt19937 rng = freshRng();
        std::mt19937_64 urng(rng());
        for (int vocab : {kTestVocab, kRealVocab}) {
            GpuSampler gpu(vocab);
            for (int k : {1, 7, 64}) {
                const std::vector<float> row = makeRow(vocab, Shape::Quantised, rng, 1.0f);
                const sala::SamplingParams p = params(5.0f, k);
                const Candidates best = referenceCandidates(row, p, {});
                QCOMPARE(static_cast<int>(best.ids.size()), k);
                gpu.setRow(row, {});
                std::vector<int32_t> got;
                CUDA_CHECK(gpu.draw(toGpu(p), someUniforms(3000, urng), true, got));
                checkWritten(got, vocab, "top-k");
                std::vector<char> drawn(k, 0);
                for (int32_t t : got) {
                    const int at = best.position(t);
                    QVERIFY2(at >= 0, ("token outside the " + std::to_string(k) + " best").c_str());
                    drawn[at] = 1;
                }
                // A hot temperature spreads the draws: every one of the k shows up.
                QCOMPARE(static_cast<int>(std::count(drawn.begin(), drawn.end(), 1)), k);
            }
        }
    }

    void nucleusAndMinP() {
        std::mt19937 rng = freshRng();
        std::mt19937_64 urng(rng());
        for (int vocab : {kTestVocab, kRealVocab}) {
            GpuSampler gpu(vocab);
            const std::vector<float> row = makeRow(vocab, Shape::Peaked, rng);
            gpu.setRow(row, {});
            for (const sala::SamplingParams& p :
                 {params(1.0f, 0, 0.3f), params(1.0f, 0, 0.9f), params(1.0f, 0, 1e-6f),
                  params(1.5f, 0, 1.0f, 0.1f), params(1.5f, 0, 1.0f, 0.5f)}) {
                const Candidates allowed = referenceCandidates(row, p, {});
                sala::SamplingParams unlimited = p;
                unlimited.topP = 1.0f;
                const Candidates all = referenceCandidates(row, unlimited, {});
                std::vector<int32_t> got;
                CUDA_CHECK(gpu.draw(toGpu(p), someUniforms(300, urng), true, got));
                checkWritten(got, vocab, "nucleus/min-p");
                const std::vector<float> l = penalised(row, 1.0f, {});
                const float top = *std::max_element(l.begin(), l.end());
                for (int32_t t : got) {
                    const float w = std::exp((l[t] - top) / p.temperature);
                    QVERIFY2(w >= p.minP * (1.0f - 1e-5f), "token below the min-p threshold");
                    if (allowed.position(t) >= 0) continue;
                    // Only the next token could join, when the nucleus ends on a rounding tie.
                    const size_t last = allowed.ids.size() - 1;
                    QVERIFY2(all.position(t) == static_cast<int>(last + 1) &&
                                 std::abs(all.cum[last] / all.total() - p.topP) <
                                     kBoundaryTolerance,
                             "token outside the nucleus");
                }
                if (p.topP < 1e-3f) // the nucleus of a tiny top-p is the best token alone
                    QVERIFY(std::all_of(got.begin(), got.end(),
                                        [&](int32_t t) { return t == allowed.ids[0]; }));
            }
        }
    }

    void repetitionPenalty() {
        for (int vocab : {kTestVocab, kRealVocab}) {
            GpuSampler gpu(vocab);
            std::vector<float> row(vocab, -10.0f);
            const int a = vocab / 3, b = vocab / 2, c = vocab - 1;
            // Positive logits are divided, negative ones multiplied, each token once however
            // often it repeats: penalising a twice would hand the argmax to b.
            for (auto [la, lb, want] : {std::tuple{2.0f, 1.75f, a}, std::tuple{-1.0f, -1.2f, a},
                                        std::tuple{2.0f, 1.9f, b}, std::tuple{-1.0f, -1.05f, b}}) {
                row[a] = la;
                row[b] = lb;
                row[c] = -5.0f;
                const std::vector<int> hist{a, a, c, a, -3, vocab + 2, c};
                const sala::SamplingParams p = params(0.0f, 0, 1.0f, 0.0f, 1.1f);
                sala::Sampler cpu(p);
                const std::vector<int> valid{a, a, c, a, c};
                const auto cpuPick = cpu.sample(row, valid);
                QVERIFY(cpuPick.ok());
                QCOMPARE(*cpuPick, want);
                gpu.setRow(row, hist); // ids outside the vocabulary are ignored
                std::vector<int32_t> got;
                CUDA_CHECK(gpu.draw(toGpu(p), {0.3f}, false, got));
                QCOMPARE(got[0], want);
            }
        }
    }

    void distributionMatchesCpuSampler() {
        struct Case {
            const char* name;
            int vocab;
            sala::SamplingParams p;
            int draws;
        };
        const Case cases[] = {
            {"plain", kTestVocab, params(1.0f), 40000},
            {"top-k 20", kTestVocab, params(0.8f, 20), 40000},
            {"top-p + min-p + penalty", kTestVocab, params(1.0f, 0, 0.7f, 0.05f, 1.2f), 40000},
            {"real vocab top-k 50 top-p 0.9", kRealVocab, params(0.9f, 50, 0.9f), 15000},
        };
        for (const Case& c : cases) {
            std::mt19937 rng(20240601u); // fixed: the test must be repeatable
            const std::vector<float> row = makeRow(c.vocab, Shape::Gauss, rng, 2.0f);
            const std::vector<int> hist = makeHistory(row, 32, rng);
            sala::SamplingParams cp = c.p;
            cp.seed = 7;
            sala::Sampler cpu(cp);
            std::vector<int> cpuCounts(c.vocab, 0), gpuCounts(c.vocab, 0);
            for (int i = 0; i < c.draws; ++i) {
                const auto t = cpu.sample(row, hist);
                QVERIFY(t.ok());
                ++cpuCounts[*t];
            }
            std::mt19937_64 urng(99);
            std::vector<float> us(c.draws);
            for (float& u : us) u = uniformFrom(urng);
            GpuSampler gpu(c.vocab);
            gpu.setRow(row, hist);
            std::vector<int32_t> got;
            CUDA_CHECK(gpu.draw(toGpu(c.p), us, true, got));
            checkWritten(got, c.vocab, c.name);
            for (int32_t t : got) ++gpuCounts[t];
            std::string report;
            const bool same = samePopulation(cpuCounts, gpuCounts, report);
            qInfo("%s: %s", c.name, report.c_str());
            QVERIFY2(same, (std::string(c.name) + ": " + report).c_str());
        }
    }

    void graphReplayMatchesDirectLaunches() {
        std::mt19937 rng = freshRng();
        std::mt19937_64 urng(rng());
        const std::vector<float> row = makeRow(kRealVocab, Shape::Peaked, rng);
        const std::vector<int> hist = makeHistory(row, 256, rng);
        GpuSampler gpu(kRealVocab);
        gpu.setRow(row, hist);
        for (const sala::SamplingParams& p :
             {params(0.0f, 0, 1.0f, 0.0f, 1.1f), params(0.9f, 0, 0.9f, 0.0f, 1.1f)}) {
            cudaStream_t stream;
            CUDA_CHECK(cudaStreamCreate(&stream));
            DeviceBuffer<float> u(1);
            DeviceBuffer<int32_t> out(1);
            cudaGraph_t graph;
            cudaGraphExec_t exec;
            CUDA_CHECK(cudaStreamBeginCapture(stream, cudaStreamCaptureModeGlobal));
            CUDA_CHECK(gpu.launch(toGpu(p), 0.0f, u.get(), out.get(), stream));
            CUDA_CHECK(cudaStreamEndCapture(stream, &graph));
            CUDA_CHECK(cudaGraphInstantiate(&exec, graph, 0));
            const std::vector<float> us = someUniforms(30, urng);
            std::vector<int32_t> direct;
            CUDA_CHECK(gpu.draw(toGpu(p), us, false, direct));
            for (size_t i = 0; i < us.size(); ++i) {
                CUDA_CHECK(cudaMemcpy(u.get(), &us[i], sizeof(float), cudaMemcpyHostToDevice));
                out.poison();
                CUDA_CHECK(cudaGraphLaunch(exec, stream));
                CUDA_CHECK(cudaStreamSynchronize(stream));
                QCOMPARE(out.download()[0], direct[i]);
            }
            CUDA_CHECK(cudaGraphExecDestroy(exec));
            CUDA_CHECK(cudaGraphDestroy(graph));
            CUDA_CHECK(cudaStreamDestroy(stream));
        }
    }

    void badInputs() {
        using folio::kernels::launchSample;
        using folio::kernels::sampleWorkspace;
        const GpuSamplingParams p{1.0f, 0, 1.0f, 0.0f, 1.0f};
        DeviceBuffer<float> logits(kTestVocab);
        DeviceBuffer<int32_t> out(1);
        DeviceBuffer<uint8_t> ws(sampleWorkspace(kTestVocab, 0));
        QCOMPARE(sampleWorkspace(0, 0), size_t{0});
        QCOMPARE(launchSample(logits.get(), 0, p, nullptr, 0, 0.5f, nullptr, out.get(), ws.get(),
                              ws.size(), nullptr),
                 cudaErrorInvalidValue);
        QCOMPARE(launchSample(logits.get(), kTestVocab, p, nullptr, 0, 0.5f, nullptr, out.get(),
                              ws.get(), ws.size() - 1, nullptr),
                 cudaErrorInvalidValue);
        QCOMPARE(launchSample(logits.get(), kTestVocab, p, nullptr, 3, 0.5f, nullptr, out.get(),
                              ws.get(), ws.size(), nullptr),
                 cudaErrorInvalidValue);
        QCOMPARE(launchSample(nullptr, kTestVocab, p, nullptr, 0, 0.5f, nullptr, out.get(),
                              ws.get(), ws.size(), nullptr),
                 cudaErrorInvalidValue);
        // Nothing above -inf: the CPU twin reports an error, the GPU writes -1.
        std::vector<float> dead(kTestVocab, -kInf);
        dead[3] = std::nanf("");
        QVERIFY(!sala::Sampler(params(1.0f)).sample(dead, {}).ok());
        GpuSampler gpu(kTestVocab);
        gpu.setRow(dead, {});
        for (float t : {0.0f, 1.0f}) {
            std::vector<int32_t> got;
            CUDA_CHECK(gpu.draw({t, 5, 0.9f, 0.1f, 1.2f}, {0.5f}, false, got));
            QCOMPARE(got[0], -1);
        }
    }

    void timingRealVocab() {
        std::mt19937 rng(5);
        std::vector<float> row = makeRow(kRealVocab, Shape::Peaked, rng, 2.5f);
        const std::vector<int> hist = makeHistory(row, 256, rng);
        GpuSampler gpu(kRealVocab);
        gpu.setRow(row, hist);
        struct Case {
            const char* name;
            sala::SamplingParams p;
        };
        const Case cases[] = {
            {"greedy", params(0.0f)},
            {"T=1 plain", params(1.0f)},
            {"T=0.9 top-p 0.8", params(0.9f, 0, 0.8f)},
            {"T=0.7 top-k 50 top-p 0.95 penalty 1.1 (256)", params(0.7f, 50, 0.95f, 0.0f, 1.1f)},
            {"T=0.6 min-p 0.05", params(0.6f, 0, 1.0f, 0.05f)},
            {"T=60 top-p 0.95 (bins overflow)", params(60.0f, 0, 0.95f)},
        };
        cudaStream_t stream;
        CUDA_CHECK(cudaStreamCreate(&stream));
        cudaEvent_t start, stop;
        CUDA_CHECK(cudaEventCreate(&start));
        CUDA_CHECK(cudaEventCreate(&stop));
        DeviceBuffer<float> u(1);
        DeviceBuffer<int32_t> out(1);
        const float half = 0.5f;
        CUDA_CHECK(cudaMemcpy(u.get(), &half, sizeof half, cudaMemcpyHostToDevice));
        for (const Case& c : cases) {
            cudaGraph_t graph;
            cudaGraphExec_t exec;
            CUDA_CHECK(cudaStreamBeginCapture(stream, cudaStreamCaptureModeGlobal));
            CUDA_CHECK(gpu.launch(toGpu(c.p), 0.0f, u.get(), out.get(), stream));
            CUDA_CHECK(cudaStreamEndCapture(stream, &graph));
            CUDA_CHECK(cudaGraphInstantiate(&exec, graph, 0));
            std::vector<double> graphUs, streamUs;
            for (int i = 0; i < 220; ++i) {
                float ms = 0.0f;
                CUDA_CHECK(cudaEventRecord(start, stream));
                CUDA_CHECK(cudaGraphLaunch(exec, stream));
                CUDA_CHECK(cudaEventRecord(stop, stream));
                CUDA_CHECK(cudaEventSynchronize(stop));
                CUDA_CHECK(cudaEventElapsedTime(&ms, start, stop));
                if (i >= 20) graphUs.push_back(ms * 1000.0);
                CUDA_CHECK(cudaEventRecord(start, stream));
                CUDA_CHECK(gpu.launch(toGpu(c.p), 0.5f, nullptr, out.get(), stream));
                CUDA_CHECK(cudaEventRecord(stop, stream));
                CUDA_CHECK(cudaEventSynchronize(stop));
                CUDA_CHECK(cudaEventElapsedTime(&ms, start, stop));
                if (i >= 20) streamUs.push_back(ms * 1000.0);
            }
            const int32_t token = out.download()[0];
            QVERIFY(token >= 0 && token < kRealVocab);
            qInfo("sample vocab %d, %-46s graph %6.1f us, stream launches %6.1f us (median)",
                  kRealVocab, c.name, median(graphUs), median(streamUs));
            CUDA_CHECK(cudaGraphExecDestroy(exec));
            CUDA_CHECK(cudaGraphDestroy(graph));
        }
        CUDA_CHECK(cudaEventDestroy(start));
        CUDA_CHECK(cudaEventDestroy(stop));
        CUDA_CHECK(cudaStreamDestroy(stream));
    }
};

QTEST_GUILESS_MAIN(TestSamplingKernels)
#include "test_sampling_kernels.moc"
