#pragma once
// FLOP and byte counts of the model per token, for the roofline fractions of folio-bench.

#include "config.h"

#include <cstdint>

namespace folio::bench {

// Matrix elements of one layer of `kind`, and of every layer (the per-token GEMM work is twice
// this).
double layerMatrixElements(const sala::ModelConfig& c, sala::LayerKind kind);
double layerMatrixElements(const sala::ModelConfig& c);

// FLOPs of prefilling positions [0, tokens): GEMMs, attention of both layer kinds, stage-1
// scoring, plus the lm_head of the last token. The last layer counts its outputs for the last
// token only, and for the others what later tokens read (keys and values, the linear state).
double prefillFlops(const sala::ModelConfig& c, int64_t tokens);

// Bytes a decode step at context length `context` must read or write at the least: every
// weight matrix once, one embedding row, the selected keys and values, the compressed keys
// scored by stage 1, and the linear states read and written.
double decodeBytes(const sala::ModelConfig& c, int64_t context);

} // namespace folio::bench
