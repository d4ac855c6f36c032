// Binding a model folder's tensors to the config: the golden models, altered copies of them and
// broken configs.

#include "bf16.h"
#include "model_weights.h"
#include "safetensors_writer.h"

#include <QDir>
#include <QTemporaryDir>
#include <QTest>

#include <nlohmann/json.hpp>

#include <cstring>
#include <filesystem>

using namespace sala;
using namespace testutil;
namespace fs = std::filesystem;
using Json = nlohmann::json;

namespace {

const fs::path kGolden = fs::path(FOLIO_TEST_DATA_DIR) / "golden";

std::vector<fs::path> goldenFolders() {
    std::vector<fs::path> out;
    for (const auto& e : fs::directory_iterator(kGolden))
        if (e.is_directory() && fs::exists(e.path() / "config.json")) out.push_back(e.path());
    std::sort(out.begin(), out.end());
    return out;
}

bool contains(const std::string& haystack, const std::string& needle) {
    return haystack.find(needle) != std::string::npos;
}

std::vector<const Weight*> allWeights(const ModelWeights& w) {
    std::vector<const Weight*> out = {&w.embed, &w.finalNorm, &w.lmHead};
    for (const auto& l : w.layers)
        for (const Weight* x : {&l.inputNorm, &l.postNorm, &l.q, &l.k, &l.v, &l.o, &l.outGate,
                                &l.qNorm, &l.kNorm, &l.oNorm, &l.mlpGate, &l.mlpUp, &l.mlpDown})
            out.push_back(x);
    return out;
}

size_t nonEmpty(const ModelWeights& w) {
    size_t n = 0;
    for (const Weight* x : allWeights(w)) n += !x->empty();
    return n;
}

std::string editConfig(const std::string& text, const std::function<void(Json&)>& edit) {
    Json j = Json::parse(text);
    edit(j);
    return j.dump(2);
}

} // namespace

class TestModelWeights : public QObject {
    Q_OBJECT

private:
    QTemporaryDir tmp_;
    fs::path path(const std::string& name) const {
        return fs::path(tmp_.path().toStdString()) / name;
    }
    const fs::path caseA_ = kGolden / "a_micro_dense";
    std::vector<TensorData> tensorsA_;
    std::string configA_;

    // Writes the altered copy, opens it and returns the result.
    Result<ModelFiles> openCopy(const std::string& name, const std::vector<TensorData>& tensors,
                                const std::string& config, int shards = 1,
                                const WriteOptions& opt = {}) {
        const fs::path dir = path(name);
        if (!writeModelFolder(dir, config, tensors, shards, opt))
            return makeError(ErrorCode::Io, "test could not write " + dir.string());
        return openModelFolder(dir);
    }

private slots:
    void initTestCase() {
        QVERIFY(tmp_.isValid());
        tensorsA_ = readTensors(caseA_ / "model.safetensors");
        configA_ = readBytes(caseA_ / "config.json");
        QVERIFY(!tensorsA_.empty());
        QVERIFY(!configA_.empty());
    }

    void goldenModelsBind() {
        const auto folders = goldenFolders();
        QVERIFY(folders.size() >= 5);
        for (const auto& dir : folders) {
            auto m = openModelFolder(dir);
            QVERIFY2(m.ok(), m.ok() ? "" : m.error().message.c_str());
            const ModelConfig& c = m->config;
            const ModelWeights& w = m->weights;
            QCOMPARE(int(w.layers.size()), c.numLayers);
            // Every tensor of the file is bound to exactly one weight.
            QCOMPARE(nonEmpty(w), m->store.size());
            QVERIFY(w.lmHead.data != w.embed.data);
            QCOMPARE(w.embed.rows, int64_t(c.vocabSize));
            QCOMPARE(w.embed.cols, int64_t(c.hiddenSize));
            QCOMPARE(w.finalNorm.rows, int64_t(1));
            QCOMPARE(w.embed.data,
                     static_cast<const void*>(m->store.find("model.embed_tokens.weight")->data));
            for (size_t i = 0; i < w.layers.size(); ++i) {
                const LayerWeights& l = w.layers[i];
                const std::string p = "model.layers." + std::to_string(i) + ".";
                QVERIFY(l.kind == c.layerKinds[i]);
                QCOMPARE(l.q.data, static_cast<const void*>(
                                       m->store.find(p + "self_attn.q_proj.weight")->data));
                QCOMPARE(l.mlpDown.rows, int64_t(c.hiddenSize));
                QCOMPARE(l.mlpDown.cols, int64_t(c.intermediateSize));
                if (l.kind == LayerKind::Sparse) {
                    QCOMPARE(l.q.rows, int64_t(c.numHeads) * c.headDim);
                    QCOMPARE(l.k.rows, int64_t(c.numKvHeads) * c.headDim);
                    QCOMPARE(l.o.cols, int64_t(c.numHeads) * c.headDim);
                    QVERIFY(l.qNorm.empty() && l.oNorm.empty());
                    QCOMPARE(l.outGate.data,
                             static_cast<const void*>(
                                 m->store.find(p + "self_attn.o_gate.weight")->data));
                } else {
                    QCOMPARE(l.q.rows, int64_t(c.lightningHeads) * c.lightningHeadDim);
                    QCOMPARE(l.qNorm.cols, int64_t(c.lightningHeadDim));
                    QCOMPARE(l.oNorm.cols, int64_t(c.lightningHeads) * c.lightningHeadDim);
                    QCOMPARE(l.outGate.data,
                             static_cast<const void*>(
                                 m->store.find(p + "self_attn.z_proj.weight")->data));
                }
                for (const Weight* x : {&l.q, &l.k, &l.v, &l.o, &l.mlpGate})
                    QVERIFY(x->dtype == DType::BF16);
            }
        }
    }

    void shardedGoldenBinds() {
        auto single = openModelFolder(caseA_);
        QVERIFY(single.ok());
        auto m = openCopy("sharded", tensorsA_, configA_, 4);
        QVERIFY2(m.ok(), m.ok() ? "" : m.error().message.c_str());
        QCOMPARE(m->store.files().size(), size_t(4));
        QCOMPARE(nonEmpty(m->weights), m->store.size());
        const Weight& a = m->weights.layers[2].oNorm;
        const Weight& b = single->weights.layers[2].oNorm;
        QCOMPARE(a.cols, b.cols);
        QVERIFY(std::memcmp(a.data, b.data, size_t(a.cols) * 2) == 0);
    }

    void missingTensor() {
        auto ts = tensorsA_;
        const std::string name = "model.layers.1.self_attn.q_norm.weight";
        QVERIFY(removeTensor(ts, name));
        auto m = openCopy("missing", ts, configA_);
        QVERIFY(!m.ok());
        QCOMPARE(m.error().code, ErrorCode::Mismatch);
        QVERIFY2(contains(m.error().message, "\"" + name + "\""), m.error().message.c_str());
        QVERIFY2(!contains(m.error().message, "more problem"), m.error().message.c_str());
    }

    void severalProblemsAreCounted() {
        auto ts = tensorsA_;
        QVERIFY(removeTensor(ts, "model.norm.weight"));
        QVERIFY(removeTensor(ts, "model.layers.3.mlp.up_proj.weight"));
        auto m = openCopy("several", ts, configA_);
        QVERIFY(!m.ok());
        QVERIFY2(contains(m.error().message, "\"model.norm.weight\""), m.error().message.c_str());
        QVERIFY2(contains(m.error().message, "1 more problem"), m.error().message.c_str());
    }

    void unexpectedTensor() {
        auto ts = tensorsA_;
        const std::string name = "model.layers.1.self_attn.rotary_emb.inv_freq";
        ts.push_back({name, "F32", {8}, std::string(32, '\0')});
        auto m = openCopy("extra", ts, configA_);
        QVERIFY(!m.ok());
        QCOMPARE(m.error().code, ErrorCode::Mismatch);
        QVERIFY2(contains(m.error().message, "\"" + name + "\""), m.error().message.c_str());
        QVERIFY2(contains(m.error().message, (path("extra") / "model.safetensors").string()),
                 m.error().message.c_str());
    }

    void wrongShape() {
        auto ts = tensorsA_;
        const std::string name = "model.layers.0.self_attn.o_proj.weight";
        TensorData* t = findTensor(ts, name);
        QVERIFY(t != nullptr && t->shape.size() == 2 && t->shape[0] != t->shape[1]);
        const std::vector<int64_t> expected = t->shape;
        std::swap(t->shape[0], t->shape[1]);
        auto m = openCopy("shape", ts, configA_);
        QVERIFY(!m.ok());
        QCOMPARE(m.error().code, ErrorCode::Mismatch);
        const std::string& msg = m.error().message;
        QVERIFY2(contains(msg, "\"" + name + "\""), msg.c_str());
        QVERIFY2(contains(msg, (path("shape") / "model.safetensors").string()), msg.c_str());
        QVERIFY2(contains(msg, shapeString(expected)), msg.c_str());
        QVERIFY2(contains(msg, shapeString(t->shape)), msg.c_str());
    }

    void unsupportedDtype() {
        auto ts = tensorsA_;
        const std::string name = "model.layers.2.post_attention_layernorm.weight";
        TensorData* t = findTensor(ts, name);
        QVERIFY(t != nullptr && t->dtype == "BF16");
        t->dtype = "I16"; // same size, so the file itself stays valid
        auto m = openCopy("dtype", ts, configA_);
        QVERIFY(!m.ok());
        QCOMPARE(m.error().code, ErrorCode::Unsupported);
        QVERIFY2(contains(m.error().message, "\"" + name + "\""), m.error().message.c_str());
        QVERIFY2(contains(m.error().message, "I16"), m.error().message.c_str());
    }

    void f16AndF32Accepted() {
        auto f16 = tensorsA_;
        for (auto& t : f16) t.dtype = "F16";
        auto m16 = openCopy("f16", f16, configA_);
        QVERIFY2(m16.ok(), m16.ok() ? "" : m16.error().message.c_str());
        for (const Weight* w : allWeights(m16->weights))
            if (!w->empty()) QVERIFY(w->dtype == DType::F16);

        auto f32 = tensorsA_;
        for (size_t i = 0; i < f32.size(); i += 2) bf16ToF32(f32[i]); // half F32, half BF16
        auto m32 = openCopy("f32", f32, configA_);
        QVERIFY2(m32.ok(), m32.ok() ? "" : m32.error().message.c_str());
        QCOMPARE(nonEmpty(m32->weights), f32.size());
        // Values survive the conversion exactly.
        auto original = openModelFolder(caseA_);
        QVERIFY(original.ok());
        bool sawF32 = false;
        const auto got = allWeights(m32->weights), want = allWeights(original->weights);
        for (size_t i = 0; i < got.size(); ++i) {
            if (got[i]->empty() || got[i]->dtype != DType::F32) continue;
            sawF32 = true;
            const auto* f = static_cast<const float*>(got[i]->data);
            const auto* b = static_cast<const uint16_t*>(want[i]->data);
            for (int64_t j = 0; j < got[i]->rows * got[i]->cols; ++j)
                QCOMPARE(f[j], bf16ToFloat(b[j]));
        }
        QVERIFY(sawF32);
    }

    void misalignedDataRejected() {
        WriteOptions opt;
        opt.extraPad = 1; // the data area starts at an odd offset
        auto m = openCopy("misaligned", tensorsA_, configA_, 1, opt);
        QVERIFY(!m.ok());
        QCOMPARE(m.error().code, ErrorCode::Unsupported);
        QVERIFY2(contains(m.error().message, "aligned"), m.error().message.c_str());
    }

    void tiedEmbeddings() {
        const std::string tied =
            editConfig(configA_, [](Json& j) { j["tie_word_embeddings"] = true; });
        auto ts = tensorsA_;
        QVERIFY(removeTensor(ts, "lm_head.weight"));
        auto m = openCopy("tied", ts, tied);
        QVERIFY2(m.ok(), m.ok() ? "" : m.error().message.c_str());
        QCOMPARE(m->weights.lmHead.data, m->weights.embed.data);
        // A tied checkpoint that still stores lm_head is accepted too.
        auto kept = openCopy("tied_kept", tensorsA_, tied);
        QVERIFY2(kept.ok(), kept.ok() ? "" : kept.error().message.c_str());
        QCOMPARE(kept->weights.lmHead.data, kept->weights.embed.data);
        // An untied config needs lm_head.
        auto untied = openCopy("untied_missing", ts, configA_);
        QVERIFY(!untied.ok());
        QVERIFY(contains(untied.error().message, "\"lm_head.weight\""));
    }

    void configFlagsDecideTheTensors() {
        const std::string noGate =
            editConfig(configA_, [](Json& j) { j["use_output_gate"] = false; });
        auto withZ = openCopy("nogate_with_z", tensorsA_, noGate);
        QVERIFY(!withZ.ok());
        QCOMPARE(withZ.error().code, ErrorCode::Mismatch);
        QVERIFY(contains(withZ.error().message, "z_proj"));

        auto ts = tensorsA_;
        for (int i : {1, 2})
            QVERIFY(
                removeTensor(ts, "model.layers." + std::to_string(i) + ".self_attn.z_proj.weight"));
        auto m = openCopy("nogate", ts, noGate);
        QVERIFY2(m.ok(), m.ok() ? "" : m.error().message.c_str());
        QVERIFY(m->weights.layers[1].outGate.empty());
        QVERIFY(!m->weights.layers[0].outGate.empty()); // sparse o_gate is another flag
    }

    void configErrors() {
        auto none = openCopy("no_config", tensorsA_, "");
        QVERIFY(!none.ok());
        QCOMPARE(none.error().code, ErrorCode::NotFound);
        QVERIFY(contains(none.error().message, "config.json"));

        auto bad = openCopy("bad_config", tensorsA_, "{\"model_type\": ");
        QVERIFY(!bad.ok());
        QCOMPARE(bad.error().code, ErrorCode::Format);
        QVERIFY(contains(bad.error().message, "config.json"));

        auto llama = openCopy("llama", tensorsA_,
                              editConfig(configA_, [](Json& j) { j["model_type"] = "llama"; }));
        QVERIFY(!llama.ok());
        QCOMPARE(llama.error().code, ErrorCode::Unsupported);
        QVERIFY(contains(llama.error().message, "llama"));

        // A config describing another layout than the file: every layer's MLP is the wrong size.
        auto wider = openCopy("wider", tensorsA_, editConfig(configA_, [](Json& j) {
                                  j["intermediate_size"] = j["intermediate_size"].get<int>() * 2;
                              }));
        QVERIFY(!wider.ok());
        QCOMPARE(wider.error().code, ErrorCode::Mismatch);
        QVERIFY(contains(wider.error().message, "mlp"));

        auto noWeights = openModelFolder(path("no_weights_here"));
        QVERIFY(!noWeights.ok());
        QCOMPARE(noWeights.error().code, ErrorCode::NotFound);
    }
};

QTEST_GUILESS_MAIN(TestModelWeights)
#include "test_model_weights.moc"
