// The memory plan: sizes parsed from the command line, bytes per token, tokens that fit.

#include "config.h"
#include "memory_plan.h"

#include <QtTest>

class TestMemoryPlan : public QObject {
    Q_OBJECT
private slots:
    void parsesSizes();
    void realModelNeedsEightKibPerToken();
    void millionTokensFitInThirtyGib();
    void tooSmallBudgetFitsNothing();
};

namespace {
sala::ModelConfig realConfig() {
    auto c = sala::loadModelConfig(FOLIO_TEST_DATA_DIR "/models/sala-9b-config.json");
    if (!c) qFatal("%s", c.error().message.c_str());
    return *c;
}
} // namespace

void TestMemoryPlan::parsesSizes() {
    QCOMPARE(*sala::parseByteSize("32G"), uint64_t(32) << 30);
    QCOMPARE(*sala::parseByteSize("32GiB"), uint64_t(32) << 30);
    QCOMPARE(*sala::parseByteSize("512m"), uint64_t(512) << 20);
    QCOMPARE(*sala::parseByteSize("1.5T"), uint64_t(1.5 * (uint64_t(1) << 40)));
    QCOMPARE(*sala::parseByteSize("1024"), uint64_t(1024));
    for (const char* bad : {"", "G", "-1G", "12Q", "lots"})
        QVERIFY2(!sala::parseByteSize(bad).ok(), bad);
}

void TestMemoryPlan::realModelNeedsEightKibPerToken() {
    const sala::ModelConfig c = realConfig();
    // 8 sparse layers x (K + V) x 2 kv heads x 128 x 2 bytes, plus 1/16 + 1/64 of K for the
    // compressed keys.
    const double kv = 8.0 * 2 * 2 * 128 * 2;
    const double compressed = 8.0 * 2 * 128 * 2 * (1.0 / 16 + 1.0 / 64);
    QCOMPARE(sala::contextBytesPerToken(c), uint64_t(std::ceil(kv + compressed)));
}

void TestMemoryPlan::millionTokensFitInThirtyGib() {
    const sala::ModelConfig c = realConfig();
    const uint64_t weights = uint64_t(17.65 * (1ull << 30));
    const sala::MemoryPlan p = sala::planMemory(c, weights, uint64_t(30) << 30);
    QVERIFY(p.maxTokens >= (int64_t(1) << 20));
    QCOMPARE(p.linearState, uint64_t(24) * 32 * 128 * 128 * 4);
    const sala::MemoryPlan half = sala::planMemory(c, weights, uint64_t(22) << 30);
    QVERIFY(half.maxTokens < p.maxTokens);
    QVERIFY(half.maxTokens > 0);
}

void TestMemoryPlan::tooSmallBudgetFitsNothing() {
    const sala::ModelConfig c = realConfig();
    QCOMPARE(sala::planMemory(c, uint64_t(18) << 30, uint64_t(16) << 30).maxTokens, int64_t(0));
}

QTEST_GUILESS_MAIN(TestMemoryPlan)
#include "test_memory_plan.moc"
