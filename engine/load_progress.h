#pragma once
// Progress of loading a model's weights (bytes done of all), reported on the loading thread.
// The callback returns false to stop the load, which then fails with ErrorCode::Cancelled.

#include "result.h"

#include <cstdint>
#include <functional>

namespace sala {

using LoadProgress = std::function<bool(uint64_t done, uint64_t total)>;

// Reports `done` of `total` (nothing without a callback); Cancelled when the callback says stop.
inline Status reportLoad(const LoadProgress& progress, uint64_t done, uint64_t total) {
    if (progress && !progress(done, total))
        return makeError(ErrorCode::Cancelled, "loading the model was cancelled");
    return {};
}

} // namespace sala
