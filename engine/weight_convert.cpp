#include "weight_convert.h"

#include "bf16.h"

#include <cstring>

namespace sala {

namespace {

void convertRange(const Weight& w, uint64_t first, uint64_t count, uint16_t* out) {
    if (w.dtype == DType::BF16) {
        std::memcpy(out, static_cast<const uint16_t*>(w.data) + first, count * 2);
    } else if (w.dtype == DType::F16) {
        const auto* src = static_cast<const uint16_t*>(w.data) + first;
        for (uint64_t i = 0; i < count; ++i) out[i] = floatToBf16(f16ToFloat(src[i]));
    } else {
        const auto* src = static_cast<const float*>(w.data) + first;
        for (uint64_t i = 0; i < count; ++i) out[i] = floatToBf16(src[i]);
    }
}

// Below this a range is not worth handing to other threads.
constexpr uint64_t kMinParallel = uint64_t(1) << 20;

} // namespace

void weightToBf16(const Weight& w, uint64_t first, uint64_t count, uint16_t* out,
                  ThreadPool* pool) {
    if (!pool || pool->size() == 1 || count < kMinParallel) {
        convertRange(w, first, count, out);
        return;
    }
    pool->parallelFor(int64_t(count), [&](int64_t begin, int64_t end) {
        convertRange(w, first + uint64_t(begin), uint64_t(end - begin), out + begin);
    });
}

} // namespace sala
