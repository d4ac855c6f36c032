#pragma once
// Records the GPU's kernels, copies and memsets through CUPTI's activity interface while it is
// alive, for folio-bench --timeline. One recorder at a time per process.

#include "kernel_timeline.h"

#include <memory>
#include <string>
#include <vector>

namespace folio::bench {

class CuptiRecorder {
public:
    // Null with `error` set when CUPTI refuses (no device, another profiler attached).
    static std::unique_ptr<CuptiRecorder> start(std::string& error);
    ~CuptiRecorder();
    CuptiRecorder(const CuptiRecorder&) = delete;
    CuptiRecorder& operator=(const CuptiRecorder&) = delete;

    // The clock of the records, to mark where a phase begins and ends.
    uint64_t now() const;
    // The records completed since the last call (the GPU work they cover must have finished).
    std::vector<TimelineRecord> take();

private:
    CuptiRecorder() = default;
};

} // namespace folio::bench
