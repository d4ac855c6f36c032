// A sparse layer's prefill in parts: the block selection of part p + 1 runs on the backend's
// selection stream while part p attends on the context's stream. The selection is bound by its
// scoring's exponentials and latency, the attention by L2 and memory traffic, so an SM that
// holds thread blocks of both keeps more of its units busy than either kernel alone; the
// selection stream's priority gives its blocks the room the attention's blocks leave as they
// finish. On an H100 that took 3 % off a 1M prefill but cost 0.7 % at 128K, where the selection
// is short (docs/perf.md), hence BackendOptions::selectionOverlapFrom.

#include "cuda_context.h"

#include <algorithm>

namespace sala::cuda {

namespace k = folio::kernels;

bool CudaContext::overlapsSelection(k::Position start, int64_t T) const {
    const int64_t from = backend_.options().selectionOverlapFrom;
    return !start.device && from >= 0 && start.value >= from &&
           T >= int64_t(kSelectionParts) * config_.sparse.blockSize;
}

Status CudaContext::selectWhileAttending(int l, int64_t start, int64_t T) {
    const cudaStream_t side = backend_.selectionStream();
    const int64_t block = config_.sparse.blockSize;
    // Whole key blocks per part, so that each part's attention starts on a block boundary.
    const int64_t per = ((T + kSelectionParts - 1) / kSelectionParts + block - 1) / block * block;
    SALA_CUDA(cudaEventRecord(partEvents_[0], stream_));
    SALA_CUDA(cudaStreamWaitEvent(side, partEvents_[0]));
    int part = 0;
    for (int64_t first = 0; first < T; first += per, ++part) {
        Status chosen = sparseSelect(l, start, first, std::min(per, T - first), side);
        if (chosen.ok())
            chosen = cudaStatus(cudaEventRecord(partEvents_[1 + part], side), "selection event");
        if (!chosen.ok()) {
            // Nothing on the context's stream may pass selections still running.
            cudaEventRecord(partEvents_[0], side);
            cudaStreamWaitEvent(stream_, partEvents_[0]);
            return chosen;
        }
    }
    part = 0;
    for (int64_t first = 0; first < T; first += per, ++part) {
        SALA_CUDA(cudaStreamWaitEvent(stream_, partEvents_[1 + part]));
        SALA_TRY(attendRows(l, start, first, std::min(per, T - first)));
    }
    ++overlappedLayers_;
    return {};
}

} // namespace sala::cuda
