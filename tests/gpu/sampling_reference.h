#pragma once
// The sampling rule the GPU kernels document, written independently of both samplers, for the
// GPU suite: candidates ordered by logit descending (so probability descending), equal logits by
// id ascending, cut by top-k, min-p and top-p; the draw takes the first whose cumulative
// normalised weight exceeds u.

#include "sampler.h"

#include <algorithm>
#include <vector>

namespace gputest {

// How far from a cumulative boundary a draw may land on the neighbouring candidate.
constexpr double kBoundaryTolerance = 1e-5;

struct Candidates {
    std::vector<int> ids;    // best first
    std::vector<float> w;    // unnormalised probabilities
    std::vector<double> cum; // running sum of w, inclusive
    double total() const { return cum.empty() ? 0.0 : cum.back(); }
    int position(int id) const {
        const auto it = std::find(ids.begin(), ids.end(), id);
        return it == ids.end() ? -1 : static_cast<int>(it - ids.begin());
    }
};

// The logits with NaNs as -inf and the repetition penalty applied once per distinct
// token of hist.
std::vector<float> penalised(std::vector<float> l, float penalty, const std::vector<int>& hist);

Candidates referenceCandidates(const std::vector<float>& raw, const sala::SamplingParams& p,
                               const std::vector<int>& hist);

int referenceDraw(const Candidates& c, double u);

// A disagreement the float rounding of exp and of the sums can explain: neighbours, with u
// within kBoundaryTolerance of the cumulative boundary between them.
bool nearBoundary(const Candidates& c, int refId, int gpuId, double u);

} // namespace gputest
