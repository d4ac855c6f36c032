#include "cuda_context.h"

#include "cpu/sparse_cpu.h"

namespace sala::cuda {

CudaContext::CudaContext(CudaBackend& backend)
    : backend_(backend), config_(backend.model().config), stream_(backend.stream()) {}

CudaContext::~CudaContext() {
    for (cudaEvent_t e : partEvents_)
        if (e) cudaEventDestroy(e);
}

uint64_t CudaContext::Workspace::bytes() const {
    uint64_t n = 0;
    for (const DeviceBuffer* b : {&ids, &h, &x, &proj, &attn, &act, &blocks, &select, &decode,
                                  &logits, &hidden, &sample, &history, &step})
        n += b->bytes();
    return n;
}

Status CudaContext::init() {
    sparse_.resize(config_.numLayers);
    linear_.resize(config_.numLayers);
    const uint64_t stateBytes = uint64_t(config_.lightningHeads) * config_.lightningHeadDim *
                                config_.lightningHeadDim * sizeof(float);
    for (int l = 0; l < config_.numLayers; ++l)
        if (config_.layerKinds[l] == LayerKind::Lightning)
            SALA_TRY(linear_[l].allocate(stateBytes));
    for (cudaEvent_t& e : partEvents_)
        SALA_CUDA(cudaEventCreateWithFlags(&e, cudaEventDisableTiming));
    reset();
    return cudaStatus(cudaStreamSynchronize(stream_), "context init");
}

void CudaContext::reset() {
    for (DeviceBuffer& s : linear_)
        if (s.bytes()) cudaMemsetAsync(s.get(), 0, s.bytes(), stream_);
    tokens_.clear();
    checkpoints_.clear();
    broken_ = false;
}

int64_t CudaContext::compressedCapacity(int kernel, int stride) const {
    return std::max<int64_t>(cpu::compressedCount(capacity_, kernel, stride), 1);
}

Status CudaContext::reserve(int64_t tokens) {
    if (tokens <= capacity_) return {};
    if (tokens > backend_.plan().maxTokens)
        return makeError(ErrorCode::OutOfMemory,
                         "a context of " + std::to_string(tokens) +
                             " tokens does not fit in GPU memory (the plan allows " +
                             std::to_string(backend_.plan().maxTokens) + ")");
    // Grow geometrically so that a long prefill reallocates a few times only.
    const int64_t target = std::min<int64_t>(std::max<int64_t>(tokens, capacity_ + capacity_ / 2),
                                             backend_.plan().maxTokens);
    const int kv = config_.numKvHeads;
    const int64_t d = config_.headDim;
    const auto& sc = config_.sparse;
    const int64_t oldCap1 = compressedCapacity(sc.kernelSize, sc.kernelStride);
    const int64_t oldCap2 = compressedCapacity(sc.kernelSize2(), sc.kernelStride2());
    const int64_t oldCap = capacity_;
    capacity_ = target;
    ++buffersGeneration_;
    const int64_t newCap1 = compressedCapacity(sc.kernelSize, sc.kernelStride);
    const int64_t newCap2 = compressedCapacity(sc.kernelSize2(), sc.kernelStride2());
    // Per-head segments move to their new head stride with one strided copy each.
    auto regrow = [&](DeviceBuffer& buf, int64_t oldRows, int64_t newRows) -> Status {
        DeviceBuffer fresh;
        SALA_TRY(fresh.allocate(uint64_t(kv) * newRows * d * 2));
        if (buf.bytes() > 0)
            SALA_CUDA(cudaMemcpy2DAsync(fresh.get(), newRows * d * 2, buf.get(), oldRows * d * 2,
                                        oldRows * d * 2, kv, cudaMemcpyDeviceToDevice, stream_));
        SALA_CUDA(cudaStreamSynchronize(stream_));
        buf = std::move(fresh);
        return {};
    };
    for (int l = 0; l < config_.numLayers; ++l) {
        if (config_.layerKinds[l] != LayerKind::Sparse) continue;
        SparseState& s = sparse_[l];
        SALA_TRY(regrow(s.keys, oldCap, capacity_));
        SALA_TRY(regrow(s.values, oldCap, capacity_));
        SALA_TRY(regrow(s.k1, oldCap1, newCap1));
        SALA_TRY(regrow(s.k2, oldCap2, newCap2));
    }
    return {};
}

Status CudaContext::copyLinearStates(bool toCheckpoint, DeviceBuffer& checkpoint) {
    uint64_t total = 0;
    for (const DeviceBuffer& s : linear_) total += s.bytes();
    if (toCheckpoint) SALA_TRY(checkpoint.allocate(total));
    uint64_t offset = 0;
    for (DeviceBuffer& s : linear_) {
        if (!s.bytes()) continue;
        char* saved = checkpoint.as<char>() + offset;
        SALA_CUDA(cudaMemcpyAsync(toCheckpoint ? saved : s.get(), toCheckpoint ? s.get() : saved,
                                  s.bytes(), cudaMemcpyDeviceToDevice, stream_));
        offset += s.bytes();
    }
    return cudaStatus(cudaStreamSynchronize(stream_), "checkpoint copy");
}

CheckpointId CudaContext::checkpoint() {
    Checkpoint c;
    c.position = position();
    if (!copyLinearStates(true, c.linear).ok()) return -1;
    const CheckpointId id = nextCheckpoint_++;
    checkpoints_.emplace(id, std::move(c));
    return id;
}

Status CudaContext::rollback(CheckpointId id) {
    auto target = rollbackTarget(checkpoints_, id);
    if (!target) return target.error();
    Checkpoint& c = (*target)->second;
    // The sparse caches need no copy: everything past the position is simply ignored and
    // overwritten; compressed-key counts follow from the position.
    SALA_TRY(copyLinearStates(false, c.linear));
    tokens_.resize(static_cast<size_t>(c.position));
    broken_ = false;
    dropCheckpointsPastPosition(checkpoints_);
    return {};
}

void CudaContext::dropCheckpoint(CheckpointId id) {
    checkpoints_.erase(id);
}

MemoryReport CudaContext::memory() const {
    MemoryReport m;
    m.weights = backend_.weights().storage.bytes();
    for (const SparseState& s : sparse_) {
        m.kvCache += s.keys.bytes() + s.values.bytes();
        m.compressedKeys += s.k1.bytes() + s.k2.bytes();
    }
    for (const DeviceBuffer& s : linear_) m.linearState += s.bytes();
    for (const auto& [id, c] : checkpoints_) m.checkpoints += c.linear.bytes();
    m.workspace = ws_.bytes() + backend_.gemm().workspaceBytes();
    size_t freeBytes = 0, totalBytes = 0;
    if (cudaMemGetInfo(&freeBytes, &totalBytes) == cudaSuccess) {
        m.deviceFree = freeBytes;
        m.deviceTotal = totalBytes;
    }
    return m;
}

} // namespace sala::cuda
