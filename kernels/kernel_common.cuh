#pragma once
// Conventions shared by every kernel launcher:
// - plain pointers and sizes in, no engine types; bf16 is __nv_bfloat16;
// - every launcher takes a cudaStream_t and returns the cudaError_t of its launch
//   (cudaGetLastError() after the launch), so callers check every launch;
// - strides are in elements; "rows" are tokens unless a comment says otherwise;
// - activations are bf16 in memory with fp32 arithmetic inside; residuals, softmax
//   statistics and linear-attention states are fp32.

#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <cstdint>

namespace folio::kernels {

using bf16 = __nv_bfloat16;

inline unsigned ceilDiv(int64_t a, int64_t b) {
    return static_cast<unsigned>((a + b - 1) / b);
}

// A token position: a value fixed when the kernel is launched, or the device address the kernel
// reads it from. A decode step is captured once as a CUDA graph and replayed at every position,
// so the kernels of that graph cannot take the position as a launch argument.
struct Position {
    int64_t value = 0;
    const int64_t* device = nullptr;

    Position() = default;
    Position(int64_t v) : value(v) {} // implicit: a host position passes as a plain integer
    static Position inDevice(const int64_t* address) {
        Position p;
        p.device = address;
        return p;
    }
    bool valid() const { return device != nullptr || value >= 0; }
    __device__ int64_t get() const { return device ? *device : value; }
};

// A range a kernel requests into L2 for the kernels after it (a hint: nothing reads it sooner).
// A decode step's small kernels leave DRAM idle for microseconds at a time, and the weights of
// the product that follows them are known in advance.
struct L2Range {
    const void* p = nullptr;
    int64_t bytes = 0;
};

// The range usable by prefetchL2Warp (l2_prefetch.cuh): p 16-byte aligned, bytes rounded down to
// 16; empty if not.
inline L2Range prefetchable(L2Range r) {
    if (!r.p || r.bytes < 16 || reinterpret_cast<uintptr_t>(r.p) % 16 != 0) return {};
    r.bytes &= ~int64_t(15);
    return r;
}

} // namespace folio::kernels
