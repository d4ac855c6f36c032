#include "gemm.h"

namespace sala::cuda {

Gemm::~Gemm() {
    for (auto& [key, p] : plans_) {
        cublasLtMatmulDescDestroy(p.op);
        cublasLtMatrixLayoutDestroy(p.a);
        cublasLtMatrixLayoutDestroy(p.b);
        cublasLtMatrixLayoutDestroy(p.c);
    }
    if (handle_) cublasLtDestroy(handle_);
}

Status Gemm::init(size_t workspaceBytes) {
    SALA_CUBLAS(cublasLtCreate(&handle_));
    return workspace_.allocate(workspaceBytes);
}

// Row-major Y[m,n] = X[m,k] W[n,k]^T is, in cuBLAS's column-major view, Y^T = W X^T with
// W^T stored as a k x n matrix: operation T on A = W (k x n, ld k), N on B = X (k x m, ld ldx).
Result<Gemm::Plan*> Gemm::plan(int64_t m, int64_t n, int64_t k, int64_t ldx, int64_t ldy,
                               OutType out, bool accumulate) {
    const Key key{m, n, k, ldx, ldy, int(out), accumulate};
    if (auto it = plans_.find(key); it != plans_.end()) return &it->second;
    Plan p;
    const cudaDataType_t yType = out == OutType::F32 ? CUDA_R_32F : CUDA_R_16BF;
    SALA_CUBLAS(cublasLtMatmulDescCreate(&p.op, CUBLAS_COMPUTE_32F, CUDA_R_32F));
    const cublasOperation_t transA = CUBLAS_OP_T, transB = CUBLAS_OP_N;
    SALA_CUBLAS(
        cublasLtMatmulDescSetAttribute(p.op, CUBLASLT_MATMUL_DESC_TRANSA, &transA, sizeof transA));
    SALA_CUBLAS(
        cublasLtMatmulDescSetAttribute(p.op, CUBLASLT_MATMUL_DESC_TRANSB, &transB, sizeof transB));
    SALA_CUBLAS(cublasLtMatrixLayoutCreate(&p.a, CUDA_R_16BF, k, n, k));
    SALA_CUBLAS(cublasLtMatrixLayoutCreate(&p.b, CUDA_R_16BF, k, m, ldx));
    SALA_CUBLAS(cublasLtMatrixLayoutCreate(&p.c, yType, n, m, ldy));
    cublasLtMatmulPreference_t pref = nullptr;
    SALA_CUBLAS(cublasLtMatmulPreferenceCreate(&pref));
    size_t ws = workspace_.bytes();
    cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &ws,
                                         sizeof ws);
    cublasLtMatmulHeuristicResult_t result{};
    int found = 0;
    const cublasStatus_t st =
        cublasLtMatmulAlgoGetHeuristic(handle_, p.op, p.a, p.b, p.c, p.c, pref, 1, &result, &found);
    cublasLtMatmulPreferenceDestroy(pref);
    if (st != CUBLAS_STATUS_SUCCESS || found == 0) {
        cublasLtMatmulDescDestroy(p.op);
        cublasLtMatrixLayoutDestroy(p.a);
        cublasLtMatrixLayoutDestroy(p.b);
        cublasLtMatrixLayoutDestroy(p.c);
        return makeError(ErrorCode::Unsupported, "cuBLASLt found no algorithm for a " +
                                                     std::to_string(m) + "x" + std::to_string(n) +
                                                     "x" + std::to_string(k) + " product");
    }
    p.algo = result.algo;
    return &plans_.emplace(key, p).first->second;
}

Status Gemm::run(cudaStream_t stream, int64_t m, int64_t n, int64_t k, const __nv_bfloat16* x,
                 int64_t ldx, const __nv_bfloat16* w, void* y, int64_t ldy, OutType out,
                 float alpha, float beta) {
    if (m == 0) return {};
    auto p = plan(m, n, k, ldx, ldy, out, beta != 0.0f);
    if (!p) return p.error();
    SALA_CUBLAS(cublasLtMatmul(handle_, (*p)->op, &alpha, w, (*p)->a, x, (*p)->b, &beta, y, (*p)->c,
                               y, (*p)->c, &(*p)->algo, workspace_.get(), workspace_.bytes(),
                               stream));
    return {};
}

} // namespace sala::cuda
