#include "device_ceilings.h"

#include "device_buffer.h"
#include "gemm.h"
#include "random_fill.cuh"

#include <algorithm>
#include <vector>

namespace sala::cuda {
namespace {

// Median time in milliseconds of `reps` runs of `body`, after two warm-up runs.
template <typename F> Result<double> medianMs(cudaStream_t stream, int reps, F&& body) {
    cudaEvent_t a, b;
    SALA_CUDA(cudaEventCreate(&a));
    SALA_CUDA(cudaEventCreate(&b));
    std::vector<double> times;
    Status failure;
    for (int i = 0; i < reps + 2 && failure.ok(); ++i) {
        cudaEventRecord(a, stream);
        failure = body(i);
        cudaEventRecord(b, stream);
        cudaEventSynchronize(b);
        float ms = 0;
        cudaEventElapsedTime(&ms, a, b);
        if (i >= 2) times.push_back(ms);
    }
    cudaEventDestroy(a);
    cudaEventDestroy(b);
    if (!failure.ok()) return failure.error();
    std::sort(times.begin(), times.end());
    return times[times.size() / 2];
}

} // namespace

Result<DeviceCeilings> measureCeilings() {
    DeviceCeilings c;
    int device = 0;
    SALA_CUDA(cudaGetDevice(&device));
    cudaDeviceProp prop{};
    SALA_CUDA(cudaGetDeviceProperties(&prop, device));
    c.device = prop.name;
    c.totalMemoryGiB = prop.totalGlobalMem / (1024.0 * 1024 * 1024);
    cudaStream_t stream;
    SALA_CUDA(cudaStreamCreate(&stream));

    const int64_t n = 8192;
    // Two operand sets, alternated, so repeated runs do not measure the cache.
    DeviceBuffer x[2], w[2], y;
    for (int i = 0; i < 2; ++i) {
        SALA_TRY(x[i].allocate(n * n * 2));
        SALA_TRY(w[i].allocate(n * n * 2));
        SALA_CUDA(folio::kernels::launchFillUniformBf16(x[i].as<__nv_bfloat16>(), n * n, 11 + i,
                                                        1.0f, 0.0f, stream));
        SALA_CUDA(folio::kernels::launchFillUniformBf16(w[i].as<__nv_bfloat16>(), n * n, 21 + i,
                                                        1.0f, 0.0f, stream));
    }
    SALA_TRY(y.allocate(n * n * 2));
    Gemm gemm;
    SALA_TRY(gemm.init());
    auto gemmMs = medianMs(stream, 10, [&](int i) {
        return gemm.run(stream, n, n, n, x[i % 2].as<__nv_bfloat16>(), n,
                        w[i % 2].as<__nv_bfloat16>(), y.get(), n, OutType::BF16);
    });
    if (!gemmMs) return gemmMs.error();
    c.gemmTflops = 2.0 * n * n * n / (*gemmMs * 1e-3) / 1e12;

    const size_t bytes = size_t(1) << 30;
    DeviceBuffer src, dst;
    SALA_TRY(src.allocate(bytes));
    SALA_TRY(dst.allocate(bytes));
    SALA_CUDA(cudaMemsetAsync(src.get(), 1, bytes, stream));
    auto copyMs = medianMs(stream, 10, [&](int) {
        return cudaStatus(
            cudaMemcpyAsync(dst.get(), src.get(), bytes, cudaMemcpyDeviceToDevice, stream), "copy");
    });
    if (!copyMs) return copyMs.error();
    c.copyGBs = 2.0 * bytes / (*copyMs * 1e-3) / 1e9;
    cudaStreamDestroy(stream);
    return c;
}

} // namespace sala::cuda
