#pragma once
// Host-side checks and constants shared by the prefill and decode launchers of the block-sparse
// attention (sparse_attention.cu, sparse_attention_decode.cu).

#include "fast_exp.cuh"
#include "kernel_common.cuh"

#include <cmath>
#include <cstdint>

namespace folio::kernels::attention_detail {

inline bool supportedDim(int dim) {
    return dim == 16 || dim == 32 || dim == 64 || dim == 128;
}

inline bool aligned(const void* p, size_t bytes) {
    return reinterpret_cast<uintptr_t>(p) % bytes == 0;
}

// Checks shared by both launchers: shapes, and the alignment the vector accesses rely on.
inline bool validCommon(const bf16* q, int heads, int kvHeads, int dim, const bf16* keys,
                        const bf16* values, int64_t kvHeadStride, const int32_t* blocks,
                        int topkTotal, int blockSize, const bf16* out) {
    if (!q || !keys || !values || !blocks || !out) return false;
    if (heads <= 0 || kvHeads <= 0 || heads % kvHeads != 0 || kvHeads > 65535) return false;
    if (!supportedDim(dim) || topkTotal <= 0 || blockSize <= 0) return false;
    if (kvHeadStride < 0 || kvHeadStride % 8 != 0) return false;
    return aligned(q, 4) && aligned(out, 4) && aligned(keys, 16) && aligned(values, 16);
}

inline float scaleLog2(int dim) {
    return static_cast<float>(1.0 / std::sqrt(double(dim))) * kLog2e;
}

} // namespace folio::kernels::attention_detail
