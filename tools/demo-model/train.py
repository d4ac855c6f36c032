#!/usr/bin/env python3
"""Trains Folio's demo model (demo_shape.py) on the data of prepare.sh and exports it.

  train.py --data .demo-data --out DIR [--time-budget 300] [--csv loss.csv] [options]

Random windows of --seq-len tokens from train.bin (uint16), AdamW, linear warm-up then a cosine
schedule over the time budget (the schedule follows elapsed time, so the run ends on time on
any GPU), bf16 autocast on CUDA (fp32 master weights; norms, RoPE and Lightning attention in
fp32). The sparse layers train with dense causal attention, which is what InfLLM-V2 computes
below its selection threshold (topk_total * block_size = 1024 tokens >= --seq-len).

Writes DIR/config.json (model_type minicpm_sala, "folio_demo": true), DIR/model.safetensors
(bf16, the checkpoint's tensor names) and, unless --no-tokenizer-files, the tokenizer files of
DATA/tokenizer, i.e. a model folder the engine loads; the loss curve goes to --csv.
"""

import argparse
import csv
import json
import math
import os
import shutil
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sala_torch import SalaConfig, SalaForCausalLM, checkpoint_tensors  # noqa: E402
from safetensors_io import save_safetensors  # noqa: E402
from demo_shape import demo_config, init_weights  # noqa: E402

TRAINING = {"sparse": "dense", "lightning": "chunked"}


def log(msg):
    print(f"[train {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def load_tokens(path, device):
    data = np.fromfile(path, dtype="<u2").astype(np.int32)
    return torch.from_numpy(data).to(device)


def batch(data, batch_size, seq_len, gen, device):
    ix = torch.randint(0, data.numel() - seq_len - 1, (batch_size,), generator=gen,
                       device="cpu").to(device)
    idx = ix[:, None] + torch.arange(seq_len + 1, device=device)[None, :]
    tok = data[idx].long()
    return tok[:, :-1], tok[:, 1:]


def loss_fn(model, x, y, autocast):
    with autocast():
        logits = model(x, TRAINING)
    return F.cross_entropy(logits.float().reshape(-1, logits.shape[-1]), y.reshape(-1))


@torch.no_grad()
def evaluate(model, batches, autocast):
    model.eval()
    losses = [float(loss_fn(model, x, y, autocast)) for x, y in batches]
    model.train()
    return sum(losses) / len(losses)


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default=".demo-data")
    p.add_argument("--out", required=True, help="model folder to write")
    p.add_argument("--csv", default=None, help="loss curve (default OUT/../loss.csv)")
    p.add_argument("--time-budget", type=float, default=300.0,
                   help="seconds of training, compilation and evaluation included")
    p.add_argument("--max-steps", type=int, default=0, help="stop after N steps (smoke tests)")
    p.add_argument("--seq-len", type=int, default=1024)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--min-lr-ratio", type=float, default=0.1)
    p.add_argument("--warmup-steps", type=int, default=200)
    p.add_argument("--weight-decay", type=float, default=0.1)
    p.add_argument("--grad-clip", type=float, default=1.0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="auto")
    p.add_argument("--compile", action="store_true", help="torch.compile the model")
    p.add_argument("--eval-every", type=float, default=15.0, help="seconds between val losses")
    p.add_argument("--eval-batches", type=int, default=8)
    p.add_argument("--log-every", type=int, default=50)
    p.add_argument("--no-tokenizer-files", action="store_true")
    args = p.parse_args()

    device = torch.device("cuda" if args.device == "auto" and torch.cuda.is_available()
                          else ("cpu" if args.device == "auto" else args.device))
    torch.manual_seed(args.seed)
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    meta = json.load(open(os.path.join(args.data, "meta.json")))
    cfg_dict = demo_config(meta["vocab_size"], meta["im_end_id"])
    cfg = SalaConfig(cfg_dict)
    if args.seq_len > cfg.dense_positions:
        raise SystemExit(f"--seq-len {args.seq_len} exceeds the selection threshold "
                         f"{cfg.dense_positions}: dense training would not match the engine")
    model = SalaForCausalLM(cfg)
    init_weights(model, seed=args.seed)
    model.to(device)
    n_params = model.parameter_count()
    log(f"device {device} ({torch.cuda.get_device_name(device) if device.type == 'cuda' else 'cpu'}"
        f"), torch {torch.__version__}, {n_params:,} parameters "
        f"({n_params * 2 / 1e6:.1f} MB in bf16)")

    train = load_tokens(os.path.join(args.data, "train.bin"), device)
    val = load_tokens(os.path.join(args.data, "val.bin"), device)
    log(f"data: {train.numel():,} training tokens, {val.numel():,} validation tokens")
    gen = torch.Generator().manual_seed(args.seed + 1)
    val_gen = torch.Generator().manual_seed(12345)
    val_bs = max(1, min(args.batch_size, 16))
    val_len = min(args.seq_len, val.numel() - 2)
    val_batches = [batch(val, val_bs, val_len, val_gen, device) for _ in range(args.eval_batches)]

    decay, no_decay = [], []
    for name, prm in model.named_parameters():
        (decay if prm.dim() >= 2 else no_decay).append(prm)
    groups = [{"params": decay, "weight_decay": args.weight_decay},
              {"params": no_decay, "weight_decay": 0.0}]
    try:
        opt = torch.optim.AdamW(groups, lr=args.lr, betas=(0.9, 0.95), eps=1e-8,
                                fused=device.type == "cuda")
    except (TypeError, RuntimeError):
        opt = torch.optim.AdamW(groups, lr=args.lr, betas=(0.9, 0.95), eps=1e-8)

    if device.type == "cuda":
        def autocast():
            return torch.autocast(device_type="cuda", dtype=torch.bfloat16)
    else:
        import contextlib

        def autocast():
            return contextlib.nullcontext()

    run_model = model
    if args.compile and hasattr(torch, "compile"):
        run_model = torch.compile(model)

    csv_path = args.csv or os.path.join(os.path.dirname(os.path.abspath(args.out)), "loss.csv")
    os.makedirs(os.path.dirname(csv_path), exist_ok=True)
    csv_file = open(csv_path, "w", newline="")
    writer = csv.writer(csv_file)
    writer.writerow(["step", "tokens", "elapsed_s", "lr", "train_loss", "val_loss"])

    tokens_per_step = args.batch_size * args.seq_len
    start = time.time()
    last_eval = start
    step, run_loss, run_n = 0, 0.0, 0
    val_loss = evaluate(model, val_batches, autocast)
    writer.writerow([0, 0, 0.0, 0.0, "", f"{val_loss:.4f}"])
    log(f"step 0: val loss {val_loss:.3f} (ln V = {math.log(cfg.vocab_size):.3f})")
    lr = 0.0
    while True:
        elapsed = time.time() - start
        if elapsed >= args.time_budget or (args.max_steps and step >= args.max_steps):
            break
        progress = min(1.0, elapsed / args.time_budget)
        if args.max_steps:
            progress = max(progress, step / args.max_steps)
        warm = min(1.0, (step + 1) / args.warmup_steps)
        lr = args.lr * warm * (args.min_lr_ratio + (1 - args.min_lr_ratio) * 0.5 *
                               (1 + math.cos(math.pi * progress)))
        for g in opt.param_groups:
            g["lr"] = lr
        x, y = batch(train, args.batch_size, args.seq_len, gen, device)
        try:
            loss = loss_fn(run_model, x, y, autocast)
            loss.backward()
        except Exception as e:  # a failed torch.compile falls back to eager mode
            if run_model is model:
                raise
            log(f"torch.compile failed ({type(e).__name__}: {e}); continuing in eager mode")
            opt.zero_grad(set_to_none=True)
            run_model = model
            continue
        if args.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(model.parameters(), args.grad_clip)
        opt.step()
        opt.zero_grad(set_to_none=True)
        step += 1
        run_loss = run_loss + loss.detach()  # stays on the device: no sync per step
        run_n += 1
        now = time.time()
        do_eval = now - last_eval >= args.eval_every
        if step % args.log_every == 0 or do_eval:
            train_loss = float(run_loss) / max(run_n, 1)
            run_loss, run_n = 0.0, 0
            vl = ""
            if do_eval:
                val_loss = evaluate(model, val_batches, autocast)
                vl = f"{val_loss:.4f}"
                last_eval = time.time()
            writer.writerow([step, step * tokens_per_step, f"{now - start:.1f}", f"{lr:.3e}",
                             f"{train_loss:.4f}", vl])
            csv_file.flush()
            rate = step * tokens_per_step / (now - start)
            log(f"step {step}: loss {train_loss:.3f}" + (f", val {val_loss:.3f}" if vl else "") +
                f", lr {lr:.2e}, {rate / 1e3:.0f}k tok/s, {now - start:.0f} s")
    elapsed = time.time() - start
    val_loss = evaluate(model, val_batches, autocast)
    writer.writerow([step, step * tokens_per_step, f"{elapsed:.1f}", f"{lr:.3e}", "",
                     f"{val_loss:.4f}"])
    csv_file.close()
    tokens = step * tokens_per_step
    log(f"done: {step} steps, {tokens / 1e6:.1f}M tokens ({tokens / train.numel():.1f} epochs) "
        f"in {elapsed:.0f} s, final val loss {val_loss:.3f}")

    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "config.json"), "w") as f:
        json.dump(cfg_dict, f, indent=2)
        f.write("\n")
    info = {"format": "pt", "folio_demo": "true", "steps": str(step), "tokens": str(tokens),
            "seq_len": str(args.seq_len), "batch_size": str(args.batch_size),
            "lr": str(args.lr), "seconds": f"{elapsed:.0f}", "val_loss": f"{val_loss:.4f}",
            "data_train_sha256": meta["splits"]["train"]["sha256"],
            "tokenizer_sha256": meta["tokenizer_sha256"],
            "device": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"}
    save_safetensors(checkpoint_tensors(model), os.path.join(args.out, "model.safetensors"), info)
    if not args.no_tokenizer_files:
        tok = os.path.join(args.data, "tokenizer")
        for name in sorted(os.listdir(tok)):
            shutil.copy(os.path.join(tok, name), os.path.join(args.out, name))
    log(f"model folder {args.out}: " + ", ".join(sorted(os.listdir(args.out))))
    print(json.dumps({"steps": step, "tokens": tokens, "seconds": round(elapsed, 1),
                      "final_val_loss": round(val_loss, 4), "parameters": n_params}))


if __name__ == "__main__":
    main()
