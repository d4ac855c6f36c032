// Appending keys/values to the cache layout, and the device random fill, against the host.

#include "gpu_test_util.h"

#include "kv_cache.cuh"
#include "random_fill.cuh"

using gputest::DeviceBuffer;

class TestCacheKernels : public QObject {
    Q_OBJECT
private slots:
    void appendKvPlacesEveryHeadRow();
    void fillMatchesHostFormula();
};

namespace {

// Every element of a [kvHeads][capacity][dim] cache: the source row's section (at `offset` in
// the row) where a token was appended, still poisoned elsewhere.
void checkCache(const std::vector<__nv_bfloat16>& got, const std::vector<__nv_bfloat16>& src,
                int kvHeads, int dim, int tokens, int start, int64_t capacity, int64_t stride,
                int64_t offset) {
    for (int g = 0; g < kvHeads; ++g)
        for (int64_t p = 0; p < capacity; ++p)
            for (int e = 0; e < dim; ++e) {
                const uint16_t bits =
                    reinterpret_cast<const uint16_t&>(got[(g * capacity + p) * dim + e]);
                const int64_t t = p - start;
                if (t < 0 || t >= tokens) {
                    QCOMPARE(bits, uint16_t(0xFFFF)); // untouched
                } else {
                    const uint16_t want =
                        reinterpret_cast<const uint16_t&>(src[t * stride + offset + g * dim + e]);
                    QCOMPARE(bits, want);
                }
            }
}

} // namespace

// One section (the values) alone, then keys and values in one launch.
void TestCacheKernels::appendKvPlacesEveryHeadRow() {
    GPU_OR_SKIP();
    auto rng = gputest::freshRng();
    struct Shape {
        int kvHeads, dim, tokens, start, extra;
    };
    for (Shape s : {Shape{2, 128, 300, 1000, 0}, Shape{2, 16, 37, 5, 3}, Shape{1, 128, 1, 77, 0},
                    Shape{3, 10, 9, 2, 1}}) {
        const int64_t stride = int64_t(s.kvHeads) * s.dim * 2 + s.extra; // k and v side by side
        const int64_t capacity = s.start + s.tokens + 17;
        const auto src = gputest::toBf16(gputest::randomFloats(size_t(s.tokens) * stride, rng));
        const size_t cacheSize = size_t(s.kvHeads) * capacity * s.dim;
        DeviceBuffer<__nv_bfloat16> dsrc, dst(cacheSize), keys(cacheSize), values(cacheSize);
        dsrc.upload(src);
        dst.poison();
        keys.poison();
        values.poison();
        const int64_t vOffset = int64_t(s.kvHeads) * s.dim;
        CUDA_CHECK(folio::kernels::launchAppendKv(dsrc.get() + vOffset, stride, s.tokens, s.kvHeads,
                                                  s.dim, dst.get(), capacity * s.dim, s.start,
                                                  nullptr));
        CUDA_CHECK(folio::kernels::launchAppendKeysValues(
            dsrc.get(), dsrc.get() + vOffset, stride, s.tokens, s.kvHeads, s.dim, keys.get(),
            values.get(), capacity * s.dim, s.start, nullptr));
        CUDA_CHECK(cudaDeviceSynchronize());
        checkCache(dst.download(), src, s.kvHeads, s.dim, s.tokens, s.start, capacity, stride,
                   vOffset);
        checkCache(keys.download(), src, s.kvHeads, s.dim, s.tokens, s.start, capacity, stride, 0);
        checkCache(values.download(), src, s.kvHeads, s.dim, s.tokens, s.start, capacity, stride,
                   vOffset);
        if (QTest::currentTestFailed()) return;
    }
}

void TestCacheKernels::fillMatchesHostFormula() {
    GPU_OR_SKIP();
    const int64_t n = 1000003;
    DeviceBuffer<__nv_bfloat16> buf(n);
    buf.poison();
    CUDA_CHECK(folio::kernels::launchFillUniformBf16(buf.get(), n, 42, 0.5f, 1.0f, nullptr));
    const auto got = gputest::fromBf16(buf.download());
    double mean = 0;
    for (int64_t i = 0; i < n; ++i) {
        const float want =
            __bfloat162float(__float2bfloat16(1.0f + 0.5f * folio::kernels::uniformAt(42, i)));
        // One bf16 step at most: the device may fuse the multiply-add before rounding.
        QVERIFY2(std::abs(got[i] - want) <= 0.008f, qPrintable(QString::number(i)));
        mean += got[i];
    }
    QVERIFY(std::abs(mean / n - 1.0) < 0.01);
}

QTEST_GUILESS_MAIN(TestCacheKernels)
#include "test_cache_kernels.moc"
