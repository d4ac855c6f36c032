"""The shape of Folio's demo model and its initialisation.

MiniCPM-SALA's architecture at about 5.7M parameters (11.5 MB in bf16):
  - 8 layers, sparse (InfLLM-V2, "minicpm4") : Lightning = 1 : 3, sparse first and last as in
    MiniCPM-SALA (HyPE: RoPE in Lightning layers, NoPE in sparse layers);
  - hidden 192, intermediate 512, vocab 4096 (own sentencepiece BPE tokenizer);
  - 16 query heads of dim 16 in both layer kinds; sparse layers 2 kv heads (GQA group 8),
    Lightning layers 16 k/v heads; decays of 16 heads: slope_h = 2^-(h+1)/2;
  - the CUDA kernels' limits hold: head dim 16 (stage-1 selection supports 16/64/128; sparse
    attention, Lightning and RoPE 16..128), q heads / kv heads = 8 (selection: 8 or 16),
    block_size / kernel_stride = 4 (<= 64), init_blocks + local_blocks + 1 <= topk_total;
  - sparse_config as MiniCPM-SALA (block 64, compressed keys 32/16 and 128/64) with a window of
    512 tokens (8 local blocks) and topk 8: 16 blocks = 1024 keys per query at most, so every
    query below position 1024 sees all past keys (sparse == dense), the length the model is
    trained at; longer documents run the real block selection.
  - scale_emb 12, scale_depth 1.4, dim_model_base 256, rms_norm_eps 1e-6, rope_theta 10000: the
    constants of MiniCPM-SALA's config.
"""

import math

import torch

AUTO_MAP = {
    "AutoConfig": "configuration_minicpm_sala.MiniCPMSALAConfig",
    "AutoModel": "modeling_minicpm_sala.MiniCPMSALAModel",
    "AutoModelForCausalLM": "modeling_minicpm_sala.MiniCPMSALAForCausalLM",
    "AutoModelForSeq2SeqLM": "modeling_minicpm_sala.MiniCPMSALAForCausalLM",
    "AutoModelForSequenceClassification":
        "modeling_minicpm_sala.MiniCPMSALAForSequenceClassification",
}

DEMO_LAYERS = ["minicpm4"] + ["lightning-attn"] * 6 + ["minicpm4"]


def demo_config(vocab_size=4096, im_end_id=4, extra=None):
    """config.json of the demo model (every field of MiniCPM-SALA's config)."""
    heads, head_dim = 16, 16
    cfg = {
        "architectures": ["MiniCPMSALAForCausalLM"],
        "auto_map": AUTO_MAP,
        "model_type": "minicpm_sala",
        "folio_demo": True,
        "vocab_size": vocab_size,
        "hidden_size": 192,
        "intermediate_size": 512,
        "num_hidden_layers": len(DEMO_LAYERS),
        "num_attention_heads": heads,
        "num_key_value_heads": 2,
        "head_dim": head_dim,
        "lightning_nh": heads,
        "lightning_nkv": heads,
        "lightning_head_dim": head_dim,
        "lightning_scale": "1/sqrt(d)",
        "lightning_use_rope": True,
        "attn_use_rope": False,
        "attn_use_output_gate": True,
        "use_output_gate": True,
        "use_output_norm": True,
        "qk_norm": True,
        "attention_bias": False,
        "attention_dropout": 0.0,
        "hidden_act": "silu",
        "rms_norm_eps": 1e-06,
        "rope_theta": 10000.0,
        "rope_scaling": None,
        "max_position_embeddings": 524288,
        "scale_emb": 12,
        "scale_depth": 1.4,
        "dim_model_base": 256,
        "mup_denominator": 32,
        "tie_word_embeddings": False,
        "initializer_range": 0.1,
        "pretraining_tp": 1,
        "bos_token_id": 1,
        "eos_token_id": [2, im_end_id],
        "pad_token_id": 2,
        "use_cache": True,
        "torch_dtype": "bfloat16",
        "transformers_version": "4.56.1",
        "shift_labels": True,
        "mixer_types": list(DEMO_LAYERS),
        "sparse_config": {
            "block_size": 64,
            "dense_len": 8192,
            "init_blocks": 1,
            "kernel_size": 32,
            "kernel_stride": 16,
            "topk": 8,
            "use_nope": False,
            "window_size": 512,
        },
    }
    if extra:
        cfg.update(extra)
    return cfg


@torch.no_grad()
def init_weights(model, seed=0, embed_std=0.1, proj_gain=1.0, out_gain=0.5, head_std=0.01,
                 qk_gain=1.0):
    """Training initialisation: embeddings N(0, embed_std) (times scale_emb 12 in the forward:
    unit-scale residual stream), input projections N(0, proj_gain/sqrt(fan_in)), output
    projections (o_proj, down_proj) N(0, out_gain/sqrt(fan_in)), lm_head N(0, head_std), norm
    weights 1. qk_gain scales q/k projections (random reference cases use it for peaked
    attention)."""
    g = torch.Generator().manual_seed(seed)

    def normal(p, std):
        p.copy_(torch.randn(p.shape, generator=g, dtype=torch.float32).to(p.dtype) * std)

    for name, p in sorted(model.named_parameters()):
        if name.endswith("norm.weight") or "layernorm" in name:
            p.fill_(1.0)
        elif name == "model.embed_tokens.weight":
            normal(p, embed_std)
        elif name == "lm_head.weight":
            normal(p, head_std)
        else:
            fan_in = p.shape[1]
            if name.endswith(("o_proj.weight", "down_proj.weight")):
                gain = out_gain
            elif name.endswith(("q_proj.weight", "k_proj.weight")):
                gain = proj_gain * qk_gain
            else:
                gain = proj_gain
            normal(p, gain / math.sqrt(fan_in))
