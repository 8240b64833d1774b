"""PEFT layout of a trained adapter: `tkd train` writes adapter_config.json and
adapter_model.safetensors; names, shapes, dtypes and config fields must be
what PEFT's LoraModel writes for this model shape (save_pretrained of a
LoraConfig with these target_modules), and the adapter applied by a PyTorch
reference (x W^T + alpha/r * x A^T B^T) must give the logits of the C model
after `tkd merge-adapter` (1e-4)."""
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import qwen2_ref as R  # noqa: E402

TKD = os.environ.get("TKD", "build/bin/tkd")
fails = 0


def check(what, cond, detail=""):
    global fails
    fails += not cond
    print(f"{'ok  ' if cond else 'FAIL'} {what} {detail}")


cfg = {"hidden_size": 64, "num_hidden_layers": 3, "num_attention_heads": 4, "num_key_value_heads": 2,
       "intermediate_size": 96, "vocab_size": 80, "max_position_embeddings": 64, "rope_theta": 1e6,
       "rms_norm_eps": 1e-6, "tie_word_embeddings": False}
C, L, H, KV, I = 64, 3, 4, 2, 96
D = C // H
r, alpha, targets = 8, 16, ["q_proj", "v_proj", "o_proj", "down_proj"]
with tempfile.TemporaryDirectory() as td:
    with open(f"{td}/cfg.json", "w") as f:
        json.dump(cfg, f)
    subprocess.run([TKD, "model", "init", f"{td}/cfg.json", f"{td}/base", "--seed", "9"], check=True,
                   stdout=subprocess.DEVNULL)
    with open(f"{td}/sft.jsonl", "w") as f:
        for i in range(8):
            ids = [(7 * i + 3 * j) % 80 for j in range(12)]
            f.write(json.dumps({"input_ids": ids, "loss_mask": [0] * 4 + [1] * 8}) + "\n")
    job = {"output_dir": f"{td}/run", "train": {
        "model_dir": f"{td}/base", "data": f"{td}/sft.jsonl", "seq_len": 16, "steps": 6, "lr": 5e-2, "batch": 2,
        "log_every": 0, "lora": {"r": r, "alpha": alpha, "dropout": 0.05, "targets": "q,v,o,down"}}}
    with open(f"{td}/job.json", "w") as f:
        json.dump(job, f)
    subprocess.run([TKD, "train", f"{td}/job.json", "-q"], check=True)
    ad = f"{td}/run/train/adapter"
    check("adapter files", sorted(os.listdir(ad)) == ["adapter_config.json", "adapter_model.safetensors"],
          str(sorted(os.listdir(ad))))
    with open(f"{ad}/adapter_config.json") as f:
        ac = json.load(f)
    want = {"peft_type": "LORA", "task_type": "CAUSAL_LM", "r": r, "lora_alpha": alpha, "lora_dropout": 0.05,
            "bias": "none", "fan_in_fan_out": False, "use_rslora": False, "use_dora": False,
            "base_model_name_or_path": f"{td}/base", "modules_to_save": None}
    for k, v in want.items():
        check(f"adapter_config.{k}", ac.get(k) == v, f"= {ac.get(k)!r}")
    check("adapter_config.target_modules", sorted(ac.get("target_modules", [])) == sorted(targets),
          str(ac.get("target_modules")))
    tensors, hdr = R.st_read(f"{ad}/adapter_model.safetensors")
    inout = {"q_proj": (C, H * D), "k_proj": (C, KV * D), "v_proj": (C, KV * D), "o_proj": (H * D, C),
             "gate_proj": (C, I), "up_proj": (C, I), "down_proj": (I, C)}
    expect = {}
    for l in range(L):
        for t in targets:
            fi, fo = inout[t]
            expect[R.lora_name(l, t, "A")] = [r, fi]
            expect[R.lora_name(l, t, "B")] = [fo, r]
    got = {k: v["shape"] for k, v in hdr.items() if k != "__metadata__"}
    check("tensor names", set(got) == set(expect), f"({len(got)} tensors, want {len(expect)})")
    check("tensor shapes", all(got.get(k) == s for k, s in expect.items()))
    check("dtype F32", all(v["dtype"] == "F32" for k, v in hdr.items() if k != "__metadata__"))
    check("metadata format pt", hdr.get("__metadata__", {}).get("format") == "pt")
    check("B was trained (non-zero)", all(abs(tensors[R.lora_name(l, "q_proj", "B")]).max() > 0 for l in range(L)))

    if R.torch is None:
        print("skip: no torch for the merge check")
    else:
        import torch
        subprocess.run([TKD, "merge-adapter", f"{td}/base", ad, f"{td}/merged"], check=True, stdout=subprocess.DEVNULL)
        W, _ = R.st_read(f"{td}/base/model.safetensors")
        Wt = {k: torch.tensor(v, dtype=torch.float64) for k, v in W.items()}
        At = {k: torch.tensor(v, dtype=torch.float64) for k, v in tensors.items()}
        tok = torch.tensor([[3, 9, 27, 1, 50, 22, 7, 7, 64, 2]])
        ref = R.forward(Wt, cfg, tok, At, alpha / r).numpy()
        spec = {"model_dir": f"{td}/merged", "tokens": tok.tolist(), "targets": tok.tolist(),
                "mask": [[1] * 10], "steps": 0, "lr": 0, "wd": 0, "clip": 0, "warmup": 0, "schedule": "constant"}
        out = R.run_oracle(spec, td)
        err = R.rel_err(out["logits"], ref)
        check("merged model logits = base + adapter in PyTorch", err < 1e-4, f"({err:.2e})")
print(f"{fails} failed")
sys.exit(1 if fails else 0)
