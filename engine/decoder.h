#pragma once
// A run of one-token decode steps: generation's loop, and the bench's.
//
// The plain decoder runs each step when the host asks for it. A backend may instead run ahead:
// start the step that appends the token it is drawing before the host has seen that token, and
// drop that step if the host ends the run without it. Either way the tokens drawn and the context
// left behind are the same; a run ahead needs to know how the run ends, hence finish(). (On an
// H100 such a run measured no faster: a CUDA step's interval is the GPU's own time, see the
// eleventh part of docs/perf.md; no backend runs ahead today.)

#include "backend.h"
#include "sampler.h"

namespace sala {

class Decoder {
public:
    virtual ~Decoder() = default;

    // Appends `token` to the context and returns the token drawn after it with the run's
    // sampler. From the second call on, `token` must be what the previous call returned.
    virtual Result<int> next(int token) = 0;

    // Ends the run once the host has seen `last`: the previous call's result, or, before any
    // call, the token the run starts from. With keep, `last` joins the context as
    // Context::forward() adds a token; without, the context ends before it. A decoder destroyed
    // without finish() ends as finish(last, false) would. No call may follow.
    virtual Status finish(int last, bool keep) = 0;
};

// Each step when asked: next() is Context::forwardSample, finish(last, true) Context::forward.
class PlainDecoder final : public Decoder {
public:
    PlainDecoder(Context& context, Sampler& sampler) : context_(context), sampler_(sampler) {}
    Result<int> next(int token) override;
    Status finish(int last, bool keep) override;

private:
    Status expect(int token) const;

    Context& context_;
    Sampler& sampler_;
    int drawn_ = -1; // what next() returned last, -1 before the first call
    bool finished_ = false;
};

} // namespace sala
