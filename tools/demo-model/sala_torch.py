"""MiniCPM-SALA in plain PyTorch, for training Folio's demo model and as a reference.

Follows /work/shared/docs/sala-model.md (§3, §4, §5) and tests/data/golden/README.md; the
parameter names are those of the Hugging Face checkpoint (model.layers.{i}.self_attn.q_proj...).

    h = embed_tokens[ids] * scale_emb
    per layer: h += Mixer(RMSNorm(h)) * r ;  h += MLP(RMSNorm(h)) * r     r = scale_depth/sqrt(L)
    logits = (RMSNorm(h; model.norm) / (hidden_size / dim_model_base)) @ lm_head^T

Mixers:
  "minicpm4" (sparse): no q/k norm, no RoPE (NoPE); GQA softmax attention with scale
      head_dim^-1/2; output * sigmoid(o_gate(x)); o_proj. Two ways to compute it:
        sparse="dense"  causal attention over every past key. Equal to InfLLM-V2 as long as no
                        query has more than topk + window/block blocks up to it, i.e. for
                        positions < (topk + window_size/block_size) * block_size; training uses
                        sequences shorter than that.
        sparse="select" the per-query InfLLM-V2 block selection of Folio's engine (sala-model.md
                        §12.1, golden README): compressed keys, stage-1 scores, forced blocks,
                        top-k with ties to the lower block id. For reference checks (slow).
  "lightning-attn": q,k per-head RMSNorm (shared weight), RoPE (rotate-half), simple gated
      linear attention with fixed decay gamma_h = exp(-slope_h) (ALiBi slopes), scale
      head_dim^-1/2, output includes the current token; RMSNorm over all heads (o_norm),
      * sigmoid(z_proj(x)); o_proj. lightning="chunked" (64-token chunks, training) or
      "recurrent" (token by token, reference). Both in fp32 (or float64) whatever the input.

Numerics: the model runs in the dtype of its parameters; for training keep fp32 parameters and
wrap the forward in torch.autocast(bfloat16): matmuls then run in bf16 while norms, RoPE,
lightning attention and the softmax statistics stay in fp32. For reference checks convert the
model to float64 (model.double()).

Works with PyTorch 1.13 (CPU) and 2.x; uses scaled_dot_product_attention when present.
"""

import json
import math
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from safetensors_io import load_safetensors  # noqa: E402

SPARSE = "minicpm4"
LIGHTNING_NAMES = ("lightning", "lightning_attn", "lightning-attn")


class SalaConfig:
    """The fields of a MiniCPM-SALA config.json that the forward pass uses."""

    def __init__(self, d):
        self.raw = dict(d)
        if d.get("model_type") != "minicpm_sala":
            raise ValueError("model_type must be minicpm_sala")
        self.vocab_size = int(d["vocab_size"])
        self.hidden_size = int(d["hidden_size"])
        self.intermediate_size = int(d["intermediate_size"])
        self.num_hidden_layers = int(d["num_hidden_layers"])
        self.num_attention_heads = int(d["num_attention_heads"])
        self.num_key_value_heads = int(d["num_key_value_heads"])
        self.head_dim = int(d.get("head_dim") or self.hidden_size // self.num_attention_heads)
        # As Folio's engine reads them (engine/config.cpp); the Hugging Face code uses
        # num_attention_heads / head_dim for lightning layers, equal in every known config.
        self.lightning_nh = int(d.get("lightning_nh") or self.num_attention_heads)
        self.lightning_nkv = int(d.get("lightning_nkv") or self.lightning_nh)
        self.lightning_head_dim = int(d.get("lightning_head_dim") or self.head_dim)
        if self.lightning_nkv != self.lightning_nh:
            raise ValueError("lightning layers with grouped k/v heads are not supported")
        self.rms_norm_eps = float(d.get("rms_norm_eps", 1e-6))
        self.rope_theta = float(d.get("rope_theta", 10000.0))
        self.scale_emb = float(d.get("scale_emb", 1.0))
        self.scale_depth = float(d.get("scale_depth", 1.0))
        self.dim_model_base = float(d.get("dim_model_base") or self.hidden_size)
        self.tie_word_embeddings = bool(d.get("tie_word_embeddings", False))
        self.qk_norm = bool(d.get("qk_norm", True))
        self.use_output_gate = bool(d.get("use_output_gate", True))
        self.use_output_norm = bool(d.get("use_output_norm", True))
        self.attn_use_output_gate = bool(d.get("attn_use_output_gate", True))
        self.lightning_use_rope = bool(d.get("lightning_use_rope", True))
        self.attn_use_rope = bool(d.get("attn_use_rope", False))
        if d.get("lightning_scale", "1/sqrt(d)") != "1/sqrt(d)":
            raise ValueError("only lightning_scale 1/sqrt(d) is supported")
        if d.get("hidden_act", "silu") != "silu":
            raise ValueError("only hidden_act silu is supported")
        self.mixer_types = list(d["mixer_types"])
        if len(self.mixer_types) != self.num_hidden_layers:
            raise ValueError("mixer_types must have num_hidden_layers entries")
        for m in self.mixer_types:
            if m != SPARSE and m not in LIGHTNING_NAMES:
                raise ValueError(f"unknown mixer type {m!r}")
        sc = d["sparse_config"]
        self.block_size = int(sc["block_size"])
        self.kernel_size = int(sc["kernel_size"])
        self.kernel_stride = int(sc["kernel_stride"])
        self.window_size = int(sc["window_size"])
        self.init_blocks = int(sc["init_blocks"])
        self.topk = int(sc["topk"])
        if self.block_size % self.kernel_stride or self.window_size % self.block_size:
            raise ValueError("sparse_config: block_size % kernel_stride and "
                             "window_size % block_size must be 0")

    @classmethod
    def load(cls, path):
        with open(path) as f:
            return cls(json.load(f))

    @property
    def local_blocks(self):
        return self.window_size // self.block_size

    @property
    def topk_total(self):
        return self.topk + self.local_blocks

    @property
    def dense_positions(self):
        """Queries at positions below this see every past block (sparse == dense)."""
        return self.topk_total * self.block_size

    @property
    def residual_scale(self):
        return self.scale_depth / math.sqrt(self.num_hidden_layers)

    @property
    def logit_divisor(self):
        return self.hidden_size / self.dim_model_base

    def is_sparse(self, layer):
        return self.mixer_types[layer] == SPARSE


def lightning_slopes(heads):
    """ALiBi slopes as in HF `_build_slope_tensor` / engine lightningSlopes (float64 list)."""

    def power_of_two(n):
        start = 2.0 ** (-(2.0 ** -(math.log2(n) - 3)))
        return [start ** (i + 1) for i in range(n)]

    p = 1
    while p * 2 <= heads:
        p *= 2
    slopes = power_of_two(p)
    if p != heads:
        extra = power_of_two(2 * p)
        i = 0
        while len(slopes) < heads:
            slopes.append(extra[i])
            i += 2
    return slopes


def _compute_dtype(x):
    """fp32 for low-precision inputs, the input's own dtype otherwise (fp32 / float64)."""
    return torch.float32 if x.dtype in (torch.float16, torch.bfloat16) else x.dtype


def rms_norm(x, weight, eps):
    dt = _compute_dtype(x)
    xf = x.to(dt)
    y = xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + eps)
    return y * weight.to(dt)


class RMSNorm(nn.Module):
    def __init__(self, dim, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.eps = eps

    def forward(self, x):
        return rms_norm(x, self.weight, self.eps)


def rope_tables(positions, dim, theta, dtype, device):
    """cos/sin [T, dim] (rotate-half layout); angles formed in float64."""
    i = torch.arange(dim // 2, dtype=torch.float64, device=device)
    inv_freq = theta ** (-2.0 * i / dim)
    angles = positions.to(torch.float64)[:, None] * inv_freq[None, :]
    angles = torch.cat([angles, angles], dim=-1)
    return angles.cos().to(dtype), angles.sin().to(dtype)


def apply_rope(x, cos, sin):
    """x [B, T, H, d]; cos/sin [T, d]."""
    half = x.shape[-1] // 2
    rotated = torch.cat([-x[..., half:], x[..., :half]], dim=-1)
    return x * cos[None, :, None, :] + rotated * sin[None, :, None, :]


# ----------------------------------------------------------------------------------------------
# Lightning attention (simple GLA with a fixed decay per head)


def lightning_recurrent(q, k, v, slopes):
    """Token by token: S_t = g S_{t-1} + k_t v_t^T ; o_t = c q_t^T S_t. q,k,v [B,T,H,d]."""
    B, T, H, d = q.shape
    c = d ** -0.5
    gamma = torch.exp(-slopes.to(q.dtype))[None, :, None, None]
    S = q.new_zeros(B, H, d, d)
    out = []
    for t in range(T):
        S = gamma * S + k[:, t, :, :, None] * v[:, t, :, None, :]
        out.append(torch.einsum("bhk,bhkv->bhv", q[:, t] * c, S))
    return torch.stack(out, dim=1)


def lightning_chunked(q, k, v, slopes, chunk=64):
    """The 64-token chunked form (sala-model.md §5.3): masked quadratic form inside a chunk,
    the state across chunks. q,k,v [B,T,H,d] (fp32 or float64)."""
    B, T, H, d = q.shape
    c = d ** -0.5
    C = chunk
    pad = (-T) % C
    if pad:
        q, k, v = (F.pad(t, (0, 0, 0, 0, 0, pad)) for t in (q, k, v))
    N = (T + pad) // C
    # [B, H, N, C, d]
    q, k, v = (t.reshape(B, N, C, H, d).permute(0, 3, 1, 2, 4) for t in (q, k, v))
    g = -slopes.to(q.dtype).to(q.device)  # log decay per head [H]
    idx = torch.arange(C, device=q.device, dtype=q.dtype)
    diff = idx[:, None] - idx[None, :]  # i - j
    causal = diff >= 0
    # decay inside a chunk: exp(g (i - j)) for j <= i
    intra = torch.exp(g[:, None, None] * diff.clamp(min=0)[None]) * causal[None]  # [H, C, C]
    scores = torch.einsum("bhnid,bhnjd->bhnij", q, k) * intra[None, :, None]
    o = torch.einsum("bhnij,bhnjd->bhnid", scores, v)
    # chunk summaries U_n = sum_j exp(g (C-1-j)) k_j v_j^T
    w_in = torch.exp(g[:, None] * (C - 1 - idx)[None])  # [H, C]
    U = torch.einsum("bhnjk,bhnjv->bhnkv", k * w_in[None, :, None, :, None], v)
    # state before chunk n: sum_{m<n} exp(g C (n-1-m)) U_m
    n_idx = torch.arange(N, device=q.device, dtype=q.dtype)
    nd = n_idx[:, None] - 1 - n_idx[None, :]  # n-1-m
    Dn = torch.exp(g[:, None, None] * C * nd.clamp(min=0)[None]) * (nd >= 0)[None]  # [H,N,N]
    S = torch.einsum("hnm,bhmkv->bhnkv", Dn, U)
    w_out = torch.exp(g[:, None] * (idx + 1)[None])  # [H, C]: decay of the state to token i
    o = o + torch.einsum("bhnik,bhnkv->bhniv", q * w_out[None, :, None, :, None], S)
    o = o * c
    o = o.permute(0, 2, 3, 1, 4).reshape(B, N * C, H, d)
    return o[:, :T]


# ----------------------------------------------------------------------------------------------
# Sparse (InfLLM-V2) attention


def dense_causal_attention(q, k, v, use_sdpa=True):
    """q [B,T,Hq,d], k/v [B,T,Hkv,d]; query head h uses kv head h // (Hq/Hkv)."""
    B, T, Hq, d = q.shape
    group = Hq // k.shape[2]
    q = q.transpose(1, 2)
    k = k.transpose(1, 2).repeat_interleave(group, dim=1)
    v = v.transpose(1, 2).repeat_interleave(group, dim=1)
    if use_sdpa and hasattr(F, "scaled_dot_product_attention"):
        o = F.scaled_dot_product_attention(q, k, v, is_causal=True)
    else:
        dt = _compute_dtype(q)
        s = torch.matmul(q.to(dt), k.to(dt).transpose(-1, -2)) * d ** -0.5
        mask = torch.ones(T, T, dtype=torch.bool, device=q.device).tril()
        s = s.masked_fill(~mask, float("-inf"))
        o = torch.matmul(torch.softmax(s, dim=-1), v.to(dt)).to(q.dtype)
    return o.transpose(1, 2)


def compress_keys(K, window, stride):
    """Mean pooling over windows: K [T, d] -> [n, d], n = (T-window)//stride + 1 (0 if T<window)."""
    T = K.shape[0]
    if T < window:
        return K.new_zeros(0, K.shape[1])
    return K.unfold(0, window, stride).mean(-1)


def select_blocks(q, k, cfg):
    """Per-query InfLLM-V2 block selection (golden README "Sparse layer" 1-4) for one sequence
    starting at position 0. q [T,Hq,d], k [T,Hkv,d]. Returns (selected [Hkv,T,nb] bool,
    min relative margin over real selections or None, number of real selections)."""
    T, Hq, d = q.shape
    Hkv = k.shape[1]
    G = Hq // Hkv
    c = d ** -0.5
    Bk = cfg.block_size
    l1, s1 = cfg.kernel_size, cfg.kernel_stride
    l2, s2 = 4 * l1, 4 * s1
    per = Bk // s1
    nb = (T + Bk - 1) // Bk
    pos = torch.arange(T, device=q.device)
    qb = pos // Bk
    blocks = torch.arange(nb, device=q.device)
    forced = (blocks[None, :] < cfg.init_blocks) | (
        (blocks[None, :] >= qb[:, None] - cfg.local_blocks) & (blocks[None, :] <= qb[:, None]))
    valid = blocks[None, :] <= qb[:, None]
    candidate = valid & ~forced
    n_forced = (forced & valid).sum(-1)
    want = (cfg.topk_total - n_forced).clamp(min=0)  # [T]
    selected = torch.zeros(Hkv, T, nb, dtype=torch.bool, device=q.device)
    margin, real = None, 0
    for g in range(Hkv):
        K = k[:, g]
        k1 = compress_keys(K, l1, s1)
        k2 = compress_keys(K, l2, s2)
        qg = q[:, g * G:(g + 1) * G]  # [T, G, d]
        n1 = k1.shape[0]
        S = q.new_full((T, max(n1, 1)), float("-inf"))
        if n1 > 0:
            vis1 = (torch.arange(n1, device=q.device) * s1 + l1 - 1)[None, :] <= pos[:, None]
            s1mat = torch.einsum("tgd,jd->tgj", qg, k1) * c
            if k2.shape[0] > 0:
                vis2 = (torch.arange(k2.shape[0], device=q.device) * s2 + l2 - 1)[None, :] \
                    <= pos[:, None]
                s2mat = torch.einsum("tgd,jd->tgj", qg, k2) * c
                s2mat = s2mat.masked_fill(~vis2[:, None, :], float("-inf"))
                lse = torch.logsumexp(s2mat, dim=-1)  # [T, G]; -inf where no k2 is visible
                has2 = vis2.any(-1)
            else:
                lse = q.new_zeros(T, G)
                has2 = torch.zeros(T, dtype=torch.bool, device=q.device)
            lse = torch.where(has2[:, None], lse, torch.zeros_like(lse))
            probs = torch.exp(s1mat - lse[:, :, None]).sum(1)  # [T, n1]
            # Queries without visible k2 have only forced blocks; keep their scores finite.
            probs = torch.where(has2[:, None], probs, torch.zeros_like(probs))
            S = torch.where(vis1, probs, torch.full_like(probs, float("-inf")))
        # block b pools k1 indices j in [b*per - 1, (b+1)*per - 1]
        Spad = torch.cat([S.new_full((T, 1), float("-inf")), S,
                          S.new_full((T, per + 1), float("-inf"))], dim=1)
        # [nb, per + 1] k1 indices, shifted by the padding column
        j = blocks[:, None] * per - 1 + torch.arange(per + 1, device=q.device)[None, :]
        j = (j + 1).clamp(max=Spad.shape[1] - 1)
        score = Spad[:, j].amax(-1)  # [T, nb]
        # rank candidates: score descending, block id ascending on ties (stable sort)
        key = torch.where(candidate, torch.where(torch.isinf(score), torch.full_like(score, -1.0),
                                                 score), torch.full_like(score, float("-inf")))
        order = torch.sort(key, dim=-1, descending=True, stable=True).indices
        rank = torch.empty_like(order)
        rank.scatter_(1, order, torch.arange(nb, device=q.device).expand(T, nb).contiguous())
        chosen = candidate & (rank < want[:, None])
        selected[g] = (forced & valid) | chosen
        # margin: weakest chosen vs strongest rejected candidate, where a choice was made
        n_cand = candidate.sum(-1)
        rows = (n_cand > want) & (want > 0)
        if rows.any():
            sc = torch.where(candidate, score, torch.full_like(score, float("nan")))
            weakest = torch.where(chosen, sc, torch.full_like(sc, float("inf"))).amin(-1)
            rejected = candidate & ~chosen
            strongest = torch.where(rejected, sc, torch.full_like(sc, float("-inf"))).amax(-1)
            rel = ((weakest - strongest) / weakest.abs().clamp(min=1e-300))[rows]
            rel = rel[rel > 0]  # exact (structural) ties are broken by block id, ignore them
            real += int(rows.sum())
            if rel.numel():
                m = float(rel.min())
                margin = m if margin is None else min(margin, m)
    return selected, margin, real


def sparse_select_attention(q, k, v, cfg, stats=None):
    """InfLLM-V2 attention with per-query selection; q [B,T,Hq,d] etc., positions 0..T-1."""
    B, T, Hq, d = q.shape
    Hkv = k.shape[2]
    G = Hq // Hkv
    dt = _compute_dtype(q)
    outs = []
    Bk = cfg.block_size
    key_block = torch.arange(T, device=q.device) // Bk
    causal = torch.ones(T, T, dtype=torch.bool, device=q.device).tril()
    for b in range(B):
        sel, margin, real = select_blocks(q[b].to(dt), k[b].to(dt), cfg)
        if stats is not None:
            stats.append({"selected": sel, "margin": margin, "real": real})
        o = q.new_zeros(T, Hq, d, dtype=dt)
        for g in range(Hkv):
            allowed = sel[g][:, key_block] & causal  # [T(query), T(key)]
            qg = q[b, :, g * G:(g + 1) * G].to(dt).transpose(0, 1)  # [G, T, d]
            s = torch.matmul(qg, k[b, :, g].to(dt).transpose(0, 1)) * d ** -0.5  # [G, T, T]
            s = s.masked_fill(~allowed[None], float("-inf"))
            o[:, g * G:(g + 1) * G] = torch.matmul(torch.softmax(s, -1),
                                                   v[b, :, g].to(dt)).transpose(0, 1)
        outs.append(o)
    return torch.stack(outs).to(q.dtype)


# ----------------------------------------------------------------------------------------------
# Modules (names as in the Hugging Face checkpoint)


class SparseAttention(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        H, A = cfg.hidden_size, cfg.num_attention_heads * cfg.head_dim
        KV = cfg.num_key_value_heads * cfg.head_dim
        self.q_proj = nn.Linear(H, A, bias=False)
        self.k_proj = nn.Linear(H, KV, bias=False)
        self.v_proj = nn.Linear(H, KV, bias=False)
        self.o_proj = nn.Linear(A, H, bias=False)
        if cfg.attn_use_output_gate:
            self.o_gate = nn.Linear(H, A, bias=False)

    def forward(self, x, positions, opts):
        cfg = self.cfg
        B, T, _ = x.shape
        q = self.q_proj(x).view(B, T, cfg.num_attention_heads, cfg.head_dim)
        k = self.k_proj(x).view(B, T, cfg.num_key_value_heads, cfg.head_dim)
        v = self.v_proj(x).view(B, T, cfg.num_key_value_heads, cfg.head_dim)
        if cfg.attn_use_rope:
            dt = _compute_dtype(q)
            cos, sin = rope_tables(positions, cfg.head_dim, cfg.rope_theta, dt, x.device)
            q, k = apply_rope(q.to(dt), cos, sin), apply_rope(k.to(dt), cos, sin)
        if opts.get("sparse", "dense") == "select":
            o = sparse_select_attention(q, k, v, cfg, opts.get("select_stats"))
        else:
            o = dense_causal_attention(q, k, v, use_sdpa=opts.get("sdpa", True))
        o = o.reshape(B, T, -1)
        if cfg.attn_use_output_gate:
            o = o * torch.sigmoid(self.o_gate(x))
        return self.o_proj(o)


class LightningAttention(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        H = cfg.hidden_size
        A = cfg.lightning_nh * cfg.lightning_head_dim
        self.q_proj = nn.Linear(H, A, bias=False)
        self.k_proj = nn.Linear(H, A, bias=False)
        self.v_proj = nn.Linear(H, A, bias=False)
        self.o_proj = nn.Linear(A, H, bias=False)
        if cfg.use_output_gate:
            self.z_proj = nn.Linear(H, A, bias=False)
        if cfg.qk_norm:
            self.q_norm = RMSNorm(cfg.lightning_head_dim, cfg.rms_norm_eps)
            self.k_norm = RMSNorm(cfg.lightning_head_dim, cfg.rms_norm_eps)
        if cfg.use_output_norm:
            self.o_norm = RMSNorm(A, cfg.rms_norm_eps)
        self.register_buffer("slopes", torch.tensor(lightning_slopes(cfg.lightning_nh),
                                                    dtype=torch.float64), persistent=False)

    def forward(self, x, positions, opts):
        cfg = self.cfg
        B, T, _ = x.shape
        nh, d = cfg.lightning_nh, cfg.lightning_head_dim
        q = self.q_proj(x).view(B, T, nh, d)
        k = self.k_proj(x).view(B, T, nh, d)
        v = self.v_proj(x).view(B, T, nh, d)
        dt = _compute_dtype(q)
        with _no_autocast(x.device):
            q, k, v = q.to(dt), k.to(dt), v.to(dt)
            if cfg.qk_norm:
                q, k = self.q_norm(q), self.k_norm(k)
            if cfg.lightning_use_rope:
                cos, sin = rope_tables(positions, d, cfg.rope_theta, dt, x.device)
                q, k = apply_rope(q, cos, sin), apply_rope(k, cos, sin)
            slopes = self.slopes.to(device=x.device)
            if opts.get("lightning", "chunked") == "recurrent":
                o = lightning_recurrent(q, k, v, slopes)
            else:
                o = lightning_chunked(q, k, v, slopes)
            o = o.reshape(B, T, nh * d)
            if cfg.use_output_norm:
                o = self.o_norm(o)
        if cfg.use_output_gate:
            o = o * torch.sigmoid(self.z_proj(x)).to(o.dtype)
        return self.o_proj(o.to(self.o_proj.weight.dtype))


class _no_autocast:
    """Disables autocast inside (fp32 / float64 math for norms, RoPE and linear attention)."""

    def __init__(self, device):
        self.device_type = device.type

    def __enter__(self):
        try:
            self.ctx = torch.autocast(device_type=self.device_type, enabled=False)
        except Exception:  # pragma: no cover - very old torch
            self.ctx = None
        if self.ctx is not None:
            self.ctx.__enter__()

    def __exit__(self, *exc):
        if self.ctx is not None:
            self.ctx.__exit__(*exc)


class MLP(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.gate_proj = nn.Linear(cfg.hidden_size, cfg.intermediate_size, bias=False)
        self.up_proj = nn.Linear(cfg.hidden_size, cfg.intermediate_size, bias=False)
        self.down_proj = nn.Linear(cfg.intermediate_size, cfg.hidden_size, bias=False)

    def forward(self, x):
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class DecoderLayer(nn.Module):
    def __init__(self, cfg, layer):
        super().__init__()
        self.input_layernorm = RMSNorm(cfg.hidden_size, cfg.rms_norm_eps)
        self.post_attention_layernorm = RMSNorm(cfg.hidden_size, cfg.rms_norm_eps)
        self.self_attn = SparseAttention(cfg) if cfg.is_sparse(layer) else LightningAttention(cfg)
        self.mlp = MLP(cfg)
        self.r = cfg.residual_scale

    def forward(self, h, positions, opts):
        x = self.input_layernorm(h).to(h.dtype)
        h = h + self.self_attn(x, positions, opts).to(h.dtype) * self.r
        x = self.post_attention_layernorm(h).to(h.dtype)
        return h + self.mlp(x).to(h.dtype) * self.r


class SalaInner(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.embed_tokens = nn.Embedding(cfg.vocab_size, cfg.hidden_size)
        self.layers = nn.ModuleList(DecoderLayer(cfg, i) for i in range(cfg.num_hidden_layers))
        self.norm = RMSNorm(cfg.hidden_size, cfg.rms_norm_eps)


class SalaForCausalLM(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.model = SalaInner(cfg)
        self.lm_head = nn.Linear(cfg.hidden_size, cfg.vocab_size, bias=False)

    def hidden(self, ids, opts=None):
        """Final-norm output [B, T, hidden] (before the logit divisor)."""
        opts = opts or {}
        B, T = ids.shape
        positions = torch.arange(T, device=ids.device)
        dtype = self.model.embed_tokens.weight.dtype
        h = self.model.embed_tokens(ids).to(dtype) * self.cfg.scale_emb
        for layer in self.model.layers:
            h = layer(h, positions, opts)
        return self.model.norm(h)

    def forward(self, ids, opts=None, return_hidden=False):
        hid = self.hidden(ids, opts)
        head = self.model.embed_tokens if self.cfg.tie_word_embeddings else self.lm_head
        logits = F.linear((hid / self.cfg.logit_divisor).to(head.weight.dtype), head.weight)
        return (logits, hid) if return_hidden else logits

    def parameter_count(self):
        return sum(p.numel() for p in self.parameters())


# ----------------------------------------------------------------------------------------------
# Weights (names and layouts of the Hugging Face checkpoint)


def checkpoint_tensors(model, dtype=torch.bfloat16):
    """The model's parameters under their checkpoint names, in `dtype`."""
    sd = model.state_dict()
    if model.cfg.tie_word_embeddings:
        sd.pop("lm_head.weight", None)
    return {k: v.detach().to(dtype) for k, v in sd.items()}


def load_model(folder, dtype=torch.float64, device="cpu"):
    """A Hugging Face-style folder (config.json + model.safetensors) -> model in `dtype`
    (weights upcast exactly from bf16)."""
    cfg = SalaConfig.load(os.path.join(folder, "config.json"))
    model = SalaForCausalLM(cfg)
    weights = load_safetensors(os.path.join(folder, "model.safetensors"))
    expected = set(checkpoint_tensors(model).keys())
    missing = expected - set(weights)
    unexpected = set(weights) - expected
    if missing or unexpected:
        raise ValueError(f"{folder}: missing {sorted(missing)[:5]}, unexpected "
                         f"{sorted(unexpected)[:5]}")
    sd = model.state_dict()
    for name, t in weights.items():
        if tuple(t.shape) != tuple(sd[name].shape):
            raise ValueError(f"{name}: shape {tuple(t.shape)}, expected {tuple(sd[name].shape)}")
    if cfg.tie_word_embeddings:
        weights["lm_head.weight"] = weights["model.embed_tokens.weight"]
    model.load_state_dict({k: v.to(torch.float32) for k, v in weights.items()})
    return model.to(device=device, dtype=dtype)
