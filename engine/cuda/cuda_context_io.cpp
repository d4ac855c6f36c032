// Saving and loading the state of a CUDA context, in the format shared with the CPU backend
// (context_file.h): keys and values as bf16 sections, linear states as f32.

#include "bf16.h"
#include "context_file.h"
#include "cuda_context.h"

#include <algorithm>
#include <vector>

namespace sala::cuda {

Status CudaContext::save(const std::filesystem::path& file) const {
    if (broken_) return makeError(ErrorCode::Internal, "the context is damaged; nothing to save");
    const int64_t n = position();
    const int64_t d = config_.headDim;
    ContextFileHeader header{backend_.model().fingerprint, n,
                             static_cast<uint32_t>(config_.numLayers)};
    auto writer = ContextFileWriter::create(file, header);
    if (!writer) return writer.error();
    SALA_TRY(writer->write(SectionKind::Tokens, 0, SectionType::I32, tokens_.data(),
                           tokens_.size() * sizeof(int)));
    std::vector<uint16_t> host(static_cast<size_t>(n * d));
    std::vector<float> state;
    for (int l = 0; l < config_.numLayers; ++l) {
        if (config_.layerKinds[l] == LayerKind::Sparse) {
            const SparseState& s = sparse_[l];
            for (int g = 0; g < config_.numKvHeads; ++g) {
                for (auto [kind, buf] : {std::pair{SectionKind::Keys, &s.keys},
                                         std::pair{SectionKind::Values, &s.values}}) {
                    if (n > 0)
                        SALA_TRY(copyAndWait(host.data(), buf->as<char>() + g * capacity_ * d * 2,
                                             n * d * 2, cudaMemcpyDeviceToHost, stream_,
                                             "cache download"));
                    SALA_TRY(writer->write(kind, l, SectionType::BF16, host.data(), n * d * 2));
                }
            }
        } else {
            state.resize(linear_[l].bytes() / sizeof(float));
            SALA_TRY(copyAndWait(state.data(), linear_[l].get(), linear_[l].bytes(),
                                 cudaMemcpyDeviceToHost, stream_, "state download"));
            SALA_TRY(writer->write(SectionKind::LinearState, l, SectionType::F32, state.data(),
                                   linear_[l].bytes()));
        }
    }
    return writer->finish();
}

namespace {

// Page-locked host memory that a cache section streams through on its way to the GPU: copies
// from it run at the bus's rate without a staging copy by the driver. Where page-locked memory
// is refused, ordinary memory does the same job more slowly.
class StagingBuffers {
public:
    static constexpr int kCount = 4;
    static constexpr size_t kMaxBytes = 32u << 20;

    ~StagingBuffers() { release(); }
    void ensure(size_t bytes) {
        bytes = std::min(bytes, kMaxBytes);
        if (bytes <= bytes_) return;
        release();
        for (void*& p : pinned_) {
            if (cudaMallocHost(&p, bytes) != cudaSuccess) {
                cudaGetLastError(); // a refusal is not sticky
                p = nullptr;
                release();
                fallback_.assign(kCount, std::vector<char>(bytes));
                for (int i = 0; i < kCount; ++i) pointers_[i] = fallback_[i].data();
                bytes_ = bytes;
                return;
            }
        }
        for (int i = 0; i < kCount; ++i) pointers_[i] = pinned_[i];
        bytes_ = bytes;
    }
    void* const* data() const { return pointers_; }
    size_t bytes() const { return bytes_; }

private:
    void release() {
        for (void*& p : pinned_) {
            if (p) cudaFreeHost(p);
            p = nullptr;
        }
        fallback_.clear();
        bytes_ = 0;
    }
    void* pinned_[kCount] = {};
    void* pointers_[kCount] = {};
    std::vector<std::vector<char>> fallback_;
    size_t bytes_ = 0;
};

// Reads a section of n elements stored as BF16 or F32 and returns them as bf16 bits.
Status readAsBf16(ContextFileReader& reader, const SectionInfo& info, uint64_t n,
                  std::vector<uint16_t>& out) {
    out.resize(n);
    if (info.type == SectionType::BF16 && info.bytes == n * 2)
        return reader.read(out.data(), info.bytes);
    if (info.type == SectionType::F32 && info.bytes == n * 4) {
        std::vector<float> f(n);
        SALA_TRY(reader.read(f.data(), info.bytes));
        for (uint64_t i = 0; i < n; ++i) out[i] = floatToBf16(f[i]);
        return {};
    }
    return makeError(ErrorCode::Format, "saved state: a cache section has the wrong size");
}

} // namespace

Status CudaContext::load(const std::filesystem::path& file) {
    auto reader = ContextFileReader::open(file, backend_.model().fingerprint);
    if (!reader) return reader.error();
    const ContextFileHeader& header = reader->header();
    if (header.numLayers != static_cast<uint32_t>(config_.numLayers))
        return makeError(ErrorCode::Mismatch, file.string() + ": layer count differs");
    const int64_t n = header.position;
    const int64_t d = config_.headDim;
    SALA_TRY(reserve(n));
    // The device state is overwritten as sections arrive; any failure leaves the context
    // reset rather than half-loaded.
    auto failed = [&](Status st) {
        reset();
        return st;
    };
    std::vector<int> tokens(static_cast<size_t>(n));
    std::vector<int> keyParts(config_.numLayers, 0), valueParts(config_.numLayers, 0);
    std::vector<bool> stateSeen(config_.numLayers, false);
    bool haveTokens = false;
    std::vector<uint16_t> host;
    StagingBuffers staging;
    SectionInfo info;
    for (;;) {
        auto more = reader->next(info);
        if (!more) return failed(more.error());
        if (!*more) break;
        const int l = static_cast<int>(info.layer);
        const bool layerOk = info.layer < static_cast<uint32_t>(config_.numLayers);
        if (info.kind == SectionKind::Tokens && info.bytes == tokens.size() * sizeof(int)) {
            SALA_TRY(reader->read(tokens.data(), info.bytes));
            haveTokens = true;
        } else if ((info.kind == SectionKind::Keys || info.kind == SectionKind::Values) &&
                   layerOk && config_.layerKinds[l] == LayerKind::Sparse) {
            int& part = info.kind == SectionKind::Keys ? keyParts[l] : valueParts[l];
            if (part >= config_.numKvHeads)
                return failed(makeError(ErrorCode::Format, file.string() + ": extra section"));
            DeviceBuffer& buf =
                info.kind == SectionKind::Keys ? sparse_[l].keys : sparse_[l].values;
            char* dst = buf.as<char>() + part * capacity_ * d * 2;
            Status st;
            if (info.type == SectionType::BF16 && info.bytes == uint64_t(n * d * 2) && n > 0) {
                // The section streams from the disk through the staging buffers to the GPU.
                staging.ensure(info.bytes);
                st = reader->readPieces(
                    info.bytes, staging.data(), StagingBuffers::kCount, staging.bytes(),
                    [&](const void* piece, size_t bytes) -> Status {
                        SALA_CUDA(
                            cudaMemcpyAsync(dst, piece, bytes, cudaMemcpyHostToDevice, stream_));
                        dst += bytes;
                        return cudaStatus(cudaStreamSynchronize(stream_), "state upload");
                    });
            } else {
                st = readAsBf16(*reader, info, uint64_t(n * d), host);
                if (st.ok() && n > 0)
                    st = copyAndWait(dst, host.data(), n * d * 2, cudaMemcpyHostToDevice, stream_,
                                     "state upload");
            }
            if (!st.ok()) return failed(st);
            ++part;
        } else if (info.kind == SectionKind::LinearState && layerOk &&
                   config_.layerKinds[l] == LayerKind::Lightning && info.type == SectionType::F32 &&
                   info.bytes == linear_[l].bytes()) {
            std::vector<float> state(info.bytes / sizeof(float));
            Status st = reader->read(state.data(), info.bytes);
            if (st.ok())
                st = copyAndWait(linear_[l].get(), state.data(), info.bytes, cudaMemcpyHostToDevice,
                                 stream_, "state upload");
            if (!st.ok()) return failed(st);
            stateSeen[l] = true;
        } else {
            return failed(makeError(ErrorCode::Format, file.string() + ": unexpected section"));
        }
    }
    for (int l = 0; l < config_.numLayers; ++l) {
        const bool sparse = config_.layerKinds[l] == LayerKind::Sparse;
        const bool complete =
            sparse ? keyParts[l] == config_.numKvHeads && valueParts[l] == config_.numKvHeads
                   : bool(stateSeen[l]);
        if (!complete)
            return failed(makeError(ErrorCode::Format, file.string() + ": layer " +
                                                           std::to_string(l) + " is missing"));
        if (sparse) SALA_TRY(compress(l, 0, n));
    }
    if (!haveTokens) return failed(makeError(ErrorCode::Format, file.string() + ": no tokens"));
    tokens_ = std::move(tokens);
    checkpoints_.clear();
    broken_ = false;
    return cudaStatus(cudaStreamSynchronize(stream_), "load");
}

} // namespace sala::cuda
