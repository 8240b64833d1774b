"""PyTorch oracle for the C Qwen2: models written by hand as safetensors are
loaded by both sides; logits agree to 1e-4 (relative to the largest), adapter
(and full fine-tuning) gradients to 1e-3, and ten AdamW steps (warmup, cosine
or linear decay, clipping, weight decay) give the same losses to 1e-4.
Cases cover tied and untied heads, GQA and MHA, RoPE theta 1e6 and 1e4,
bf16 sharded checkpoints, activation recomputation and packed rows."""
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import qwen2_ref as R  # noqa: E402

if R.torch is None:
    print("skip: python3-torch is not installed")
    sys.exit(77)
import numpy as np  # noqa: E402
import torch  # noqa: E402

torch.set_num_threads(1)
fails = 0


def check(what, err, tol):
    global fails
    ok = err <= tol
    fails += not ok
    print(f"{'ok  ' if ok else 'FAIL'} {what}: {err:.2e} (tol {tol:g})")


def case(name, cfg, *, bf16_shards=0, lora=None, full=False, recompute=False, packed=False, B=2, T=12,
         schedule="cosine", seed=1):
    print(f"== {name}")
    cfg = dict(cfg, max_position_embeddings=64, rms_norm_eps=1e-6)
    rng = np.random.default_rng(seed)
    with tempfile.TemporaryDirectory() as td:
        mdir = os.path.join(td, "model")
        W = R.make_model(mdir, cfg, seed, bf16_shards=bf16_shards)
        V = cfg["vocab_size"]
        tokens = rng.integers(0, V, (B, T))
        targets = rng.integers(0, V, (B, T))
        mask = (rng.random((B, T)) < 0.7).astype(int)
        mask[0, -1] = 1
        docstart = None
        if packed:  # row 0: two documents (0..4, 5..), row 1: three
            docstart = np.zeros((B, T), dtype=int)
            docstart[0, 5:] = 5
            docstart[1, 3:7] = 3
            docstart[1, 7:] = 7
        spec = {"model_dir": mdir, "tokens": tokens.tolist(), "targets": targets.tolist(), "mask": mask.tolist(),
                "full": full, "recompute": recompute, "steps": 10, "lr": 2e-2, "wd": 0.1, "clip": 1.0,
                "warmup": 3, "schedule": schedule}
        if docstart is not None:
            spec["docstart"] = docstart.tolist()
        A, scale = None, 1.0
        if lora:
            adir = os.path.join(td, "adapter")
            A = R.make_adapter(adir, cfg, lora["r"], lora["alpha"], lora["targets"], seed + 7)
            scale = lora["alpha"] / lora["r"]
            spec["adapter"] = adir
        out = R.run_oracle(spec, td)

        Wt = {k: torch.tensor(v, dtype=torch.float64, requires_grad=full) for k, v in W.items()}
        At = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in (A or {}).items()}
        tok, tgt, msk = torch.tensor(tokens), torch.tensor(targets), torch.tensor(mask)
        dst = torch.tensor(docstart) if docstart is not None else None
        logits = R.forward(Wt, cfg, tok, At or None, scale, dst)
        check("logits", R.rel_err(out["logits"], logits.detach().numpy()), 1e-4)
        loss = R.masked_loss(logits, tgt, msk)
        check("loss", R.rel_err(out["loss"], [loss.item()]), 1e-4)
        loss.backward()
        params = list(Wt.values()) if full else list(At.values())
        names = list(Wt) if full else list(At)
        if full and cfg.get("tie_word_embeddings"):
            pass  # the tied head's gradient is already summed into embed_tokens by autograd
        worst, gn = 0.0, 0.0
        for n, p in zip(names, params):
            g = p.grad.numpy()
            gn = max(gn, float(np.max(np.abs(g))))
        for n, p in zip(names, params):
            worst = max(worst, float(np.max(np.abs(out["grad." + n] - p.grad.numpy()))) / gn)
        check(f"gradients of {len(params)} tensors", worst, 1e-3)

        opt = torch.optim.AdamW(params, lr=spec["lr"], betas=(0.9, 0.999), eps=1e-8, weight_decay=spec["wd"])
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: sched_fn(schedule, s, spec["warmup"], 10))
        losses = []
        for _ in range(10):
            opt.zero_grad()
            loss = R.masked_loss(R.forward(Wt, cfg, tok, At or None, scale, dst), tgt, msk)
            losses.append(loss.item())
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, spec["clip"])
            opt.step()
            sched.step()
        print("   torch losses:", " ".join(f"{x:.5f}" for x in losses))
        print("   tkd   losses:", " ".join(f"{x:.5f}" for x in out["losses"]))
        check("10 AdamW step losses", float(np.max(np.abs(out["losses"] - np.array(losses)) / np.abs(losses))), 1e-4)


def sched_fn(kind, s, warmup, total):
    import math
    if s < warmup:
        return s / max(1, warmup)
    p = (s - warmup) / max(1, total - warmup)
    return max(0.0, 1 - p) if kind == "linear" else max(0.0, 0.5 * (1 + math.cos(math.pi * p)))


base = {"hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4, "intermediate_size": 96,
        "vocab_size": 300}
case("tied head, GQA 4/2, theta 1e6, LoRA on all 7 targets",
     dict(base, num_key_value_heads=2, tie_word_embeddings=True, rope_theta=1e6),
     lora={"r": 4, "alpha": 8, "targets": R.TARGETS})
case("untied head, GQA 4/2, theta 1e4, bf16 in 2 shards, LoRA q,v, recompute, linear decay",
     dict(base, num_key_value_heads=2, tie_word_embeddings=False, rope_theta=1e4), bf16_shards=2,
     lora={"r": 2, "alpha": 16, "targets": ["q_proj", "v_proj"]}, recompute=True, schedule="linear", seed=2)
case("full fine-tuning, tied, MHA 4/4, theta 1e4, packed rows",
     dict(base, num_key_value_heads=4, tie_word_embeddings=True, rope_theta=1e4), full=True, packed=True, seed=3)
case("full fine-tuning, untied, GQA 4/1, theta 1e6, recompute",
     dict(base, num_key_value_heads=1, tie_word_embeddings=False, rope_theta=1e6), full=True, recompute=True, seed=4)
print(f"{fails} failed")
sys.exit(1 if fails else 0)
