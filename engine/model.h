#pragma once
// A loaded model: configuration, memory-mapped tensors bound to their roles.

#include "config.h"
#include "model_weights.h"
#include "result.h"
#include "tensor_store.h"

#include <filesystem>
#include <memory>

namespace sala {

struct Model {
    std::filesystem::path dir;
    ModelConfig config;
    TensorStore store;
    ModelWeights weights;
    uint64_t fingerprint = 0; // identifies the weights for saved context states
};

// Reads config.json and the safetensors files of a Hugging Face model folder and validates
// every tensor against the configuration.
Result<std::shared_ptr<const Model>> loadModel(const std::filesystem::path& dir);

// A model described by its configuration alone, without host weights: backends that can
// make random weights (the CUDA backend, for benchmarks) build it from this. The fingerprint
// covers the configuration and the seed of the random weights.
Result<std::shared_ptr<const Model>> configOnlyModel(const std::filesystem::path& configFile,
                                                     uint64_t seed);

} // namespace sala
