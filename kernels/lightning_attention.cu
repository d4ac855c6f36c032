#include "dependent_launch.cuh"
#include "l2_prefetch.cuh"
#include "lightning_attention.cuh"

#include <cuda_pipeline.h>
#include <mma.h>

#include <algorithm>
#include <cmath>

namespace folio::kernels {
namespace {

namespace wmma = nvcuda::wmma;

constexpr int kChunk = 64;
constexpr int kWarps = 8;
constexpr int kThreads = kWarps * 32;
constexpr int kTile = 16;
// Rows padded by 16 bytes so that WMMA loads of consecutive rows hit different banks.
constexpr int kPadBf16 = 8;
constexpr int kPadF32 = 4;
// A segment shorter than this many chunks does not pay for its summary pass.
constexpr int64_t kMinSegmentChunks = 8;

constexpr int maxOf(int a, int b) {
    return a > b ? a : b;
}

// Shared-memory layout of one prefill block: head h, value columns [s*W, (s+1)*W).
// Splitting the value dimension keeps each block's state slice in registers and the
// shared memory under the 99 KiB that sm_86/sm_89 allow.
template <int D> struct Shape {
    static constexpr int W = D < 32 ? D : 32;
    static constexpr int slices = D / W;
    static constexpr int ldQ = D + kPadBf16;         // Q and K rows, bf16
    static constexpr int ldV = W + kPadBf16;         // V, decayed V and the bf16 state, bf16
    static constexpr int ldP = kChunk + kPadBf16;    // masked scores, bf16
    static constexpr int ldScore = kChunk + kPadF32; // raw scores, f32
    static constexpr int ldO = W + kPadF32;          // output parts and state staging, f32
    static constexpr int scratchFloats = maxOf(maxOf(kChunk * ldScore, 2 * kChunk * ldO), D* ldO);
    static constexpr size_t offQ = 0;
    static constexpr size_t offK = offQ + size_t(kChunk) * ldQ * 2;
    static constexpr size_t offV = offK + size_t(kChunk) * ldQ * 2;
    static constexpr size_t offVw = offV + size_t(kChunk) * ldV * 2;
    static constexpr size_t offP = offVw + size_t(kChunk) * ldV * 2;
    static constexpr size_t offSbf = offP + size_t(kChunk) * ldP * 2;
    static constexpr size_t offScratch = offSbf + size_t(D) * ldV * 2;
    static constexpr size_t offDecay = offScratch + size_t(scratchFloats) * 4;
    static constexpr size_t bytes = offDecay + (kChunk + 1) * 4;
    static constexpr int stateTiles = (D / kTile) * (W / kTile);
    static constexpr int fragsPerWarp = (stateTiles + kWarps - 1) / kWarps;
    static_assert(offK % 32 == 0 && offV % 32 == 0 && offVw % 32 == 0 && offP % 32 == 0 &&
                      offSbf % 32 == 0 && offScratch % 32 == 0 && offDecay % 32 == 0,
                  "WMMA needs 256-bit aligned tiles");
};

struct PrefillParams {
    const bf16* q;
    const bf16* k;
    const bf16* v;
    int64_t rowStride;
    int64_t tokens;
    const float* slopes;
    float* state;     // [heads][D][D]
    float* segStates; // [heads][segments][D][D] when segments > 1
    bf16* out;
    int64_t outStride;
    int segments;
    int64_t segmentTokens; // a multiple of kChunk
    bool vectorLoads;
};

using FragA = wmma::fragment<wmma::matrix_a, kTile, kTile, kTile, bf16, wmma::row_major>;
using FragAT = wmma::fragment<wmma::matrix_a, kTile, kTile, kTile, bf16, wmma::col_major>;
using FragB = wmma::fragment<wmma::matrix_b, kTile, kTile, kTile, bf16, wmma::row_major>;
using FragBT = wmma::fragment<wmma::matrix_b, kTile, kTile, kTile, bf16, wmma::col_major>;
using FragC = wmma::fragment<wmma::accumulator, kTile, kTile, kTile, float>;

// Starts copying kChunk rows of COLS bf16 into shared memory (asynchronously when aligned;
// complete after __pipeline_wait_prior(0)), zero-filling rows from `rows` on so that a
// partial last chunk contributes nothing.
template <int COLS>
__device__ void startRows(bf16* dst, int ld, const bf16* src, int64_t stride, int rows, bool vec) {
    if (vec) {
        constexpr int perRow = COLS / 8;
        for (int idx = threadIdx.x; idx < kChunk * perRow; idx += kThreads) {
            const int r = idx / perRow, c = (idx % perRow) * 8;
            if (r < rows)
                __pipeline_memcpy_async(dst + r * ld + c, src + r * stride + c, sizeof(uint4));
            else
                *reinterpret_cast<uint4*>(dst + r * ld + c) = make_uint4(0, 0, 0, 0);
        }
    } else {
        for (int idx = threadIdx.x; idx < kChunk * COLS; idx += kThreads) {
            const int r = idx / COLS, c = idx % COLS;
            dst[r * ld + c] = r < rows ? src[r * stride + c] : __float2bfloat16(0.0f);
        }
    }
}

template <int D> struct Smem {
    using S = Shape<D>;
    bf16 *q, *k, *v, *vw, *p, *sbf;
    float *scratch, *decay;
    __device__ explicit Smem(unsigned char* base)
        : q(reinterpret_cast<bf16*>(base + S::offQ)), k(reinterpret_cast<bf16*>(base + S::offK)),
          v(reinterpret_cast<bf16*>(base + S::offV)), vw(reinterpret_cast<bf16*>(base + S::offVw)),
          p(reinterpret_cast<bf16*>(base + S::offP)),
          sbf(reinterpret_cast<bf16*>(base + S::offSbf)),
          scratch(reinterpret_cast<float*>(base + S::offScratch)),
          decay(reinterpret_cast<float*>(base + S::offDecay)) {}
};

// Raw scores Q K^T of the lower-triangular 16x16 tiles into scratch [kChunk][ldScore].
template <int D> __device__ void chunkScores(const Smem<D>& sm, int warp) {
    using S = Shape<D>;
    constexpr int tiles = (kChunk / kTile) * (kChunk / kTile + 1) / 2;
    for (int t = warp; t < tiles; t += kWarps) {
        int ti = 0;
        while ((ti + 1) * (ti + 2) / 2 <= t) ++ti;
        const int tj = t - ti * (ti + 1) / 2;
        FragC acc;
        wmma::fill_fragment(acc, 0.0f);
#pragma unroll
        for (int kk = 0; kk < D / kTile; ++kk) {
            FragA a;
            FragBT b;
            wmma::load_matrix_sync(a, sm.q + ti * kTile * S::ldQ + kk * kTile, S::ldQ);
            wmma::load_matrix_sync(b, sm.k + tj * kTile * S::ldQ + kk * kTile, S::ldQ);
            wmma::mma_sync(acc, a, b, acc);
        }
        wmma::store_matrix_sync(sm.scratch + ti * kTile * S::ldScore + tj * kTile, acc, S::ldScore,
                                wmma::mem_row_major);
    }
}

// Decay and mask the scores into bf16: P[i][j] = c gamma^(i-j) (q_i . k_j) for j <= i.
template <int D> __device__ void maskScores(const Smem<D>& sm, float scale) {
    using S = Shape<D>;
    for (int idx = threadIdx.x; idx < kChunk * kChunk; idx += kThreads) {
        const int i = idx / kChunk, j = idx % kChunk;
        const float p = j <= i ? scale * sm.decay[i - j] * sm.scratch[i * S::ldScore + j] : 0.0f;
        sm.p[i * S::ldP + j] = __float2bfloat16(p);
    }
}

// Inter-chunk part Q S_prev and intra-chunk part P V, kept apart in scratch because the
// inter part still needs its per-row decay.
template <int D> __device__ void chunkOutputs(const Smem<D>& sm, int warp) {
    using S = Shape<D>;
    float* inter = sm.scratch;
    float* intra = sm.scratch + kChunk * S::ldO;
    constexpr int colTiles = S::W / kTile;
    for (int t = warp; t < (kChunk / kTile) * colTiles; t += kWarps) {
        const int ti = t / colTiles, tn = t % colTiles;
        FragC acc;
        wmma::fill_fragment(acc, 0.0f);
#pragma unroll
        for (int kk = 0; kk < D / kTile; ++kk) {
            FragA a;
            FragB b;
            wmma::load_matrix_sync(a, sm.q + ti * kTile * S::ldQ + kk * kTile, S::ldQ);
            wmma::load_matrix_sync(b, sm.sbf + kk * kTile * S::ldV + tn * kTile, S::ldV);
            wmma::mma_sync(acc, a, b, acc);
        }
        wmma::store_matrix_sync(inter + ti * kTile * S::ldO + tn * kTile, acc, S::ldO,
                                wmma::mem_row_major);
        wmma::fill_fragment(acc, 0.0f);
        for (int kt = 0; kt <= ti; ++kt) {
            FragA a;
            FragB b;
            wmma::load_matrix_sync(a, sm.p + ti * kTile * S::ldP + kt * kTile, S::ldP);
            wmma::load_matrix_sync(b, sm.v + kt * kTile * S::ldV + tn * kTile, S::ldV);
            wmma::mma_sync(acc, a, b, acc);
        }
        wmma::store_matrix_sync(intra + ti * kTile * S::ldO + tn * kTile, acc, S::ldO,
                                wmma::mem_row_major);
    }
}

// State slice update S = gamma^L S + K^T (w V) on this warp's register tiles.
template <int D>
__device__ void updateState(const Smem<D>& sm, FragC (&st)[Shape<D>::fragsPerWarp], int warp,
                            float wholeDecay) {
    using S = Shape<D>;
    constexpr int colTiles = S::W / kTile;
#pragma unroll
    for (int f = 0; f < S::fragsPerWarp; ++f) {
        const int tile = warp + kWarps * f;
        if (tile >= S::stateTiles) break;
        const int tr = tile / colTiles, tc = tile % colTiles;
#pragma unroll
        for (int e = 0; e < st[f].num_elements; ++e) st[f].x[e] *= wholeDecay;
#pragma unroll
        for (int kt = 0; kt < kChunk / kTile; ++kt) {
            FragAT a;
            FragB b;
            wmma::load_matrix_sync(a, sm.k + kt * kTile * S::ldQ + tr * kTile, S::ldQ);
            wmma::load_matrix_sync(b, sm.vw + kt * kTile * S::ldV + tc * kTile, S::ldV);
            wmma::mma_sync(st[f], a, b, st[f]);
        }
    }
}

// Loads (or stores) this warp's state tiles from (to) a row-major [D][ld] f32 matrix whose
// first column is the block's first value column.
template <int D, bool kStore>
__device__ void stateTiles(float* base, int ld, FragC (&st)[Shape<D>::fragsPerWarp], int warp) {
    using S = Shape<D>;
    constexpr int colTiles = S::W / kTile;
#pragma unroll
    for (int f = 0; f < S::fragsPerWarp; ++f) {
        const int tile = warp + kWarps * f;
        if (tile >= S::stateTiles) break;
        float* ptr = base + (tile / colTiles) * kTile * ld + (tile % colTiles) * kTile;
        if (kStore)
            wmma::store_matrix_sync(ptr, st[f], ld, wmma::mem_row_major);
        else
            wmma::load_matrix_sync(st[f], ptr, ld, wmma::mem_row_major);
    }
}

// Starts loading the chunk at t0 (Q only when the outputs are wanted).
template <int D, bool kSummary>
__device__ void startChunk(const Smem<D>& sm, const PrefillParams& p, int64_t t0, int64_t end,
                           int64_t headCol, int64_t sliceCol) {
    using S = Shape<D>;
    const int len = static_cast<int>(end - t0 < kChunk ? end - t0 : kChunk);
    const int64_t row = t0 * p.rowStride;
    if (!kSummary) startRows<D>(sm.q, S::ldQ, p.q + row + headCol, p.rowStride, len, p.vectorLoads);
    startRows<D>(sm.k, S::ldQ, p.k + row + headCol, p.rowStride, len, p.vectorLoads);
    startRows<S::W>(sm.v, S::ldV, p.v + row + sliceCol, p.rowStride, len, p.vectorLoads);
    __pipeline_commit();
}

// One block per (segment, value slice, head). kSummary: the segment's own contribution to
// the state (from a zero state, no outputs). Otherwise: outputs from the segment's start
// state, and the final state when the call is a single segment.
template <int D, bool kSummary>
__global__ void __launch_bounds__(kThreads, 2) prefillKernel(PrefillParams p) {
    using S = Shape<D>;
    extern __shared__ __align__(128) unsigned char smemRaw[];
    const Smem<D> sm(smemRaw);
    const int h = blockIdx.y;
    const int slice = blockIdx.x % S::slices;
    const int seg = blockIdx.x / S::slices;
    const int warp = threadIdx.x / 32;
    const double slope = p.slopes[h];
    for (int n = threadIdx.x; n <= kChunk; n += kThreads)
        sm.decay[n] = static_cast<float>(exp(-slope * double(n)));
    const float scale = static_cast<float>(1.0 / sqrt(double(D)));
    const int64_t begin = seg * p.segmentTokens;
    const int64_t end = begin + p.segmentTokens < p.tokens ? begin + p.segmentTokens : p.tokens;
    const int64_t headCol = int64_t(h) * D;
    const int64_t sliceCol = headCol + slice * S::W;
    float* segState = p.segStates
                          ? p.segStates + (int64_t(h) * p.segments + seg) * D * D + slice * S::W
                          : nullptr;
    float* headState = p.state + int64_t(h) * D * D + slice * S::W;

    FragC st[S::fragsPerWarp];
    if (kSummary) {
#pragma unroll
        for (int f = 0; f < S::fragsPerWarp; ++f) wmma::fill_fragment(st[f], 0.0f);
    } else {
        stateTiles<D, false>(p.segments > 1 ? segState : headState, D, st, warp);
    }

    startChunk<D, kSummary>(sm, p, begin, end, headCol, sliceCol);
    for (int64_t t0 = begin; t0 < end; t0 += kChunk) {
        const int len = static_cast<int>(end - t0 < kChunk ? end - t0 : kChunk);
        if (!kSummary) stateTiles<D, true>(sm.scratch, S::ldO, st, warp);
        __pipeline_wait_prior(0);
        __syncthreads();
        for (int idx = threadIdx.x; idx < kChunk * S::W; idx += kThreads) {
            const int j = idx / S::W, e = idx % S::W;
            const float w = j < len ? sm.decay[len - 1 - j] : 0.0f;
            sm.vw[j * S::ldV + e] = __float2bfloat16(w * __bfloat162float(sm.v[j * S::ldV + e]));
        }
        if (!kSummary) {
            for (int idx = threadIdx.x; idx < D * S::W; idx += kThreads) {
                const int r = idx / S::W, e = idx % S::W;
                sm.sbf[r * S::ldV + e] = __float2bfloat16(sm.scratch[r * S::ldO + e]);
            }
        }
        __syncthreads();
        if (!kSummary) {
            chunkScores<D>(sm, warp);
            __syncthreads();
            maskScores<D>(sm, scale);
            __syncthreads();
            chunkOutputs<D>(sm, warp);
        }
        updateState<D>(sm, st, warp, sm.decay[len]);
        __syncthreads();
        // Q, K and V are free again: the next chunk's loads overlap the output stores.
        if (t0 + kChunk < end) startChunk<D, kSummary>(sm, p, t0 + kChunk, end, headCol, sliceCol);
        if (!kSummary) {
            const float* inter = sm.scratch;
            const float* intra = sm.scratch + kChunk * S::ldO;
            for (int idx = threadIdx.x; idx < len * S::W; idx += kThreads) {
                const int i = idx / S::W, e = idx % S::W;
                const float o =
                    scale * sm.decay[i + 1] * inter[i * S::ldO + e] + intra[i * S::ldO + e];
                p.out[(t0 + i) * p.outStride + sliceCol + e] = __float2bfloat16(o);
            }
            __syncthreads();
        }
    }
    if (kSummary)
        stateTiles<D, true>(segState, D, st, warp);
    else if (p.segments == 1)
        stateTiles<D, true>(headState, D, st, warp);
}

// Per head and state element, sequentially over segments: replaces each segment's summary
// by the state at the segment's start and leaves the final state in `state`.
__global__ void scanSegments(float* state, float* segStates, const float* slopes, int d2,
                             int segments, int64_t segmentTokens, int64_t tokens) {
    const int h = blockIdx.y;
    const int e = blockIdx.x * blockDim.x + threadIdx.x;
    if (e >= d2) return;
    const double slope = slopes[h];
    float* cell = state + int64_t(h) * d2 + e;
    float running = *cell;
    for (int g = 0; g < segments; ++g) {
        float* seg = segStates + (int64_t(h) * segments + g) * d2 + e;
        const float local = *seg;
        *seg = running;
        const int64_t left = tokens - g * segmentTokens;
        const int64_t len = left < segmentTokens ? left : segmentTokens;
        running = static_cast<float>(exp(-slope * double(len))) * running + local;
    }
    *cell = running;
}

// Enough segments to fill the GPU once with resident blocks, each segment long enough to
// be worth its summary pass.
int chooseSegments(int64_t chunks, int baseBlocks, int blocksPerSm) {
    int device = 0, sms = 0, pools = 0;
    if (cudaGetDevice(&device) != cudaSuccess ||
        cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device) != cudaSuccess ||
        cudaDeviceGetAttribute(&pools, cudaDevAttrMemoryPoolsSupported, device) != cudaSuccess ||
        !pools)
        return 1;
    const int64_t byOccupancy = std::max<int64_t>(1, int64_t(sms) * blocksPerSm / baseBlocks);
    const int64_t byLength = std::max<int64_t>(1, chunks / kMinSegmentChunks);
    return static_cast<int>(std::min(byOccupancy, byLength));
}

template <int D> cudaError_t prefill(PrefillParams p, int heads, cudaStream_t stream) {
    using S = Shape<D>;
    const auto full = prefillKernel<D, false>;
    const auto summary = prefillKernel<D, true>;
    for (auto kernel : {full, summary}) {
        const cudaError_t e = cudaFuncSetAttribute(
            kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(S::bytes));
        if (e != cudaSuccess) return e;
    }
    int blocksPerSm = 1;
    if (cudaOccupancyMaxActiveBlocksPerMultiprocessor(&blocksPerSm, full, kThreads, S::bytes) !=
        cudaSuccess)
        blocksPerSm = 1;
    const int64_t chunks = (p.tokens + kChunk - 1) / kChunk;
    int segments = chooseSegments(chunks, heads * S::slices, std::max(blocksPerSm, 1));
    const int64_t chunksPerSegment = (chunks + segments - 1) / segments;
    segments = static_cast<int>((chunks + chunksPerSegment - 1) / chunksPerSegment);
    p.segmentTokens = chunksPerSegment * kChunk;
    p.segments = segments;
    p.segStates = nullptr;
    if (segments > 1) {
        const size_t bytes = size_t(heads) * segments * D * D * sizeof(float);
        if (cudaMallocAsync(reinterpret_cast<void**>(&p.segStates), bytes, stream) != cudaSuccess) {
            (void)cudaGetLastError(); // fall back to one sequential segment
            p.segStates = nullptr;
            p.segments = 1;
            p.segmentTokens = chunks * kChunk;
        }
    }
    const dim3 grid(static_cast<unsigned>(p.segments * S::slices), static_cast<unsigned>(heads));
    if (p.segments > 1) {
        summary<<<grid, kThreads, S::bytes, stream>>>(p);
        const dim3 scanGrid(ceilDiv(D * D, 256), static_cast<unsigned>(heads));
        scanSegments<<<scanGrid, 256, 0, stream>>>(p.state, p.segStates, p.slopes, D * D,
                                                   p.segments, p.segmentTokens, p.tokens);
    }
    full<<<grid, kThreads, S::bytes, stream>>>(p);
    const cudaError_t launch = cudaGetLastError();
    if (p.segStates) {
        const cudaError_t freed = cudaFreeAsync(p.segStates, stream);
        if (launch == cudaSuccess) return freed;
    }
    return launch;
}

// Block (value columns [16 x, 16 x + 16), head y); thread: 4 adjacent columns of every
// 32nd state row. The state is read and written exactly once.
template <int D>
__global__ void __launch_bounds__(128)
    decodeKernel(const bf16* q, const bf16* k, const bf16* v, const float* slopes, float* state,
                 bf16* out, L2Range next) {
    constexpr int kCols = 16, kGroups = 32, kWarps = 4;
    constexpr int kRowsPerThread = (D + kGroups - 1) / kGroups;
    __shared__ float partial[kWarps][kCols];
    const int h = blockIdx.y;
    const int col = blockIdx.x * kCols + (threadIdx.x % 4) * 4;
    const int group = threadIdx.x / 4;
    // The state was last written by this layer's previous step, long before the kernel ahead of
    // this one (which writes q and k), so its loads go out before the wait.
    float* S = state + int64_t(h) * D * D + col;
    float4 s[kRowsPerThread];
#pragma unroll
    for (int n = 0; n < kRowsPerThread; ++n) {
        const int i = group + n * kGroups;
        if (i < D) s[n] = *reinterpret_cast<const float4*>(S + i * D);
    }
    const float gamma = static_cast<float>(exp(-double(slopes[h])));
    const float scale = static_cast<float>(1.0 / sqrt(double(D)));
    waitForPrecedingKernel();
    // After the wait: before it, the product ahead still streams its own weights.
    if (next.p && threadIdx.x < 32) prefetchL2BlockShare(next);
    const bf16* qh = q + int64_t(h) * D;
    const bf16* kh = k + int64_t(h) * D;
    float vj[4];
#pragma unroll
    for (int n = 0; n < 4; ++n) vj[n] = __bfloat162float(v[int64_t(h) * D + col + n]);
    float acc[4] = {0.0f, 0.0f, 0.0f, 0.0f};
#pragma unroll
    for (int n = 0; n < kRowsPerThread; ++n) {
        const int i = group + n * kGroups;
        if (i >= D) break;
        const float ki = __bfloat162float(kh[i]);
        const float qi = scale * __bfloat162float(qh[i]);
        s[n].x = gamma * s[n].x + ki * vj[0];
        s[n].y = gamma * s[n].y + ki * vj[1];
        s[n].z = gamma * s[n].z + ki * vj[2];
        s[n].w = gamma * s[n].w + ki * vj[3];
        *reinterpret_cast<float4*>(S + i * D) = s[n];
        acc[0] += qi * s[n].x;
        acc[1] += qi * s[n].y;
        acc[2] += qi * s[n].z;
        acc[3] += qi * s[n].w;
    }
    // The 8 row groups of a warp add up by shuffles, then the 4 warps through shared memory.
#pragma unroll
    for (int n = 0; n < 4; ++n) {
#pragma unroll
        for (int x = 4; x < 32; x <<= 1) acc[n] += __shfl_xor_sync(0xffffffffu, acc[n], x);
        if (threadIdx.x % 32 < 4) partial[threadIdx.x / 32][(threadIdx.x % 4) * 4 + n] = acc[n];
    }
    __syncthreads();
    if (threadIdx.x < kCols) {
        float sum = 0.0f;
#pragma unroll
        for (int w = 0; w < kWarps; ++w) sum += partial[w][threadIdx.x];
        out[int64_t(h) * D + blockIdx.x * kCols + threadIdx.x] = __float2bfloat16(sum);
    }
}

bool validDim(int dim) {
    return dim == 16 || dim == 32 || dim == 64 || dim == 128;
}

bool aligned(const void* ptr, uintptr_t bytes) {
    return reinterpret_cast<uintptr_t>(ptr) % bytes == 0;
}

} // namespace

cudaError_t launchLightningPrefill(const bf16* q, const bf16* k, const bf16* v, int64_t rowStride,
                                   int64_t tokens, int heads, int dim, const float* slopes,
                                   float* state, bf16* out, int64_t outStride,
                                   cudaStream_t stream) {
    const int64_t width = int64_t(heads) * dim;
    if (!validDim(dim) || heads <= 0 || heads > 65535 || tokens < 0 || !q || !k || !v || !slopes ||
        !state || !out || rowStride < width || outStride < width || !aligned(state, 32))
        return cudaErrorInvalidValue;
    if (tokens == 0) return cudaSuccess;
    PrefillParams p{};
    p.q = q;
    p.k = k;
    p.v = v;
    p.rowStride = rowStride;
    p.tokens = tokens;
    p.slopes = slopes;
    p.state = state;
    p.out = out;
    p.outStride = outStride;
    p.vectorLoads = aligned(q, 16) && aligned(k, 16) && aligned(v, 16) && rowStride % 8 == 0;
    switch (dim) {
    case 16:
        return prefill<16>(p, heads, stream);
    case 32:
        return prefill<32>(p, heads, stream);
    case 64:
        return prefill<64>(p, heads, stream);
    default:
        return prefill<128>(p, heads, stream);
    }
}

cudaError_t launchLightningDecode(const bf16* q, const bf16* k, const bf16* v, int heads, int dim,
                                  const float* slopes, float* state, bf16* out, cudaStream_t stream,
                                  L2Range next) {
    if (!validDim(dim) || heads <= 0 || heads > 65535 || !q || !k || !v || !slopes || !state ||
        !out || !aligned(state, 16))
        return cudaErrorInvalidValue;
    const dim3 grid(static_cast<unsigned>(dim / 16), static_cast<unsigned>(heads));
    auto launch = [&](auto kernel) {
        return launchDependent(kernel, grid, 128, 0, stream, q, k, v, slopes, state, out,
                               prefetchable(next));
    };
    switch (dim) {
    case 16:
        return launch(decodeKernel<16>);
    case 32:
        return launch(decodeKernel<32>);
    case 64:
        return launch(decodeKernel<64>);
    default:
        return launch(decodeKernel<128>);
    }
}

} // namespace folio::kernels
