"""Export a tiny diffusers FluxTransformer2DModel (the published implementation's own code, random weights) the way
README "A real Flux export" tells users to, with PyTorch goldens: the importer's test that the real model's
export (not the family's re-implementation) imports with no flags and computes what PyTorch computes.

    PYTHONPATH=/path/to/diffusers/src /usr/bin/python3 tools/families/export_diffusers_flux.py \
        --out tools/families/fixtures/flux-diffusers-tiny --golden tools/golden/families/flux-diffusers-tiny

Needs diffusers' source (not installed here: `git archive` of huggingface/diffusers, the committed fixture is from
commit 58eb52c0, 2026-08-23) and safetensors / regex / importlib_metadata. Debian's PyTorch (1.13) is older than
diffusers wants; `_shim()` patches what is missing, none of it changing the model's arithmetic: device modules
and torch.compiler / _dynamo as no-ops, torch.* submodules newer than 1.13 as stubs, float8 dtype names,
F.scaled_dot_product_attention and nn.RMSNorm written out, Tensor.unflatten as the equal reshape (1.13's ONNX
exporter has no aten::unflatten), and LayerNorm without affine given explicit ones / zeros (1.13's exporter
writes an empty scale input otherwise). With PyTorch >= 2.4 and a diffusers install the shim does nothing.

The transformer is exported alone (transformer/model.onnx); the text encoder, tokenizer and VAE decoder the
importer also needs are the flux-packed-tiny fixture's (same widths: text 32, pooled 32, 8 tokens, 4 latent
channels at 8 x 8).
"""
import argparse
import importlib
import importlib.abc
import importlib.machinery
import inspect
import os
import sys
import types

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, HERE)
from export import write_golden  # noqa: E402
import flux as flux_family  # noqa: E402


def _shim():
    """Fill in what diffusers uses and PyTorch 1.13 lacks (see the module doc); a no-op on a recent PyTorch."""
    class _Any:
        def __getattr__(self, name):
            if name.startswith("__"):
                raise AttributeError(name)
            if name in ("is_available",):
                return lambda *a, **k: False
            if name == "device_count":
                return lambda *a, **k: 0
            return _Any()
        def __call__(self, *a, **k):
            # decorators pass through (allow_in_graph, disable, …)
            return a[0] if len(a) == 1 and not k and callable(a[0]) else None
        def __or__(self, o):
            return self
        __ror__ = __or__
        def __getitem__(self, k):
            return self
        def __mro_entries__(self, bases):
            return (object,)

    for dev in ("xpu", "mps", "mtia", "npu"):
        if not hasattr(torch, dev):
            setattr(torch, dev, _Any())

    if not hasattr(F, "scaled_dot_product_attention"):
        def sdpa(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None, enable_gqa=False):
            q, k, v = query, key, value
            s = scale if scale is not None else q.shape[-1] ** -0.5
            w = (q @ k.transpose(-2, -1)) * s
            if attn_mask is not None:
                w = w + attn_mask
            return torch.softmax(w, dim=-1) @ v
        F.scaled_dot_product_attention = sdpa

    import sys, importlib.abc, importlib.machinery

    class _StubModule(types.ModuleType):
        def __getattr__(self, name):
            if name.startswith("__"):
                raise AttributeError(name)
            return _Any()

    class _StubFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
        """Missing torch.* submodules (newer than this torch) become stubs."""
        def find_spec(self, fullname, path, target=None):
            if not fullname.startswith("torch."):
                return None
            for f in sys.meta_path:
                if f is self:
                    continue
                try:
                    s = f.find_spec(fullname, path, target)
                except Exception:
                    s = None
                if s is not None:
                    return None
            return importlib.machinery.ModuleSpec(fullname, self, is_package=True)
        def create_module(self, spec):
            m = _StubModule(spec.name)
            m.__path__ = []
            return m
        def exec_module(self, module):
            pass

    sys.meta_path.append(_StubFinder())
    import torch.distributed as _dist
    for _n in ("device_mesh", "tensor", "fsdp", "_tensor"):
        if not hasattr(_dist, _n):
            try:
                setattr(_dist, _n, importlib.import_module("torch.distributed." + _n))
            except Exception:
                setattr(_dist, _n, _StubModule("torch.distributed." + _n))
    if not hasattr(torch, "compiler"):
        class _Compiler(_Any):
            def disable(self, fn=None, *a, **k):
                return fn if fn is not None else (lambda f: f)
            def is_compiling(self):
                return False
            def is_dynamo_compiling(self):
                return False
            def allow_in_graph(self, fn):
                return fn
        torch.compiler = _Compiler()
    if not hasattr(torch, "_dynamo"):
        torch._dynamo = _Compiler()
    for _n in ("float8_e4m3fn", "float8_e5m2", "float8_e4m3fnuz", "float8_e5m2fnuz", "float8_e8m0fnu", "float4_e2m1fn_x2", "uint16", "uint32", "uint64"):
        if not hasattr(torch, _n):
            setattr(torch, _n, torch.float16 if _n.startswith("float") else torch.int32)
    if not hasattr(torch.nn, "RMSNorm"):
        class RMSNorm(torch.nn.Module):
            def __init__(self, normalized_shape, eps=None, elementwise_affine=True, device=None, dtype=None):
                super().__init__()
                self.normalized_shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
                self.eps = eps if eps is not None else 1e-6
                self.weight = torch.nn.Parameter(torch.ones(self.normalized_shape)) if elementwise_affine else None
            def forward(self, x):
                y = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps)
                return y * self.weight if self.weight is not None else y
        torch.nn.RMSNorm = RMSNorm
    if int(torch.__version__.split(".")[0]) >= 2:
        return
    # torch 1.13's ONNX exporter has no aten::unflatten: the same as a reshape
    def _unflatten(self, dim, sizes):
        dim = dim % self.dim()
        return self.reshape(*self.shape[:dim], *sizes, *self.shape[dim + 1:])
    torch.Tensor.unflatten = _unflatten
    # torch 1.13's exporter writes LayerNormalization with an empty scale when there is no affine: give it ones
    _ln = F.layer_norm
    def _layer_norm(x, normalized_shape, weight=None, bias=None, eps=1e-5):
        if weight is None:
            weight = torch.ones(normalized_shape, dtype=x.dtype)
        if bias is None:
            bias = torch.zeros(normalized_shape, dtype=x.dtype)
        return _ln(x, normalized_shape, weight, bias, eps)
    F.layer_norm = _layer_norm
    torch.nn.modules.normalization.F.layer_norm = _layer_norm


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--golden", required=True)
    args = ap.parse_args()
    _shim()
    from diffusers.models.transformers.transformer_flux import FluxTransformer2DModel

    torch.manual_seed(0)
    tr = FluxTransformer2DModel(patch_size=1, in_channels=16, num_layers=2, num_single_layers=2, attention_head_dim=16,
                                num_attention_heads=2, joint_attention_dim=32, pooled_projection_dim=32, guidance_embeds=True,
                                axes_dims_rope=(4, 6, 6)).float().eval()
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():  # random weights of a useful scale (diffusers zero-initialises some projections)
        for _, p in tr.named_parameters():
            p.copy_(torch.randn(p.shape, generator=g) * (0.15 if p.dim() == 1 else min(0.15, 1.5 / p.shape[-1] ** 0.5)))

    # ---- README's snippet, at this size ----
    class Sample(torch.nn.Module):
        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, hidden_states, encoder_hidden_states, pooled_projections, timestep, img_ids, txt_ids, guidance):
            return self.m(hidden_states=hidden_states, encoder_hidden_states=encoder_hidden_states,
                          pooled_projections=pooled_projections, timestep=timestep, img_ids=img_ids,
                          txt_ids=txt_ids, guidance=guidance, return_dict=False)[0]

    H = W = 8
    T = 8
    C = tr.config.in_channels // 4
    # img_ids: FluxPipeline._prepare_latent_image_ids(1, H // 2, W // 2, …), written out (the pipeline module needs transformers)
    ex = (torch.randn(2, (H // 2) * (W // 2), 4 * C, generator=g), torch.randn(2, T, tr.config.joint_attention_dim, generator=g),
          torch.randn(2, tr.config.pooled_projection_dim, generator=g), torch.tensor([0.7, 0.3]),
          flux_family.latent_image_ids(H, W), torch.zeros(T, 3), torch.tensor([3.5, 3.5]))
    names = ["hidden_states", "encoder_hidden_states", "pooled_projections", "timestep", "img_ids", "txt_ids", "guidance", "sample"]
    os.makedirs(os.path.join(args.out, "transformer"), exist_ok=True)
    legacy = {"dynamo": False} if "dynamo" in inspect.signature(torch.onnx.export).parameters else {}
    model = Sample(tr)
    torch.onnx.export(model, ex, os.path.join(args.out, "transformer", "model.onnx"), **legacy, opset_version=17,
                      input_names=names[:-1], output_names=names[-1:],
                      dynamic_axes={n: {0: "B"} for n in names if not n.endswith("_ids")})

    # ---- goldens: the export's own inputs → packed sample; and the runtime's view: latent → pack → model → unpack ----
    x = torch.randn(2, C, H, W, generator=g)
    ehs, pooled = torch.randn(2, T, 32, generator=g), torch.randn(2, 32, generator=g)
    sigma, guidance = torch.tensor([0.8, 0.25]), torch.tensor([4.0, 2.5])
    with torch.no_grad():
        sample = model(*ex)
        v = flux_family.unpack_latents(model(flux_family.pack_latents(x), ehs, pooled, sigma, ex[4], ex[5], guidance), H, W)
    write_golden(args.golden, {
        "model": {"inputs": dict(zip(names[:-1], ex)), "outputs": {"sample": sample}},
        "unpacked": {"inputs": {"latent": x, "encoder_hidden_states": ehs, "pooled": pooled, "sigma": sigma, "guidance": guidance},
                     "outputs": {"velocity": v}},
    })
    print({"out": args.out, "parameters": sum(p.numel() for p in tr.parameters())})


if __name__ == "__main__":
    main()
