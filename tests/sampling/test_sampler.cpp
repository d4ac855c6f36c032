// Behaviour of sala::Sampler: greedy choice, seeding, the distribution it draws from, each
// truncation rule, the repetition penalty and its handling of bad input.

#include "sampling_test_util.h"

#include <QElapsedTimer>
#include <QtTest>

using namespace sampling_test;

class TestSampler : public QObject {
    Q_OBJECT

private slots:
    void greedyPicksArgmax();
    void greedyTiesGoToLowestId();
    void sameSeedSameSequence();
    void differentSeedDiffers();
    void reseedRestartsSequence();
    void frequenciesMatchSoftmax_data();
    void frequenciesMatchSoftmax();
    void tinyTemperatureDoesNotOverflow();
    void topKNeverLeavesTheKBest();
    void topKRenormalises();
    void topKTiesKeepLowerIds();
    void topPKeepsExactlyTheNucleus_data();
    void topPKeepsExactlyTheNucleus();
    void topPCutsAmongNearEqualTokens();
    void topPIsMeasuredAfterTopK();
    void minPThreshold();
    void minPAppliesAfterTemperature();
    void minPComesAfterTopP();
    void repetitionPenaltyLowersPositiveLogit();
    void repetitionPenaltyLowersNegativeLogit();
    void repetitionPenaltyOncePerDistinctToken();
    void repetitionPenaltyWindow();
    void repetitionPenaltyInSampling();
    void nanIsMinusInfinity();
    void nothingFiniteIsAnError();
    void plusInfinityDominates();
    void badInputIsAnError();
    void validateRejectsBadParams_data();
    void validateRejectsBadParams();
    void validateAcceptsGoodParams();
    void fullVocabulary();
};

void TestSampler::greedyPicksArgmax() {
    for (uint32_t seed = 1; seed <= 5; ++seed) {
        const auto logits = randomLogits(1000, seed);
        const int expected =
            static_cast<int>(std::max_element(logits.begin(), logits.end()) - logits.begin());
        Sampler sampler(greedyParams());
        auto r = sampler.sample(logits, {});
        QVERIFY2(r.ok(), r.ok() ? "" : r.error().message.c_str());
        QCOMPARE(*r, expected);
    }
    // A negative temperature is greedy too.
    Sampler negative(sampling(-1.0f));
    QCOMPARE(*negative.sample(std::vector<float>{0.5f, 2.0f, 1.0f}, {}), 1);
}

void TestSampler::greedyTiesGoToLowestId() {
    Sampler sampler(greedyParams());
    QCOMPARE(*sampler.sample(std::vector<float>{1.0f, 3.0f, 2.0f, 3.0f, 3.0f}, {}), 1);
    QCOMPARE(*sampler.sample(std::vector<float>{-2.0f, -2.0f}, {}), 0);
}

void TestSampler::sameSeedSameSequence() {
    const auto logits = randomLogits(500, 7, 1.0f);
    SamplingParams p = sampling(1.0f, 1234);
    p.topK = 100;
    p.topP = 0.95f;
    Sampler a(p), b(p);
    for (int i = 0; i < 300; ++i) {
        auto x = a.sample(logits, {});
        auto y = b.sample(logits, {});
        QVERIFY(x.ok() && y.ok());
        QCOMPARE(*x, *y);
    }
}

void TestSampler::differentSeedDiffers() {
    const auto logits = randomLogits(500, 7, 1.0f);
    Sampler a(sampling(1.0f, 1)), b(sampling(1.0f, 2));
    int differences = 0;
    for (int i = 0; i < 100; ++i) differences += *a.sample(logits, {}) != *b.sample(logits, {});
    QVERIFY2(differences > 50, qPrintable(QString("only %1 of 100 draws differ").arg(differences)));
}

void TestSampler::reseedRestartsSequence() {
    const auto logits = randomLogits(200, 3, 1.0f);
    Sampler sampler(sampling(1.0f, 99));
    std::vector<int> first;
    for (int i = 0; i < 50; ++i) first.push_back(*sampler.sample(logits, {}));
    sampler.reseed(99);
    QCOMPARE(sampler.params().seed, uint64_t(99));
    for (int i = 0; i < 50; ++i) QCOMPARE(*sampler.sample(logits, {}), first[i]);
    sampler.reseed(100);
    QCOMPARE(sampler.params().seed, uint64_t(100));
    int same = 0;
    for (int i = 0; i < 50; ++i) same += *sampler.sample(logits, {}) == first[i];
    QVERIFY(same < 50);
}

void TestSampler::frequenciesMatchSoftmax_data() {
    QTest::addColumn<float>("temperature");
    QTest::newRow("T=1") << 1.0f;
    QTest::newRow("T=0.5") << 0.5f;
    QTest::newRow("T=2") << 2.0f;
    QTest::newRow("T=0.9 default") << SamplingParams{}.temperature;
}

void TestSampler::frequenciesMatchSoftmax() {
    QFETCH(float, temperature);
    const std::vector<float> logits{1.0f, 0.5f, 0.0f, -0.5f, 2.0f, -1.0f, 1.5f, -3.0f};
    const int n = 100000;
    Sampler sampler(sampling(temperature, 42));
    verifyDistribution(drawCounts(sampler, logits, n), softmax(logits, temperature), n);
}

void TestSampler::tinyTemperatureDoesNotOverflow() {
    const std::vector<float> logits{1.0f, 1.0001f, 30.0f, 29.9999f, -5.0f};
    for (float t : {1e-6f, std::numeric_limits<float>::denorm_min()}) {
        Sampler sampler(sampling(t));
        for (int i = 0; i < 100; ++i) QCOMPARE(*sampler.sample(logits, {}), 2);
        // Tokens tied at the top stay equally likely however sharp the temperature.
        QCOMPARE(drawnSet(drawCounts(sampler, {30.0f, 1.0f, 30.0f}, 200)), (std::set<int>{0, 2}));
    }
}

void TestSampler::topKNeverLeavesTheKBest() {
    const auto logits = randomLogits(1000, 11);
    const auto order = idsByLogitDesc(logits);
    for (int k : {1, 5, 40}) {
        SamplingParams p = sampling(50.0f); // nearly flat, so every kept token shows up
        p.topK = k;
        Sampler sampler(p);
        const auto counts = drawCounts(sampler, logits, 4000);
        QVERIFY(!counts.empty());
        const std::set<int> best(order.begin(), order.begin() + k);
        QCOMPARE(drawnSet(counts), best);
    }
}

void TestSampler::topKRenormalises() {
    const std::vector<float> logits{0.2f, 1.0f, -0.4f, 0.8f, 0.5f, -1.0f};
    SamplingParams p = sampling(0.8f, 5);
    p.topK = 3;
    Sampler sampler(p);
    const int n = 60000;
    verifyDistribution(drawCounts(sampler, logits, n), softmax(logits, 0.8, {1, 3, 4}), n);
}

void TestSampler::topKTiesKeepLowerIds() {
    SamplingParams p = sampling(1.0f);
    p.topK = 2;
    Sampler sampler(p);
    const auto counts = drawCounts(sampler, {1.0f, 5.0f, 1.0f, 1.0f, 0.0f}, 2000);
    QVERIFY(!counts.empty());
    QCOMPARE(drawnSet(counts), (std::set<int>{0, 1}));
}

void TestSampler::topPKeepsExactlyTheNucleus_data() {
    QTest::addColumn<float>("topP");
    QTest::addColumn<int>("nucleusSize");
    // Probabilities in decreasing order are 0.5, 0.3, 0.15, 0.05.
    QTest::newRow("0.3") << 0.3f << 1;
    QTest::newRow("0.5 is reached by the first token alone") << 0.499f << 1;
    QTest::newRow("0.75") << 0.75f << 2;
    QTest::newRow("0.85") << 0.85f << 3;
    QTest::newRow("0.99") << 0.99f << 4;
    QTest::newRow("1 = off") << 1.0f << 4;
}

void TestSampler::topPKeepsExactlyTheNucleus() {
    QFETCH(float, topP);
    QFETCH(int, nucleusSize);
    // The ranking is scattered over the ids, with filler tokens of zero probability around it.
    const std::vector<int> rankToId{3, 0, 5, 1};
    const std::vector<double> rankProb{0.5, 0.3, 0.15, 0.05};
    std::vector<double> probs(7, 0.0);
    for (size_t r = 0; r < rankToId.size(); ++r) probs[rankToId[r]] = rankProb[r];
    const auto logits = logitsFor(probs);

    SamplingParams p = sampling(1.0f, 17);
    p.topP = topP;
    Sampler sampler(p);
    const int n = 40000;
    const auto counts = drawCounts(sampler, logits, n);
    const std::set<int> nucleus(rankToId.begin(), rankToId.begin() + nucleusSize);
    QVERIFY(!counts.empty());
    QCOMPARE(drawnSet(counts), nucleus);
    verifyDistribution(counts, softmax(logits, 1.0, nucleus), n);
}

void TestSampler::topPCutsAmongNearEqualTokens() {
    // Probabilities within a few percent of each other, ranked in a scattered id order.
    std::vector<float> logits(24);
    for (size_t i = 0; i < logits.size(); ++i) logits[(i * 7) % logits.size()] = -0.004f * i;
    for (float topP : {0.2f, 0.5f, 0.77f}) {
        SamplingParams p = sampling(1.5f, 21);
        p.topP = topP;
        Sampler sampler(p);
        const auto nucleus = nucleusOf(logits, 1.5, topP);
        QVERIFY(nucleus.size() > 1 && nucleus.size() < logits.size());
        QCOMPARE(drawnSet(drawCounts(sampler, logits, 20000)), nucleus);
    }
}

void TestSampler::topPIsMeasuredAfterTopK() {
    // After top-k = 2 the best token holds 4/7 = 0.571 of the mass, enough for top-p 0.55;
    // measured over all four tokens it would hold only 0.4 and need a second token.
    const auto logits = logitsFor({0.4, 0.3, 0.2, 0.1});
    SamplingParams p = sampling(1.0f);
    p.topP = 0.55f;
    Sampler plain(p);
    QCOMPARE(drawnSet(drawCounts(plain, logits, 2000)), (std::set<int>{0, 1}));
    p.topK = 2;
    Sampler withTopK(p);
    QCOMPARE(drawnSet(drawCounts(withTopK, logits, 2000)), (std::set<int>{0}));
}

void TestSampler::minPThreshold() {
    // Threshold 0.6 * 0.4 = 0.24 keeps 0.4 and 0.3.
    const auto logits = logitsFor({0.2, 0.4, 0.1, 0.3});
    SamplingParams p = sampling(1.0f, 3);
    p.minP = 0.6f;
    Sampler sampler(p);
    const int n = 30000;
    const auto counts = drawCounts(sampler, logits, n);
    QVERIFY(!counts.empty());
    QCOMPARE(drawnSet(counts), (std::set<int>{1, 3}));
    verifyDistribution(counts, softmax(logits, 1.0, {1, 3}), n);
}

void TestSampler::minPAppliesAfterTemperature() {
    // At T = 2 the probability ratios to the best become their square roots: 0.2/0.4 -> 0.71
    // passes 0.6, while 0.1/0.4 -> 0.5 does not.
    const auto logits = logitsFor({0.2, 0.4, 0.1, 0.3});
    SamplingParams p = sampling(2.0f);
    p.minP = 0.6f;
    Sampler sampler(p);
    QCOMPARE(drawnSet(drawCounts(sampler, logits, 5000)), (std::set<int>{0, 1, 3}));
}

void TestSampler::minPComesAfterTopP() {
    // Top-p 0.55 over the full distribution keeps {0.4, 0.3}; min-p 0.6 then keeps both. Were
    // min-p first, top-p over the renormalised {4/7, 3/7} would keep only the best.
    const auto logits = logitsFor({0.4, 0.3, 0.2, 0.1});
    SamplingParams p = sampling(1.0f);
    p.topP = 0.55f;
    p.minP = 0.6f;
    Sampler sampler(p);
    QCOMPARE(drawnSet(drawCounts(sampler, logits, 3000)), (std::set<int>{0, 1}));
}

void TestSampler::repetitionPenaltyLowersPositiveLogit() {
    const std::vector<float> logits{2.0f, 1.5f, 0.0f};
    SamplingParams p = greedyParams();
    p.repetitionPenalty = 1.5f; // 2.0 -> 1.33, below 1.5
    Sampler sampler(p);
    QCOMPARE(*sampler.sample(logits, std::vector<int>{2}), 0);
    QCOMPARE(*sampler.sample(logits, std::vector<int>{0}), 1);
    p.repetitionPenalty = 1.2f; // 2.0 -> 1.67, still the best
    Sampler milder(p);
    QCOMPARE(*milder.sample(logits, std::vector<int>{0}), 0);
}

void TestSampler::repetitionPenaltyLowersNegativeLogit() {
    // Dividing a negative logit would raise it; the penalty multiplies instead (-1 -> -1.5).
    const std::vector<float> logits{-1.0f, -1.2f, -4.0f};
    SamplingParams p = greedyParams();
    p.repetitionPenalty = 1.5f;
    Sampler sampler(p);
    QCOMPARE(*sampler.sample(logits, std::vector<int>{0}), 1);
    // A penalty below 1 favours repeats: -1.2 * 0.5 = -0.6 beats -1.
    p.repetitionPenalty = 0.5f;
    Sampler boost(p);
    QCOMPARE(*boost.sample(logits, std::vector<int>{1}), 1);
}

void TestSampler::repetitionPenaltyOncePerDistinctToken() {
    // Once: 2.0 / 1.5 = 1.33 > 1.3. Three times would give 0.59.
    const std::vector<float> logits{2.0f, 1.3f};
    SamplingParams p = greedyParams();
    p.repetitionPenalty = 1.5f;
    Sampler sampler(p);
    QCOMPARE(*sampler.sample(logits, std::vector<int>{0, 0, 0}), 0);
    // Penalties do not leak from one call into the next.
    QCOMPARE(*sampler.sample(logits, std::vector<int>{0}), 0);
    QCOMPARE(*sampler.sample(logits, std::vector<int>{0, 1, 0}), 0);
}

void TestSampler::repetitionPenaltyWindow() {
    const std::vector<float> logits{2.0f, 1.5f, 0.0f, 0.0f};
    const std::vector<int> history{0, 2, 3};
    SamplingParams p = greedyParams();
    p.repetitionPenalty = 2.0f;
    p.repetitionWindow = 2; // token 0 has left the window
    Sampler windowed(p);
    QCOMPARE(*windowed.sample(logits, history), 0);
    p.repetitionWindow = 3;
    Sampler covering(p);
    QCOMPARE(*covering.sample(logits, history), 1);
    p.repetitionWindow = 0; // the whole history
    Sampler all(p);
    QCOMPARE(*all.sample(logits, history), 1);
}

void TestSampler::repetitionPenaltyInSampling() {
    // The penalised logits feed the distribution: token 0 drops from 2.0 to 1.0.
    const std::vector<float> logits{2.0f, 1.0f, 0.0f};
    SamplingParams p = sampling(1.0f, 8);
    p.repetitionPenalty = 2.0f;
    Sampler sampler(p);
    const int n = 40000;
    verifyDistribution(drawCounts(sampler, logits, n, {0, 0}), softmax({1.0f, 1.0f, 0.0f}, 1.0), n);
}

void TestSampler::nanIsMinusInfinity() {
    const std::vector<float> logits{0.5f, kNaN, 0.7f, kNaN, -kInf};
    Sampler greedy(greedyParams());
    QCOMPARE(*greedy.sample(logits, {}), 2);
    Sampler sampler(sampling(1.0f));
    const auto counts = drawCounts(sampler, logits, 3000);
    QVERIFY(!counts.empty());
    QCOMPARE(drawnSet(counts), (std::set<int>{0, 2}));
    Sampler single(sampling(1.0f));
    for (int i = 0; i < 20; ++i) QCOMPARE(*single.sample(std::vector<float>{kNaN, 3.0f}, {}), 1);
}

void TestSampler::nothingFiniteIsAnError() {
    const std::vector<std::vector<float>> rows{{kNaN, kNaN}, {-kInf, -kInf, -kInf}, {kNaN, -kInf}};
    for (const auto& row : rows) {
        for (const auto& p : {greedyParams(), sampling(1.0f)}) {
            Sampler sampler(p);
            auto r = sampler.sample(row, {});
            QVERIFY(!r.ok());
            QCOMPARE(r.error().code, sala::ErrorCode::InvalidArgument);
            QVERIFY(r.error().message.find("-inf") != std::string::npos);
        }
    }
}

void TestSampler::plusInfinityDominates() {
    const std::vector<float> logits{100.0f, kInf, 3.0f, kInf, kNaN};
    Sampler greedy(greedyParams());
    QCOMPARE(*greedy.sample(logits, {}), 1);
    Sampler sampler(sampling(1.0f, 4));
    const int n = 20000;
    verifyDistribution(drawCounts(sampler, logits, n), {0.0, 0.5, 0.0, 0.5, 0.0}, n);
}

void TestSampler::badInputIsAnError() {
    Sampler sampler(sampling(1.0f));
    auto empty = sampler.sample(std::span<const float>{}, {});
    QVERIFY(!empty.ok());
    QVERIFY(empty.error().message.find("empty") != std::string::npos);

    SamplingParams p = sampling(1.0f);
    p.repetitionPenalty = 1.3f;
    Sampler penalised(p);
    const std::vector<float> logits{1.0f, 2.0f, 3.0f};
    for (int bad : {3, -1, 1000}) {
        auto r = penalised.sample(logits, std::vector<int>{0, bad});
        QVERIFY(!r.ok());
        QCOMPARE(r.error().code, sala::ErrorCode::InvalidArgument);
        QVERIFY(r.error().message.find(std::to_string(bad)) != std::string::npos);
    }
    // The sampler stays usable after an error.
    QVERIFY(penalised.sample(logits, std::vector<int>{0, 2}).ok());
}

void TestSampler::validateRejectsBadParams_data() {
    QTest::addColumn<int>("which");
    QTest::addColumn<float>("value");
    QTest::addColumn<QString>("field");
    // which: 0 temperature, 1 topK, 2 topP, 3 minP, 4 penalty, 5 window
    QTest::newRow("temperature NaN") << 0 << kNaN << "temperature";
    QTest::newRow("temperature inf") << 0 << kInf << "temperature";
    QTest::newRow("topK -1") << 1 << -1.0f << "topK";
    QTest::newRow("topP 0") << 2 << 0.0f << "topP";
    QTest::newRow("topP -0.5") << 2 << -0.5f << "topP";
    QTest::newRow("topP 1.01") << 2 << 1.01f << "topP";
    QTest::newRow("topP NaN") << 2 << kNaN << "topP";
    QTest::newRow("minP -0.1") << 3 << -0.1f << "minP";
    QTest::newRow("minP 1") << 3 << 1.0f << "minP";
    QTest::newRow("minP NaN") << 3 << kNaN << "minP";
    QTest::newRow("penalty 0") << 4 << 0.0f << "repetitionPenalty";
    QTest::newRow("penalty -1") << 4 << -1.0f << "repetitionPenalty";
    QTest::newRow("penalty inf") << 4 << kInf << "repetitionPenalty";
    QTest::newRow("penalty NaN") << 4 << kNaN << "repetitionPenalty";
    QTest::newRow("window -1") << 5 << -1.0f << "repetitionWindow";
}

void TestSampler::validateRejectsBadParams() {
    QFETCH(int, which);
    QFETCH(float, value);
    QFETCH(QString, field);
    SamplingParams p;
    switch (which) {
    case 0:
        p.temperature = value;
        break;
    case 1:
        p.topK = static_cast<int>(value);
        break;
    case 2:
        p.topP = value;
        break;
    case 3:
        p.minP = value;
        break;
    case 4:
        p.repetitionPenalty = value;
        break;
    default:
        p.repetitionWindow = static_cast<int>(value);
        break;
    }
    const sala::Status s = sala::validate(p);
    QVERIFY(!s.ok());
    QCOMPARE(s.error().code, sala::ErrorCode::InvalidArgument);
    QVERIFY2(s.error().message.find(field.toStdString()) != std::string::npos,
             s.error().message.c_str());
    // A sampler built with them refuses to sample rather than misbehave.
    Sampler sampler(p);
    auto r = sampler.sample(std::vector<float>{1.0f, 2.0f}, {});
    QVERIFY(!r.ok());
    QCOMPARE(r.error().message, s.error().message);
}

void TestSampler::validateAcceptsGoodParams() {
    QVERIFY(sala::validate(SamplingParams{}).ok());
    SamplingParams p;
    p.temperature = -1.0f;
    p.topK = 1;
    p.topP = 1.0f;
    p.minP = 0.0f;
    p.repetitionPenalty = 0.5f;
    p.repetitionWindow = 0;
    QVERIFY(sala::validate(p).ok());
    p.temperature = 0.0f;
    p.topP = 1e-6f;
    p.minP = 0.999f;
    QVERIFY(sala::validate(p).ok());
}

void TestSampler::fullVocabulary() {
    const auto logits = randomLogits(kVocab, 2024);
    const auto order = idsByLogitDesc(logits);
    std::vector<int> history(4096);
    for (size_t i = 0; i < history.size(); ++i) history[i] = static_cast<int>((i * 7919) % kVocab);

    const std::set<int> nucleus = nucleusOf(logits, 1.0, 0.9);
    SamplingParams topP = sampling(1.0f, 31);
    topP.topP = 0.9f;
    SamplingParams topK = sampling(1.0f, 32);
    topK.topK = 40;
    SamplingParams mixed = sampling(0.7f, 33);
    mixed.topK = 64;
    mixed.topP = 0.95f;
    mixed.minP = 0.05f;
    mixed.repetitionPenalty = 1.1f;

    const std::set<int> best40(order.begin(), order.begin() + 40);
    const std::set<int> best64(order.begin(), order.begin() + 64);
    struct Case {
        const char* name;
        SamplingParams params;
        const std::set<int>* allowed;
    };
    for (const Case& c : {Case{"top-p 0.9", topP, &nucleus}, Case{"top-k 40", topK, &best40},
                          Case{"top-k 64, top-p, min-p, penalty", mixed, &best64}}) {
        Sampler sampler(c.params);
        QElapsedTimer timer;
        timer.start();
        const int calls = 100;
        for (int i = 0; i < calls; ++i) {
            auto r = sampler.sample(logits, history);
            QVERIFY(r.ok());
            QVERIFY(c.allowed->count(*r));
        }
        qInfo("%d-token vocabulary, %s: %.3f ms per call", kVocab, c.name,
              timer.nsecsElapsed() / 1e6 / calls);
    }
}

QTEST_GUILESS_MAIN(TestSampler)
#include "test_sampler.moc"
