#pragma once
// A weight's elements as bf16, for the copy of a model's weights to the GPU: bf16 is copied,
// f16 and f32 are converted (rounding to nearest even).

#include "model_weights.h"
#include "thread_pool.h"

#include <cstdint>

namespace sala {

// Elements [first, first + count) of `w` into out[0, count). With a pool the range is split over
// its threads: one thread copying from a memory-mapped file into page-locked memory reached only
// 6-7 GB/s on the GPU machines (docs/perf.md), below what the copy to the device takes.
void weightToBf16(const Weight& w, uint64_t first, uint64_t count, uint16_t* out,
                  ThreadPool* pool = nullptr);

} // namespace sala
