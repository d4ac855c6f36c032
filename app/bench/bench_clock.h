#pragma once
// The wall clock the benchmark's timings read.

#include <chrono>

namespace folio::bench {

using Clock = std::chrono::steady_clock;

inline double secondsSince(Clock::time_point t) {
    return std::chrono::duration<double>(Clock::now() - t).count();
}

} // namespace folio::bench
