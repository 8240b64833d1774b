"""The peer of bench_decode: a PyTorch Qwen2 generation loop with a KV cache
(batched prefill, then one token per step for the whole batch, greedy) on
the same weights (model.safetensors read directly) and the same prompts
(tkd_rng, seed 1), in one thread count. Prints one JSON line like
bench_decode.   bench_decode_torch.py MODEL_DIR B P N THREADS"""
import json
import math
import struct
import sys
import time

import numpy as np
import torch

mdir, B, P, N, T = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
torch.set_num_threads(T)
cfg = json.load(open(f"{mdir}/config.json"))
raw = bytearray(open(f"{mdir}/model.safetensors", "rb").read())
hlen = struct.unpack("<Q", raw[:8])[0]
hdr = json.loads(raw[8:8 + hlen])
W = {}
for k, v in hdr.items():
    if k == "__metadata__":
        continue
    a, b = v["data_offsets"]
    assert v["dtype"] == "F32", v["dtype"]
    W[k] = torch.from_numpy(np.frombuffer(raw, dtype=np.float32, count=(b - a) // 4, offset=8 + hlen + a).reshape(v["shape"]))
C, L, H, KV = cfg["hidden_size"], cfg["num_hidden_layers"], cfg["num_attention_heads"], cfg["num_key_value_heads"]
D, eps, theta, V = C // H, cfg["rms_norm_eps"], cfg.get("rope_theta", 10000.0), cfg["vocab_size"]
emb = W["model.embed_tokens.weight"]
head = W.get("lm_head.weight", emb)
lw = [{n: W[f"model.layers.{l}.{n}"] for n in (
    "input_layernorm.weight", "self_attn.q_proj.weight", "self_attn.q_proj.bias", "self_attn.k_proj.weight",
    "self_attn.k_proj.bias", "self_attn.v_proj.weight", "self_attn.v_proj.bias", "self_attn.o_proj.weight",
    "post_attention_layernorm.weight", "mlp.gate_proj.weight", "mlp.up_proj.weight", "mlp.down_proj.weight")}
      for l in range(L)]
norm = W["model.norm.weight"]
inv = 1.0 / theta ** (torch.arange(0, D, 2, dtype=torch.float32) / D)
ang = torch.outer(torch.arange(P + N + 1, dtype=torch.float32), inv)
cos, sin = torch.cat([ang.cos(), ang.cos()], -1), torch.cat([ang.sin(), ang.sin()], -1)


def rms(x, w):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w


def rope(x, pos):  # x (B, h, t, D)
    c, s = cos[pos], sin[pos]
    x1, x2 = x[..., : D // 2], x[..., D // 2:]
    return x * c + torch.cat([-x2, x1], -1) * s


M64 = (1 << 64) - 1


class Rng:  # tkd_rng (xoshiro256** seeded by splitmix64): the same prompts as bench_decode
    def __init__(self, seed):
        self.s, x = [], seed
        for _ in range(4):
            x = (x + 0x9E3779B97F4A7C15) & M64
            z = x
            z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
            z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
            self.s.append(z ^ (z >> 31))

    def below(self, n):
        s, lim = self.s, M64 - M64 % n
        while True:
            r = ((((s[1] * 5) & M64) << 7 | ((s[1] * 5) & M64) >> 57) & M64) * 9 & M64
            t = (s[1] << 17) & M64
            s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3]; s[2] ^= t
            s[3] = ((s[3] << 45) | (s[3] >> 19)) & M64
            if r < lim:
                return r % n


rng = Rng(1)
prompts = torch.tensor([[rng.below(V) for _ in range(P)] for _ in range(B)])
mask = torch.full((P + N, P + N), float("-inf")).triu(1)
kc = [torch.zeros(B, KV, P + N, D) for _ in range(L)]
vc = [torch.zeros(B, KV, P + N, D) for _ in range(L)]


def forward(tok, start):  # tok (B, t) -> logits of the last position (B, V)
    t = tok.shape[1]
    pos = torch.arange(start, start + t)
    x = emb[tok]
    for l, w in enumerate(lw):
        h = rms(x, w["input_layernorm.weight"])
        q = torch.nn.functional.linear(h, w["self_attn.q_proj.weight"], w["self_attn.q_proj.bias"])
        k = torch.nn.functional.linear(h, w["self_attn.k_proj.weight"], w["self_attn.k_proj.bias"])
        v = torch.nn.functional.linear(h, w["self_attn.v_proj.weight"], w["self_attn.v_proj.bias"])
        q = rope(q.view(B, t, H, D).transpose(1, 2), pos)
        k = rope(k.view(B, t, KV, D).transpose(1, 2), pos)
        kc[l][:, :, start:start + t] = k
        vc[l][:, :, start:start + t] = v.view(B, t, KV, D).transpose(1, 2)
        K = kc[l][:, :, : start + t].repeat_interleave(H // KV, 1)
        Vv = vc[l][:, :, : start + t].repeat_interleave(H // KV, 1)
        sc = (q @ K.transpose(-1, -2)) * (1.0 / math.sqrt(D))  # (B, H, t, start+t); torch 1.13 has no SDPA
        if t > 1:
            sc = sc + mask[:t, : start + t]
        a = torch.softmax(sc, -1) @ Vv
        x = x + torch.nn.functional.linear(a.transpose(1, 2).reshape(B, t, C), w["self_attn.o_proj.weight"])
        h = rms(x, w["post_attention_layernorm.weight"])
        g = torch.nn.functional.linear(h, w["mlp.gate_proj.weight"])
        u = torch.nn.functional.linear(h, w["mlp.up_proj.weight"])
        x = x + torch.nn.functional.linear(torch.nn.functional.silu(g) * u, w["mlp.down_proj.weight"])
    return torch.nn.functional.linear(rms(x[:, -1], norm), head)


out = []
with torch.inference_mode():
    t0 = time.perf_counter()
    nxt = forward(prompts, 0).argmax(-1)
    t1 = time.perf_counter()
    out.append(nxt)
    for i in range(1, N):
        nxt = forward(nxt[:, None], P + i - 1).argmax(-1)
        out.append(nxt)
    t2 = time.perf_counter()
ids = torch.stack(out, 1).tolist()
print(json.dumps({"prefill_s": t1 - t0, "decode_s": t2 - t1, "decode_tok_s": B * (N - 1) / (t2 - t1), "ids": ids}))
