"""PyTorch CPU peer for bench/elementwise_bench.ts: the same memory-bound ops as PyTorch runs them.

Reads {"warmup": int, "reps": int, "cases": [{"name": str, "kind": str, "shape": [int, ...]}]}
on stdin and prints {"torch": version, "threads": int, "results": [{"name": str, "ms": float}]}.
Kinds: add (x + y), add_row (x + row), swiglu_fwd (silu(g) * u), swiglu_bwd (autograd of it),
grad_norm (torch.nn.utils.clip_grad_norm_ over one tensor), adamw (torch.optim.AdamW.step,
foreach off as for a single tensor). Times are median wall-clock milliseconds.
"""

import json
import os
import statistics
import sys
import time

import torch
import torch.nn.functional as F


def make(kind, shape):
    if kind == "add":
        x, y = torch.rand(*shape), torch.rand(*shape)
        out = torch.empty(*shape)
        return lambda: torch.add(x, y, out=out)
    if kind == "add_row":
        x, row = torch.rand(*shape), torch.rand(shape[-1])
        out = torch.empty(*shape)
        return lambda: torch.add(x, row, out=out)
    if kind == "swiglu_fwd":
        g, u = torch.rand(*shape), torch.rand(*shape)
        return lambda: F.silu(g) * u
    if kind == "swiglu_bwd":
        g = torch.rand(*shape, requires_grad=True)
        u = torch.rand(*shape, requires_grad=True)
        dy = torch.rand(*shape)

        def step():
            g.grad = None
            u.grad = None
            (F.silu(g) * u).backward(dy)

        return step
    if kind == "grad_norm":
        p = torch.nn.Parameter(torch.rand(*shape))
        p.grad = torch.rand(*shape)
        return lambda: torch.nn.utils.clip_grad_norm_([p], 1.0)
    if kind == "adamw":
        p = torch.nn.Parameter(torch.rand(*shape))
        p.grad = torch.rand(*shape)
        opt = torch.optim.AdamW([p], lr=1e-3, foreach=False)
        return opt.step
    raise ValueError(f"unknown kind {kind}")


def time_case(case, warmup, reps):
    run = make(case["kind"], case["shape"])
    with torch.enable_grad():
        for _ in range(warmup):
            run()
        samples = []
        for _ in range(reps):
            start = time.perf_counter()
            run()
            samples.append((time.perf_counter() - start) * 1e3)
    return statistics.median(samples)


def main():
    request = json.load(sys.stdin)
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    results = [
        {"name": c["name"], "ms": time_case(c, request["warmup"], request["reps"])}
        for c in request["cases"]
    ]
    json.dump(
        {"torch": torch.__version__, "threads": torch.get_num_threads(), "results": results},
        sys.stdout,
    )


if __name__ == "__main__":
    main()
