#include "tiny_model.h"

#include "bf16.h"
#include "safetensors_writer.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <random>

namespace testutil {

std::filesystem::path tokenizerDataDir() {
    return std::filesystem::path(FOLIO_TEST_DATA_DIR) / "tokenizer" / "minicpm4";
}

namespace {

constexpr int kTokenizerVocab = 73448;

nlohmann::json configFor(const TinyModelSpec& s, int vocab) {
    return {{"architectures", {"MiniCPMSALAForCausalLM"}},
            {"model_type", "minicpm_sala"},
            {"vocab_size", vocab},
            {"hidden_size", s.hidden},
            {"intermediate_size", s.intermediate},
            {"num_hidden_layers", s.mixers.size()},
            {"num_attention_heads", s.heads},
            {"num_key_value_heads", s.kvHeads},
            {"head_dim", s.headDim},
            {"lightning_nh", s.heads},
            {"lightning_nkv", s.heads},
            {"lightning_head_dim", s.headDim},
            {"lightning_scale", "1/sqrt(d)"},
            {"lightning_use_rope", true},
            {"attn_use_rope", s.attnUseRope},
            {"attn_use_output_gate", true},
            {"use_output_gate", true},
            {"use_output_norm", true},
            {"qk_norm", true},
            {"attention_bias", false},
            {"hidden_act", "silu"},
            {"rms_norm_eps", 1e-6},
            {"rope_theta", 10000.0},
            {"max_position_embeddings", 524288},
            {"scale_emb", 12},
            {"scale_depth", 1.4},
            {"dim_model_base", 16},
            {"tie_word_embeddings", false},
            {"bos_token_id", 1},
            {"eos_token_id", {2, vocab - 8}},
            {"pad_token_id", 2},
            {"torch_dtype", "bfloat16"},
            {"mixer_types", s.mixers},
            {"sparse_config",
             {{"block_size", s.blockSize},
              {"kernel_size", s.kernelSize},
              {"kernel_stride", s.kernelStride},
              {"window_size", s.windowSize},
              {"init_blocks", 1},
              {"topk", s.topk},
              {"dense_len", 8192},
              {"use_nope", false}}}};
}

class Filler {
public:
    explicit Filler(uint32_t seed) : rng_(seed) {}

    TensorData matrix(const std::string& name, int64_t rows, int64_t cols, double scale) {
        std::uniform_real_distribution<float> u(-1.0f, 1.0f);
        return make(name, {rows, cols}, [&] { return float(scale) * u(rng_); });
    }
    TensorData vector(const std::string& name, int64_t n) {
        std::uniform_real_distribution<float> u(0.8f, 1.2f);
        return make(name, {n}, [&] { return u(rng_); });
    }

private:
    template <typename F>
    TensorData make(const std::string& name, std::vector<int64_t> shape, F&& draw) {
        int64_t n = 1;
        for (int64_t d : shape) n *= d;
        std::string bytes(size_t(n) * 2, '\0');
        for (int64_t i = 0; i < n; ++i) {
            const uint16_t b = sala::floatToBf16(draw());
            bytes[2 * i] = char(b & 0xff);
            bytes[2 * i + 1] = char(b >> 8);
        }
        return {name, "BF16", std::move(shape), std::move(bytes)};
    }
    std::mt19937 rng_;
};

} // namespace

bool writeTinyModel(const std::filesystem::path& dir, const TinyModelSpec& s) {
    const int vocab = s.vocab > 0 ? s.vocab : kTokenizerVocab;
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    Filler f(s.seed);
    std::vector<TensorData> t;
    const int64_t H = s.hidden, A = int64_t(s.heads) * s.headDim,
                  KV = int64_t(s.kvHeads) * s.headDim, I = s.intermediate;
    const double in = 1.0 / std::sqrt(double(H));
    t.push_back(f.matrix("model.embed_tokens.weight", vocab, H, 0.1));
    t.push_back(f.matrix("lm_head.weight", vocab, H, 1.0));
    t.push_back(f.vector("model.norm.weight", H));
    for (size_t l = 0; l < s.mixers.size(); ++l) {
        const std::string p = "model.layers." + std::to_string(l) + ".";
        const bool sparse = s.mixers[l] == "minicpm4";
        t.push_back(f.vector(p + "input_layernorm.weight", H));
        t.push_back(f.vector(p + "post_attention_layernorm.weight", H));
        t.push_back(f.matrix(p + "self_attn.q_proj.weight", A, H, in));
        t.push_back(f.matrix(p + "self_attn.k_proj.weight", sparse ? KV : A, H, in));
        t.push_back(f.matrix(p + "self_attn.v_proj.weight", sparse ? KV : A, H, in));
        t.push_back(f.matrix(p + "self_attn.o_proj.weight", H, A, 1.0 / std::sqrt(double(A))));
        t.push_back(f.matrix(p + (sparse ? "self_attn.o_gate.weight" : "self_attn.z_proj.weight"),
                             A, H, in));
        if (!sparse) {
            t.push_back(f.vector(p + "self_attn.q_norm.weight", s.headDim));
            t.push_back(f.vector(p + "self_attn.k_norm.weight", s.headDim));
            t.push_back(f.vector(p + "self_attn.o_norm.weight", A));
        }
        t.push_back(f.matrix(p + "mlp.gate_proj.weight", I, H, in));
        t.push_back(f.matrix(p + "mlp.up_proj.weight", I, H, in));
        t.push_back(f.matrix(p + "mlp.down_proj.weight", H, I, 1.0 / std::sqrt(double(I))));
    }
    if (!writeModelFolder(dir, configFor(s, vocab).dump(2), t)) return false;
    if (!s.copyTokenizer) return true;
    for (const auto& entry : std::filesystem::directory_iterator(tokenizerDataDir(), ec)) {
        const std::string name = entry.path().filename().string();
        if (name.find("golden") != std::string::npos || name == "examples.json" ||
            name == "README.md")
            continue;
        std::filesystem::copy_file(entry.path(), dir / name,
                                   std::filesystem::copy_options::overwrite_existing, ec);
        if (ec) return false;
    }
    return true;
}

} // namespace testutil
