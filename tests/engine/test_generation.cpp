// Chunked prefill with progress and cancellation, greedy and sampled decoding, stop tokens.

#include "decoder.h"
#include "engine_test_util.h"
#include "generator.h"
#include "safetensors.h"

using namespace testutil;

class TestGeneration : public QObject {
    Q_OBJECT
private slots:
    void greedyReproducesReferenceTokens();
    void progressReportsEveryChunk();
    void cancelledPrefillStopsBetweenChunks();
    void stopTokenEndsGeneration();
    void callbackCanStop();
    void seedFixesSampledText();
    void badOptionsAreRejected();
    void decoderEndsWithOrWithoutItsLastToken();
    void decoderGoesOnOnlyFromItsDraw();
};

namespace {

std::vector<int> expectedGreedy(const char* name) {
    auto file = sala::SafetensorsFile::open(goldenDir(name) + "/expected.safetensors");
    if (!file) return {};
    const sala::TensorView* t = file->find("greedy.tokens");
    const int* p = reinterpret_cast<const int*>(t->data);
    return std::vector<int>(p, p + t->numel());
}

sala::GenerationOptions greedyOptions(int maxTokens) {
    sala::GenerationOptions o;
    o.sampling.temperature = 0;
    o.maxTokens = maxTokens;
    o.prefillChunk = 32;
    return o;
}

} // namespace

void TestGeneration::greedyReproducesReferenceTokens() {
    auto backend = cpuBackend("d_decode_boundary");
    auto ctx = newContext(*backend);
    const std::vector<int> prompt = goldenPrompt("d_decode_boundary");
    const std::vector<int> expected = expectedGreedy("d_decode_boundary");
    QCOMPARE(expected.size(), size_t(64));
    std::vector<int> streamed;
    auto result = sala::generate(*ctx, prompt, greedyOptions(64), nullptr, [&](int t) {
        streamed.push_back(t);
        return true;
    });
    QVERIFY(result.ok());
    QVERIFY(result->tokens == expected);
    QVERIFY(streamed == expected);
    QCOMPARE(result->reason, sala::StopReason::MaxTokens);
    QCOMPARE(result->stats.promptTokens, int64_t(prompt.size()));
    QCOMPARE(result->stats.generatedTokens, int64_t(64));
    // The context holds the prompt and every generated token.
    QCOMPARE(ctx->position(), int64_t(prompt.size() + 64));
}

void TestGeneration::progressReportsEveryChunk() {
    auto backend = cpuBackend("b_lightning_chunked");
    auto ctx = newContext(*backend);
    const std::vector<int> prompt = goldenPrompt("b_lightning_chunked");
    std::vector<std::pair<int64_t, int64_t>> calls;
    sala::ForwardOutput out;
    auto st = sala::prefill(
        *ctx, prompt, 64,
        [&](int64_t done, int64_t total) {
            calls.emplace_back(done, total);
            return true;
        },
        out);
    QVERIFY(st.ok());
    const int64_t total = int64_t(prompt.size());
    QCOMPARE(calls.size(), size_t((total + 63) / 64 + 1));
    for (size_t i = 0; i + 1 < calls.size(); ++i) QCOMPARE(calls[i].first, int64_t(i * 64));
    QCOMPARE(calls.back(), std::make_pair(total, total));
    QCOMPARE(out.logits.size(), size_t(backend->model().config.vocabSize));
}

void TestGeneration::cancelledPrefillStopsBetweenChunks() {
    auto backend = cpuBackend("b_lightning_chunked");
    auto ctx = newContext(*backend);
    const std::vector<int> prompt = goldenPrompt("b_lightning_chunked");
    sala::ForwardOutput out;
    auto st = sala::prefill(
        *ctx, prompt, 50, [](int64_t done, int64_t) { return done < 100; }, out);
    QVERIFY(!st.ok());
    QCOMPARE(st.error().code, sala::ErrorCode::Cancelled);
    QCOMPARE(ctx->position(), int64_t(100));
    auto gen = sala::generate(
        *ctx, prompt, greedyOptions(4), [](int64_t, int64_t) { return false; }, nullptr);
    QVERIFY(!gen.ok());
    QCOMPARE(gen.error().code, sala::ErrorCode::Cancelled);
}

void TestGeneration::stopTokenEndsGeneration() {
    auto backend = cpuBackend("d_decode_boundary");
    const std::vector<int> prompt = goldenPrompt("d_decode_boundary");
    const std::vector<int> expected = expectedGreedy("d_decode_boundary");
    auto options = greedyOptions(64);
    options.stopTokens = {expected[5]};
    // The first occurrence of that token ends the answer, and is not fed back.
    const size_t first =
        std::find(expected.begin(), expected.end(), expected[5]) - expected.begin();
    auto ctx = newContext(*backend);
    auto result = sala::generate(*ctx, prompt, options, nullptr, nullptr);
    QVERIFY(result.ok());
    QCOMPARE(result->reason, sala::StopReason::StopToken);
    QVERIFY(result->tokens == std::vector<int>(expected.begin(), expected.begin() + first + 1));
    QCOMPARE(ctx->position(), int64_t(prompt.size() + first));
}

void TestGeneration::callbackCanStop() {
    auto backend = cpuBackend("a_micro_dense");
    auto ctx = newContext(*backend);
    int seen = 0;
    auto result = sala::generate(*ctx, goldenPrompt("a_micro_dense"), greedyOptions(50), nullptr,
                                 [&](int) { return ++seen < 3; });
    QVERIFY(result.ok());
    QCOMPARE(result->reason, sala::StopReason::Stopped);
    QCOMPARE(result->tokens.size(), size_t(3));
}

void TestGeneration::seedFixesSampledText() {
    auto backend = cpuBackend("a_micro_dense");
    const std::vector<int> prompt = goldenPrompt("a_micro_dense");
    auto run = [&](uint64_t seed) {
        auto ctx = newContext(*backend);
        sala::GenerationOptions o;
        o.sampling.temperature = 1.5f;
        o.sampling.seed = seed;
        o.maxTokens = 24;
        auto r = sala::generate(*ctx, prompt, o, nullptr, nullptr);
        return r.ok() ? r->tokens : std::vector<int>{};
    };
    const auto a = run(7);
    QCOMPARE(a.size(), size_t(24));
    QVERIFY(run(7) == a);
    QVERIFY(run(8) != a);
}

void TestGeneration::badOptionsAreRejected() {
    auto backend = cpuBackend("a_micro_dense");
    auto ctx = newContext(*backend);
    auto o = greedyOptions(4);
    QVERIFY(!sala::generate(*ctx, std::vector<int>{}, o, nullptr, nullptr).ok());
    o.sampling.temperature = 1;
    o.sampling.topP = 0;
    QVERIFY(!sala::generate(*ctx, std::vector<int>{1, 2}, o, nullptr, nullptr).ok());
    o = greedyOptions(4);
    o.prefillChunk = 0;
    QVERIFY(!sala::generate(*ctx, std::vector<int>{1, 2}, o, nullptr, nullptr).ok());
    QCOMPARE(ctx->position(), int64_t(0));
}

namespace {

// Logits of one more token after `tokens`, each fed as the decoder feeds it: the first
// `promptSize` in one call, then one per call.
std::vector<float> logitsAfter(sala::Backend& backend, const std::vector<int>& tokens,
                               size_t promptSize, int probe) {
    auto ctx = newContext(backend);
    sala::ForwardOutput out;
    if (!ctx->forward(std::span<const int>(tokens.data(), promptSize), {}, out).ok()) return {};
    for (size_t i = promptSize; i < tokens.size(); ++i)
        if (!ctx->forward(std::span<const int>(&tokens[i], 1), {}, out).ok()) return {};
    if (!ctx->forward(std::span<const int>(&probe, 1), {}, out).ok()) return {};
    return out.logits;
}

sala::SamplingParams greedySampling() {
    sala::SamplingParams p;
    p.temperature = 0;
    return p;
}

// A greedy decode run one step in: the context took the prompt and drew `first` from it, and the
// run's decoder went on from `first` to `second` (-1 where that failed). Held by pointer: the
// decoder refers to the sampler and the context.
struct DecodeRun {
    sala::Sampler sampler{greedySampling()};
    std::unique_ptr<sala::Context> ctx;
    std::unique_ptr<sala::Decoder> decoder;
    int first = -1, second = -1;
};

std::unique_ptr<DecodeRun> startedRun(sala::Backend& backend, const std::vector<int>& prompt) {
    auto run = std::make_unique<DecodeRun>();
    run->ctx = newContext(backend);
    auto first = run->ctx->forwardSample(prompt, run->sampler);
    if (!first) return run;
    run->first = *first;
    run->decoder = run->ctx->decoder(run->sampler);
    auto second = run->decoder->next(run->first);
    if (second) run->second = *second;
    return run;
}

} // namespace

void TestGeneration::decoderEndsWithOrWithoutItsLastToken() {
    auto backend = cpuBackend("a_micro_dense");
    const std::vector<int> prompt = goldenPrompt("a_micro_dense");
    for (const bool keep : {true, false}) {
        const auto run = startedRun(*backend, prompt);
        QVERIFY(run->first >= 0 && run->second >= 0);
        auto third = run->decoder->next(run->second);
        QVERIFY(third.ok());
        QVERIFY(run->decoder->finish(*third, keep).ok());
        std::vector<int> want = prompt;
        want.insert(want.end(), {run->first, run->second});
        if (keep) want.push_back(*third);
        QVERIFY(run->ctx->tokens() == want);
        // The state matches the tokens: one more token gives the logits of a context that was
        // fed exactly those.
        const int probe = prompt.front();
        sala::ForwardOutput out;
        QVERIFY(run->ctx->forward(std::span<const int>(&probe, 1), {}, out).ok());
        const std::vector<float> expected = logitsAfter(*backend, want, prompt.size(), probe);
        QVERIFY(!expected.empty());
        QVERIFY(out.logits == expected);
    }
}

void TestGeneration::decoderGoesOnOnlyFromItsDraw() {
    auto backend = cpuBackend("a_micro_dense");
    const std::vector<int> prompt = goldenPrompt("a_micro_dense");
    const int vocab = backend->model().config.vocabSize;
    const auto run = startedRun(*backend, prompt);
    QVERIFY(run->first >= 0 && run->second >= 0);
    sala::Context* ctx = run->ctx.get();
    sala::Decoder* decoder = run->decoder.get();
    const int drawn = run->second;
    const int64_t at = ctx->position();
    const int other = (drawn + 1) % vocab;
    auto refused = decoder->next(other);
    QVERIFY(!refused.ok());
    QCOMPARE(refused.error().code, sala::ErrorCode::InvalidArgument);
    QVERIFY(!decoder->finish(other, true).ok());
    QCOMPARE(ctx->position(), at);
    QVERIFY(decoder->finish(drawn, false).ok());
    QCOMPARE(ctx->position(), at);
    QVERIFY(!decoder->next(drawn).ok()); // the run has ended
    QVERIFY(!decoder->finish(drawn, true).ok());
    QCOMPARE(ctx->position(), at);
}

QTEST_GUILESS_MAIN(TestGeneration)
#include "test_generation.moc"
