"""Shared by the model oracle tests: safetensors read/write by hand (8-byte
little-endian header length, JSON header, raw data), random Qwen2 weights in
the Hugging Face layout, a PEFT adapter writer, and a short reference Qwen2
(with LoRA) in PyTorch following transformers' modeling_qwen2.py."""
import json
import os
import struct
import subprocess
import sys

import numpy as np

try:
    import torch
except ImportError:  # the caller skips
    torch = None

DT = {"F32": np.float32, "F16": np.float16, "I64": np.int64, "I32": np.int32}


def st_read(path):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    hdr = json.loads(raw[8:8 + n])
    out = {}
    for name, ent in hdr.items():
        if name == "__metadata__":
            continue
        b, e = ent["data_offsets"]
        buf = raw[8 + n + b:8 + n + e]
        if ent["dtype"] == "BF16":
            u = np.frombuffer(buf, dtype=np.uint16).astype(np.uint32) << 16
            arr = u.view(np.float32)
        else:
            arr = np.frombuffer(buf, dtype=DT[ent["dtype"]])
        out[name] = arr.reshape(ent["shape"]).astype(np.float32)
    return out, hdr


def bf16_round(a):
    u = np.ascontiguousarray(a, dtype=np.float32).view(np.uint32).astype(np.uint64)
    u = (u + 0x7FFF + ((u >> 16) & 1)) >> 16
    return u.astype(np.uint16)


def st_write(path, tensors, bf16=False):
    hdr, off, blobs = {"__metadata__": {"format": "pt"}}, 0, []
    for name, a in tensors.items():
        a = np.ascontiguousarray(a, dtype=np.float32)
        blob = bf16_round(a).tobytes() if bf16 else a.tobytes()
        hdr[name] = {"dtype": "BF16" if bf16 else "F32", "shape": list(a.shape),
                     "data_offsets": [off, off + len(blob)]}
        off += len(blob)
        blobs.append(blob)
    h = json.dumps(hdr).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def bf16_values(a):
    return (bf16_round(a).astype(np.uint32) << 16).view(np.float32)


def make_model(d, cfg, seed, bf16_shards=0):
    """Random weights (biases and norms random too, so they are tested)."""
    rng = np.random.default_rng(seed)
    C, L, H, KV, I, V = (cfg[k] for k in ("hidden_size", "num_hidden_layers", "num_attention_heads",
                                          "num_key_value_heads", "intermediate_size", "vocab_size"))
    D = C // H
    n = lambda *s: (rng.standard_normal(s) * 0.1).astype(np.float32)
    w = {"model.embed_tokens.weight": n(V, C), "model.norm.weight": 1 + n(C)}
    for l in range(L):
        p = f"model.layers.{l}."
        w.update({p + "input_layernorm.weight": 1 + n(C), p + "post_attention_layernorm.weight": 1 + n(C),
                  p + "self_attn.q_proj.weight": n(H * D, C), p + "self_attn.q_proj.bias": n(H * D),
                  p + "self_attn.k_proj.weight": n(KV * D, C), p + "self_attn.k_proj.bias": n(KV * D),
                  p + "self_attn.v_proj.weight": n(KV * D, C), p + "self_attn.v_proj.bias": n(KV * D),
                  p + "self_attn.o_proj.weight": n(C, H * D), p + "mlp.gate_proj.weight": n(I, C),
                  p + "mlp.up_proj.weight": n(I, C), p + "mlp.down_proj.weight": n(C, I)})
    if not cfg.get("tie_word_embeddings"):
        w["lm_head.weight"] = n(V, C)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(dict(cfg, model_type="qwen2", architectures=["Qwen2ForCausalLM"]), f)
    if bf16_shards:
        names = list(w)
        parts = [names[i::bf16_shards] for i in range(bf16_shards)]
        wm = {}
        for i, part in enumerate(parts):
            fn = f"model-{i + 1:05d}-of-{bf16_shards:05d}.safetensors"
            st_write(os.path.join(d, fn), {k: w[k] for k in part}, bf16=True)
            wm.update({k: fn for k in part})
        with open(os.path.join(d, "model.safetensors.index.json"), "w") as f:
            json.dump({"metadata": {}, "weight_map": wm}, f)
        w = {k: bf16_values(v) for k, v in w.items()}
    else:
        st_write(os.path.join(d, "model.safetensors"), w)
    return w


TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


def lora_name(l, t, ab):
    grp = "mlp" if t in ("gate_proj", "up_proj", "down_proj") else "self_attn"
    return f"base_model.model.model.layers.{l}.{grp}.{t}.lora_{ab}.weight"


def make_adapter(d, cfg, r, alpha, targets, seed):
    rng = np.random.default_rng(seed)
    C, H, KV, I = cfg["hidden_size"], cfg["num_attention_heads"], cfg["num_key_value_heads"], cfg["intermediate_size"]
    D = C // H
    shp = {"q_proj": (H * D, C), "k_proj": (KV * D, C), "v_proj": (KV * D, C), "o_proj": (C, H * D),
           "gate_proj": (I, C), "up_proj": (I, C), "down_proj": (C, I)}
    a = {}
    for l in range(cfg["num_hidden_layers"]):
        for t in targets:
            out, inp = shp[t]
            a[lora_name(l, t, "A")] = (rng.standard_normal((r, inp)) * 0.1).astype(np.float32)
            a[lora_name(l, t, "B")] = (rng.standard_normal((out, r)) * 0.1).astype(np.float32)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "adapter_config.json"), "w") as f:
        json.dump({"peft_type": "LORA", "task_type": "CAUSAL_LM", "r": r, "lora_alpha": alpha,
                   "lora_dropout": 0.0, "target_modules": targets, "bias": "none"}, f)
    st_write(os.path.join(d, "adapter_model.safetensors"), a)
    return a


def rms(x, w, eps):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w


def rot_half(x):
    h = x.shape[-1] // 2
    return torch.cat((-x[..., h:], x[..., :h]), dim=-1)


def forward(W, cfg, tokens, lora=None, scale=1.0, docstart=None):
    """W, lora: dicts of torch tensors (float64). tokens (B,T) long. Returns logits (B,T,V)."""
    C, L, H, KV = (cfg[k] for k in ("hidden_size", "num_hidden_layers", "num_attention_heads",
                                    "num_key_value_heads"))
    D, eps, theta = C // H, cfg["rms_norm_eps"], cfg["rope_theta"]
    B, T = tokens.shape
    ds = torch.zeros_like(tokens) if docstart is None else docstart
    pos = (torch.arange(T).unsqueeze(0) - ds).double()  # (B,T)
    inv = 1.0 / (theta ** (torch.arange(0, D, 2, dtype=torch.float64) / D))
    fr = pos.unsqueeze(-1) * inv  # (B,T,D/2)
    emb = torch.cat((fr, fr), -1)
    cos, sin = emb.cos().unsqueeze(1), emb.sin().unsqueeze(1)  # (B,1,T,D)
    i = torch.arange(T)
    allowed = (i.view(1, T, 1) >= i.view(1, 1, T)) & (i.view(1, 1, T) >= ds.view(B, T, 1))  # (B,T,T)

    def lin(x, l, name, grp, bias=True):
        p = f"model.layers.{l}.{grp}.{name}."
        y = x @ W[p + "weight"].T
        if bias:
            y = y + W[p + "bias"]
        if lora is not None and lora_name(l, name, "A") in lora:
            y = y + scale * ((x @ lora[lora_name(l, name, "A")].T) @ lora[lora_name(l, name, "B")].T)
        return y

    x = W["model.embed_tokens.weight"][tokens]
    for l in range(L):
        p = f"model.layers.{l}."
        h = rms(x, W[p + "input_layernorm.weight"], eps)
        q = lin(h, l, "q_proj", "self_attn").view(B, T, H, D).transpose(1, 2)
        k = lin(h, l, "k_proj", "self_attn").view(B, T, KV, D).transpose(1, 2)
        v = lin(h, l, "v_proj", "self_attn").view(B, T, KV, D).transpose(1, 2)
        q = q * cos + rot_half(q) * sin
        k = k * cos + rot_half(k) * sin
        k = k.repeat_interleave(H // KV, dim=1)
        v = v.repeat_interleave(H // KV, dim=1)
        s = (q @ k.transpose(-1, -2)) / D ** 0.5
        s = s.masked_fill(~allowed.unsqueeze(1), float("-inf"))
        a = torch.softmax(s, -1) @ v
        x = x + lin(a.transpose(1, 2).reshape(B, T, H * D), l, "o_proj", "self_attn", bias=False)
        h = rms(x, W[p + "post_attention_layernorm.weight"], eps)
        g = lin(h, l, "gate_proj", "mlp", bias=False)
        u = lin(h, l, "up_proj", "mlp", bias=False)
        x = x + lin(torch.nn.functional.silu(g) * u, l, "down_proj", "mlp", bias=False)
    x = rms(x, W["model.norm.weight"], eps)
    head = W["model.embed_tokens.weight"] if cfg.get("tie_word_embeddings") else W["lm_head.weight"]
    return x @ head.T


def masked_loss(logits, targets, mask):
    nll = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1),
                                            reduction="none")
    m = mask.reshape(-1).double()
    return (nll * m).sum() / m.sum()


def run_oracle(spec, workdir):
    exe = os.path.join(os.environ.get("TKD_BUILD_DIR", "build"), "bin", "model_oracle")
    sp, out = os.path.join(workdir, "spec.json"), os.path.join(workdir, "out.safetensors")
    with open(sp, "w") as f:
        json.dump(spec, f)
    r = subprocess.run([exe, sp, out], capture_output=True, text=True)
    if r.returncode:
        sys.exit(f"model_oracle failed: {r.stderr}")
    return st_read(out)[0]


def rel_err(a, b):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-30))
