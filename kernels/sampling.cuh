#pragma once
// Sampling on the GPU: one row of fp32 logits in, one token id (int32, device memory) out, so
// that only the chosen id travels back to the host. The twin is sala::Sampler
// (engine/sampler.h): repetition penalty -> temperature -> top-k -> top-p -> min-p -> draw.
//
// Order of candidates: best first by penalised logit, equal logits to the lower id. Weights
// exp((logit - max) / T) never increase along that order, so it is the order "probability
// descending, ties to the lower id" (where two different logits round to the same float
// probability, the higher logit comes first, as in sala::Sampler).
//
// Exact rule of the draw: among the candidates left by top-k, top-p and min-p, in that order,
// the chosen token is the first candidate i whose cumulative weight, divided by the candidates'
// total weight, exceeds `uniform`. Greedy (temperature <= 0) is the argmax, lowest id on ties.
// NaN logits count as -inf; when +inf logits are present they alone are candidates, each with
// weight 1. Where no logit is above -inf the token written is -1.
//
// Sums of weights are fixed point (2^-42 units, 64-bit integers) so that every sum is exact and
// independent of the order of the threads: the same inputs always give the same token. A weight
// below 2^-43 of the best one rounds to nothing and is never drawn (sala::Sampler could, with
// that probability). Vocabularies up to 2^21 entries.
//
// Deviations from sala::Sampler, by design: the uniform comes from the caller (one value of the
// sampler's seeded engine per token), and without top-k and top-p sala::Sampler walks the
// candidates in id order, so the same uniform may pick a different token there (the
// distribution is the same). History ids outside [0, vocab) are ignored (sala::Sampler reports
// them as an error): the caller validates the history on the host.

#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>

namespace folio::kernels {

struct GpuSamplingParams {
    float temperature;       // <= 0: greedy
    int topK;                // <= 0 or >= vocab: off
    float topP;              // >= 1: off
    float minP;              // <= 0: off; keep weights >= minP * the best weight
    float repetitionPenalty; // 1: off; once per distinct history token
};

// Bytes of device workspace launchSample needs for `vocab` logits (independent of topK).
size_t sampleWorkspace(int vocab, int topK);

// Picks one token from `logits` [vocab] (device, fp32) and writes it to *tokenOut (device).
// `history` [historyCount] (device) are the tokens the repetition penalty looks at, the recent
// window already cut by the caller; it may be null when historyCount is 0. `uniform` in [0, 1)
// drives the draw (from a 64-bit engine, (r >> 40) * 0x1p-24f stays below 1; 1 itself would
// pick the last candidate); when `uniformDevice` is not null the uniform is read from there
// instead, so a captured CUDA graph can be replayed with fresh values. Parameters are expected to
// have passed sala::validate. No allocation and no host synchronisation: three launches (two when
// greedy), so it can be captured into a CUDA graph. The penalty reads the whole history once per
// 1024 logits: keep the window short (hundreds of tokens). Returns cudaErrorInvalidValue for a
// bad vocabulary size, null pointers, or a workspace smaller than sampleWorkspace(vocab, p.topK)
// or not 256-byte aligned.
cudaError_t launchSample(const float* logits, int vocab, const GpuSamplingParams& p,
                         const int32_t* history, int historyCount, float uniform,
                         const float* uniformDevice, int32_t* tokenOut, void* workspace,
                         size_t workspaceBytes, cudaStream_t stream);

} // namespace folio::kernels
