#pragma once
// Prefill in chunks with progress and cancellation, then sampled decoding with stop tokens.

#include "backend.h"
#include "sampler.h"

#include <chrono>
#include <functional>
#include <span>
#include <vector>

namespace sala {

// Return false to cancel the prefill (checked between chunks).
using PrefillProgress = std::function<bool(int64_t done, int64_t total)>;
// Called with each generated token; return false to stop generating.
using TokenCallback = std::function<bool(int token)>;

struct GenerationOptions {
    SamplingParams sampling;
    int maxTokens = 512;
    std::vector<int> stopTokens;
    int prefillChunk = 256;
};

enum class StopReason { StopToken, MaxTokens, Stopped };

struct GenerationStats {
    int64_t promptTokens = 0;
    int64_t generatedTokens = 0;
    double prefillSeconds = 0; // also the time to first token, less one sampling step
    double decodeSeconds = 0;
    double prefillTokensPerSecond() const;
    double decodeTokensPerSecond() const;
};

struct GenerationResult {
    std::vector<int> tokens; // generated tokens, the stop token included when one ended it
    StopReason reason = StopReason::MaxTokens;
    GenerationStats stats;
};

// Feeds `tokens` into the context in chunks of at most `chunk`. `last` receives the output
// of the last chunk (its last-token logits). A cancelled prefill returns ErrorCode::Cancelled
// with the context holding the chunks done so far.
Status prefill(Context& ctx, std::span<const int> tokens, int chunk,
               const PrefillProgress& progress, ForwardOutput& last);

// Prefills `prompt` (at least one token) and decodes. Every generated token except a final
// stop token is fed back, so the context ends holding prompt and answer.
Result<GenerationResult> generate(Context& ctx, std::span<const int> prompt,
                                  const GenerationOptions& options, const PrefillProgress& progress,
                                  const TokenCallback& onToken);

} // namespace sala
