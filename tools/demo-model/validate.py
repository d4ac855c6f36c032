#!/usr/bin/env python3
"""Checks sala_torch.py against the reference cases and writes reference cases for the engine.

  validate.py golden [--golden tests/data/golden] [--device cpu]
      Every case of tests/data/golden in float64: the reference path (per-query InfLLM-V2
      selection, token-by-token Lightning) on the whole case (prompt logits, every greedy step
      teacher-forced, hidden states, greedy tokens, selected blocks), and the training path
      (dense causal attention, chunked Lightning) on the positions below the case's selection
      threshold. One PASS/FAIL line per case; exit status 1 on any failure.
  validate.py demo-case --out DIR [--kind dense|select] [--seed N] [--vocab V --im-end ID]
      A random model of the demo shape and a reference case for it in the golden format, for
      `folio-cli check-golden DIR` (engine vs PyTorch on the demo shape).
  validate.py make-case --model DIR --prompt-ids "1 2 3" [--decode N] --out DIR
      The same for an existing model folder (e.g. the trained demo model).
  validate.py device-check [--device cuda]
      The training path on the device (fp32 without TF32, and bf16 autocast) against the
      float64 reference on a random demo-shaped model; fails if fp32 is off by more than 1e-3
      (bf16 is reported; only an error near 1 fails).

Runs on CPU with PyTorch 1.13 or 2.x (float64 reference math).
"""

import argparse
import json
import os
import shutil
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sala_torch import SalaConfig, SalaForCausalLM, checkpoint_tensors, load_model  # noqa
from safetensors_io import load_safetensors, save_safetensors  # noqa: E402
from demo_shape import demo_config, init_weights  # noqa: E402

REFERENCE = {"sparse": "select", "lightning": "recurrent"}
REFERENCE_FAST = {"sparse": "select", "lightning": "chunked"}
TRAINING = {"sparse": "dense", "lightning": "chunked"}


def pick_device(name):
    if name == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return name


def rel_l2(got, exp):
    got, exp = got.double(), exp.double()
    n = exp.norm()
    return float((got - exp).norm() / n) if n > 0 else float((got - exp).norm())


def run(model, ids, opts):
    """Logits [T, V] and final-norm hidden [T, H] of one sequence, plus selection stats."""
    opts = dict(opts)
    stats = []
    opts["select_stats"] = stats
    with torch.no_grad():
        x = torch.tensor([ids], dtype=torch.long, device=model.lm_head.weight.device)
        logits, hidden = model(x, opts, return_hidden=True)
    return logits[0], hidden[0], stats


def selection_ids(sel, pos, width):
    """Block ids chosen by the query at `pos`, per kv head, ascending, padded with -1."""
    out = torch.full((sel.shape[0], width), -1, dtype=torch.int32)
    for g in range(sel.shape[0]):
        ids = torch.nonzero(sel[g, pos]).flatten().to(torch.int32)
        out[g, :ids.numel()] = ids
    return out


# ----------------------------------------------------------------------------------------------
# golden


def check_case(case_dir, device):
    case = json.load(open(os.path.join(case_dir, "case.json")))
    exp = load_safetensors(os.path.join(case_dir, "expected.safetensors"))
    model = load_model(case_dir, torch.float64, device)
    cfg = model.cfg
    P = len(case["prompt"])
    tokens = [int(t) for t in exp["greedy.tokens"].tolist()]
    n = len(tokens)
    seq = list(case["prompt"]) + tokens
    tol = case.get("tolerances", {}).get("logits_max_rel_l2", 1e-4)
    htol = case.get("tolerances", {}).get("hidden_max_rel_l2", 1e-4)
    problems, errs, herrs = [], [], []

    logits, hidden, stats = run(model, seq, REFERENCE)
    logits, hidden = logits.cpu(), hidden.cpu()
    errs.append(rel_l2(logits[P - 1], exp["prompt.logits_last"]))
    if "prompt.logits_all" in exp:
        errs += [rel_l2(logits[i], exp["prompt.logits_all"][i]) for i in range(P)]
    errs += [rel_l2(logits[P + i], exp["greedy.logits"][i]) for i in range(n)]
    herrs.append(rel_l2(hidden[P - 1], exp["prompt.hidden_last"]))
    if n:
        herrs.append(rel_l2(hidden[P + n - 1], exp["greedy.hidden_last"]))
    # greedy chain: t0 = argmax(prompt last), t_{i+1} = argmax(logits at P+i)
    chain = [int(logits[P - 1 + i].argmax()) for i in range(n)]
    if chain != tokens:
        problems.append(f"greedy tokens {chain} != {tokens}")
    sparse_layers = [i for i in range(cfg.num_hidden_layers) if cfg.is_sparse(i)]
    for layer, st in zip(sparse_layers, stats):
        for name, pos in (("prompt_last", P - 1), ("greedy_last", P + n - 1)):
            key = f"select.{name}.layer{layer}"
            if key in exp:
                got = selection_ids(st["selected"].cpu(), pos, cfg.topk_total)
                if not torch.equal(got, exp[key].to(torch.int32)):
                    problems.append(f"{key}: {got.tolist()} != {exp[key].tolist()}")
    ref_err = max(errs)
    if ref_err > tol or max(herrs) > htol:
        problems.append(f"reference path: logits rel err {ref_err:.2e}, hidden {max(herrs):.2e}")

    # The training path on the positions that see every past block.
    limit = min(len(seq), cfg.dense_positions)
    tlogits, thidden, _ = run(model, seq[:limit], TRAINING)
    tlogits = tlogits.cpu()
    terrs = []
    if "prompt.logits_all" in exp:
        terrs += [rel_l2(tlogits[i], exp["prompt.logits_all"][i]) for i in range(min(P, limit))]
    if P - 1 < limit:
        terrs.append(rel_l2(tlogits[P - 1], exp["prompt.logits_last"]))
    terrs += [rel_l2(tlogits[P + i], exp["greedy.logits"][i]) for i in range(n) if P + i < limit]
    train_err = max(terrs) if terrs else None
    if train_err is not None and train_err > tol:
        problems.append(f"training path: logits rel err {train_err:.2e}")
    # Both Lightning forms agree (the reference computes them both too).
    cl, _, _ = run(model, seq, REFERENCE_FAST)
    form_err = rel_l2(cl.cpu(), logits)
    if form_err > 1e-10:
        problems.append(f"chunked vs recurrent Lightning: {form_err:.2e}")

    real = sum(st["real"] for st in stats)
    train_txt = (f"{train_err:.2e} on {len(terrs)} rows below position {limit}"
                 if train_err is not None else "no rows below the threshold")
    line = (f"{'PASS' if not problems else 'FAIL'} {os.path.basename(case_dir)}: reference "
            f"max_rel_err={ref_err:.2e} hidden={max(herrs):.2e} rows={len(errs)} "
            f"real_selections={real} tokens={'match' if chain == tokens else 'mismatch'}; "
            f"training path {train_txt}")
    return not problems, line, problems


def cmd_golden(args):
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    cases = sorted(d for d in os.listdir(args.golden)
                   if os.path.isfile(os.path.join(args.golden, d, "case.json")))
    if not cases:
        print(f"FAIL no cases in {args.golden}")
        return 1
    failed = 0
    for name in cases:
        t0 = time.time()
        ok, line, problems = check_case(os.path.join(args.golden, name),
                                        pick_device(args.device))
        print(f"{line} ({time.time() - t0:.1f} s)", flush=True)
        for p in problems:
            print(f"    {p}")
        failed += not ok
    print(f"validate: {len(cases) - failed} passed, {failed} failed")
    return 1 if failed else 0


# ----------------------------------------------------------------------------------------------
# reference cases for the engine


def greedy_reference(model, prompt, steps, opts=REFERENCE_FAST):
    """Greedy decoding by re-running the whole sequence (chunk invariance makes this the
    engine's incremental result). Returns everything expected.safetensors holds."""
    logits, hidden, _ = run(model, prompt, opts)
    P = len(prompt)
    out = {"prompt.logits_last": logits[P - 1].float().cpu(),
           "prompt.logits_all": logits.float().cpu(),
           "prompt.hidden_last": hidden[P - 1].float().cpu()}
    gaps = [top_gap(logits[P - 1])]
    tokens, rows = [int(logits[P - 1].argmax())], []
    seq = list(prompt)
    stats = None
    for i in range(steps):
        seq.append(tokens[i])
        lg, hd, stats = run(model, seq, opts)
        rows.append(lg[-1].float().cpu())
        if i + 1 < steps:
            tokens.append(int(lg[-1].argmax()))
            gaps.append(top_gap(lg[-1]))
        last_hidden = hd[-1].float().cpu()
    out["greedy.tokens"] = torch.tensor(tokens[:steps], dtype=torch.int32)
    if steps:
        out["greedy.logits"] = torch.stack(rows)
        out["greedy.hidden_last"] = last_hidden
    # Selections of the last prompt query and the last decode query (from the last run, which
    # holds every query of the case), and the margin over every query.
    if stats is None:
        _, _, stats = run(model, seq, opts)
    cfg = model.cfg
    sparse_layers = [i for i in range(cfg.num_hidden_layers) if cfg.is_sparse(i)]
    margins, real = [], 0
    for layer, st in zip(sparse_layers, stats):
        sel = st["selected"].cpu()
        out[f"select.prompt_last.layer{layer}"] = selection_ids(sel, P - 1, cfg.topk_total)
        if steps:
            out[f"select.greedy_last.layer{layer}"] = selection_ids(sel, len(seq) - 1,
                                                                    cfg.topk_total)
        real += st["real"]
        if st["margin"] is not None:
            margins.append(st["margin"])
    info = {"min_greedy_relative_gap": min(gaps) if gaps else None,
            "selection_margin": {"min_relative_margin": min(margins) if margins else None,
                                 "real_selections": real}}
    return out, info


def top_gap(row):
    top = torch.topk(row.double(), 2).values
    return float((top[0] - top[1]) / top[0].abs().clamp(min=1e-30))


def write_case(folder, model, cfg_dict, prompt, steps, schedules, note, seed=None,
               device="cpu"):
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(cfg_dict, f, indent=2)
    save_safetensors(checkpoint_tensors(model), os.path.join(folder, "model.safetensors"),
                     {"format": "pt"})
    # The reference runs on the bf16 weights, upcast exactly.
    ref = load_model(folder, torch.float64, device)
    t0 = time.time()
    expected, info = greedy_reference(ref, prompt, steps)
    cfg = ref.cfg
    if len(prompt) > 512:  # keep the file small: logits of every prompt row only for short ones
        expected.pop("prompt.logits_all")
    save_safetensors(expected, os.path.join(folder, "expected.safetensors"))
    sparse_layers = [i for i in range(cfg.num_hidden_layers) if cfg.is_sparse(i)]
    case = {
        "name": os.path.basename(os.path.normpath(folder)),
        "prompt": list(prompt),
        "prompt_len": len(prompt),
        "chunk_schedules": schedules,
        "decode_steps": steps,
        "greedy_stops_at_eos": False,
        "seed": seed,
        "sparse_layers": sparse_layers,
        "lightning_layers": [i for i in range(cfg.num_hidden_layers) if i not in sparse_layers],
        "derived": {"local_blocks": cfg.local_blocks, "topk_total": cfg.topk_total,
                    "k1": [cfg.kernel_size, cfg.kernel_stride],
                    "k2": [4 * cfg.kernel_size, 4 * cfg.kernel_stride], "pool_kernel":
                    cfg.block_size // cfg.kernel_stride + 1,
                    "pool_stride": cfg.block_size // cfg.kernel_stride,
                    "residual_scale": cfg.residual_scale, "logit_divisor": cfg.logit_divisor},
        "tolerances": {"logits_max_rel_l2": 1e-4, "hidden_max_rel_l2": 1e-4,
                       "greedy_tokens": "identical", "selected_blocks": "identical"},
        "selection_margin": info["selection_margin"],
        "min_greedy_relative_gap": info["min_greedy_relative_gap"],
        "notes": note + " Reference: tools/demo-model/sala_torch.py in float64 on the bf16 "
                        "weights (per-query InfLLM-V2 selection, chunked Lightning).",
    }
    with open(os.path.join(folder, "case.json"), "w") as f:
        json.dump(case, f, indent=1)
    gap = info["min_greedy_relative_gap"]
    margin = info["selection_margin"]["min_relative_margin"]
    print(f"case {folder}: prompt {len(prompt)}, decode {steps}, "
          f"real selections {info['selection_margin']['real_selections']}, "
          f"min selection margin {margin}, min greedy gap {gap:.2e} "
          f"({time.time() - t0:.1f} s)", flush=True)
    return info


def default_ids(args):
    meta = os.path.join(args.data, "meta.json")
    if os.path.isfile(meta):
        m = json.load(open(meta))
        return m["vocab_size"], m["im_end_id"]
    return args.vocab, args.im_end


def cmd_demo_case(args):
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    vocab, im_end = default_ids(args)
    cfg_dict = demo_config(vocab, im_end)
    cfg = SalaConfig(cfg_dict)
    g = torch.Generator().manual_seed(args.seed)
    if args.kind == "dense":
        P, steps = 300, 16
        schedules = [[300], [1, 63, 64, 100, 72]]
        note = ("Random weights of the demo shape; prompt and decode below the selection "
                f"threshold ({cfg.dense_positions} tokens): sparse layers equal dense attention.")
    else:
        P, steps = 1400, 8
        schedules = [[1400], [700, 1, 299, 400]]
        note = ("Random weights of the demo shape; prompt past the selection threshold "
                f"({cfg.dense_positions} tokens): real InfLLM-V2 block selection.")
    # A prompt with repeats, so that attention and selection have something to find.
    base = torch.randint(7, vocab, (P // 4,), generator=g).tolist()
    prompt = [1] + (base * 5)[:P - 1]
    for attempt in range(args.attempts):
        seed = args.seed + attempt
        model = SalaForCausalLM(cfg)
        init_weights(model, seed=seed, embed_std=0.1, head_std=0.05, qk_gain=args.qk_gain)
        folder = args.out
        if os.path.isdir(folder):
            shutil.rmtree(folder)
        info = write_case(folder, model, cfg_dict, prompt, steps, schedules, note, seed,
                          pick_device(args.device))
        gap = info["min_greedy_relative_gap"]
        margin = info["selection_margin"]["min_relative_margin"]
        if gap >= 1e-3 and (margin is None or margin >= 1e-4):
            return 0
        print(f"seed {seed}: greedy gap {gap} / selection margin {margin} too small, next seed")
    print("FAIL no seed gave a well-separated case")
    return 1


def cmd_make_case(args):
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    src = args.model
    cfg_dict = json.load(open(os.path.join(src, "config.json")))
    model = load_model(src, torch.float32)
    prompt = [int(x) for x in args.prompt_ids.split()]
    P = len(prompt)
    cut = [max(1, P // 3), 1, max(1, P - P // 3 - 1)]
    schedules = [[P]] + ([[cut[0], cut[1], P - cut[0] - cut[1]]] if P > 3 else [])
    os.makedirs(args.out, exist_ok=True)
    info = write_case(args.out, model, cfg_dict, prompt, args.decode, schedules,
                      f"Weights of {src}.", device=pick_device(args.device))
    for name in os.listdir(src):  # tokenizer files, so that the case folder is a model folder
        if name.startswith(("tokenizer", "special_tokens", "added_tokens", "generation")):
            shutil.copy(os.path.join(src, name), args.out)
    gap = info["min_greedy_relative_gap"]
    if gap < 1e-4:
        print(f"warning: greedy gap {gap:.2e}: an f32 engine may pick another token on a tie")
    return 0


# ----------------------------------------------------------------------------------------------
# device check of the training path


def cmd_device_check(args):
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        print("SKIP device-check: no CUDA device")
        return 0
    cfg = SalaConfig(demo_config())
    model = SalaForCausalLM(cfg)
    init_weights(model, seed=args.seed)
    g = torch.Generator().manual_seed(args.seed)
    T = cfg.dense_positions
    ids = torch.randint(0, cfg.vocab_size, (2, T), generator=g)
    ref = SalaForCausalLM(cfg)
    ref.load_state_dict(model.state_dict())
    ref = ref.double().to(device)  # the float64 reference, on the device for speed
    with torch.no_grad():
        exp = torch.stack([ref(ids[i:i + 1].to(device), REFERENCE_FAST)[0]
                           for i in range(2)]).cpu()
        exp_dense = ref(ids.to(device), TRAINING).cpu()
    del ref
    problems = []
    e0 = rel_l2(exp_dense, exp)
    model = model.to(device)
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
    with torch.no_grad():
        got32 = model(ids.to(device), TRAINING).double().cpu()
        with torch.autocast(device_type=device.type, dtype=torch.bfloat16):
            got16 = model(ids.to(device), TRAINING).double().cpu()
    e32, e16 = rel_l2(got32, exp), rel_l2(got16, exp)
    agree = float((got16.argmax(-1) == exp.argmax(-1)).double().mean())
    if e0 > 1e-10:
        problems.append(f"dense vs selection below the threshold: {e0:.2e}")
    if e32 > 1e-3:
        problems.append(f"fp32 training path: {e32:.2e}")
    if not e16 < 0.5:  # bf16 activations move logits by percents; only a gross error counts
        problems.append(f"bf16 training path: {e16:.2e}")
    print(f"{'PASS' if not problems else 'FAIL'} device-check on {device}: {T} tokens x 2, "
          f"dense==selection {e0:.1e}, fp32 rel err {e32:.2e}, bf16 autocast rel err {e16:.2e} "
          f"(top-1 agreement {agree:.3f})")
    for p in problems:
        print(f"    {p}")
    return 1 if problems else 0


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    repo = os.path.dirname(os.path.dirname(here))
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd")
    s = sub.add_parser("golden")
    s.add_argument("--golden", default=os.path.join(repo, "tests/data/golden"))
    s.add_argument("--device", default="cpu", help="cpu, cuda or auto (float64 either way)")
    s = sub.add_parser("demo-case")
    s.add_argument("--out", required=True)
    s.add_argument("--kind", choices=["dense", "select"], default="dense")
    s.add_argument("--seed", type=int, default=7)
    s.add_argument("--attempts", type=int, default=8)
    s.add_argument("--qk-gain", type=float, default=3.0)
    s.add_argument("--data", default=os.path.join(repo, ".demo-data"))
    s.add_argument("--vocab", type=int, default=4096)
    s.add_argument("--im-end", type=int, default=4)
    s.add_argument("--device", default="auto", help="where the float64 reference runs")
    s = sub.add_parser("make-case")
    s.add_argument("--model", required=True)
    s.add_argument("--prompt-ids", required=True)
    s.add_argument("--decode", type=int, default=16)
    s.add_argument("--out", required=True)
    s.add_argument("--device", default="auto", help="where the float64 reference runs")
    s = sub.add_parser("device-check")
    s.add_argument("--device", default="cuda")
    s.add_argument("--seed", type=int, default=3)
    args = p.parse_args()
    if args.cmd is None:
        args = p.parse_args(["golden"] + sys.argv[1:])
    return {"golden": cmd_golden, "demo-case": cmd_demo_case, "make-case": cmd_make_case,
            "device-check": cmd_device_check}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
