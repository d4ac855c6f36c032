#pragma once
// Matrix products through cuBLASLt: bf16 operands, fp32 accumulation, and the epilogue
// D = alpha * X W^T + beta * C with C = D, which lets an output projection add itself into
// the fp32 residual stream in the same pass.

#include "cuda_status.h"
#include "device_buffer.h"

#include <cuda_bf16.h>

#include <map>
#include <tuple>

namespace sala::cuda {

enum class OutType { F32, BF16 };

class Gemm {
public:
    Gemm() = default;
    ~Gemm();
    Gemm(const Gemm&) = delete;
    Gemm& operator=(const Gemm&) = delete;

    Status init(size_t workspaceBytes = 32u << 20);

    // Y[m, n] = alpha * X[m, k] W[n, k]^T + beta * Y (row-major; ldx, ldy in elements).
    Status run(cudaStream_t stream, int64_t m, int64_t n, int64_t k, const __nv_bfloat16* x,
               int64_t ldx, const __nv_bfloat16* w, void* y, int64_t ldy, OutType out,
               float alpha = 1.0f, float beta = 0.0f);

    size_t workspaceBytes() const { return workspace_.bytes(); }

private:
    struct Plan {
        cublasLtMatmulDesc_t op = nullptr;
        cublasLtMatrixLayout_t a = nullptr, b = nullptr, c = nullptr;
        cublasLtMatmulAlgo_t algo{};
    };
    using Key = std::tuple<int64_t, int64_t, int64_t, int64_t, int64_t, int, bool>;
    Result<Plan*> plan(int64_t m, int64_t n, int64_t k, int64_t ldx, int64_t ldy, OutType out,
                       bool accumulate);

    cublasLtHandle_t handle_ = nullptr;
    DeviceBuffer workspace_;
    std::map<Key, Plan> plans_;
};

} // namespace sala::cuda
