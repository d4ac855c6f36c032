#pragma once
// Picks the next token from one row of logits, following the order of Hugging Face's logits
// processors: repetition penalty, temperature, top-k, top-p, min-p, then a seeded draw.

#include "result.h"

#include <cstdint>
#include <random>
#include <span>
#include <vector>

namespace sala {

struct SamplingParams {
    float temperature = 0.9f; // <= 0 means greedy
    int topK = 0;             // 0 = off
    float topP = 1.0f;        // 1 = off
    float minP = 0.0f;        // 0 = off; keep tokens with p >= minP * p_max
    // 1 = off. CTRL rule, once per distinct token of the recent history:
    // logit > 0 ? logit / penalty : logit * penalty.
    float repetitionPenalty = 1.0f;
    int repetitionWindow = 256; // how many recent tokens the penalty looks at (0 = all)
    uint64_t seed = 0;
    bool greedy() const { return temperature <= 0.0f; }
};

// Rejects parameters outside their ranges; the message names the field and its value.
Status validate(const SamplingParams& params);

// Not thread-safe: one sampler per generation stream. Buffers are sized on the first call and
// reused, so later calls over the same vocabulary do not allocate.
class Sampler {
public:
    explicit Sampler(const SamplingParams& params);

    // `logits` is one row over the vocabulary; `history` is the context so far (prompt and
    // generated tokens), read only by the repetition penalty. NaN logits count as -inf; when
    // +inf logits are present the draw is uniform over them (the limit of the softmax). Top-k
    // keeps exactly k tokens, ties going to the lower id. Each non-greedy call consumes exactly
    // one value of the random engine, so a seed fixes the whole sequence.
    Result<int> sample(std::span<const float> logits, std::span<const int> history);

    void reseed(uint64_t seed);
    // The next uniform number in [0, 1) of the seeded engine: what sample() draws with, for
    // samplers that run elsewhere (on the GPU) but must follow the same seed.
    double nextUniform();
    const SamplingParams& params() const { return params_; }

private:
    struct Candidate {
        float logit;  // after the penalty, before the temperature
        float weight; // unnormalised probability, exp((logit - max) / T)
        int id;
    };
    static bool better(const Candidate& a, const Candidate& b);

    Status loadLogits(std::span<const float> logits);
    Status applyRepetitionPenalty(std::span<const int> history);
    Result<int> argmax() const;
    void collectCandidates(float maxLogit);
    void collectTopK(float maxLogit, size_t k);
    void computeWeights(float maxLogit);
    void keepMinP();
    bool keepNucleus(double mass);
    void sortCandidates();
    double candidateMass() const;
    int draw();

    SamplingParams params_;
    Status paramsStatus_;
    std::mt19937_64 rng_;
    std::vector<float> logits_;         // penalised logits, NaN replaced by -inf
    std::vector<Candidate> candidates_; // tokens still in play
    std::vector<double> bucketMass_;    // nucleus search, by weight bucket
    std::vector<uint32_t> seenAt_;      // per token, the call that last penalised it
    uint32_t callStamp_ = 0;
};

} // namespace sala
