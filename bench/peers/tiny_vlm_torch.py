"""PyTorch CPU peer of the `tiny` Qwen2.5-VL preset, for bench/model_bench.ts.

A plain-torch re-implementation of the architecture our WGSL model runs (src/nn/): the vision
tower (patch embedding, RMSNorm blocks with 2-D rotary attention, windowed except in the
full-attention blocks, SiLU-gated MLPs with biases, the 2x2 patch merger), and the Qwen2 decoder
(RMSNorm, GQA attention with q/k/v biases and M-RoPE, SiLU-gated MLP, tied LM head). Weights are
random (speed does not depend on their values); the parameter count is reported so the caller can
check that the dimensions match.

Reads one JSON request on stdin:
  {"config": <Qwen25VLConfig JSON>, "threads": 2, "warmup": 1, "reps": 3,
   "train": {"batch": B, "length": T, "grid": [1, gh, gw], "response_start": S},
   "decode": {"batch": B, "prompt": P, "new_tokens": N, "grid": [1, gh, gw]}}
and prints {"torch", "threads", "parameters", "results": [{"name", "ms"}]} where
  train-step: forward + cross-entropy on tokens from S on + backward + clip + AdamW (median ms),
  prefill:    the prompt pass of B prompts of P tokens filling the KV cache,
  generate:   prefill plus N greedy decode steps with the KV cache.

With "mode": "logits" it instead loads weights in the published Qwen2.5-VL names from a raw
little-endian f32 file ({"weights": {"file", "tensors": [{"name", "shape", "offset"}]}}, offsets
in floats; the tensor "pixels" holds the image rows) and prints {"logits": [B*T*V floats]} for
the given "ids" [B][T], "positions" [3][B][T] and "grid": the check that this peer computes the
same function as our model.
"""

import json
import math
import statistics
import sys
import time

import torch
import torch.nn.functional as F


def rms_norm(x, weight, eps):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * weight


def attention(q, k, v, mask=None, causal=False):
    """Softmax attention [.., Tq, hd] over [.., Tk, hd] (torch 1.13 has no fused SDPA)."""
    scores = (q @ k.transpose(-1, -2)) / math.sqrt(q.shape[-1])
    if causal:
        tq, tk = q.shape[-2], k.shape[-2]
        mask = torch.ones(tq, tk, dtype=torch.bool).tril(tk - tq)
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    return scores.softmax(-1) @ v


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


class RmsNorm(torch.nn.Module):
    def __init__(self, dim, eps):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.ones(dim))
        self.eps = eps

    def forward(self, x):
        return rms_norm(x, self.weight, self.eps)


class GatedMlp(torch.nn.Module):
    def __init__(self, dim, hidden, bias):
        super().__init__()
        self.gate_proj = torch.nn.Linear(dim, hidden, bias=bias)
        self.up_proj = torch.nn.Linear(dim, hidden, bias=bias)
        self.down_proj = torch.nn.Linear(hidden, dim, bias=bias)

    def forward(self, x):
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class VisionBlock(torch.nn.Module):
    def __init__(self, v):
        super().__init__()
        d = v["hidden_size"]
        self.heads = v["num_heads"]
        self.norm1 = RmsNorm(d, 1e-6)
        self.norm2 = RmsNorm(d, 1e-6)
        self.qkv = torch.nn.Linear(d, 3 * d)
        self.proj = torch.nn.Linear(d, d)
        self.mlp = GatedMlp(d, v["intermediate_size"], True)

    def forward(self, x, cos, sin, mask):
        # x [images, patches, d]; cos/sin [patches, head_dim]; mask [patches, patches] or None
        n, p, d = x.shape
        hd = d // self.heads
        q, k, v = self.qkv(self.norm1(x)).view(n, p, 3, self.heads, hd).permute(2, 0, 3, 1, 4)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        a = attention(q, k, v, mask)
        x = x + self.proj(a.transpose(1, 2).reshape(n, p, d))
        return x + self.mlp(self.norm2(x))


class VisionTower(torch.nn.Module):
    def __init__(self, v):
        super().__init__()
        self.v = v
        patch_dim = v["in_chans"] * v["temporal_patch_size"] * v["patch_size"] ** 2
        self.patch_embed = torch.nn.Linear(patch_dim, v["hidden_size"], bias=False)
        self.blocks = torch.nn.ModuleList(VisionBlock(v) for _ in range(v["depth"]))
        d = v["hidden_size"]
        merged = d * v["spatial_merge_size"] ** 2
        self.ln_q = RmsNorm(d, 1e-6)
        self.merger0 = torch.nn.Linear(merged, merged)
        self.merger2 = torch.nn.Linear(merged, v["out_hidden_size"])

    def layout(self, grid):
        """2-D rotary angles and the window mask of one image, patches in 2x2-merge order."""
        _, gh, gw = grid
        m = self.v["spatial_merge_size"]
        rows, cols, window = [], [], []
        merged_w = gw // m
        side = self.v["window_size"] // self.v["patch_size"] // m
        for bh in range(gh // m):
            for bw in range(gw // m):
                for mh in range(m):
                    for mw in range(m):
                        rows.append(bh * m + mh)
                        cols.append(bw * m + mw)
                        window.append((bh // side) * ((merged_w + side - 1) // side) + bw // side)
        hd = self.v["hidden_size"] // self.v["num_heads"]
        inv = 1.0 / (10000 ** (torch.arange(0, hd // 2, 2, dtype=torch.float32) / (hd // 2)))
        angles = torch.cat(
            (torch.tensor(rows, dtype=torch.float32)[:, None] * inv,
             torch.tensor(cols, dtype=torch.float32)[:, None] * inv), dim=-1)
        emb = torch.cat((angles, angles), dim=-1)
        w = torch.tensor(window)
        mask = w[:, None] == w[None, :]
        return emb.cos(), emb.sin(), (None if bool(mask.all()) else mask)

    def forward(self, pixels, grid):
        # pixels [images, patches, C·t·p²] -> features [images, patches / merge², out_hidden]
        cos, sin, window_mask = self.layout(grid)
        x = self.patch_embed(pixels)
        for i, block in enumerate(self.blocks):
            full = i in self.v["fullatt_block_indexes"]
            x = block(x, cos, sin, None if full else window_mask)
        n = x.shape[0]
        x = self.ln_q(x).view(n, -1, x.shape[-1] * self.v["spatial_merge_size"] ** 2)
        return self.merger2(F.gelu(self.merger0(x)))


class DecoderLayer(torch.nn.Module):
    def __init__(self, c):
        super().__init__()
        h = c["hidden_size"]
        self.heads = c["num_attention_heads"]
        self.kv_heads = c["num_key_value_heads"]
        hd = h // self.heads
        eps = c["rms_norm_eps"]
        self.input_layernorm = RmsNorm(h, eps)
        self.post_attention_layernorm = RmsNorm(h, eps)
        self.q_proj = torch.nn.Linear(h, self.heads * hd)
        self.k_proj = torch.nn.Linear(h, self.kv_heads * hd)
        self.v_proj = torch.nn.Linear(h, self.kv_heads * hd)
        self.o_proj = torch.nn.Linear(self.heads * hd, h, bias=False)
        self.mlp = GatedMlp(h, c["intermediate_size"], False)

    def forward(self, x, cos, sin, cache, causal):
        # x [B, T, h]; cos/sin [B, T, head_dim]; cache: (k, v) [B, kv, S, hd] or None
        b, t, h = x.shape
        hd = h // self.heads
        y = self.input_layernorm(x)
        q = self.q_proj(y).view(b, t, self.heads, hd).transpose(1, 2)
        k = self.k_proj(y).view(b, t, self.kv_heads, hd).transpose(1, 2)
        v = self.v_proj(y).view(b, t, self.kv_heads, hd).transpose(1, 2)
        q = q * cos[:, None] + rotate_half(q) * sin[:, None]
        k = k * cos[:, None] + rotate_half(k) * sin[:, None]
        if cache is not None:
            k = torch.cat((cache[0], k), dim=2)
            v = torch.cat((cache[1], v), dim=2)
        group = self.heads // self.kv_heads
        a = attention(
            q, k.repeat_interleave(group, 1), v.repeat_interleave(group, 1), causal=causal)
        x = x + self.o_proj(a.transpose(1, 2).reshape(b, t, h))
        return x + self.mlp(self.post_attention_layernorm(x)), (k, v)


class TinyVlm(torch.nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c = c
        self.embed_tokens = torch.nn.Embedding(c["vocab_size"], c["hidden_size"])
        self.visual = VisionTower(c["vision_config"])
        self.layers = torch.nn.ModuleList(DecoderLayer(c) for _ in range(c["num_hidden_layers"]))
        self.norm = RmsNorm(c["hidden_size"], c["rms_norm_eps"])

    def rotary(self, positions):
        """M-RoPE cos/sin [B, T, head_dim] from positions [3, B, T] (t, h, w sections)."""
        c = self.c
        hd = c["hidden_size"] // c["num_attention_heads"]
        inv = 1.0 / (c["rope_theta"] ** (torch.arange(0, hd, 2, dtype=torch.float32) / hd))
        freqs = positions[..., None].float() * inv  # [3, B, T, hd/2]
        parts, start = [], 0
        for axis, width in enumerate(c["rope_scaling"]["mrope_section"]):
            parts.append(freqs[axis, ..., start:start + width])
            start += width
        angles = torch.cat(parts, dim=-1)
        emb = torch.cat((angles, angles), dim=-1)
        return emb.cos(), emb.sin()

    def embed(self, ids, pixels, grid):
        x = self.embed_tokens(ids)
        if pixels is None:
            return x
        features = self.visual(pixels, grid).reshape(-1, x.shape[-1])
        mask = (ids == self.c["image_token_id"]).reshape(-1)
        x = x.reshape(-1, x.shape[-1]).clone()
        x[mask] = features
        return x.view(ids.shape[0], ids.shape[1], -1)

    def forward(self, x, positions, caches=None):
        cos, sin = self.rotary(positions)
        new = []
        for i, layer in enumerate(self.layers):
            x, kv = layer(x, cos, sin, None if caches is None else caches[i], caches is None)
            new.append(kv)
        return self.norm(x) @ self.embed_tokens.weight.t(), new


def sequence(config, length, grid, generator):
    """Token ids [length] with one image block after a short prefix, and M-RoPE positions [3, length]."""
    m = config["vision_config"]["spatial_merge_size"]
    gh, gw = grid[1] // m, grid[2] // m
    image = gh * gw
    special = min(config["bos_token_id"], config["eos_token_id"])
    ids = torch.randint(0, special, (length,), generator=generator)
    start = 3
    ids[start - 1] = config["vision_start_token_id"]
    ids[start:start + image] = config["image_token_id"]
    ids[start + image] = config["vision_end_token_id"]
    positions = torch.zeros(3, length, dtype=torch.long)
    positions[:, :start] = torch.arange(start)
    for j in range(image):
        positions[:, start + j] = torch.tensor([start, start + j // gw, start + j % gw])
    after = start + max(gh, gw)
    tail = length - (start + image)
    positions[:, start + image:] = torch.arange(after, after + tail)
    return ids, positions


def batch(config, b, length, grid, generator):
    v = config["vision_config"]
    pairs = [sequence(config, length, grid, generator) for _ in range(b)]
    ids = torch.stack([p[0] for p in pairs])
    positions = torch.stack([p[1] for p in pairs], dim=1)
    patch_dim = v["in_chans"] * v["temporal_patch_size"] * v["patch_size"] ** 2
    pixels = torch.randn(b, grid[0] * grid[1] * grid[2], patch_dim, generator=generator)
    return ids, positions, pixels


def timed(fn, warmup, reps):
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(reps):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def peer_name(published):
    """Our module path of a published Qwen2.5-VL tensor name."""
    name = published[len("model."):] if published.startswith("model.") else published
    for old, new in (("self_attn.", ""), ("attn.", ""), ("merger.ln_q", "ln_q"),
                     ("merger.mlp.0", "merger0"), ("merger.mlp.2", "merger2"),
                     ("patch_embed.proj", "patch_embed")):
        name = name.replace(old, new)
    return name


def logits_check(request, model):
    spec = request["weights"]
    with open(spec["file"], "rb") as f:
        values = torch.frombuffer(bytearray(f.read()), dtype=torch.float32)
    tensors = {
        t["name"]: values[t["offset"]:t["offset"] + math.prod(t["shape"])].view(*t["shape"])
        for t in spec["tensors"]
    }
    pixels = tensors.pop("pixels")
    state = model.state_dict()
    loaded = {}
    for published, value in tensors.items():
        name = peer_name(published)
        loaded[name] = value.reshape(state[name].shape)
    missing = set(state) - set(loaded)
    if missing:
        raise KeyError(f"weights missing for {sorted(missing)}")
    model.load_state_dict(loaded)
    ids = torch.tensor(request["ids"])
    positions = torch.tensor(request["positions"])
    with torch.no_grad():
        logits, _ = model(model.embed(ids, pixels.view(ids.shape[0], -1, pixels.shape[-1]),
                                      request["grid"]), positions)
    print(json.dumps({"logits": logits.reshape(-1).tolist()}))


def main():
    request = json.load(sys.stdin)
    torch.set_num_threads(request["threads"])
    torch.manual_seed(1)
    config = request["config"]
    model = TinyVlm(config)
    if request.get("mode") == "logits":
        logits_check(request, model)
        return
    generator = torch.Generator().manual_seed(2)
    warmup, reps = request["warmup"], request["reps"]
    results = []

    t = request["train"]
    ids, positions, pixels = batch(config, t["batch"], t["length"], t["grid"], generator)
    targets = ids[:, 1:].clone()
    targets[:, :t["response_start"] - 1] = -100
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0.01)

    def train_step():
        optimizer.zero_grad(set_to_none=False)
        logits, _ = model(model.embed(ids, pixels, t["grid"]), positions)
        loss = F.cross_entropy(
            logits[:, :-1].reshape(-1, logits.shape[-1]), targets.reshape(-1), ignore_index=-100)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()

    results.append({"name": "train-step", "ms": timed(train_step, warmup, reps)})

    d = request["decode"]
    ids, positions, pixels = batch(config, d["batch"], d["prompt"], d["grid"], generator)

    def generate(steps):
        with torch.no_grad():
            logits, caches = model(model.embed(ids, pixels, d["grid"]), positions)
            token = logits[:, -1].argmax(-1)
            last = positions[:, :, -1]
            for step in range(1, steps):
                x = model.embed_tokens(token)[:, None]
                pos = (last + step)[:, :, None]
                logits, caches = model(x, pos, caches)
                token = logits[:, -1].argmax(-1)

    results.append({"name": "prefill", "ms": timed(lambda: generate(1), warmup, reps)})
    results.append({"name": "generate", "ms": timed(lambda: generate(d["new_tokens"]), warmup, reps)})

    print(json.dumps({
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "parameters": sum(p.numel() for p in model.parameters()),
        "results": results,
    }))


if __name__ == "__main__":
    main()
