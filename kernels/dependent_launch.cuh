#pragma once
// Programmatic dependent launch (Hopper and later; elsewhere the launch is an ordinary one and
// the wait does nothing). A decode step is a chain of small kernels of a few microseconds each;
// launched with launchDependent, a kernel is scheduled while the one before it in the stream
// still runs, so its launch no longer adds to the step.
//
// The rule that keeps this safe: a kernel launched with launchDependent calls
// waitForPrecedingKernel() first thing, on every path. The wait returns once the preceding
// kernel has finished and its writes are visible; a kernel that skipped it could even finish
// before its predecessor, and the one after it would then see neither's results.

#include <cuda_runtime.h>

#include <utility>

namespace folio::kernels {

// Waits for the preceding kernel, then lets the next dependent kernel launch.
__device__ __forceinline__ void waitForPrecedingKernel() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
    asm volatile("griddepcontrol.wait;\n" ::: "memory");
    asm volatile("griddepcontrol.launch_dependents;\n" ::: "memory");
#endif
}

// Whether `kernel` was compiled for sm_90 or later, and so waits as the rule above requires. The
// card alone does not tell: a build for older cards runs on Hopper and later cards through its
// PTX, compiled then without the wait, and such a kernel launched as a dependent would read its
// inputs before the kernel ahead had written them. The attribute is documented as opportunistic
// and is set only for kernels that wait. Answers are remembered per kernel.
bool compiledWithDependentWait(const void* kernel);

// kernel<<<grid, block, sharedBytes, stream>>>(args...) as a programmatic dependent of the
// stream's preceding kernel; returns the launch's error.
template <typename... Params, typename... Args>
cudaError_t launchDependent(void (*kernel)(Params...), dim3 grid, dim3 block, size_t sharedBytes,
                            cudaStream_t stream, Args&&... args) {
    cudaLaunchAttribute attribute{};
    attribute.id = cudaLaunchAttributeProgrammaticStreamSerialization;
    attribute.val.programmaticStreamSerializationAllowed = 1;
    cudaLaunchConfig_t config{};
    config.gridDim = grid;
    config.blockDim = block;
    config.dynamicSmemBytes = sharedBytes;
    config.stream = stream;
    config.attrs = &attribute;
    config.numAttrs = compiledWithDependentWait(reinterpret_cast<const void*>(kernel)) ? 1 : 0;
    return cudaLaunchKernelEx(&config, kernel, std::forward<Args>(args)...);
}

} // namespace folio::kernels
