#pragma once
// The model configuration, read from a Hugging Face `config.json`.

#include "result.h"

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace sala {

enum class LayerKind { Sparse, Lightning };

struct SparseConfig {
    int blockSize = 64;
    int denseLen = 8192; // kept for completeness; Folio always uses the per-query sparse rule
    int initBlocks = 1;
    int kernelSize = 32;   // level-1 compressed-key window
    int kernelStride = 16; // level-1 compressed-key stride
    int topk = 64;
    bool useNope = false;
    int windowSize = 2048;

    int localBlocks() const { return windowSize / blockSize; }
    int topkTotal() const { return topk + localBlocks(); }
    // The level-2 keys are hard-wired to four times the level-1 window and stride.
    int kernelSize2() const { return 4 * kernelSize; }
    int kernelStride2() const { return 4 * kernelStride; }
};

struct ModelConfig {
    std::string modelType;
    std::vector<std::string> architectures;
    int vocabSize = 0;
    int hiddenSize = 0;
    int intermediateSize = 0;
    int numLayers = 0;
    int numHeads = 0;   // query heads of sparse layers
    int numKvHeads = 0; // key/value heads of sparse layers
    int headDim = 0;
    int lightningHeads = 0;
    int lightningKvHeads = 0;
    int lightningHeadDim = 0;
    bool lightningUseRope = true;
    bool attnUseRope = false;
    bool attnUseOutputGate = true;
    bool useOutputGate = true;
    bool useOutputNorm = true;
    bool qkNorm = true;
    double rmsNormEps = 1e-6;
    double ropeTheta = 10000.0;
    int64_t maxPositionEmbeddings = 0;
    double scaleEmb = 1.0;
    double scaleDepth = 1.0;
    double dimModelBase = 0;
    bool tieWordEmbeddings = false;
    int bosTokenId = 1;
    std::vector<int> eosTokenIds;
    int padTokenId = -1;
    std::string torchDtype;
    std::vector<LayerKind> layerKinds;
    SparseConfig sparse;

    double residualScale() const;
    double logitDivisor() const;
    int attnWidth() const { return numHeads * headDim; } // sparse q / o width
    int kvWidth() const { return numKvHeads * headDim; } // sparse k / v width
    int lightningWidth() const { return lightningHeads * lightningHeadDim; }
    int numSparseLayers() const;
    int numLightningLayers() const;
};

// Parses and validates config text. `source` names the file in error messages.
Result<ModelConfig> parseModelConfig(const std::string& jsonText, const std::string& source);
Result<ModelConfig> loadModelConfig(const std::filesystem::path& configFile);

// Sampling defaults of a model folder's generation_config.json (fields absent stay unset).
struct GenerationDefaults {
    bool hasTemperature = false;
    double temperature = 0;
    bool hasTopP = false;
    double topP = 0;
    bool hasTopK = false;
    int topK = 0;
    bool hasDoSample = false;
    bool doSample = false;
    std::vector<int> eosTokenIds;
};
Result<GenerationDefaults> loadGenerationDefaults(const std::filesystem::path& file);

} // namespace sala
