#include "captured_graph.h"

namespace sala::cuda {

void CapturedGraph::clear() {
    if (exec_) cudaGraphExecDestroy(exec_);
    exec_ = nullptr;
}

Status CapturedGraph::capture(cudaStream_t stream, uint64_t key,
                              const std::function<Status()>& enqueue) {
    clear();
    // Thread-local mode: another thread of the app may use CUDA while this one captures.
    SALA_CUDA(cudaStreamBeginCapture(stream, cudaStreamCaptureModeThreadLocal));
    const Status enqueued = enqueue();
    cudaGraph_t graph = nullptr;
    const cudaError_t ended = cudaStreamEndCapture(stream, &graph);
    Status st = enqueued.ok() ? cudaStatus(ended, "graph capture") : enqueued;
    if (st.ok()) st = cudaStatus(cudaGraphInstantiate(&exec_, graph, 0), "graph instantiate");
    if (graph) cudaGraphDestroy(graph);
    if (!st.ok()) {
        exec_ = nullptr;
        cudaGetLastError(); // a failed capture may leave its error for the next call; drop it
        return st;
    }
    key_ = key;
    ++captures_;
    return {};
}

Status CapturedGraph::launch(cudaStream_t stream) const {
    if (!exec_) return makeError(ErrorCode::Internal, "no captured graph to launch");
    return cudaStatus(cudaGraphLaunch(exec_, stream), "graph launch");
}

} // namespace sala::cuda
