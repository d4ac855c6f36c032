// A weight's elements as bf16 (engine/weight_convert.h): every dtype against the element-wise
// conversion, over ranges that start and end anywhere, with and without threads. The output is
// poisoned first, and the elements around the range must stay poisoned.

#include "bf16.h"
#include "thread_pool.h"
#include "weight_convert.h"

#include <QtTest>

#include <cmath>
#include <cstring>
#include <random>

Q_DECLARE_METATYPE(sala::DType)

namespace {

constexpr uint16_t kPoison = 0xFFFF;

// Random values of the dtype, kept in their raw bits.
std::vector<uint8_t> randomData(sala::DType dtype, size_t n, std::mt19937& rng) {
    std::normal_distribution<float> dist(0.0f, 3.0f);
    const size_t size = dtype == sala::DType::F32 ? 4 : 2;
    std::vector<uint8_t> bytes(n * size);
    for (size_t i = 0; i < n; ++i) {
        const float v = dist(rng);
        if (dtype == sala::DType::F32) {
            std::memcpy(&bytes[i * 4], &v, 4);
        } else {
            // bf16 bits, or f16 bits of a value f16 holds (the normal distribution stays far
            // inside its range): sign, 5-bit exponent, 10-bit fraction.
            uint16_t bits = sala::floatToBf16(v);
            if (dtype == sala::DType::F16) {
                const float a = std::fabs(v);
                int e = 0;
                const float m = std::frexp(a, &e); // a = m * 2^e, m in [0.5, 1)
                const int exponent = std::max(e - 1 + 15, 1);
                const auto fraction = uint16_t(std::ldexp(m * 2.0f - 1.0f, 10)) & 0x3ff;
                bits = uint16_t((v < 0 ? 0x8000 : 0) | (exponent << 10) | fraction);
            }
            std::memcpy(&bytes[i * 2], &bits, 2);
        }
    }
    return bytes;
}

uint16_t expected(sala::DType dtype, const std::vector<uint8_t>& bytes, size_t i) {
    if (dtype == sala::DType::F32) {
        float v;
        std::memcpy(&v, &bytes[i * 4], 4);
        return sala::floatToBf16(v);
    }
    uint16_t bits;
    std::memcpy(&bits, &bytes[i * 2], 2);
    return dtype == sala::DType::F16 ? sala::floatToBf16(sala::f16ToFloat(bits)) : bits;
}

} // namespace

class TestWeightConvert : public QObject {
    Q_OBJECT
private slots:
    void matchesElementwise_data();
    void matchesElementwise();
};

void TestWeightConvert::matchesElementwise_data() {
    QTest::addColumn<sala::DType>("dtype");
    QTest::addColumn<int>("threads");
    // Large enough for the threads to share it (1 Mi elements and more), and small.
    QTest::addColumn<int>("first");
    QTest::addColumn<int>("count");
    for (sala::DType d : {sala::DType::BF16, sala::DType::F16, sala::DType::F32}) {
        const char* name = d == sala::DType::BF16 ? "bf16" : d == sala::DType::F16 ? "f16" : "f32";
        QTest::addRow("%s, 4 threads", name) << d << 4 << 12345 << 3000017;
        QTest::addRow("%s, 3 threads, from 0", name) << d << 3 << 0 << (1 << 20);
        QTest::addRow("%s, serial", name) << d << 1 << 7 << 1000;
        QTest::addRow("%s, 4 threads, a small range", name) << d << 4 << 99 << 5;
    }
}

void TestWeightConvert::matchesElementwise() {
    QFETCH(sala::DType, dtype);
    QFETCH(int, threads);
    QFETCH(int, first);
    QFETCH(int, count);
    std::mt19937 rng(uint32_t(first) * 31u + uint32_t(count) + uint32_t(threads));
    const size_t n = size_t(first) + size_t(count) + 100;
    const std::vector<uint8_t> data = randomData(dtype, n, rng);
    const sala::Weight w{dtype, data.data(), 1, int64_t(n)};
    // Two poisoned elements on either side of the range.
    std::vector<uint16_t> out(size_t(count) + 4, kPoison);
    sala::ThreadPool pool(threads);
    sala::weightToBf16(w, uint64_t(first), uint64_t(count), out.data() + 2, &pool);
    QCOMPARE(out[0], kPoison);
    QCOMPARE(out[1], kPoison);
    QCOMPARE(out[out.size() - 2], kPoison);
    QCOMPARE(out[out.size() - 1], kPoison);
    for (int i = 0; i < count; ++i)
        if (out[size_t(i) + 2] != expected(dtype, data, size_t(first) + size_t(i)))
            QFAIL(qPrintable(QStringLiteral("element %1 differs").arg(i)));
}

QTEST_GUILESS_MAIN(TestWeightConvert)
#include "test_weight_convert.moc"
