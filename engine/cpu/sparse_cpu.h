#pragma once
// InfLLM-V2 sparse attention on the CPU: the key/value cache of one sparse layer, its
// mean-pooled compressed keys, block selection and block-sparse softmax attention.

#include "config.h"
#include "thread_pool.h"

#include <cstdint>
#include <vector>

namespace sala::cpu {

struct SparseParams {
    int heads = 0;   // query heads
    int kvHeads = 0; // key/value heads; query head h uses kv head h / (heads / kvHeads)
    int dim = 0;
    int blockSize = 0;
    int initBlocks = 0;
    int localBlocks = 0;
    int topkTotal = 0;
    int kernel1 = 0, stride1 = 0; // level-1 compressed keys
    int kernel2 = 0, stride2 = 0; // level-2 compressed keys (stage-1 normaliser)
};

// The sparse-attention shape of a model: heads, block selection and compressed keys.
SparseParams sparseParamsOf(const ModelConfig& config);

// Number of complete pooling windows over `n` keys.
inline int64_t compressedCount(int64_t n, int kernel, int stride) {
    return n >= kernel ? (n - kernel) / stride + 1 : 0;
}

// Per kv head, row-major [position][dim]. Compressed keys are kept in step with the keys.
struct SparseCache {
    std::vector<std::vector<float>> keys, values, k1, k2;
    int64_t length = 0;

    void reset(int kvHeads);
    // Appends `tokens` rows of k and v laid out [tokens, kvHeads * dim].
    void append(const SparseParams& p, const float* k, const float* v, int64_t tokens);
    // Brings the compressed keys up to date with the keys (after appending or loading).
    void updateCompressed(const SparseParams& p);
    // Drops everything from position `n` on (compressed keys too).
    void truncate(const SparseParams& p, int64_t n);
    size_t kvBytes() const;
    size_t compressedBytes() const;
};

// Blocks chosen for the query at absolute position `pos` in kv group `g`, ascending.
// `q` holds the query's heads [heads * dim].
std::vector<int> selectBlocks(const SparseParams& p, const SparseCache& cache, const float* q,
                              int64_t pos, int g);

// Attention for `tokens` queries at positions startPos.. over the cache (which already holds
// their own keys). q/out: [tokens, heads * dim]. When `lastSelection` is given it receives
// the blocks of the last query, [kvHeads][topkTotal] padded with -1.
void sparseAttention(ThreadPool& pool, const SparseParams& p, const SparseCache& cache,
                     const float* q, int64_t startPos, int64_t tokens, float* out,
                     std::vector<std::vector<int>>* lastSelection);

// The attention step alone for one query head `qHead` [dim] at `pos` in kv group `g`, over
// a given block list (negative entries are padding), so GPU kernels that take the list as
// input can be checked against the same arithmetic.
void attendBlocks(const SparseParams& p, const SparseCache& cache, const float* qHead, int64_t pos,
                  int g, const std::vector<int>& blocks, float* out);

} // namespace sala::cpu
