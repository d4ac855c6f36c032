#pragma once
// Shared by the selection suites: shapes, a device context of cached and compressed keys with
// host copies, queries laid out as the fused projection lays them out, the CPU twin's selection
// and the checks of a selection's structure and agreement.

#include "cpu/sparse_cpu.h"
#include "gpu_test_util.h"
#include "sparse_select.cuh"

#include <QMetaType>

#include <random>
#include <vector>

namespace gputest {

using folio::kernels::SparseSelectParams;

constexpr double kSameSetsMin = 0.995;
constexpr int kUnwritten = 0x7f7f7f7f; // sentinel of block outputs; -1 is a legal padding

// heads, kvHeads, dim, blockSize, init, local, topkTotal, kernel1, stride1, kernel2, stride2
SparseSelectParams tinyShape();
SparseSelectParams realShape();
// Level-2 windows so long that early sparse queries see none: the level-1 fallback.
SparseSelectParams lateK2Shape();

sala::cpu::SparseParams cpuParams(const SparseSelectParams& p);

// The CPU twin's selection for queries at positions start.. (rows of `rowStride` floats).
std::vector<int32_t> cpuSelect(const SparseSelectParams& p, const sala::cpu::SparseCache& cache,
                               const float* q, int64_t rowStride, int64_t tokens, int64_t start);

// Keys [position][kvHeads * dim] with a random topic per stride1-long segment, so that the
// compressed keys differ from each other the way real ones do; bf16-rounded.
std::vector<float> structuredKeys(const SparseSelectParams& p, int64_t n, std::mt19937& rng);

// [position][kvHeads * dim] -> [kvHeads][capacity][dim], bf16.
std::vector<__nv_bfloat16> headMajor(const std::vector<float>& keys, const SparseSelectParams& p,
                                     int64_t capacity);

// A context on the device: keys and both levels of compressed keys, with host copies of the
// compressed keys as floats, per kv head.
struct SelectionContext {
    int64_t length = 0, n1 = 0, n2 = 0;
    DeviceBuffer<__nv_bfloat16> keys, k1, k2;
    std::vector<std::vector<float>> k1Host, k2Host;
};
void buildContext(SelectionContext& c, const SparseSelectParams& p, const std::vector<float>& keys);
// The twin's cache holding exactly the GPU's compressed keys.
sala::cpu::SparseCache cpuCache(const SparseSelectParams& p, const SelectionContext& c);

// Queries rows as the fused projection lays them out: q of all heads, then k and v.
struct Queries {
    int64_t tokens = 0, rowStride = 0;
    std::vector<float> host; // bf16-rounded
    DeviceBuffer<__nv_bfloat16> device;
};
void makeQueries(Queries& q, const SparseSelectParams& p, int64_t tokens, float scale,
                 std::mt19937& rng);

// Every row: min(qb+1, topkTotal) ascending ids in [0, qb] including the forced blocks,
// then -1 padding (QFAIL otherwise).
void checkStructure(const SparseSelectParams& p, const std::vector<int32_t>& blocks, int64_t start,
                    int64_t tokens);
// Fraction of (query, group) sets that are identical; the differing ones are reported.
double sameSets(const SparseSelectParams& p, const std::vector<int32_t>& got,
                const std::vector<int32_t>& want, int64_t start);

} // namespace gputest

Q_DECLARE_METATYPE(folio::kernels::SparseSelectParams)
