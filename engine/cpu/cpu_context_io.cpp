// Saving and loading the state of a CPU context (format in context_file.h).

#include "bf16.h"
#include "context_file.h"
#include "cpu_context.h"

namespace sala::cpu {

Status CpuContext::save(const std::filesystem::path& file) const {
    if (broken_) return makeError(ErrorCode::Internal, "the context is damaged; nothing to save");
    ContextFileHeader header{backend_.model().fingerprint, position(),
                             static_cast<uint32_t>(config_.numLayers)};
    auto writer = ContextFileWriter::create(file, header);
    if (!writer) return writer.error();
    SALA_TRY(writer->write(SectionKind::Tokens, 0, SectionType::I32, tokens_.data(),
                           tokens_.size() * sizeof(int)));
    for (int l = 0; l < config_.numLayers; ++l) {
        if (config_.layerKinds[l] == LayerKind::Sparse) {
            const SparseCache& c = sparse_[l];
            for (int g = 0; g < config_.numKvHeads; ++g) {
                // One section per kv head keeps each section contiguous in memory.
                SALA_TRY(writer->write(SectionKind::Keys, l, SectionType::F32, c.keys[g].data(),
                                       c.keys[g].size() * sizeof(float)));
                SALA_TRY(writer->write(SectionKind::Values, l, SectionType::F32, c.values[g].data(),
                                       c.values[g].size() * sizeof(float)));
            }
        } else {
            SALA_TRY(writer->write(SectionKind::LinearState, l, SectionType::F32, linear_[l].data(),
                                   linear_[l].size() * sizeof(float)));
        }
    }
    return writer->finish();
}

namespace {

// Reads one section of floats stored as F32 or BF16 into `out` (which has the expected size).
Status readFloats(ContextFileReader& reader, const SectionInfo& info, std::vector<float>& out,
                  const std::string& what) {
    const uint64_t n = out.size();
    if (info.type == SectionType::F32 && info.bytes == n * sizeof(float))
        return reader.read(out.data(), info.bytes);
    if (info.type == SectionType::BF16 && info.bytes == n * sizeof(uint16_t)) {
        std::vector<uint16_t> raw(n);
        SALA_TRY(reader.read(raw.data(), info.bytes));
        for (uint64_t i = 0; i < n; ++i) out[i] = bf16ToFloat(raw[i]);
        return {};
    }
    return makeError(ErrorCode::Format, "saved state: " + what + " has the wrong size or type");
}

} // namespace

Status CpuContext::load(const std::filesystem::path& file) {
    auto reader = ContextFileReader::open(file, backend_.model().fingerprint);
    if (!reader) return reader.error();
    const ContextFileHeader& header = reader->header();
    if (header.numLayers != static_cast<uint32_t>(config_.numLayers))
        return makeError(ErrorCode::Mismatch, file.string() + ": layer count differs");
    const int64_t n = header.position;
    const SparseParams& p = backend_.sparseParams();
    const int d = config_.headDim;
    const int64_t stateSize =
        int64_t(config_.lightningHeads) * config_.lightningHeadDim * config_.lightningHeadDim;

    // Build the new state aside, so that a damaged file leaves the context as it was.
    std::vector<int> tokens(static_cast<size_t>(n));
    std::vector<SparseCache> sparse(config_.numLayers);
    std::vector<std::vector<float>> linear(config_.numLayers);
    std::vector<int> keyParts(config_.numLayers, 0), valueParts(config_.numLayers, 0);
    bool haveTokens = false;
    for (int l = 0; l < config_.numLayers; ++l)
        if (config_.layerKinds[l] == LayerKind::Sparse) sparse[l].reset(config_.numKvHeads);
    SectionInfo info;
    for (;;) {
        auto more = reader->next(info);
        if (!more) return more.error();
        if (!*more) break;
        const int l = static_cast<int>(info.layer);
        const bool layerOk = info.layer < static_cast<uint32_t>(config_.numLayers);
        if (info.kind == SectionKind::Tokens) {
            if (info.bytes != tokens.size() * sizeof(int))
                return makeError(ErrorCode::Format, file.string() + ": token list size");
            SALA_TRY(reader->read(tokens.data(), info.bytes));
            haveTokens = true;
        } else if ((info.kind == SectionKind::Keys || info.kind == SectionKind::Values) &&
                   layerOk && config_.layerKinds[l] == LayerKind::Sparse) {
            int& part = info.kind == SectionKind::Keys ? keyParts[l] : valueParts[l];
            if (part >= config_.numKvHeads)
                return makeError(ErrorCode::Format, file.string() + ": too many cache sections");
            auto& dst =
                info.kind == SectionKind::Keys ? sparse[l].keys[part] : sparse[l].values[part];
            dst.resize(static_cast<size_t>(n * d));
            SALA_TRY(readFloats(*reader, info, dst, "cache of layer " + std::to_string(l)));
            ++part;
        } else if (info.kind == SectionKind::LinearState && layerOk &&
                   config_.layerKinds[l] == LayerKind::Lightning) {
            linear[l].resize(static_cast<size_t>(stateSize));
            SALA_TRY(readFloats(*reader, info, linear[l], "state of layer " + std::to_string(l)));
        } else {
            return makeError(ErrorCode::Format, file.string() + ": unexpected section");
        }
    }
    if (!haveTokens) return makeError(ErrorCode::Format, file.string() + ": no token list");
    for (int l = 0; l < config_.numLayers; ++l) {
        const bool complete =
            config_.layerKinds[l] == LayerKind::Sparse
                ? keyParts[l] == config_.numKvHeads && valueParts[l] == config_.numKvHeads
                : !linear[l].empty();
        if (!complete)
            return makeError(ErrorCode::Format,
                             file.string() + ": layer " + std::to_string(l) + " is missing");
        if (config_.layerKinds[l] == LayerKind::Sparse) {
            sparse[l].length = n;
            sparse[l].updateCompressed(p);
        }
    }
    for (int t : tokens)
        if (t < 0 || t >= config_.vocabSize)
            return makeError(ErrorCode::Format, file.string() + ": token outside the vocabulary");
    sparse_ = std::move(sparse);
    linear_ = std::move(linear);
    tokens_ = std::move(tokens);
    checkpoints_.clear();
    broken_ = false;
    return {};
}

} // namespace sala::cpu
