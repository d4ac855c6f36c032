// The last layer of a prefill chunk when only the last token's logits are wanted. Nothing reads
// the last layer's outputs for the other rows: later tokens see those rows only through the keys
// and values they leave in the cache (or the linear state they fold in). So the other rows skip
// the layer's query and gate projections, block selection, attention, output projection and MLP
// (at 128K tokens about 3 % of the products and an eighth of the sparse attention and selection).

#include "cuda_context.h"

namespace sala::cuda {

namespace {

// cuBLASLt's heuristics assume operands aligned to 256 bytes unless told otherwise.
bool gemmAligned(const void* p) {
    return reinterpret_cast<uintptr_t>(p) % 256 == 0;
}

} // namespace

Status CudaContext::lastLayerForLastToken(int l, int64_t start, int64_t T,
                                          ForwardOutput* selections) {
    const ModelConfig& c = config_;
    const CudaLayer& layer = backend_.weights().layers[l];
    bf16* proj = ws_.proj.as<bf16>();
    if (layer.kind == LayerKind::Sparse) {
        SALA_TRY(sparseKeysValues(l, start, T));
        SALA_TRY(moveLastRowToFront(ws_.h.get(), T, c.hiddenSize * sizeof(float)));
        SALA_TRY(normProduct(1, layer.inputNorm, layer.wIn, layer.inRows, proj));
        const int64_t last = start + T - 1;
        SALA_TRY(sparseRope(l, last, 1));
        SALA_TRY(sparseAttend(l, last, 1, selections));
    } else {
        SALA_TRY(normProduct(T, layer.inputNorm, layer.wIn, layer.inRows, proj));
        SALA_TRY(lightningLayer(l, start, T));
        SALA_TRY(moveLastRowToFront(ws_.h.get(), T, c.hiddenSize * sizeof(float)));
        SALA_TRY(moveLastRowToFront(ws_.attn.get(), T, c.lightningWidth() * sizeof(bf16)));
        SALA_TRY(moveLastRowToFront(proj, T, layer.inRows * sizeof(bf16))); // the output gate
    }
    SALA_TRY(outputProduct(l, 1));
    return mlp(l, 1);
}

// Every row's keys and values into the cache. Where k and v are adjacent rows of the stacked
// projection, only they are multiplied; the query columns of `proj` are left unwritten, and
// nothing reads them before the last row's full projection replaces row 0.
Status CudaContext::sparseKeysValues(int l, int64_t start, int64_t T) {
    const ModelConfig& c = config_;
    const CudaLayer& layer = backend_.weights().layers[l];
    bf16* proj = ws_.proj.as<bf16>();
    const bf16* wKv = layer.wIn + layer.kOffset * c.hiddenSize;
    bf16* yKv = proj + layer.kOffset;
    const bool kvOnly = !c.attnUseRope && layer.vOffset == layer.kOffset + c.kvWidth() &&
                        gemmAligned(wKv) && gemmAligned(yKv);
    if (kvOnly) {
        SALA_TRY(normProduct(T, layer.inputNorm, wKv, 2 * c.kvWidth(), yKv, layer.inRows));
    } else {
        SALA_TRY(normProduct(T, layer.inputNorm, layer.wIn, layer.inRows, proj));
        SALA_TRY(sparseRope(l, start, T));
    }
    return appendAndCompress(l, start, T);
}

Status CudaContext::moveLastRowToFront(void* rows, int64_t T, size_t rowBytes) {
    char* base = static_cast<char*>(rows);
    SALA_CUDA(cudaMemcpyAsync(base, base + (T - 1) * rowBytes, rowBytes, cudaMemcpyDeviceToDevice,
                              stream_));
    return {};
}

} // namespace sala::cuda
