#include "decoder.h"

#include <string>

namespace sala {

std::unique_ptr<Decoder> Context::decoder(Sampler& sampler) {
    return std::make_unique<PlainDecoder>(*this, sampler);
}

Status PlainDecoder::expect(int token) const {
    if (finished_) return makeError(ErrorCode::InvalidArgument, "the decode run has ended");
    if (drawn_ >= 0 && token != drawn_)
        return makeError(ErrorCode::InvalidArgument,
                         "a decode run goes on from the token it drew (" + std::to_string(drawn_) +
                             "), not from " + std::to_string(token));
    return {};
}

Result<int> PlainDecoder::next(int token) {
    SALA_TRY(expect(token));
    auto drawn = context_.forwardSample(std::span<const int>(&token, 1), sampler_);
    if (!drawn) return drawn.error();
    drawn_ = *drawn;
    return drawn_;
}

Status PlainDecoder::finish(int last, bool keep) {
    SALA_TRY(expect(last));
    finished_ = true;
    if (!keep) return {};
    ForwardOutput unused;
    return context_.forward(std::span<const int>(&last, 1), ForwardOptions{}, unused);
}

} // namespace sala
