#pragma once
// Summaries of a GPU timeline: the start and end of every kernel, copy and memset of a phase
// (a prefill, the decode steps), as folio-bench --timeline records them. They say where the
// time of a real run goes, which per-kernel profiling of isolated launches does not: clocks
// under sustained power, cache contents left by the neighbours and the gaps between launches.
// No CUDA here; the recorder is cupti_recorder.h.

#include <cstdint>
#include <string>
#include <vector>

namespace folio::bench {

struct TimelineRecord {
    std::string name;            // kernel name as the driver reports it, or "[memcpy]" etc.
    uint64_t start = 0, end = 0; // nanoseconds, one clock for all records
};

struct TimelineEntry {
    std::string name; // shortKernelName of the records
    int64_t count = 0;
    uint64_t nanoseconds = 0;
    // How much later the phase's work ended because of these records: for each, its end minus
    // the latest end (or its start) before it, where positive. A kernel launched as a
    // programmatic dependent starts while its predecessor runs, so its own span counts waiting;
    // this counts only what it added to the chain. Over all entries and gaps it sums to the span.
    uint64_t marginal = 0;
    // With passes > 1 and a count that is a multiple of it: the time of each consecutive run of
    // count / passes records, in start order. Prefill chunks grow with the context before them,
    // so the first and last chunks tell which kernels grow with it.
    std::vector<uint64_t> perPass;
};

// Idle time between two records, by the names of the record before and after it.
struct TimelineGap {
    std::string before, after;
    int64_t count = 0;
    uint64_t nanoseconds = 0;
};

struct TimelineSummary {
    int64_t records = 0;
    uint64_t span = 0;                  // first start to last end
    uint64_t busy = 0;                  // time covered by at least one record
    std::vector<TimelineEntry> entries; // by total time, largest first
    std::vector<TimelineGap> gaps;      // by total time, largest first
};

// "sparsePrefillKernel" for "void folio::kernels::(anonymous namespace)::sparsePrefillKernel<128,
// 4, 3>(...)" in either mangled or demangled form: template arguments go, so the variants of
// one kernel add up. Names that are no C++ symbol (cuBLAS's kernels) stay as they are.
std::string shortKernelName(const std::string& name);

// The records that start in [from, to), in `passes` alike passes (prefill chunks, decode steps).
TimelineSummary summarizeTimeline(const std::vector<TimelineRecord>& records, uint64_t from,
                                  uint64_t to, int passes = 1);

// A Markdown table of the `top` largest entries and gaps, per pass where `passes` > 1; with
// entries split by pass, also their first, middle and last pass.
std::string formatTimeline(const TimelineSummary& summary, const std::string& title, int passes,
                           int top);

} // namespace folio::bench
