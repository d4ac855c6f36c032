#pragma once
// Writes a small random-weight model folder of the MiniCPM-SALA architecture (sparse and
// Lightning layers, HyPE) with the real tokenizer, for tests that need a whole model.

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace testutil {

struct TinyModelSpec {
    int hidden = 64;
    int intermediate = 128;
    int heads = 4;
    int kvHeads = 2;
    int headDim = 16;
    std::vector<std::string> mixers = {"minicpm4", "lightning-attn", "lightning-attn", "minicpm4"};
    int vocab = 0; // 0: the tokenizer's vocabulary
    uint32_t seed = 1;
    // Sparse attention: block size, level-1 compressed-key window and stride, local window,
    // top-k (selection by score starts past (topk + window / block) blocks).
    int blockSize = 16;
    int kernelSize = 8;
    int kernelStride = 4;
    int windowSize = 32;
    int topk = 4;
    bool attnUseRope = false; // rotate q and k in the sparse layers too
    bool copyTokenizer = true;
};

// The folder of the real tokenizer files in the test data.
std::filesystem::path tokenizerDataDir();

// Creates `dir` with config.json, model.safetensors (bf16) and the tokenizer files.
bool writeTinyModel(const std::filesystem::path& dir, const TinyModelSpec& spec = {});

} // namespace testutil
