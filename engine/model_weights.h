#pragma once
// The model's weights bound to the tensors of a model folder and checked against its config.

#include "config.h"
#include "result.h"
#include "safetensors.h"
#include "tensor_store.h"

#include <cstdint>
#include <filesystem>
#include <vector>

namespace sala {

// A weight as the compute code sees it: row-major [rows, cols] (1-D tensors: rows = 1, cols = n).
// The data lives in the memory-mapped file and is aligned to the element size.
struct Weight {
    DType dtype = DType::F32;
    const void* data = nullptr;
    int64_t rows = 0, cols = 0;
    bool empty() const { return data == nullptr; }
};

// A = numHeads * headDim, LA = lightningHeads * lightningHeadDim. Weights a layer kind or a
// config flag does not use stay empty.
struct LayerWeights {
    LayerKind kind = LayerKind::Sparse;
    Weight inputNorm, postNorm; // [hidden]
    // sparse: q [A,hidden], k/v [kvHeads*headDim, hidden], o [hidden, A];
    // lightning: q/k/v [LA,hidden], o [hidden, LA]
    Weight q, k, v, o;
    // sparse: self_attn.o_gate [A,hidden] (if attnUseOutputGate);
    // lightning: self_attn.z_proj [LA,hidden] (if useOutputGate)
    Weight outGate;
    Weight qNorm, kNorm;            // lightning + qkNorm: [lightningHeadDim]
    Weight oNorm;                   // lightning + useOutputNorm: [LA]
    Weight mlpGate, mlpUp, mlpDown; // [inter, hidden], [inter, hidden], [hidden, inter]
};

struct ModelWeights {
    Weight embed;     // [vocab, hidden]
    Weight finalNorm; // [hidden]
    Weight lmHead;    // [vocab, hidden]; the embedding itself if tie_word_embeddings
    std::vector<LayerWeights> layers;
};

// True for the dtypes weights may have: BF16, F16, F32.
bool isWeightDType(DType dtype);

// Binds and checks every tensor of the store against the config. Errors: Mismatch (a missing
// tensor, an unexpected one, a wrong shape), Unsupported (a dtype other than BF16/F16/F32, data
// not aligned to its element size). The message names the tensor, its file and both shapes;
// when several tensors are wrong it reports the first and counts the rest.
Result<ModelWeights> bindWeights(const ModelConfig& config, const TensorStore& store);

// A model folder opened and checked as a whole. The weights point into `store`, which keeps its
// mappings when the struct is moved.
struct ModelFiles {
    ModelConfig config;
    TensorStore store;
    ModelWeights weights;
};

// Reads `dir`/config.json (NotFound if absent; parse errors as parseModelConfig gives them),
// opens the tensors (TensorStore::openFolder) and binds them.
Result<ModelFiles> openModelFolder(const std::filesystem::path& dir);

} // namespace sala
