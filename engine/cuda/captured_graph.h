#pragma once
// A run of launches on one stream captured once and replayed as a single CUDA graph: the decode
// step's few hundred kernels then cost one launch instead of one each, and the GPU runs them
// back to back without waiting on the host.

#include "cuda_status.h"

#include <functional>

namespace sala::cuda {

class CapturedGraph {
public:
    CapturedGraph() = default;
    ~CapturedGraph() { clear(); }
    CapturedGraph(const CapturedGraph&) = delete;
    CapturedGraph& operator=(const CapturedGraph&) = delete;

    // Captures what `enqueue` launches on `stream` (nothing runs yet), replacing any earlier
    // graph; `key` identifies the buffers the launches were recorded with. On failure the
    // stream is left out of capture mode and no graph is held.
    Status capture(cudaStream_t stream, uint64_t key, const std::function<Status()>& enqueue);
    Status launch(cudaStream_t stream) const;
    // True when a graph recorded with `key` is held.
    bool holds(uint64_t key) const { return exec_ != nullptr && key_ == key; }
    void clear();
    int captures() const { return captures_; }

private:
    cudaGraphExec_t exec_ = nullptr;
    uint64_t key_ = 0;
    int captures_ = 0;
};

} // namespace sala::cuda
