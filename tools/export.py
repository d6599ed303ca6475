"""Export a trained (or random-weight) DiT to the split ONNX interface + manifest + goldens.

    python3 tools/export.py --ckpt tools/out/dit.pt --out public/models/mnist-dit \
        --golden tools/golden/mnist-dit [--guidance 3.0]
    python3 tools/export.py --random --dim 256 --depth 12 --patch 2 --out /tmp/dit-big

Graph interface (shared/design/model.md): embed(x, t, y) -> h, c, mod0; blocks(h, c) -> z;
head(z, c) -> v; model(x, t, y) -> v. y is int32 (graph capture on WebGPU dislikes int64).
"""
import argparse
import hashlib
import json
import os

import torch

from dit import DiT, NULL_CLASS
from flops import count_flops

OPSET = 17


class _Embed(torch.nn.Module):
    def __init__(self, m): super().__init__(); self.m = m
    def forward(self, x, t, y): return self.m.embed(x, t, y)


class _Blocks(torch.nn.Module):
    def __init__(self, m): super().__init__(); self.m = m
    def forward(self, h, c): return self.m.run_blocks(h, c)


class _Head(torch.nn.Module):
    def __init__(self, m): super().__init__(); self.m = m
    def forward(self, z, c): return self.m.head(z, c)


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def export(module, args, path, in_names, out_names):
    dyn = {n: {0: "B"} for n in in_names + out_names}
    torch.onnx.export(module, args, path, opset_version=OPSET, input_names=in_names,
                      output_names=out_names, dynamic_axes=dyn, do_constant_folding=True)


def sample_inputs(m, batch=2, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(batch, 1, m.size, m.size, generator=g)
    t = torch.rand(batch, generator=g)
    y = torch.tensor([3, NULL_CLASS] * (batch // 2), dtype=torch.int32)
    return x, t, y


def io_spec(names, tensors, int_names=()):
    spec = {}
    for n, tns in zip(names, tensors):
        spec[n] = {"dtype": "int32" if n in int_names else "float32",
                   "shape": ["B"] + list(tns.shape[1:])}
    return spec


def write_golden(gdir, graphs):
    """graphs: {name: {"inputs": {n: tensor}, "outputs": {n: tensor}}} -> raw LE binaries + index."""
    os.makedirs(gdir, exist_ok=True)
    index = {}
    for gname, io in graphs.items():
        entry = {}
        for kind in ("inputs", "outputs"):
            entry[kind] = {}
            for n, tns in io[kind].items():
                fname = f"{gname}.{kind[:-1]}.{n}.bin"
                arr = tns.detach().contiguous()
                dtype = "int32" if arr.dtype == torch.int32 else "float32"
                arr.numpy().astype("<i4" if dtype == "int32" else "<f4").tofile(os.path.join(gdir, fname))
                entry[kind][n] = {"file": fname, "dtype": dtype, "dims": list(arr.shape)}
        index[gname] = entry
    with open(os.path.join(gdir, "golden.json"), "w") as f:
        json.dump({"tolerance": 1e-4, "graphs": index}, f, indent=1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ckpt")
    ap.add_argument("--random", action="store_true", help="random weights (timing-only variants)")
    ap.add_argument("--dim", type=int, default=128)
    ap.add_argument("--depth", type=int, default=6)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--patch", type=int, default=4)
    ap.add_argument("--size", type=int, default=28)
    ap.add_argument("--out", required=True)
    ap.add_argument("--golden")
    ap.add_argument("--name", default="mnist-dit")
    ap.add_argument("--guidance", type=float, default=3.0)
    ap.add_argument("--shift", type=float, default=1.0)
    ap.add_argument("--steps", type=int, default=50)
    args = ap.parse_args()
    torch.set_num_threads(os.cpu_count())

    meta = {}
    if args.random:
        m = DiT(size=args.size, patch=args.patch, dim=args.dim, depth=args.depth, heads=args.heads)
        m.randomize(seed=1234)
        meta = {"weights": "random (timing only)"}
    else:
        ck = torch.load(args.ckpt, map_location="cpu")
        m = DiT(**ck["config"])
        m.load_state_dict(ck["state"])
        meta = {"weights": "trained", "train": ck.get("train", {})}
    m.eval()
    os.makedirs(args.out, exist_ok=True)

    x, t, y = sample_inputs(m)
    with torch.no_grad():
        h, c, mod0 = m.embed(x, t, y)
        z = m.run_blocks(h, c)
        v = m.head(z, c)
        v_full = m(x, t, y)
    assert torch.allclose(v, v_full, atol=1e-6)

    files = {
        "embed": (_Embed(m), (x, t, y), ["x", "t", "y"], ["h", "c", "mod0"], (x, t, y), (h, c, mod0)),
        "blocks": (_Blocks(m), (h, c), ["h", "c"], ["z"], (h, c), (z,)),
        "head": (_Head(m), (z, c), ["z", "c"], ["v"], (z, c), (v,)),
        "model": (m, (x, t, y), ["x", "t", "y"], ["v"], (x, t, y), (v_full,)),
    }
    graphs, golden = {}, {}
    for name, (mod, a, ins, outs, in_t, out_t) in files.items():
        path = os.path.join(args.out, f"{name}.onnx")
        with torch.no_grad():
            export(mod, a, path, ins, outs)
        graphs[name] = {"file": f"{name}.onnx", "sha256": sha256(path), "bytes": os.path.getsize(path),
                        "inputs": io_spec(ins, in_t, int_names=("y",)),
                        "outputs": io_spec(outs, out_t), "flopsPerSample": count_flops(mod, a)}
        golden[name] = {"inputs": dict(zip(ins, in_t)), "outputs": dict(zip(outs, out_t))}

    model_hash = hashlib.sha256("".join(graphs[k]["sha256"] for k in sorted(graphs)).encode()).hexdigest()
    step_flops = sum(graphs[k]["flopsPerSample"] for k in ("embed", "blocks", "head"))
    manifest = {
        "format": "erta-diffusion-manifest", "version": 1, "name": args.name,
        "modelHash": model_hash,
        "architecture": {"type": "dit-adaln-zero", "dim": m.dim, "depth": m.depth, "heads": m.heads,
                         "patch": m.patch, "tokens": m.grid * m.grid,
                         "parameters": sum(p.numel() for p in m.parameters() if p.requires_grad)},
        "latent": {"channels": 1, "height": m.size, "width": m.size},
        "hidden": {"tokens": m.grid * m.grid, "dim": m.dim},
        "conditioning": {"type": "class", "classes": 10, "nullLabel": NULL_CLASS, "labelDtype": "int32"},
        "graphs": graphs,
        "flops": {"stepPerSample": step_flops,
                  "blocksShare": graphs["blocks"]["flopsPerSample"] / step_flops,
                  "counted": "multiply-adds x2 of every Linear, Conv and attention matmul at batch 1 (tools/flops.py); element-wise ops, norms and softmax not counted"},
        "scheduler": {"type": "flow-match-euler", "shift": args.shift, "defaultSteps": args.steps,
                      "defaultGuidance": args.guidance},
        "preview": {"from": [-1, 1], "to": [0, 255], "channels": 1},
        "plans": [],
        **meta,
    }
    with open(os.path.join(args.out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2)
    if args.golden:
        write_golden(args.golden, golden)
    print(json.dumps({"out": args.out, "modelHash": model_hash, "blocksShare": manifest["flops"]["blocksShare"],
                      "bytes": sum(g["bytes"] for g in graphs.values())}))


if __name__ == "__main__":
    main()
