#include "sampler.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdio>
#include <limits>
#include <string>

namespace sala {
namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();
constexpr float kPosInf = std::numeric_limits<float>::infinity();

// Nucleus buckets: positive floats order like their bit patterns, so the distance of a weight's
// bits below those of 1.0f, shifted, splits every octave into 2^(23 - kBucketShift) buckets.
constexpr uint32_t kOneBits = 0x3f800000;
constexpr int kBucketShift = 20;
constexpr size_t kBuckets = (kOneBits >> kBucketShift) + 1;

size_t bucketOf(float weight) {
    return (kOneBits - std::bit_cast<uint32_t>(weight)) >> kBucketShift;
}

// With +inf present the softmax limit puts all the mass on the +inf tokens.
bool admissible(float logit, bool infiniteOnly) {
    return infiniteOnly ? logit == kPosInf : logit > kNegInf;
}

std::string show(double v) {
    char buf[48];
    std::snprintf(buf, sizeof buf, "%g", v);
    return buf;
}

Error invalid(const std::string& what) {
    return makeError(ErrorCode::InvalidArgument, "sampling parameters: " + what);
}

} // namespace

Status validate(const SamplingParams& p) {
    // Written as negated range checks so that NaN fails every one of them.
    if (!std::isfinite(p.temperature))
        return invalid("temperature must be a finite number (got " + show(p.temperature) + ")");
    if (p.topK < 0) return invalid("topK must be >= 0 (got " + std::to_string(p.topK) + ")");
    if (!(p.topP > 0.0f && p.topP <= 1.0f))
        return invalid("topP must be in (0, 1] (got " + show(p.topP) + ")");
    if (!(p.minP >= 0.0f && p.minP < 1.0f))
        return invalid("minP must be in [0, 1) (got " + show(p.minP) + ")");
    if (!(p.repetitionPenalty > 0.0f && std::isfinite(p.repetitionPenalty)))
        return invalid("repetitionPenalty must be a finite number > 0 (got " +
                       show(p.repetitionPenalty) + ")");
    if (p.repetitionWindow < 0)
        return invalid("repetitionWindow must be >= 0 (got " + std::to_string(p.repetitionWindow) +
                       ")");
    return Status::success();
}

Sampler::Sampler(const SamplingParams& params)
    : params_(params), paramsStatus_(validate(params)), rng_(params.seed) {}

// Best first; equal logits go to the lower id so that every cut is unique.
bool Sampler::better(const Candidate& a, const Candidate& b) {
    return a.logit > b.logit || (a.logit == b.logit && a.id < b.id);
}

void Sampler::reseed(uint64_t seed) {
    params_.seed = seed;
    rng_.seed(seed);
}

Result<int> Sampler::sample(std::span<const float> logits, std::span<const int> history) {
    SALA_TRY(paramsStatus_);
    SALA_TRY(loadLogits(logits));
    SALA_TRY(applyRepetitionPenalty(history));
    auto best = argmax();
    if (!best.ok() || params_.greedy()) return best;

    const float top = logits_[*best];
    const size_t k = params_.topK;
    const bool topK = k > 0 && k < logits_.size();
    if (topK)
        collectTopK(top, k);
    else
        collectCandidates(top);
    computeWeights(top);
    // Min-p and the nucleus each keep a best-first prefix, so cutting min-p first, while the
    // nucleus is still measured against the mass before it, gives Hugging Face's result.
    const double mass = candidateMass();
    keepMinP();
    const bool sorted = keepNucleus(mass);
    // The top-k heap leaves the survivors in an order that depends on the standard library; a
    // fixed order keeps a seed's draws identical across toolchains.
    if (topK && !sorted) sortCandidates();
    return draw();
}

Status Sampler::loadLogits(std::span<const float> logits) {
    if (logits.empty()) return makeError(ErrorCode::InvalidArgument, "sampler: empty logits row");
    if (logits.size() > static_cast<size_t>(std::numeric_limits<int>::max()))
        return makeError(ErrorCode::InvalidArgument, "sampler: logits row of " +
                                                         std::to_string(logits.size()) +
                                                         " entries is too large for int token ids");
    logits_.resize(logits.size());
    for (size_t i = 0; i < logits.size(); ++i)
        logits_[i] = std::isnan(logits[i]) ? kNegInf : logits[i];
    return Status::success();
}

Status Sampler::applyRepetitionPenalty(std::span<const int> history) {
    const float penalty = params_.repetitionPenalty;
    if (penalty == 1.0f || history.empty()) return Status::success();
    const size_t window = params_.repetitionWindow;
    if (window > 0 && history.size() > window) history = history.last(window);

    const size_t vocab = logits_.size();
    seenAt_.resize(vocab, 0);
    // A per-call stamp marks tokens already penalised without clearing the table every call.
    if (++callStamp_ == 0) {
        std::fill(seenAt_.begin(), seenAt_.end(), 0);
        callStamp_ = 1;
    }
    for (size_t pos = 0; pos < history.size(); ++pos) {
        const int token = history[pos];
        if (token < 0 || static_cast<size_t>(token) >= vocab)
            return makeError(ErrorCode::InvalidArgument,
                             "sampler: history token " + std::to_string(token) + " at position " +
                                 std::to_string(pos) + " of the penalty window is outside the " +
                                 "vocabulary of " + std::to_string(vocab) + " logits");
        if (seenAt_[token] == callStamp_) continue;
        seenAt_[token] = callStamp_;
        float& l = logits_[token];
        l = l > 0.0f ? l / penalty : l * penalty;
    }
    return Status::success();
}

Result<int> Sampler::argmax() const {
    int best = -1;
    float bestValue = kNegInf;
    // Strict comparison keeps the lowest id among ties.
    for (size_t i = 0; i < logits_.size(); ++i) {
        if (logits_[i] > bestValue) {
            bestValue = logits_[i];
            best = static_cast<int>(i);
        }
    }
    if (best < 0)
        return makeError(ErrorCode::InvalidArgument,
                         "sampler: none of the " + std::to_string(logits_.size()) +
                             " logits is a number above -inf (all NaN or -inf)");
    return best;
}

void Sampler::collectCandidates(float maxLogit) {
    candidates_.clear();
    candidates_.reserve(logits_.size());
    const bool infiniteOnly = maxLogit == kPosInf;
    for (size_t i = 0; i < logits_.size(); ++i)
        if (admissible(logits_[i], infiniteOnly))
            candidates_.push_back({logits_[i], 0.0f, static_cast<int>(i)});
}

void Sampler::collectTopK(float maxLogit, size_t k) {
    candidates_.clear();
    candidates_.reserve(k);
    const bool infiniteOnly = maxLogit == kPosInf;
    // A heap whose front is the worst token kept: one comparison rejects almost every token,
    // which beats selecting over the whole vocabulary when k is small.
    for (size_t i = 0; i < logits_.size(); ++i) {
        if (!admissible(logits_[i], infiniteOnly)) continue;
        const Candidate c{logits_[i], 0.0f, static_cast<int>(i)};
        if (candidates_.size() < k) {
            candidates_.push_back(c);
            std::push_heap(candidates_.begin(), candidates_.end(), better);
        } else if (better(c, candidates_.front())) {
            std::pop_heap(candidates_.begin(), candidates_.end(), better);
            candidates_.back() = c;
            std::push_heap(candidates_.begin(), candidates_.end(), better);
        }
    }
}

void Sampler::computeWeights(float maxLogit) {
    if (maxLogit == kPosInf) {
        for (Candidate& c : candidates_) c.weight = 1.0f;
        return;
    }
    // Shifting by the maximum before dividing keeps a tiny temperature from overflowing, and
    // gives the best token a weight of exactly 1, which min-p relies on. Dividing, not
    // multiplying by 1/T: a denormal T would make 1/T infinite and the best token's 0 * inf NaN.
    const float t = params_.temperature;
    for (Candidate& c : candidates_) c.weight = std::exp((c.logit - maxLogit) / t);
    // Tokens whose weight underflowed can never be drawn; dropping them keeps every later
    // cut and the draw free of zero-weight entries.
    std::erase_if(candidates_, [](const Candidate& c) { return c.weight == 0.0f; });
}

void Sampler::keepMinP() {
    // The best token has weight 1, so p >= minP * p_max reads w >= minP under any normalisation.
    const float minP = params_.minP;
    if (minP <= 0.0f) return;
    std::erase_if(candidates_, [minP](const Candidate& c) { return c.weight < minP; });
}

bool Sampler::keepNucleus(double mass) {
    if (params_.topP >= 1.0f) return false;
    const double target = static_cast<double>(params_.topP) * mass;
    // Weight buckets locate the nucleus in one pass, so only the tokens that can belong to it
    // (plus the rest of the bucket where it ends) need sorting.
    bucketMass_.assign(kBuckets, 0.0);
    for (const Candidate& c : candidates_) bucketMass_[bucketOf(c.weight)] += c.weight;
    size_t lastBucket = kBuckets - 1;
    double cumulative = 0.0;
    for (size_t b = 0; b < kBuckets; ++b) {
        cumulative += bucketMass_[b];
        if (cumulative >= target) {
            lastBucket = b;
            break;
        }
    }
    const auto outside = std::partition(candidates_.begin(), candidates_.end(),
                                        [&](auto& c) { return bucketOf(c.weight) <= lastBucket; });
    candidates_.erase(outside, candidates_.end());
    sortCandidates();
    cumulative = 0.0;
    for (size_t i = 0; i < candidates_.size(); ++i) {
        cumulative += candidates_[i].weight;
        if (cumulative >= target) {
            candidates_.resize(i + 1);
            break;
        }
    }
    return true;
}

void Sampler::sortCandidates() {
    std::sort(candidates_.begin(), candidates_.end(), better);
}

double Sampler::candidateMass() const {
    double mass = 0.0;
    for (const Candidate& c : candidates_) mass += c.weight;
    return mass;
}

double Sampler::nextUniform() {
    return static_cast<double>(rng_() >> 11) * 0x1.0p-53;
}

int Sampler::draw() {
    // 53 random bits give a uniform double in [0, 1) without std::uniform_real_distribution,
    // whose algorithm differs between standard libraries.
    const double u = nextUniform();
    const double target = u * candidateMass();
    double cumulative = 0.0;
    for (const Candidate& c : candidates_) {
        cumulative += c.weight;
        if (target < cumulative) return c.id;
    }
    return candidates_.back().id; // rounding left target at the very top
}

} // namespace sala
