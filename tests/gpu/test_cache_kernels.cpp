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
        DeviceBuffer<__nv_bfloat16> dsrc, dst(size_t(s.kvHeads) * capacity * s.dim);
        dsrc.upload(src);
        dst.poison();
        const int64_t vOffset = int64_t(s.kvHeads) * s.dim;
        CUDA_CHECK(folio::kernels::launchAppendKv(dsrc.get() + vOffset, stride, s.tokens, s.kvHeads,
                                                  s.dim, dst.get(), capacity * s.dim, s.start,
                                                  nullptr));
        CUDA_CHECK(cudaDeviceSynchronize());
        const auto got = dst.download();
        for (int g = 0; g < s.kvHeads; ++g)
            for (int64_t p = 0; p < capacity; ++p)
                for (int e = 0; e < s.dim; ++e) {
                    const uint16_t bits =
                        reinterpret_cast<const uint16_t&>(got[(g * capacity + p) * s.dim + e]);
                    const int64_t t = p - s.start;
                    if (t < 0 || t >= s.tokens) {
                        QCOMPARE(bits, uint16_t(0xFFFF)); // untouched
                    } else {
                        const uint16_t want = reinterpret_cast<const uint16_t&>(
                            src[t * stride + vOffset + g * s.dim + e]);
                        QCOMPARE(bits, want);
                    }
                }
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
