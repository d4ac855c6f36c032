#pragma once
// The warp routine shared by the block-sparse attention kernels (sparse_attention.cu and
// sparse_attention_decode.cu): a warp owns 16 query rows (the heads of one kv group for a token)
// held as bf16 tensor-core fragments, and folds tiles of up to 64 keys from shared memory into
// flash-attention state (fp32 running max, sum and accumulator) with mma.sync m16n8k16 for
// q·K and P·V.

#include "fast_exp.cuh"
#include "shared_memory_ops.cuh"

#include <cstdint>

namespace folio::kernels::attention_detail {

constexpr int kKeyTile = 64; // keys per shared-memory tile
constexpr unsigned kFullMask = 0xffffffffu;

// ---- PTX wrappers -------------------------------------------------------------------------

// A shared-memory barrier whose phase completes after `count` arrivals.
__device__ __forceinline__ void mbarrierInit(uint64_t* bar, unsigned count) {
    asm volatile("mbarrier.init.shared.b64 [%0], %1;\n" ::"r"(sharedAddress(bar)), "r"(count));
}

// One arrival on `bar` once every cp.async this thread issued so far has landed; it counts
// toward the arrivals the barrier was initialised with.
__device__ __forceinline__ void cpAsyncArriveOn(uint64_t* bar) {
    asm volatile("cp.async.mbarrier.arrive.noinc.shared.b64 [%0];\n" ::"r"(sharedAddress(bar)));
}

// Waits until the phase of `bar` with the given parity (0 for its first phase) has completed.
// Hopper's try_wait lets the warp sleep in the hardware for a while; older chips poll.
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
#define FOLIO_MBARRIER_WAIT "mbarrier.try_wait.parity.shared.b64"
#else
#define FOLIO_MBARRIER_WAIT "mbarrier.test_wait.parity.shared.b64"
#endif
__device__ __forceinline__ void mbarrierWait(uint64_t* bar, unsigned parity) {
    const unsigned addr = sharedAddress(bar);
    unsigned done = 0;
    while (!done)
        asm volatile("{\n .reg .pred p;\n " FOLIO_MBARRIER_WAIT " p, [%1], %2;\n"
                     " selp.u32 %0, 1, 0, p;\n}\n"
                     : "=r"(done)
                     : "r"(addr), "r"(parity)
                     : "memory");
}
#undef FOLIO_MBARRIER_WAIT

__device__ __forceinline__ void ldmatrixX4Trans(uint32_t (&r)[4], const bf16* p) {
    const unsigned a = sharedAddress(p);
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0,%1,%2,%3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                 : "r"(a));
}

// d += a * b for a 16x16 bf16 A fragment and a 16x8 bf16 B fragment, fp32 accumulate.
__device__ __forceinline__ void mma16816(float (&d)[4], const uint32_t (&a)[4], uint32_t b0,
                                         uint32_t b1) {
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, "
                 "{%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
                 : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

// 2^x; gives +0 for -inf, which is how masked scores drop out.
__device__ __forceinline__ uint32_t packBf16(float lo, float hi) {
    const __nv_bfloat162 v = __floats2bfloat162_rn(lo, hi);
    return *reinterpret_cast<const uint32_t*>(&v);
}

// ---- the warp routine -----------------------------------------------------------------------

// Flash-attention state of the two rows a lane sees (rows lane/4 and lane/4 + 8 of the
// warp's 16): running max in log2 units, lane-partial sum, accumulator columns.
template <int D> struct RowState {
    float m[2];
    float l[2];
    float o[D / 8][4];

    __device__ void reset() {
        m[0] = m[1] = -INFINITY;
        l[0] = l[1] = 0.f;
#pragma unroll
        for (int n = 0; n < D / 8; ++n) o[n][0] = o[n][1] = o[n][2] = o[n][3] = 0.f;
    }
};

// The A fragments of 16 query rows; a null row reads as zeros.
template <int D>
__device__ __forceinline__ void loadQuery(uint32_t (&qf)[D / 16][4], const bf16* rowA,
                                          const bf16* rowB, int lane) {
    const int c2 = 2 * (lane & 3);
    auto at = [](const bf16* row, int col) -> uint32_t {
        return row ? __ldg(reinterpret_cast<const unsigned int*>(row + col)) : 0u;
    };
#pragma unroll
    for (int kk = 0; kk < D / 16; ++kk) {
        qf[kk][0] = at(rowA, kk * 16 + c2);
        qf[kk][1] = at(rowB, kk * 16 + c2);
        qf[kk][2] = at(rowA, kk * 16 + 8 + c2);
        qf[kk][3] = at(rowB, kk * 16 + 8 + c2);
    }
}

// Folds one shared-memory tile (row stride D + 8) into the state. Only the first `pairs`
// 16-key groups are computed; in row A (B) only keys with tile index <= limA (limB) count,
// which carries causality, block membership and the tile's valid length.
template <int D>
__device__ __forceinline__ void attendTile(RowState<D>& st, const uint32_t (&qf)[D / 16][4],
                                           const bf16* sK, const bf16* sV, int pairs, int limA,
                                           int limB, float scaleLog2, int lane) {
    constexpr int kPairs = kKeyTile / 16;
    constexpr int kLd = D + 8;
    float s[2 * kPairs][4];
#pragma unroll
    for (int j = 0; j < 2 * kPairs; ++j) s[j][0] = s[j][1] = s[j][2] = s[j][3] = 0.f;

    const int kRow = (lane >> 4) * 8 + (lane & 7);
    const int kCol = ((lane >> 3) & 1) * 8;
#pragma unroll
    for (int kk = 0; kk < D / 16; ++kk) {
#pragma unroll
        for (int p = 0; p < kPairs; ++p) {
            if (p < pairs) {
                uint32_t b[4];
                ldmatrixX4(b, sK + (p * 16 + kRow) * kLd + kk * 16 + kCol);
                mma16816(s[2 * p], qf[kk], b[0], b[1]);
                mma16816(s[2 * p + 1], qf[kk], b[2], b[3]);
            }
        }
    }

    const int c2 = 2 * (lane & 3);
    float mx[2] = {-INFINITY, -INFINITY};
#pragma unroll
    for (int j = 0; j < 2 * kPairs; ++j) {
#pragma unroll
        for (int e = 0; e < 4; ++e) {
            const int key = j * 8 + c2 + (e & 1);
            const float v = key <= (e < 2 ? limA : limB) ? s[j][e] * scaleLog2 : -INFINITY;
            s[j][e] = v;
            mx[e >> 1] = fmaxf(mx[e >> 1], v);
        }
    }
    float alpha[2], base[2], sum[2] = {0.f, 0.f};
#pragma unroll
    for (int r = 0; r < 2; ++r) {
        mx[r] = fmaxf(mx[r], __shfl_xor_sync(kFullMask, mx[r], 1));
        mx[r] = fmaxf(mx[r], __shfl_xor_sync(kFullMask, mx[r], 2));
        const float mNew = fmaxf(st.m[r], mx[r]);
        // A row that has seen no key yet keeps everything at zero instead of inf - inf.
        base[r] = mNew == -INFINITY ? 0.f : mNew;
        alpha[r] = fastExp2(st.m[r] - base[r]);
        st.m[r] = mNew;
    }
#pragma unroll
    for (int j = 0; j < 2 * kPairs; ++j) {
#pragma unroll
        for (int e = 0; e < 4; ++e) {
            s[j][e] = fastExp2(s[j][e] - base[e >> 1]);
            sum[e >> 1] += s[j][e];
        }
    }
#pragma unroll
    for (int r = 0; r < 2; ++r) st.l[r] = st.l[r] * alpha[r] + sum[r];
#pragma unroll
    for (int n = 0; n < D / 8; ++n) {
        st.o[n][0] *= alpha[0];
        st.o[n][1] *= alpha[0];
        st.o[n][2] *= alpha[1];
        st.o[n][3] *= alpha[1];
    }

    const int vRow = ((lane >> 3) & 1) * 8 + (lane & 7);
    const int vCol = (lane >> 4) * 8;
#pragma unroll
    for (int p = 0; p < kPairs; ++p) {
        if (p < pairs) {
            const uint32_t a[4] = {packBf16(s[2 * p][0], s[2 * p][1]),
                                   packBf16(s[2 * p][2], s[2 * p][3]),
                                   packBf16(s[2 * p + 1][0], s[2 * p + 1][1]),
                                   packBf16(s[2 * p + 1][2], s[2 * p + 1][3])};
#pragma unroll
            for (int dp = 0; dp < D / 16; ++dp) {
                uint32_t b[4];
                ldmatrixX4Trans(b, sV + (p * 16 + vRow) * kLd + dp * 16 + vCol);
                mma16816(st.o[2 * dp], a, b[0], b[1]);
                mma16816(st.o[2 * dp + 1], a, b[2], b[3]);
            }
        }
    }
}

// The full row sums (the lanes of a quad hold parts of the same rows).
template <int D> __device__ __forceinline__ void reduceSums(RowState<D>& st) {
#pragma unroll
    for (int r = 0; r < 2; ++r) {
        st.l[r] += __shfl_xor_sync(kFullMask, st.l[r], 1);
        st.l[r] += __shfl_xor_sync(kFullMask, st.l[r], 2);
    }
}

// Issues the copies of keys [keyStart, keyStart + nKeys) of one kv head into a tile;
// rows past nKeys are zero-filled so stale or uninitialised data never meets a zero weight.
template <int D>
__device__ __forceinline__ void loadTile(bf16* sK, bf16* sV, const bf16* kHead, const bf16* vHead,
                                         int64_t keyStart, int nKeys, int tid, int nThreads) {
    constexpr int kChunks = D / 8;
    constexpr int kLd = D + 8;
    for (int i = tid; i < kKeyTile * kChunks; i += nThreads) {
        const int row = i / kChunks;
        const int col = (i % kChunks) * 8;
        const bool valid = row < nKeys;
        const int64_t off = valid ? (keyStart + row) * D + col : 0;
        cpAsync16(sK + row * kLd + col, kHead + off, valid);
        cpAsync16(sV + row * kLd + col, vHead + off, valid);
    }
}

// A warp's copy of keys [keyStart, keyStart + nKeys) of one kv head into a tile (rows past
// nKeys zeroed); `bar`, expecting one arrival per lane, completes a phase once it has landed.
template <int D>
__device__ __forceinline__ void loadTileAsync(bf16* sK, bf16* sV, const bf16* kHead,
                                              const bf16* vHead, int64_t keyStart, int nKeys,
                                              uint64_t* bar, int lane) {
    loadTile<D>(sK, sV, kHead, vHead, keyStart, nKeys, lane, 32);
    cpAsyncArriveOn(bar);
}

__device__ __forceinline__ int64_t min64(int64_t a, int64_t b) {
    return a < b ? a : b;
}
__device__ __forceinline__ int64_t max64(int64_t a, int64_t b) {
    return a > b ? a : b;
}

// The last tile index a row may use, -1 for none.
__device__ __forceinline__ int clampLimit(int64_t lastKey, int nKeys) {
    return static_cast<int>(max64(-1, min64(lastKey, nKeys - 1)));
}

} // namespace folio::kernels::attention_detail
