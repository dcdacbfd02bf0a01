"""PyTorch CPU peer for bench/misc_bench.ts: the same ops written the way Hugging Face writes them.

Reads a JSON request on stdin:
  {"warmup": int, "reps": int, "cases": [{"name": str, "kind": str, "shape": [int, ...],
                                          "top_p": float (sampling only)}]}
and prints one JSON object on stdout:
  {"torch": version, "threads": int, "results": [{"name": str, "ms": float}]}
Kinds and shapes:
  rmsnorm_fwd / rmsnorm_bwd [rows, dim]   Qwen2RMSNorm; bwd = autograd of x and weight
  rope [batch, tokens, heads, head_dim]   q·cos + rotate_half(q)·sin
  embedding_fwd / embedding_bwd [tokens, vocab, dim]
  cross_entropy_fwd / cross_entropy_bwd [rows, vocab]
  token_logprobs [rows, vocab]            log_softmax + gather
  sample_top_p / argmax [rows, vocab]     softmax, sort, cumsum, mask, multinomial (HF's TopP)
Backward kinds time only the backward (torch.autograd.grad with retain_graph). Each time is the
median wall-clock milliseconds of `reps` calls after `warmup` calls.
"""

import json
import statistics
import sys
import time

import torch
import torch.nn.functional as F


def rmsnorm(x, w):
    variance = x.pow(2).mean(-1, keepdim=True)
    return w * (x * torch.rsqrt(variance + 1e-6))


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


def runner(case):
    kind, shape = case["kind"], case["shape"]
    if kind in ("rmsnorm_fwd", "rmsnorm_bwd"):
        x = torch.randn(*shape, requires_grad=True)
        w = torch.randn(shape[-1], requires_grad=True)
        if kind == "rmsnorm_fwd":
            return lambda: rmsnorm(x, w)
        y = rmsnorm(x, w)
        dy = torch.randn_like(y)
        return lambda: torch.autograd.grad(y, [x, w], dy, retain_graph=True)
    if kind == "rope":
        b, t, h, d = shape
        q = torch.randn(b, t, h, d)
        angles = torch.randn(t, d // 2)
        emb = torch.cat((angles, angles), dim=-1)
        cos, sin = emb.cos()[None, :, None, :], emb.sin()[None, :, None, :]
        return lambda: q * cos + rotate_half(q) * sin
    if kind in ("embedding_fwd", "embedding_bwd"):
        n, v, d = shape
        ids = torch.randint(0, v, (n,))
        table = torch.randn(v, d, requires_grad=True)
        if kind == "embedding_fwd":
            return lambda: F.embedding(ids, table)
        out = F.embedding(ids, table)
        dout = torch.randn_like(out)
        return lambda: torch.autograd.grad(out, [table], dout, retain_graph=True)
    n, v = shape
    logits = torch.randn(n, v, requires_grad=kind == "cross_entropy_bwd") * 4
    targets = torch.randint(0, v, (n,))
    if kind == "cross_entropy_fwd":
        return lambda: F.cross_entropy(logits, targets)
    if kind == "cross_entropy_bwd":
        loss = F.cross_entropy(logits, targets)
        return lambda: torch.autograd.grad(loss, [logits], retain_graph=True)
    if kind == "token_logprobs":
        return lambda: F.log_softmax(logits, -1).gather(-1, targets[:, None])
    if kind == "argmax":
        return lambda: logits.argmax(-1)
    if kind == "sample_top_p":
        top_p = case["top_p"]

        def sample():
            probs = F.softmax(logits, -1)
            sorted_probs, order = probs.sort(-1, descending=True)
            cum = sorted_probs.cumsum(-1)
            sorted_probs[(cum - sorted_probs) >= top_p] = 0
            pick = torch.multinomial(sorted_probs, 1)
            return order.gather(-1, pick)

        return sample
    raise ValueError(f"unknown kind {kind}")


def time_case(case, warmup, reps):
    fn = runner(case)
    with torch.no_grad() if not case["kind"].endswith("_bwd") else torch.enable_grad():
        for _ in range(warmup):
            fn()
        samples = []
        for _ in range(reps):
            start = time.perf_counter()
            fn()
            samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def main():
    request = json.load(sys.stdin)
    results = [
        {"name": c["name"], "ms": time_case(c, request["warmup"], request["reps"])}
        for c in request["cases"]
    ]
    print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(),
                      "results": results}))


if __name__ == "__main__":
    main()
