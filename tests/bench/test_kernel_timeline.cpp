// The timeline summaries of folio-bench --timeline on made-up records: names, busy and idle
// time, the gaps and their neighbours, the phase window and the table.

#include "kernel_timeline.h"

#include <QtTest>

using folio::bench::formatTimeline;
using folio::bench::shortKernelName;
using folio::bench::summarizeTimeline;
using folio::bench::TimelineRecord;

class TestKernelTimeline : public QObject {
    Q_OBJECT
private slots:
    void shortNames();
    void busyIdleAndEntries();
    void marginalCountsOnlyWhatExtendsTheChain();
    void gapsNameTheirNeighbours();
    void windowKeepsRecordsStartingInside();
    void emptyWindow();
    void tablePerPass();
    void passesSplitInStartOrder();
};

void TestKernelTimeline::shortNames() {
    // A template in an anonymous namespace, mangled and demangled.
    const std::string mangled =
        "_ZN5folio7kernels12_GLOBAL__N_119sparsePrefillKernelILi128ELi4ELi3EEEvNS1_11PrefillArgsE";
    QCOMPARE(shortKernelName(mangled), std::string("sparsePrefillKernel"));
    QCOMPARE(shortKernelName("void folio::kernels::rmsNormKernel<4>(float const*, float*, int)"),
             std::string("rmsNormKernel"));
    QCOMPARE(shortKernelName("_Z13siluMulKernelPKfPfi"), std::string("siluMulKernel"));
    // Not C++ symbols: kept whole.
    QCOMPARE(shortKernelName("nvjet_sm90_tst_192x192_64x4_1x1_h_bz_coo"),
             std::string("nvjet_sm90_tst_192x192_64x4_1x1_h_bz_coo"));
    QCOMPARE(shortKernelName("[memcpy]"), std::string("[memcpy]"));
}

void TestKernelTimeline::busyIdleAndEntries() {
    // a: 0-10 and 30-40, b: 5-20 (overlaps a), c: 50-55. Busy: 0-20, 30-40, 50-55 = 35.
    const std::vector<TimelineRecord> recs = {
        {"b", 5, 20}, {"a", 0, 10}, {"a", 30, 40}, {"c", 50, 55}};
    const auto s = summarizeTimeline(recs, 0, 100);
    QCOMPARE(s.records, int64_t(4));
    QCOMPARE(s.span, uint64_t(55));
    QCOMPARE(s.busy, uint64_t(35));
    QCOMPARE(int(s.entries.size()), 3);
    QCOMPARE(s.entries[0].name, std::string("a"));
    QCOMPARE(s.entries[0].count, int64_t(2));
    QCOMPARE(s.entries[0].nanoseconds, uint64_t(20));
    QCOMPARE(s.entries[1].name, std::string("b"));
    QCOMPARE(s.entries[1].nanoseconds, uint64_t(15));
    QCOMPARE(s.entries[2].name, std::string("c"));
    // b ends 10 after a's first end; a's second run and c follow idle time.
    QCOMPARE(s.entries[0].marginal, uint64_t(10 + 10));
    QCOMPARE(s.entries[1].marginal, uint64_t(10));
    QCOMPARE(s.entries[2].marginal, uint64_t(5));
}

void TestKernelTimeline::marginalCountsOnlyWhatExtendsTheChain() {
    // Dependents launched early: p starts at 3 but ends 4 after o; q runs inside p entirely.
    const std::vector<TimelineRecord> recs = {
        {"o", 0, 10}, {"p", 3, 14}, {"q", 5, 12}, {"o", 13, 30}};
    const auto s = summarizeTimeline(recs, 0, 100);
    uint64_t sum = 0;
    for (const auto& e : s.entries) {
        sum += e.marginal;
        if (e.name == "o") QCOMPARE(e.marginal, uint64_t(10 + 16));
        if (e.name == "p") QCOMPARE(e.marginal, uint64_t(4));
        if (e.name == "q") QCOMPARE(e.marginal, uint64_t(0));
    }
    QCOMPARE(sum, s.span);
}

void TestKernelTimeline::gapsNameTheirNeighbours() {
    // x 0-10, y 2-30 (ends last), gap 30-35, x 35-40, gap 40-60, z 60-61, gap 61-71, x 71-72.
    const std::vector<TimelineRecord> recs = {
        {"x", 0, 10}, {"y", 2, 30}, {"x", 35, 40}, {"z", 60, 61}, {"x", 71, 72}};
    const auto s = summarizeTimeline(recs, 0, 1000);
    QCOMPARE(s.span - s.busy, uint64_t(5 + 20 + 10));
    QCOMPARE(int(s.gaps.size()), 3);
    QCOMPARE(s.gaps[0].before, std::string("x"));
    QCOMPARE(s.gaps[0].after, std::string("z"));
    QCOMPARE(s.gaps[0].nanoseconds, uint64_t(20));
    QCOMPARE(s.gaps[1].before, std::string("z"));
    QCOMPARE(s.gaps[1].after, std::string("x"));
    QCOMPARE(s.gaps[2].before, std::string("y")); // not x, which ended before y
    QCOMPARE(s.gaps[2].after, std::string("x"));
    QCOMPARE(s.gaps[2].nanoseconds, uint64_t(5));
}

void TestKernelTimeline::windowKeepsRecordsStartingInside() {
    const std::vector<TimelineRecord> recs = {
        {"before", 0, 15}, {"in", 10, 20}, {"in", 25, 200}, {"after", 100, 110}};
    const auto s = summarizeTimeline(recs, 10, 100);
    QCOMPARE(s.records, int64_t(2));
    QCOMPARE(int(s.entries.size()), 1);
    QCOMPARE(s.entries[0].name, std::string("in"));
    QCOMPARE(s.span, uint64_t(190)); // a record that starts inside counts whole
    QCOMPARE(s.busy, uint64_t(10 + 175));
}

void TestKernelTimeline::emptyWindow() {
    const std::vector<TimelineRecord> recs = {{"a", 0, 10}};
    const auto s = summarizeTimeline(recs, 20, 30);
    QCOMPARE(s.records, int64_t(0));
    QCOMPARE(s.span, uint64_t(0));
    QVERIFY(s.entries.empty() && s.gaps.empty());
    QVERIFY(!formatTimeline(s, "nothing", 1, 5).empty());
}

void TestKernelTimeline::tablePerPass() {
    // Two passes of 4 ms kernel "k" and 1 ms "m", 1 ms idle between passes.
    const std::vector<TimelineRecord> recs = {{"k", 0, 4'000'000},
                                              {"m", 4'000'000, 5'000'000},
                                              {"k", 6'000'000, 10'000'000},
                                              {"m", 10'000'000, 11'000'000}};
    const auto s = summarizeTimeline(recs, 0, 20'000'000);
    const QString table = QString::fromStdString(formatTimeline(s, "prefill", 2, 5));
    QVERIFY2(table.contains("prefill: 4 records, span 5.500 ms per pass, GPU busy 5.000, idle "
                            "0.500"),
             qPrintable(table));
    QVERIFY(table.contains("| k | 2 | 4.000 | 4.000 | 80.0 % |"));
    QVERIFY(table.contains("| m | 2 | 1.000 | 1.000 | 20.0 % |"));
    QVERIFY(table.indexOf("| k |") < table.indexOf("| m |"));
    QVERIFY(table.contains("| m | k | 1 | 0.500 |"));
}

void TestKernelTimeline::passesSplitInStartOrder() {
    // Three passes; "a" runs twice per pass and grows, "b" runs 4 times (no multiple of 3).
    // Given out of order: the split follows the start times.
    const std::vector<TimelineRecord> recs = {
        {"a", 50'000'000, 53'000'000}, {"a", 0, 1'000'000},           {"b", 1'000'000, 1'500'000},
        {"a", 2'000'000, 3'000'000},   {"a", 20'000'000, 22'000'000}, {"b", 30'000'000, 30'100'000},
        {"a", 23'000'000, 25'000'000}, {"a", 40'000'000, 43'000'000}, {"b", 60'000'000, 60'100'000},
        {"b", 61'000'000, 61'100'000}};
    const auto s = summarizeTimeline(recs, 0, 100'000'000, 3);
    QCOMPARE(s.entries[0].name, std::string("a"));
    QCOMPARE(s.entries[0].perPass, (std::vector<uint64_t>{2'000'000, 4'000'000, 6'000'000}));
    QVERIFY(s.entries[1].perPass.empty());
    const QString table = QString::fromStdString(formatTimeline(s, "prefill", 3, 5));
    QVERIFY2(table.contains("| kernel | pass 1 | pass 2 | pass 3 |"), qPrintable(table));
    QVERIFY(table.contains("| a | 2.000 | 4.000 | 6.000 |"));
    QVERIFY(!table.contains("| b | 0."));
    // One pass: nothing to split, no second table.
    const auto one = summarizeTimeline(recs, 0, 100'000'000);
    QVERIFY(one.entries[0].perPass.empty());
    QVERIFY(!QString::fromStdString(formatTimeline(one, "decode", 1, 5)).contains("pass 1"));
}

QTEST_GUILESS_MAIN(TestKernelTimeline)
#include "test_kernel_timeline.moc"
