#pragma once
// The model's weights on the device, in bf16, with the projections that read the same input
// stacked into one matrix so each is a single GEMM:
//   lightning layer: [q | k | v | z] x hidden       sparse layer: [q | k | v | o_gate] x hidden
//   MLP:             [gate | up] x hidden

#include "config.h"
#include "device_buffer.h"
#include "load_progress.h"
#include "model.h"

#include <cuda_bf16.h>

#include <vector>

namespace sala::cuda {

using bf16 = __nv_bfloat16;

struct CudaLayer {
    LayerKind kind = LayerKind::Sparse;
    const bf16* inputNorm = nullptr;
    const bf16* postNorm = nullptr;
    const bf16* wIn = nullptr; // stacked input projection [inRows, hidden]
    int64_t inRows = 0;
    // Column offsets of the sections inside a row of the stacked projection's output.
    int64_t qOffset = 0, kOffset = 0, vOffset = 0, gateOffset = -1; // gate -1: none
    const bf16* wO = nullptr;                                       // [hidden, attention width]
    const bf16* qNorm = nullptr;
    const bf16* kNorm = nullptr;
    const bf16* oNorm = nullptr;
    const bf16* wGateUp = nullptr; // [2 * intermediate, hidden]
    const bf16* wDown = nullptr;   // [hidden, intermediate]
};

struct CudaWeights {
    DeviceBuffer storage;
    const bf16* embed = nullptr;
    const bf16* finalNorm = nullptr;
    const bf16* lmHead = nullptr;
    std::vector<CudaLayer> layers;
};

// Bytes the device copy of a model with this configuration takes.
uint64_t deviceWeightBytes(const ModelConfig& config);

// Copies (converting to bf16 where needed) the weights of a loaded model to the device,
// reporting the bytes copied between 64 MiB blocks. Errors: Cancelled when `progress` says stop.
Result<CudaWeights> uploadWeights(const Model& model, cudaStream_t stream,
                                  const LoadProgress& progress = {});

// Random weights of the right shapes and scales, made on the device (for benchmarks).
Result<CudaWeights> randomWeights(const ModelConfig& config, uint64_t seed, cudaStream_t stream);

} // namespace sala::cuda
