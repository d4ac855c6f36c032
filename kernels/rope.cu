#include "elementwise_common.cuh"
#include "rope.cuh"

#include <algorithm>
#include <cmath>

namespace folio::kernels {
namespace {

using detail::groupSum;
using detail::loadVec;
using detail::storeVec;

constexpr int kMaxHalf = kMaxRopeHeadDim / 2;
constexpr int kMaxThreads = 256;
// Calls of fewer rows than this spread each row's heads over several blocks.
constexpr int64_t kSplitRows = 64;
constexpr double kTwoPi = 6.283185307179586476925286766559;
constexpr double kInvTwoPi = 0.15915494309189533576888376337251;

// The inverse frequencies travel as a kernel argument (1 KiB, well under the 4 KiB limit), so
// they are computed on the host exactly as the CPU twin does and no per-call buffer is needed.
struct InvFreq {
    double v[kMaxHalf];
};

// Vector chunks each lane may hold per half-head: a head's half has at most kMaxHalf / V chunks
// spread over at most 32 lanes.
template <int V> constexpr int kLaneChunks = (kMaxHalf / V + 31) / 32;

// cos/sin of every frequency at `pos` into shared memory, shared by all heads of the row.
__device__ void ropeTable(int64_t pos, int half, const InvFreq& inv, float* cosT, float* sinT) {
    for (int i = threadIdx.x; i < half; i += blockDim.x) {
        const double angle = double(pos) * inv.v[i];
        const double turns = rint(angle * kInvTwoPi);
        const float reduced = static_cast<float>(fma(-turns, kTwoPi, angle));
        sincosf(reduced, &sinT[i], &cosT[i]);
    }
    __syncthreads();
}

// One block per row; each head is handled by a group of `lanes` threads (a power of two <= 32),
// a lane holding chunk c of the first half and the matching chunk of the second half.
template <int V>
__global__ void __launch_bounds__(kMaxThreads)
    headNormRopeKernel(bf16* x, int64_t rowStride, int heads, int dim, int split,
                       const bf16* __restrict__ normWeight, const bf16* __restrict__ secondNorm,
                       float eps, bool rope, Position startPosition, InvFreq inv, int lanes) {
    __shared__ float cosT[kMaxHalf], sinT[kMaxHalf];
    const int half = dim / 2;
    const int chunks = half / V;
    const int lane = threadIdx.x % lanes;
    const int groups = blockDim.x / lanes;
    // The rope table and the norm weights do not depend on the kernel ahead (which writes x):
    // they are ready before the wait. w[n][k][0 / 1]: chunk k of both halves of norm n.
    if (rope) ropeTable(startPosition.get() + blockIdx.x, half, inv, cosT, sinT);
    float w[2][kLaneChunks<V>][2][V];
#pragma unroll
    for (int n = 0; n < 2; ++n) {
        const bf16* weight = n == 0 ? normWeight : secondNorm;
#pragma unroll
        for (int k = 0; k < kLaneChunks<V>; ++k) {
            const int c = lane + k * lanes;
            if (!weight || c >= chunks) continue;
            loadVec<V>(weight + c * V, w[n][k][0]);
            loadVec<V>(weight + half + c * V, w[n][k][1]);
        }
    }
    waitForPrecedingKernel();
    // Every thread runs the same trip count: groupSum needs the whole warp.
    for (int h0 = blockIdx.y * groups; h0 < heads; h0 += gridDim.y * groups) {
        const int h = h0 + int(threadIdx.x) / lanes;
        bf16* head = x + int64_t(blockIdx.x) * rowStride + int64_t(h) * dim;
        float a[kLaneChunks<V>][V], b[kLaneChunks<V>][V];
        bool live[kLaneChunks<V>];
        float sumSq = 0.0f;
#pragma unroll
        for (int k = 0; k < kLaneChunks<V>; ++k) {
            const int c = lane + k * lanes;
            live[k] = h < heads && c < chunks;
            if (!live[k]) continue;
            loadVec<V>(head + c * V, a[k]);
            loadVec<V>(head + half + c * V, b[k]);
#pragma unroll
            for (int j = 0; j < V; ++j) sumSq += a[k][j] * a[k][j] + b[k][j] * b[k][j];
        }
        // Every lane takes part in the sum, whichever group its head belongs to.
        const float scale = 1.0f / sqrtf(groupSum(sumSq, lanes) / float(dim) + eps);
        const bool first = h < split;
        if (first ? normWeight : secondNorm) {
#pragma unroll
            for (int k = 0; k < kLaneChunks<V>; ++k) {
                if (!live[k]) continue;
#pragma unroll
                for (int j = 0; j < V; ++j) {
                    a[k][j] = a[k][j] * scale * (first ? w[0][k][0][j] : w[1][k][0][j]);
                    b[k][j] = b[k][j] * scale * (first ? w[0][k][1][j] : w[1][k][1][j]);
                }
            }
        }
#pragma unroll
        for (int k = 0; k < kLaneChunks<V>; ++k) {
            if (!live[k]) continue;
            const int c = lane + k * lanes;
            if (rope) {
#pragma unroll
                for (int j = 0; j < V; ++j) {
                    const float cs = cosT[c * V + j], sn = sinT[c * V + j];
                    const float ra = a[k][j] * cs - b[k][j] * sn;
                    b[k][j] = b[k][j] * cs + a[k][j] * sn;
                    a[k][j] = ra;
                }
            }
            storeVec<V>(head + c * V, a[k]);
            storeVec<V>(head + half + c * V, b[k]);
        }
    }
}

// Computed as the CPU twin does (std::pow in double); cached per thread because the engine
// calls this with the same dim and theta for every layer.
const InvFreq& invFreqFor(int dim, double theta) {
    thread_local InvFreq table;
    thread_local int cachedDim = 0;
    thread_local double cachedTheta = 0.0;
    if (dim != cachedDim || theta != cachedTheta) {
        for (int i = 0; i < dim / 2; ++i) table.v[i] = std::pow(theta, -2.0 * i / dim);
        cachedDim = dim;
        cachedTheta = theta;
    }
    return table;
}

int lanesPerHead(int chunks) {
    int lanes = 1;
    while (lanes < chunks && lanes < 32) lanes *= 2;
    return lanes;
}

} // namespace

cudaError_t launchHeadNormRope(bf16* x, int64_t rowStride, int64_t rows, int heads, int dim,
                               const bf16* normWeight, float eps, bool rope, Position startPosition,
                               double theta, cudaStream_t stream) {
    return launchHeadNormRopePair(x, rowStride, rows, heads, normWeight, 0, nullptr, dim, eps, rope,
                                  startPosition, theta, stream);
}

cudaError_t launchHeadNormRopePair(bf16* x, int64_t rowStride, int64_t rows, int heads,
                                   const bf16* normWeight, int secondHeads,
                                   const bf16* secondNormWeight, int dim, float eps, bool rope,
                                   Position startPosition, double theta, cudaStream_t stream) {
    const int64_t allHeads = int64_t(heads) + secondHeads;
    if (rows < 0 || rows > INT32_MAX || heads < 1 || secondHeads < 0 || allHeads > INT32_MAX ||
        dim < 2 || dim % 2 != 0 || dim > kMaxRopeHeadDim || rowStride < allHeads * dim ||
        !startPosition.valid())
        return cudaErrorInvalidValue;
    if (secondHeads == 0) secondNormWeight = nullptr;
    if (rows == 0 || (!normWeight && !secondNormWeight && !rope)) return cudaSuccess;
    if (!x || (rope && !(theta > 0.0))) return cudaErrorInvalidValue;
    const int half = dim / 2;
    const int vec = detail::widestVec(8, [&](int v) {
        return half % v == 0 && rowStride % v == 0 && detail::alignedFor(x, 2 * v) &&
               (!normWeight || detail::alignedFor(normWeight, 2 * v)) &&
               (!secondNormWeight || detail::alignedFor(secondNormWeight, 2 * v));
    });
    const InvFreq none{};
    const InvFreq& inv = rope ? invFreqFor(dim, theta) : none;
    return detail::withVec(vec, [&](auto v) {
        constexpr int V = decltype(v)::value;
        const int lanes = lanesPerHead(half / V);
        const unsigned threads =
            std::min<unsigned>(kMaxThreads, detail::roundUpWarp(allHeads * lanes));
        // A decode token's heads over several blocks, so that each thread takes one head and
        // the kernel one round trip to memory instead of one per pass over its heads; longer
        // chunks have a block per row to spare.
        const int64_t groups = threads / lanes;
        const unsigned headBlocks =
            rows < kSplitRows
                ? static_cast<unsigned>(std::min<int64_t>((allHeads + groups - 1) / groups, 65535))
                : 1u;
        const dim3 grid(static_cast<unsigned>(rows), headBlocks);
        return launchDependent(headNormRopeKernel<V>, grid, threads, 0, stream, x, rowStride,
                               int(allHeads), dim, heads, normWeight, secondNormWeight, eps, rope,
                               startPosition, inv, lanes);
    });
}

} // namespace folio::kernels
