#pragma once
// Helpers of the GPU suites: device buffers, poisoning, bf16 conversion, comparison.

#include "bf16.h"
#include "golden_case.h"

#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <QtTest>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace gputest {

// True when a CUDA device is usable; otherwise the test should QSKIP with `why`.
bool haveGpu(std::string& why);

#define GPU_OR_SKIP()                                                                              \
    do {                                                                                           \
        std::string why_;                                                                          \
        if (!gputest::haveGpu(why_)) QSKIP(why_.c_str());                                          \
    } while (0)

#define CUDA_CHECK(expr)                                                                           \
    do {                                                                                           \
        cudaError_t e_ = (expr);                                                                   \
        QVERIFY2(e_ == cudaSuccess, cudaGetErrorString(e_));                                       \
    } while (0)

// A device buffer of T that frees itself.
template <typename T> class DeviceBuffer {
public:
    explicit DeviceBuffer(size_t n = 0) { resize(n); }
    ~DeviceBuffer() { cudaFree(ptr_); }
    DeviceBuffer(const DeviceBuffer&) = delete;
    DeviceBuffer& operator=(const DeviceBuffer&) = delete;
    void resize(size_t n) {
        cudaFree(ptr_);
        ptr_ = nullptr;
        n_ = n;
        if (n) cudaMalloc(&ptr_, n * sizeof(T));
    }
    T* get() const { return ptr_; }
    size_t size() const { return n_; }
    // Both wait until the bytes are in place: cudaMemset and a cudaMemcpy from pageable memory
    // may return before, and a kernel on a non-blocking stream does not wait for them.
    // Fills every byte with 0xFF: NaN for float and bf16, -1 for ints.
    void poison() {
        cudaMemset(ptr_, 0xFF, n_ * sizeof(T));
        cudaDeviceSynchronize();
    }
    void upload(const std::vector<T>& v) {
        resize(v.size());
        cudaMemcpy(ptr_, v.data(), v.size() * sizeof(T), cudaMemcpyHostToDevice);
        cudaDeviceSynchronize();
    }
    std::vector<T> download() const {
        std::vector<T> v(n_);
        cudaDeviceSynchronize();
        cudaMemcpy(v.data(), ptr_, n_ * sizeof(T), cudaMemcpyDeviceToHost);
        return v;
    }

private:
    T* ptr_ = nullptr;
    size_t n_ = 0;
};

std::vector<float> randomFloats(size_t n, std::mt19937& rng, float scale = 1.0f);
std::vector<__nv_bfloat16> toBf16(const std::vector<float>& v);
std::vector<float> fromBf16(const std::vector<__nv_bfloat16>& v);
// Rounds every element to bf16 precision (so CPU twins see what the GPU sees).
std::vector<float> roundBf16(const std::vector<float>& v);
// A fresh seed per run, printed so a failure can be reproduced.
// FOLIO_TEST_SEED in the environment fixes the seed instead.
std::mt19937 freshRng();

// Median of the values (taken by value: it sorts its copy).
double median(std::vector<double> v);

// Median milliseconds per launch on the default stream, over `samples` timings of
// `launchesPerSample` back-to-back launches each, after one launch that is not timed (it loads
// the kernel's module). For the suites' timing printouts only: no test asserts on time.
template <typename Launch> double medianMs(Launch launch, int samples, int launchesPerSample = 1) {
    cudaEvent_t start, stop;
    cudaEventCreate(&start);
    cudaEventCreate(&stop);
    launch();
    std::vector<double> ms;
    for (int s = 0; s < samples; ++s) {
        cudaEventRecord(start);
        for (int i = 0; i < launchesPerSample; ++i) launch();
        cudaEventRecord(stop);
        cudaEventSynchronize(stop);
        float t = 0;
        cudaEventElapsedTime(&t, start, stop);
        ms.push_back(double(t) / launchesPerSample);
    }
    cudaEventDestroy(start);
    cudaEventDestroy(stop);
    return median(ms);
}

using sala::relativeL2;

} // namespace gputest
