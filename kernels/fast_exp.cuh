#pragma once
// The base-2 exponential the attention and block-selection kernels use: logits are kept in the
// log2 domain (scaled by log2(e) once), so each softmax term is one ex2 instruction.

namespace folio::kernels {

constexpr float kLog2e = 1.4426950408889634f;

// 2^x with the hardware approximation (relative error about 2^-22; subnormals flush to zero).
__device__ __forceinline__ float fastExp2(float x) {
    float y;
    asm("ex2.approx.ftz.f32 %0, %1;\n" : "=f"(y) : "f"(x));
    return y;
}

} // namespace folio::kernels
