#include "generator.h"

#include "decoder.h"

#include <algorithm>

namespace sala {

namespace {
using Clock = std::chrono::steady_clock;
double secondsSince(Clock::time_point t) {
    return std::chrono::duration<double>(Clock::now() - t).count();
}
} // namespace

double GenerationStats::prefillTokensPerSecond() const {
    return prefillSeconds > 0 ? promptTokens / prefillSeconds : 0;
}
double GenerationStats::decodeTokensPerSecond() const {
    return decodeSeconds > 0 ? generatedTokens / decodeSeconds : 0;
}

Status prefill(Context& ctx, std::span<const int> tokens, int chunk,
               const PrefillProgress& progress, ForwardOutput& last) {
    if (chunk <= 0) return makeError(ErrorCode::InvalidArgument, "the prefill chunk must be > 0");
    const int64_t total = static_cast<int64_t>(tokens.size());
    for (int64_t done = 0; done < total;) {
        if (progress && !progress(done, total))
            return makeError(ErrorCode::Cancelled, "prefill cancelled");
        const int64_t n = std::min<int64_t>(chunk, total - done);
        SALA_TRY(ctx.forward(tokens.subspan(done, n), ForwardOptions{}, last));
        done += n;
    }
    if (progress) progress(total, total);
    return {};
}

Result<GenerationResult> generate(Context& ctx, std::span<const int> prompt,
                                  const GenerationOptions& options, const PrefillProgress& progress,
                                  const TokenCallback& onToken) {
    if (prompt.empty()) return makeError(ErrorCode::InvalidArgument, "the prompt is empty");
    SALA_TRY(validate(options.sampling));
    if (options.maxTokens < 0)
        return makeError(ErrorCode::InvalidArgument, "max tokens must not be negative");
    if (options.prefillChunk <= 0)
        return makeError(ErrorCode::InvalidArgument, "the prefill chunk must be > 0");
    GenerationResult result;
    result.stats.promptTokens = static_cast<int64_t>(prompt.size());
    Sampler sampler(options.sampling);
    auto start = Clock::now();
    // The prompt goes in chunks; the last chunk also draws the first answer token.
    const int64_t total = static_cast<int64_t>(prompt.size());
    int next = -1;
    ForwardOutput scratch;
    for (int64_t done = 0; done < total;) {
        if (progress && !progress(done, total))
            return makeError(ErrorCode::Cancelled, "prefill cancelled");
        const int64_t n = std::min<int64_t>(options.prefillChunk, total - done);
        const auto chunk = prompt.subspan(done, n);
        if (done + n < total) {
            SALA_TRY(ctx.forward(chunk, ForwardOptions{}, scratch));
        } else {
            auto token = ctx.forwardSample(chunk, sampler);
            if (!token) return token.error();
            next = *token;
        }
        done += n;
    }
    if (progress) progress(total, total);
    result.stats.prefillSeconds = secondsSince(start);

    start = Clock::now();
    const std::unique_ptr<Decoder> decoder = ctx.decoder(sampler);
    for (int i = 0; i < options.maxTokens; ++i) {
        const int token = next;
        result.tokens.push_back(token);
        ++result.stats.generatedTokens;
        const bool keepGoing = !onToken || onToken(token);
        if (std::find(options.stopTokens.begin(), options.stopTokens.end(), token) !=
            options.stopTokens.end()) {
            result.reason = StopReason::StopToken;
            SALA_TRY(decoder->finish(token, false));
            break;
        }
        const bool last = !keepGoing || i + 1 == options.maxTokens;
        if (last) {
            // The answer's last token joins the context, but nothing more is drawn.
            SALA_TRY(decoder->finish(token, true));
            if (!keepGoing) result.reason = StopReason::Stopped;
            break;
        }
        auto drawn = decoder->next(token);
        if (!drawn) return drawn.error();
        next = *drawn;
    }
    result.stats.decodeSeconds = secondsSince(start);
    return result;
}

} // namespace sala
