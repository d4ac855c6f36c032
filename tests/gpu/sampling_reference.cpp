#include "sampling_reference.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>

namespace gputest {
namespace {
constexpr float kInf = std::numeric_limits<float>::infinity();
} // namespace

std::vector<float> penalised(std::vector<float> l, float penalty, const std::vector<int>& hist) {
    for (float& x : l)
        if (std::isnan(x)) x = -kInf;
    std::vector<char> seen(l.size(), 0);
    for (int t : hist) {
        if (penalty == 1.0f || t < 0 || t >= static_cast<int>(l.size()) || seen[t]) continue;
        seen[t] = 1;
        l[t] = l[t] > 0.0f ? l[t] / penalty : l[t] * penalty;
    }
    return l;
}

Candidates referenceCandidates(const std::vector<float>& raw, const sala::SamplingParams& p,
                               const std::vector<int>& hist) {
    const std::vector<float> l = penalised(raw, p.repetitionPenalty, hist);
    const float top = *std::max_element(l.begin(), l.end());
    struct C {
        float logit, w;
        int id;
    };
    std::vector<C> cs;
    for (int i = 0; i < static_cast<int>(l.size()); ++i) {
        if (top == kInf) {
            if (l[i] == kInf) cs.push_back({l[i], 1.0f, i});
        } else if (l[i] > -kInf) {
            cs.push_back({l[i], std::exp((l[i] - top) / p.temperature), i});
        }
    }
    std::sort(cs.begin(), cs.end(), [](const C& a, const C& b) {
        return a.logit > b.logit || (a.logit == b.logit && a.id < b.id);
    });
    if (p.topK > 0 && static_cast<size_t>(p.topK) < cs.size()) cs.resize(p.topK);
    std::erase_if(cs, [](const C& c) { return c.w == 0.0f; });
    double mass = 0.0;
    for (const C& c : cs) mass += c.w;
    if (p.minP > 0.0f) std::erase_if(cs, [&](const C& c) { return c.w < p.minP; });
    if (p.topP < 1.0f) {
        double cum = 0.0;
        for (size_t i = 0; i < cs.size(); ++i) {
            cum += cs[i].w;
            if (cum >= static_cast<double>(p.topP) * mass) {
                cs.resize(i + 1);
                break;
            }
        }
    }
    Candidates out;
    double cum = 0.0;
    for (const C& c : cs) {
        cum += c.w;
        out.ids.push_back(c.id);
        out.w.push_back(c.w);
        out.cum.push_back(cum);
    }
    return out;
}

int referenceDraw(const Candidates& c, double u) {
    for (size_t i = 0; i < c.ids.size(); ++i)
        if (c.cum[i] / c.total() > u) return c.ids[i];
    return c.ids.back();
}

bool nearBoundary(const Candidates& c, int refId, int gpuId, double u) {
    const int i = c.position(refId), j = c.position(gpuId);
    if (i < 0 || j < 0 || std::abs(i - j) != 1) return false;
    return std::abs(u - c.cum[std::min(i, j)] / c.total()) < kBoundaryTolerance;
}

} // namespace gputest
