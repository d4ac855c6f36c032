#include "config.h"

#include "file_util.h"

#include <nlohmann/json.hpp>

#include <cmath>

namespace sala {
namespace {

using Json = nlohmann::json;

class Reader {
public:
    Reader(const Json& root, std::string source) : root_(root), source_(std::move(source)) {}

    Error error(const std::string& what) const {
        return makeError(ErrorCode::Format, source_ + ": " + what);
    }

    // Reads a required integer field; false (with `err` set) if absent or of the wrong type.
    bool integer(const Json& obj, const char* key, int64_t& out, std::string& err,
                 bool required = true) const {
        auto it = obj.find(key);
        if (it == obj.end() || it->is_null()) {
            if (required) err = std::string("missing field \"") + key + "\"";
            return !required;
        }
        if (!it->is_number_integer()) {
            err = std::string("field \"") + key + "\" must be an integer";
            return false;
        }
        out = it->get<int64_t>();
        return true;
    }
    bool number(const Json& obj, const char* key, double& out, std::string& err,
                bool required = true) const {
        auto it = obj.find(key);
        if (it == obj.end() || it->is_null()) {
            if (required) err = std::string("missing field \"") + key + "\"";
            return !required;
        }
        if (!it->is_number()) {
            err = std::string("field \"") + key + "\" must be a number";
            return false;
        }
        out = it->get<double>();
        return true;
    }
    bool boolean(const Json& obj, const char* key, bool& out, std::string& err) const {
        auto it = obj.find(key);
        if (it == obj.end() || it->is_null()) return true;
        if (!it->is_boolean()) {
            err = std::string("field \"") + key + "\" must be true or false";
            return false;
        }
        out = it->get<bool>();
        return true;
    }

private:
    const Json& root_;
    std::string source_;
};

bool readInt(const Reader& r, const Json& obj, const char* key, int& out, std::string& err,
             bool required = true) {
    int64_t v = out;
    if (!r.integer(obj, key, v, err, required)) return false;
    if (v < INT32_MIN || v > INT32_MAX) {
        err = std::string("field \"") + key + "\" is out of range";
        return false;
    }
    out = static_cast<int>(v);
    return true;
}

Result<std::vector<int>> readIdList(const Json& obj, const char* key, const Reader& r) {
    std::vector<int> ids;
    auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) return ids;
    if (it->is_number_integer()) {
        ids.push_back(it->get<int>());
        return ids;
    }
    if (!it->is_array()) return r.error(std::string("field \"") + key + "\" must be an id list");
    for (const auto& v : *it) {
        if (!v.is_number_integer())
            return r.error(std::string("field \"") + key + "\" must hold integers");
        ids.push_back(v.get<int>());
    }
    return ids;
}

Result<LayerKind> parseLayerKind(const std::string& name, const Reader& r, size_t index) {
    if (name == "minicpm4") return LayerKind::Sparse;
    if (name == "lightning" || name == "lightning_attn" || name == "lightning-attn")
        return LayerKind::Lightning;
    return r.error("mixer_types[" + std::to_string(index) + "] is \"" + name +
                   "\", expected \"minicpm4\" or \"lightning-attn\"");
}

Status readSparseConfig(const Json& root, const Reader& r, SparseConfig& sc) {
    auto it = root.find("sparse_config");
    if (it == root.end() || !it->is_object()) return r.error("missing object \"sparse_config\"");
    std::string err;
    const Json& s = *it;
    if (!readInt(r, s, "block_size", sc.blockSize, err) ||
        !readInt(r, s, "kernel_size", sc.kernelSize, err) ||
        !readInt(r, s, "kernel_stride", sc.kernelStride, err) ||
        !readInt(r, s, "window_size", sc.windowSize, err) ||
        !readInt(r, s, "init_blocks", sc.initBlocks, err) || !readInt(r, s, "topk", sc.topk, err) ||
        !readInt(r, s, "dense_len", sc.denseLen, err, false) ||
        !r.boolean(s, "use_nope", sc.useNope, err))
        return r.error("sparse_config: " + err);
    if (sc.blockSize <= 0 || sc.kernelSize <= 0 || sc.kernelStride <= 0 || sc.windowSize < 0 ||
        sc.initBlocks < 0 || sc.topk < 0)
        return r.error("sparse_config: sizes must be positive");
    // Block scores max-pool k1 entries B/s1 at a time, so a block must hold whole strides.
    if (sc.blockSize % sc.kernelStride != 0)
        return r.error("sparse_config: block_size must be a multiple of kernel_stride");
    if (sc.windowSize % sc.blockSize != 0)
        return r.error("sparse_config: window_size must be a multiple of block_size");
    return {};
}

Status checkShapes(const ModelConfig& c, const Reader& r) {
    auto positive = [&](int v, const char* name) -> Status {
        if (v <= 0) return r.error(std::string("field \"") + name + "\" must be positive");
        return {};
    };
    SALA_TRY(positive(c.vocabSize, "vocab_size"));
    SALA_TRY(positive(c.hiddenSize, "hidden_size"));
    SALA_TRY(positive(c.intermediateSize, "intermediate_size"));
    SALA_TRY(positive(c.numLayers, "num_hidden_layers"));
    SALA_TRY(positive(c.numHeads, "num_attention_heads"));
    SALA_TRY(positive(c.numKvHeads, "num_key_value_heads"));
    SALA_TRY(positive(c.headDim, "head_dim"));
    SALA_TRY(positive(c.lightningHeads, "lightning_nh"));
    SALA_TRY(positive(c.lightningHeadDim, "lightning_head_dim"));
    if (c.numHeads % c.numKvHeads != 0)
        return r.error("num_attention_heads must be a multiple of num_key_value_heads");
    if (c.lightningKvHeads != c.lightningHeads)
        return makeError(ErrorCode::Unsupported,
                         "lightning layers with grouped key/value heads are not supported");
    if (c.headDim % 2 != 0 || c.lightningHeadDim % 2 != 0)
        return r.error("head dimensions must be even for rotary embeddings");
    if (static_cast<int>(c.layerKinds.size()) != c.numLayers)
        return r.error("mixer_types has " + std::to_string(c.layerKinds.size()) +
                       " entries but num_hidden_layers is " + std::to_string(c.numLayers));
    if (c.rmsNormEps <= 0) return r.error("rms_norm_eps must be positive");
    if (c.dimModelBase <= 0) return r.error("dim_model_base must be positive");
    if (c.bosTokenId < 0 || c.bosTokenId >= c.vocabSize)
        return r.error("bos_token_id is outside the vocabulary");
    for (int id : c.eosTokenIds)
        if (id < 0 || id >= c.vocabSize) return r.error("eos_token_id is outside the vocabulary");
    return {};
}

Status readFlags(const Json& root, const Reader& r, ModelConfig& c) {
    std::string err;
    bool bias = false;
    if (!r.boolean(root, "lightning_use_rope", c.lightningUseRope, err) ||
        !r.boolean(root, "attn_use_rope", c.attnUseRope, err) ||
        !r.boolean(root, "attn_use_output_gate", c.attnUseOutputGate, err) ||
        !r.boolean(root, "use_output_gate", c.useOutputGate, err) ||
        !r.boolean(root, "use_output_norm", c.useOutputNorm, err) ||
        !r.boolean(root, "qk_norm", c.qkNorm, err) ||
        !r.boolean(root, "attention_bias", bias, err) ||
        !r.boolean(root, "tie_word_embeddings", c.tieWordEmbeddings, err))
        return r.error(err);
    if (bias) return makeError(ErrorCode::Unsupported, "attention_bias=true is not supported");
    if (auto act = root.find("hidden_act"); act != root.end() && *act != "silu")
        return makeError(ErrorCode::Unsupported, "only hidden_act \"silu\" is supported");
    if (auto rs = root.find("rope_scaling"); rs != root.end() && !rs->is_null())
        return makeError(ErrorCode::Unsupported, "rope_scaling is not supported");
    if (auto ls = root.find("lightning_scale"); ls != root.end() && *ls != "1/sqrt(d)")
        return makeError(ErrorCode::Unsupported, "only lightning_scale \"1/sqrt(d)\" is supported");
    return {};
}

Status readSizes(const Json& root, const Reader& r, ModelConfig& c) {
    std::string err;
    int64_t maxPos = 0;
    if (!readInt(r, root, "vocab_size", c.vocabSize, err) ||
        !readInt(r, root, "hidden_size", c.hiddenSize, err) ||
        !readInt(r, root, "intermediate_size", c.intermediateSize, err) ||
        !readInt(r, root, "num_hidden_layers", c.numLayers, err) ||
        !readInt(r, root, "num_attention_heads", c.numHeads, err) ||
        !readInt(r, root, "num_key_value_heads", c.numKvHeads, err))
        return r.error(err);
    c.headDim = c.numHeads > 0 ? c.hiddenSize / c.numHeads : 0;
    c.lightningHeads = c.numHeads;
    if (!readInt(r, root, "head_dim", c.headDim, err, false) ||
        !readInt(r, root, "lightning_nh", c.lightningHeads, err, false))
        return r.error(err);
    c.lightningKvHeads = c.lightningHeads;
    c.lightningHeadDim = c.headDim;
    if (!readInt(r, root, "lightning_nkv", c.lightningKvHeads, err, false) ||
        !readInt(r, root, "lightning_head_dim", c.lightningHeadDim, err, false) ||
        !r.number(root, "rms_norm_eps", c.rmsNormEps, err, false) ||
        !r.number(root, "rope_theta", c.ropeTheta, err, false) ||
        !r.integer(root, "max_position_embeddings", maxPos, err, false) ||
        !r.number(root, "scale_emb", c.scaleEmb, err, false) ||
        !r.number(root, "scale_depth", c.scaleDepth, err, false) ||
        !readInt(r, root, "bos_token_id", c.bosTokenId, err, false) ||
        !readInt(r, root, "pad_token_id", c.padTokenId, err, false))
        return r.error(err);
    c.maxPositionEmbeddings = maxPos;
    c.dimModelBase = c.hiddenSize;
    if (!r.number(root, "dim_model_base", c.dimModelBase, err, false)) return r.error(err);
    return {};
}

} // namespace

double ModelConfig::residualScale() const {
    return scaleDepth / std::sqrt(double(numLayers));
}
double ModelConfig::logitDivisor() const {
    return double(hiddenSize) / dimModelBase;
}

int ModelConfig::numSparseLayers() const {
    int n = 0;
    for (LayerKind k : layerKinds) n += k == LayerKind::Sparse;
    return n;
}
int ModelConfig::numLightningLayers() const {
    return numLayers - numSparseLayers();
}

Result<ModelConfig> parseModelConfig(const std::string& jsonText, const std::string& source) {
    Json root = Json::parse(jsonText, nullptr, /*allow_exceptions=*/false);
    Reader r(root, source);
    if (root.is_discarded()) return r.error("not valid JSON");
    if (!root.is_object()) return r.error("the top level must be a JSON object");

    ModelConfig c;
    if (auto mt = root.find("model_type"); mt != root.end() && mt->is_string())
        c.modelType = mt->get<std::string>();
    if (c.modelType != "minicpm_sala")
        return makeError(ErrorCode::Unsupported, source + ": model_type is \"" + c.modelType +
                                                     "\", Folio runs \"minicpm_sala\" models");
    if (auto a = root.find("architectures"); a != root.end() && a->is_array())
        for (const auto& v : *a)
            if (v.is_string()) c.architectures.push_back(v.get<std::string>());
    if (auto d = root.find("torch_dtype"); d != root.end() && d->is_string())
        c.torchDtype = d->get<std::string>();

    SALA_TRY(readSizes(root, r, c));
    SALA_TRY(readFlags(root, r, c));
    auto eos = readIdList(root, "eos_token_id", r);
    if (!eos) return eos.error();
    c.eosTokenIds = *eos;

    auto mixers = root.find("mixer_types");
    if (mixers == root.end() || !mixers->is_array()) return r.error("missing list \"mixer_types\"");
    for (size_t i = 0; i < mixers->size(); ++i) {
        if (!(*mixers)[i].is_string()) return r.error("mixer_types must hold strings");
        auto kind = parseLayerKind((*mixers)[i].get<std::string>(), r, i);
        if (!kind) return kind.error();
        c.layerKinds.push_back(*kind);
    }
    SALA_TRY(readSparseConfig(root, r, c.sparse));
    SALA_TRY(checkShapes(c, r));
    return c;
}

Result<ModelConfig> loadModelConfig(const std::filesystem::path& configFile) {
    auto text = readTextFile(configFile);
    if (!text) return text.error();
    return parseModelConfig(*text, configFile.string());
}

Result<GenerationDefaults> loadGenerationDefaults(const std::filesystem::path& file) {
    auto text = readTextFile(file);
    if (!text) return text.error();
    Json root = Json::parse(*text, nullptr, false);
    Reader r(root, file.string());
    if (root.is_discarded() || !root.is_object()) return r.error("not a valid JSON object");
    GenerationDefaults g;
    std::string err;
    if (root.contains("temperature")) {
        g.hasTemperature = r.number(root, "temperature", g.temperature, err);
        if (!g.hasTemperature) return r.error(err);
    }
    if (root.contains("top_p")) {
        g.hasTopP = r.number(root, "top_p", g.topP, err);
        if (!g.hasTopP) return r.error(err);
    }
    if (root.contains("top_k")) {
        g.hasTopK = readInt(r, root, "top_k", g.topK, err);
        if (!g.hasTopK) return r.error(err);
    }
    if (root.contains("do_sample")) {
        g.hasDoSample = true;
        if (!r.boolean(root, "do_sample", g.doSample, err)) return r.error(err);
    }
    auto eos = readIdList(root, "eos_token_id", r);
    if (!eos) return eos.error();
    g.eosTokenIds = *eos;
    return g;
}

} // namespace sala
