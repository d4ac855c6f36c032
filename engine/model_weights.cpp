#include "model_weights.h"

#include <cstdint>
#include <set>
#include <string>

namespace sala {
namespace {

// Collects every problem so that the error can say how many tensors are wrong, not just one.
class Binder {
public:
    explicit Binder(const TensorStore& store) : store_(store) {}

    Weight bind(const std::string& name, std::vector<int64_t> shape) {
        expected_.insert(name);
        const TensorView* t = store_.find(name);
        if (t == nullptr) {
            problem(ErrorCode::Mismatch, store_.source() + ": missing tensor \"" + name +
                                             "\" (expected shape " + shapeString(shape) + ")");
            return {};
        }
        const std::string where = t->file + ": tensor \"" + name + "\": ";
        if (!isWeightDType(t->dtype)) {
            problem(ErrorCode::Unsupported, where + "dtype " + dtypeName(t->dtype) +
                                                " is not supported for weights (BF16, F16, F32)");
            return {};
        }
        if (t->shape != shape) {
            problem(ErrorCode::Mismatch,
                    where + "shape " + shapeString(t->shape) + ", expected " + shapeString(shape));
            return {};
        }
        // The compute code reads elements through typed pointers.
        if (reinterpret_cast<uintptr_t>(t->data) % dtypeSize(t->dtype) != 0) {
            problem(ErrorCode::Unsupported, where + "data is not aligned to its " +
                                                std::to_string(dtypeSize(t->dtype)) +
                                                "-byte elements");
            return {};
        }
        Weight w;
        w.dtype = t->dtype;
        w.data = t->data;
        w.rows = shape.size() == 2 ? shape[0] : 1;
        w.cols = shape.back();
        return w;
    }

    Status finish() {
        for (const auto& name : store_.names())
            if (!expected_.contains(name))
                problem(ErrorCode::Mismatch, store_.find(name)->file + ": unexpected tensor \"" +
                                                 name + "\" (" +
                                                 shapeString(store_.find(name)->shape) + ")");
        if (problems_.empty()) return {};
        Error first = problems_.front();
        if (problems_.size() > 1)
            first.message += " (and " + std::to_string(problems_.size() - 1) + " more problem" +
                             (problems_.size() > 2 ? "s" : "") + ")";
        return first;
    }

private:
    void problem(ErrorCode code, std::string message) {
        problems_.push_back(makeError(code, std::move(message)));
    }

    const TensorStore& store_;
    std::set<std::string> expected_;
    std::vector<Error> problems_;
};

void bindSparse(const ModelConfig& c, const std::string& p, Binder& b, LayerWeights& l) {
    const int64_t h = c.hiddenSize, a = c.attnWidth(), kv = c.kvWidth();
    l.q = b.bind(p + "self_attn.q_proj.weight", {a, h});
    l.k = b.bind(p + "self_attn.k_proj.weight", {kv, h});
    l.v = b.bind(p + "self_attn.v_proj.weight", {kv, h});
    l.o = b.bind(p + "self_attn.o_proj.weight", {h, a});
    if (c.attnUseOutputGate) l.outGate = b.bind(p + "self_attn.o_gate.weight", {a, h});
}

void bindLightning(const ModelConfig& c, const std::string& p, Binder& b, LayerWeights& l) {
    const int64_t h = c.hiddenSize, la = c.lightningWidth();
    const int64_t lkv = int64_t(c.lightningKvHeads) * c.lightningHeadDim;
    l.q = b.bind(p + "self_attn.q_proj.weight", {la, h});
    l.k = b.bind(p + "self_attn.k_proj.weight", {lkv, h});
    l.v = b.bind(p + "self_attn.v_proj.weight", {lkv, h});
    l.o = b.bind(p + "self_attn.o_proj.weight", {h, la});
    if (c.useOutputGate) l.outGate = b.bind(p + "self_attn.z_proj.weight", {la, h});
    if (c.qkNorm) {
        l.qNorm = b.bind(p + "self_attn.q_norm.weight", {c.lightningHeadDim});
        l.kNorm = b.bind(p + "self_attn.k_norm.weight", {c.lightningHeadDim});
    }
    if (c.useOutputNorm) l.oNorm = b.bind(p + "self_attn.o_norm.weight", {la});
}

LayerWeights bindLayer(const ModelConfig& c, size_t i, Binder& b) {
    const std::string p = "model.layers." + std::to_string(i) + ".";
    const int64_t h = c.hiddenSize, inter = c.intermediateSize;
    LayerWeights l;
    l.kind = c.layerKinds[i];
    l.inputNorm = b.bind(p + "input_layernorm.weight", {h});
    l.postNorm = b.bind(p + "post_attention_layernorm.weight", {h});
    if (l.kind == LayerKind::Sparse)
        bindSparse(c, p, b, l);
    else
        bindLightning(c, p, b, l);
    l.mlpGate = b.bind(p + "mlp.gate_proj.weight", {inter, h});
    l.mlpUp = b.bind(p + "mlp.up_proj.weight", {inter, h});
    l.mlpDown = b.bind(p + "mlp.down_proj.weight", {h, inter});
    return l;
}

} // namespace

bool isWeightDType(DType dtype) {
    return dtype == DType::BF16 || dtype == DType::F16 || dtype == DType::F32;
}

Result<ModelWeights> bindWeights(const ModelConfig& config, const TensorStore& store) {
    Binder b(store);
    ModelWeights w;
    const int64_t vocab = config.vocabSize, h = config.hiddenSize;
    w.embed = b.bind("model.embed_tokens.weight", {vocab, h});
    w.finalNorm = b.bind("model.norm.weight", {h});
    // Tied checkpoints normally omit lm_head; one that stores it anyway is checked and unused,
    // since tying means the embedding is the output projection.
    if (!config.tieWordEmbeddings || store.find("lm_head.weight") != nullptr)
        w.lmHead = b.bind("lm_head.weight", {vocab, h});
    if (config.tieWordEmbeddings) w.lmHead = w.embed;
    for (size_t i = 0; i < config.layerKinds.size(); ++i)
        w.layers.push_back(bindLayer(config, i, b));
    SALA_TRY(b.finish());
    return w;
}

Result<ModelFiles> openModelFolder(const std::filesystem::path& dir) {
    std::error_code ec;
    if (!std::filesystem::is_directory(dir, ec))
        return makeError(ErrorCode::NotFound, dir.string() + ": no such folder");
    auto config = loadModelConfig(dir / "config.json");
    if (!config) return config.error();
    auto store = TensorStore::openFolder(dir);
    if (!store) return store.error();
    auto weights = bindWeights(*config, *store);
    if (!weights) return weights.error();
    return ModelFiles{std::move(*config), std::move(*store), std::move(*weights)};
}

} // namespace sala
