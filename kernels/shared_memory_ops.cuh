#pragma once
// PTX wrappers for shared memory used by the attention and the block-selection kernels:
// asynchronous 16-byte copies from global memory and ldmatrix loads of mma.sync fragments.
// Included by .cu files only.

#include "kernel_common.cuh"

#include <cstdint>

namespace folio::kernels {

__device__ __forceinline__ unsigned sharedAddress(const void* p) {
    return static_cast<unsigned>(__cvta_generic_to_shared(p));
}

// Copies 16 bytes; with `valid` false the destination is zero-filled and nothing is read.
__device__ __forceinline__ void cpAsync16(void* smem, const void* gmem, bool valid) {
    const unsigned dst = sharedAddress(smem);
    const int srcBytes = valid ? 16 : 0;
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(dst), "l"(gmem),
                 "r"(srcBytes));
}

__device__ __forceinline__ void cpAsyncCommit() {
    asm volatile("cp.async.commit_group;\n" ::);
}

// Waits until at most `Pending` committed groups of this thread's copies are still in flight.
template <int Pending> __device__ __forceinline__ void cpAsyncWait() {
    asm volatile("cp.async.wait_group %0;\n" ::"n"(Pending));
}

__device__ __forceinline__ void ldmatrixX4(uint32_t (&r)[4], const void* p) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                 : "r"(sharedAddress(p)));
}

} // namespace folio::kernels
