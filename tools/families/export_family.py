"""Export a family model as the single ONNX graph a user would bring, with PyTorch goldens.

    /usr/bin/python3 tools/families/export_family.py --family dit --size tiny \
        --out tools/families/fixtures/dit-tiny --golden tools/golden/families/dit-tiny

Writes <out>/model.onnx (torch.onnx.export, dynamo=False, opset 17, dynamic batch: what README
"Bring your own model" tells users to run) and golden files: the graph's output for fixed inputs,
and a whole reference loop in PyTorch exactly as the runtime samples the family (for DiT: DDIM as
Euler in flow variables, src/core/ddim.ts, with CFG against the null class and the runtime's
seeded noise). `--size medium` makes the bench's larger variant (not committed).
"""
import argparse
import inspect
import json
import math
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))  # tools/
sys.path.insert(0, HERE)
from export import write_golden  # noqa: E402
from export_t2i import gaussian_noise  # noqa: E402
import dit_class as dit_family  # noqa: E402

REFERENCE = {"label": 3, "seed": 7, "steps": 6, "guidance": 3.0}
DDIM = {"trainTimesteps": 1000, "betaSchedule": "linear", "betaStart": 0.0001, "betaEnd": 0.02}


# ---- src/core/ddim.ts, line for line ----
def alphas_cumprod(c):
    T, out, prod = c["trainTimesteps"], [], 1.0
    for t in range(T):
        u = t / (T - 1)
        beta = c["betaStart"] + u * (c["betaEnd"] - c["betaStart"])
        prod *= 1 - beta
        out.append(prod)
    return out


def sigma_of(abar):
    a, s = math.sqrt(abar), math.sqrt(1 - abar)
    return s / (a + s)


def ddim_sigmas(steps, c):
    abar = alphas_cumprod(c)
    T = c["trainTimesteps"]
    ts = [round(T - i * T / steps) - 1 for i in range(steps)]
    return [sigma_of(abar[t]) for t in ts] + [0.0]


def timestep_of(sigma, abar):
    T = len(abar)
    if sigma >= sigma_of(abar[T - 1]):
        return T - 1
    if sigma <= sigma_of(abar[0]):
        return 0
    r = sigma / (1 - sigma)
    target = math.log(1 / (1 + r * r))
    lo, hi = 0, T - 1
    while hi - lo > 1:
        mid = (lo + hi) >> 1
        if math.log(abar[mid]) >= target:
            lo = mid
        else:
            hi = mid
    a, b = math.log(abar[lo]), math.log(abar[hi])
    return lo + (0 if a == b else (a - target) / (a - b))


def ddim_scalars(sigma, abar):
    t = timestep_of(sigma, abar)
    sg = min(sigma, sigma_of(abar[-1]))
    r = sg / (1 - sg)
    alpha = 1 / math.sqrt(1 + r * r)
    return t, 1 / math.sqrt((1 - sg) ** 2 + sg * sg), r, alpha


def dit_reference(m, cfg, ref):
    """The runtime's loop (src/core/sampler.ts, 'actual' time, no cache) on the ε-model."""
    C, S = cfg["in_channels"], cfg["input_size"]
    abar = alphas_cumprod(DDIM)
    noise = gaussian_noise(ref["seed"], C * S * S).reshape(1, C, S, S)
    sig = ddim_sigmas(ref["steps"], DDIM)
    x, elapsed = noise.clone(), 0.0
    labels = torch.tensor([ref["label"], cfg["num_classes"]], dtype=torch.int32)
    with torch.no_grad():
        for i in range(ref["steps"]):
            sigma = sig[0] - elapsed
            remaining = sig[0] - sig[-1] - elapsed
            dt = remaining if i == ref["steps"] - 1 else (sig[i] - sig[i + 1]) * remaining / (sig[i] - sig[-1])
            t, k, r, alpha = ddim_scalars(sigma, abar)
            x2 = x.repeat(2, 1, 1, 1)
            xv = x2 + (k - 1) * x2
            eps = m(xv, torch.full((2,), t, dtype=torch.float32), labels)[:, :C]
            w = xv + (-(1 + r) * alpha) * eps
            v2 = w + (-1 / alpha - 1) * w
            v = v2[1:2] + ref["guidance"] * (v2[0:1] - v2[1:2])
            x = x - dt * v
            elapsed += dt
    return noise, x


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--family", choices=["dit"], default="dit")
    ap.add_argument("--size", choices=sorted(dit_family.SIZES), default="tiny")
    ap.add_argument("--out", required=True)
    ap.add_argument("--golden")
    args = ap.parse_args()
    cfg = dit_family.SIZES[args.size]
    torch.manual_seed(0)
    m = dit_family.DiT(learn_sigma=True, **cfg)
    m.randomize(seed=1234, std=0.15)
    m.eval()
    os.makedirs(args.out, exist_ok=True)
    C, S = cfg["in_channels"], cfg["input_size"]
    g = torch.Generator().manual_seed(0)
    x = torch.randn(2, C, S, S, generator=g)
    t = torch.tensor([700.0, 250.5])
    y = torch.tensor([1, cfg["num_classes"]], dtype=torch.int32)
    with torch.no_grad():
        out = m(x, t, y)
    path = os.path.join(args.out, "model.onnx")
    names = ["latent", "timestep", "class_labels", "out"]
    # dynamo=False where the keyword exists (newer PyTorch defaults to the dynamo exporter, whose node names differ)
    legacy = {"dynamo": False} if "dynamo" in inspect.signature(torch.onnx.export).parameters else {}
    torch.onnx.export(m, (x, t, y), path, **legacy, opset_version=17, input_names=names[:3], output_names=names[3:],
                      dynamic_axes={n: {0: "B"} for n in names}, do_constant_folding=True)
    info = {"out": path, "bytes": os.path.getsize(path), "parameters": sum(p.numel() for p in m.parameters()), "config": cfg}
    if args.golden:
        noise, x_ref = dit_reference(m, cfg, REFERENCE)
        write_golden(args.golden, {
            "model": {"inputs": {"latent": x, "timestep": t, "class_labels": y}, "outputs": {"out": out}},
            "reference": {"inputs": {"noise": noise}, "outputs": {"latent": x_ref}},
        })
        with open(os.path.join(args.golden, "golden.json")) as f:
            index = json.load(f)
        index["reference"] = {**REFERENCE, "scheduler": DDIM, "tolerance": 1e-3}
        with open(os.path.join(args.golden, "golden.json"), "w") as f:
            json.dump(index, f, indent=1)
    print(json.dumps(info))


if __name__ == "__main__":
    main()
