#pragma once
// Reproducible random tensors made on the device (benchmark models of any size without
// moving weights over PCIe).

#include "kernel_common.cuh"

namespace folio::kernels {

// p[i] = offset + scale * u_i with u_i uniform in [-1, 1), a function of (seed, i) alone.
cudaError_t launchFillUniformBf16(bf16* p, int64_t n, uint64_t seed, float scale, float offset,
                                  cudaStream_t stream);

// The same value the kernel produces for index i, for checks on the host.
float uniformAt(uint64_t seed, int64_t i);

} // namespace folio::kernels
