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
import pixart as pixart_family  # noqa: E402
import sd3 as sd3_family  # noqa: E402
import flux as flux_family  # noqa: E402
import wan as wan_family  # noqa: E402

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


def legacy_export(*a, **k):
    """torch.onnx.export with dynamo=False where the keyword exists (README, "Bring your own model")."""
    legacy = {"dynamo": False} if "dynamo" in inspect.signature(torch.onnx.export).parameters else {}
    torch.onnx.export(*a, **legacy, **k)


PIXART_REFERENCE = {"prompt": "a red apple with a shiny leaf", "negative": "", "seed": 7, "steps": 6, "guidance": 3.0}
# Guidance-distilled Flux (dev): no CFG branch (guidance 1), the guidance scale goes into the model's guidance
# embedding instead; 4.0 is not the manifest's default (3.5), so the golden proves the per-call value is fed.
FLUX_REFERENCE = {**PIXART_REFERENCE, "guidance": 1.0, "embeddedGuidance": 4.0}
EMBEDDED_GUIDANCE_DEFAULT = 3.5
# The families whose transformer takes the pooled text embedding (SD3, Flux), and those with a guidance embedding (Flux dev).
POOLED = ("sd3", "flux", "flux-schnell", "flux-packed")
GUIDANCE = ("flux", "flux-packed")
# flux-packed: diffusers' FluxTransformer2DModel signature (packed latents, img_ids / txt_ids, sigma x 1000 inside)


class PooledTextEncoder(torch.nn.Module):
    """The text encoder with a second output, as CLIPTextModelWithProjection: `text_embeds` [B, P] = the
    projection (no bias) of the final hidden state at the last real token (CLIP pools at its EOS token,
    which is the last token before the padding; this tokenizer adds no EOS, so the last word's)."""

    def __init__(self, enc, dim, pooled_dim, pad_id=0):
        super().__init__()
        self.enc, self.pad_id = enc, pad_id
        self.text_projection = torch.nn.Linear(dim, pooled_dim, bias=False)

    def forward(self, input_ids):
        h = self.enc(input_ids)
        L = input_ids.shape[1]
        last = ((input_ids != self.pad_id).to(torch.float32).sum(-1) - 1).clamp(min=0)  # [B]; the empty prompt: token 0
        pick = (torch.arange(L, dtype=torch.float32)[None] == last[:, None]).to(torch.float32)  # one-hot [B, L]
        return h, self.text_projection((h * pick[..., None]).sum(1))


def export_pixart(args):
    """PixArt-, SD3-, Flux- or Wan-style (the same interface; Wan: latents [B, C, F, H, W], a video VAE decoder). The transformer as one graph (latent, timestep = 1000 sigma, raw encoder hidden states) plus the
    components a user also brings, in the diffusers / Optimum layout: tokenizer/, text_encoder/,
    vae_decoder/ (with config.json's scaling_factor / shift_factor). SD3 and Flux also take the pooled
    text embedding (`pooled_projections`, the text encoder's second output `text_embeds`), and Flux
    (dev) the guidance scale (`guidance` [B]); `flux-schnell` is Flux without the guidance embedding."""
    from export_t2i import build_tokenizer, token_ids, flow_match_sigmas
    from t2i import TextEncoder, VaeDecoder
    family = {"pixart": pixart_family, "sd3": sd3_family, "flux": flux_family, "flux-schnell": flux_family, "flux-packed": flux_family,
              "wan": wan_family, "wan21": wan_family}[args.family]
    packed = args.family == "flux-packed"
    # wan21: Wan 2.1's VAE conventions: 4·(F−1)+1 video frames from F latent frames, and per-channel latent
    # normalisation (config.json latents_mean / latents_std; the decoder reads latent·std + mean, no scaling_factor)
    wan21 = args.family == "wan21"
    cfg = family.SIZES[args.size]
    pooled, guided = args.family in POOLED, args.family in GUIDANCE
    L, scaling, shift = 8, 0.5, 0.1
    for sub in ("transformer", "tokenizer", "text_encoder", "vae_decoder"):
        os.makedirs(os.path.join(args.out, sub), exist_ok=True)
    tok, vocab = build_tokenizer(os.path.join(args.out, "tokenizer", "tokenizer.json"))
    torch.manual_seed(0)
    enc = TextEncoder(vocab, L, cfg["text_dim"], 1)
    assert cfg.get("text_len", L) == L
    vae = (wan_family.VideoVaeDecoder(cfg["channels"], 16, temporal_upsample=4 if wan21 else 1) if args.family in ("wan", "wan21")
           else VaeDecoder(cfg["channels"], 16))
    latents_mean = [0.3, -0.2, 0.1, -0.4][:cfg["channels"]]
    latents_std = [1.5, 0.8, 2.0, 1.2][:cfg["channels"]]
    m = {"pixart": lambda: pixart_family.PixArtTransformer(**cfg), "sd3": lambda: sd3_family.SD3Transformer(**cfg),
         "flux": lambda: flux_family.FluxTransformer(**cfg), "flux-schnell": lambda: flux_family.FluxTransformer(**cfg, guidance_embeds=False),
         "flux-packed": lambda: flux_family.FluxTransformer2DModel(axes_dims_rope=flux_family.AXES_DIMS_ROPE[args.size], **cfg),
         "wan": lambda: wan_family.WanTransformer(**cfg), "wan21": lambda: wan_family.WanTransformer(**cfg)}[args.family]()
    g = torch.Generator().manual_seed(1234)
    if pooled:
        enc = PooledTextEncoder(enc, cfg["text_dim"], cfg["pooled_dim"])
    with torch.no_grad():
        for mod, std in ((enc, 0.3), (vae, 0.1)):
            for name, p in mod.named_parameters():
                if "norm" not in name:
                    p.copy_(torch.randn(p.shape, generator=g) * std)
    m.randomize(seed=4321)
    for mod in (enc, m, vae):
        mod.eval()
    C, S = cfg["channels"], cfg["size"]
    shape = (C, cfg["frames"], S, S) if "frames" in cfg else (C, S, S)  # video: [C, F, H, W]
    numel = math.prod(shape)
    g = torch.Generator().manual_seed(0)
    x = torch.randn(2, *shape, generator=g)
    t = torch.tensor([700.0, 250.5])
    ids = torch.tensor([token_ids(tok, "a red apple", L)], dtype=torch.int32)
    lat = torch.randn(1, *shape, generator=g)

    def encode(i):
        """(hidden [1, L, Dt], pooled [1, P] or None)."""
        r = enc(i)
        return r if pooled else (r, None)
    with torch.no_grad():
        hidden, pool = encode(ids)
        ehs = torch.cat([hidden, torch.randn(hidden.shape, generator=g)], 0)
        extra = {}
        if pooled:
            extra["pooled_projections"] = torch.cat([pool, torch.randn(pool.shape, generator=g)], 0)
        if guided:
            extra["guidance"] = torch.tensor([3.5, 2.0])
        if packed:
            # what a user exports of diffusers' FluxTransformer2DModel (README, "Pooled text and guidance"): keyword
            # order hidden_states, encoder_hidden_states, pooled_projections, timestep (sigma), img_ids, txt_ids, guidance
            inputs = {"hidden_states": flux_family.pack_latents(x), "encoder_hidden_states": ehs, "pooled_projections": extra["pooled_projections"],
                      "timestep": t / 1000, "img_ids": flux_family.latent_image_ids(S, S), "txt_ids": torch.zeros(L, 3), "guidance": extra["guidance"]}
        else:
            inputs = {"latent": x, "timestep": t, "encoder_hidden_states": ehs, **extra}
        out = m(*inputs.values())
        img = vae(lat)
    names = [*inputs.keys(), "sample"]
    legacy_export(m, tuple(inputs.values()), os.path.join(args.out, "transformer", "model.onnx"), opset_version=17,
                  input_names=names[:-1], output_names=names[-1:], dynamic_axes={n: {0: "B"} for n in names if not n.endswith("_ids")},
                  do_constant_folding=True)
    # the reference loops drive the model as the runtime does: [B, C, H, W] latent and t (sigma for the packed model)
    tscale = 1.0 if packed else 1000.0
    if packed:
        m = flux_family.PackedAsLatent(m)
    legacy_export(enc, (ids,), os.path.join(args.out, "text_encoder", "model.onnx"), opset_version=17,
                  input_names=["input_ids"], output_names=["last_hidden_state", "text_embeds"] if pooled else ["last_hidden_state"],
                  do_constant_folding=True)
    legacy_export(vae, (lat,), os.path.join(args.out, "vae_decoder", "model.onnx"), opset_version=17,
                  input_names=["latent_sample"], output_names=["sample"], do_constant_folding=True)
    with open(os.path.join(args.out, "vae_decoder", "config.json"), "w") as f:
        json.dump({"latents_mean": latents_mean, "latents_std": latents_std} if wan21 else {"scaling_factor": scaling, "shift_factor": shift}, f, indent=1)

    def unscale(z):
        """What the VAE decoder reads: diffusers' latent / scaling_factor + shift_factor, or Wan's latent · std + mean per channel."""
        if wan21:
            view = (1, -1) + (1,) * (z.dim() - 2)
            return z * torch.tensor(latents_std).view(view) + torch.tensor(latents_mean).view(view)
        return z / scaling + shift
    info = {"out": args.out, "parameters": sum(p.numel() for p in m.parameters()), "config": cfg}
    if args.golden:
        ref = FLUX_REFERENCE if guided else PIXART_REFERENCE
        w = ref["guidance"]
        with torch.no_grad():
            # w = 1 runs the prompt alone (the runtime encodes no negative prompt then)
            rows = [encode(torch.tensor([token_ids(tok, p, L)], dtype=torch.int32)) for p in ([ref["prompt"]] if w == 1 else [ref["prompt"], ref["negative"]])]
            context = torch.cat([r[0] for r in rows], 0)
            side = []
            if pooled:
                side.append(torch.cat([r[1] for r in rows], 0))
            if guided:
                side.append(torch.full((len(rows),), ref["embeddedGuidance"], dtype=torch.float32))
            noise = gaussian_noise(ref["seed"], numel).reshape(1, *shape)
            sig = flow_match_sigmas(ref["steps"])

            def loop(computed=None):
                """The runtime's loop; `computed`: the steps that run the blocks, the others reuse the last residual
                (the 'uniform' policy at a budget: hidden-space reuse, z = h + r, a full step)."""
                xx, elapsed, cache = noise.clone(), 0.0, ({"reuse": False} if computed is not None else None)
                for i in range(ref["steps"]):
                    sigma = sig[0] - elapsed
                    remaining = sig[0] - sig[-1] - elapsed
                    dt = remaining if i == ref["steps"] - 1 else (sig[i] - sig[i + 1]) * remaining / (sig[i] - sig[-1])
                    tt = torch.full((len(rows),), sigma, dtype=torch.float32) * torch.tensor(tscale)
                    if cache is not None:
                        cache["reuse"] = i not in computed
                    v2 = m(torch.cat([xx] * len(rows), 0), tt, context, *side, **({"cache": cache} if cache is not None else {}))
                    v = v2[0:1] if w == 1 else v2[1:2] + w * (v2[0:1] - v2[1:2])
                    xx = xx - dt * v
                    elapsed += dt
                return xx
            xx = loop()
            image = vae(unscale(xx))
            cached = {}
            if pooled or wan21:
                # src/cache/uniform.ts uniformBudgetSteps: round(k·(T−1)/(budget−1)) (JS rounds halves up)
                budget = ref["uniformBudget"] = 4
                computed = {math.floor(k * (ref["steps"] - 1) / (budget - 1) + 0.5) for k in range(budget)}
                cached = {"uniformImage": vae(unscale(loop(computed)))}
        write_golden(args.golden, {
            "model": {"inputs": inputs, "outputs": {"sample": out}},
            "reference": {"inputs": {"noise": noise}, "outputs": {"latent": xx, "image": image, **cached}},
        })
        with open(os.path.join(args.golden, "golden.json")) as f:
            index = json.load(f)
        index["reference"] = {**ref, "timestepScale": int(tscale), "tolerance": 1e-3}
        if guided:
            index["reference"]["embeddedGuidanceDefault"] = EMBEDDED_GUIDANCE_DEFAULT
        with open(os.path.join(args.golden, "golden.json"), "w") as f:
            json.dump(index, f, indent=1)
    print(json.dumps(info))


# Pipelines with several text encoders, in the diffusers order (text_encoder, text_encoder_2, text_encoder_3):
# Flux: CLIP-L (pooled: pooler_output) + T5 (context); SD3: CLIP-L + CLIP-G (penultimate hidden states side by side,
# zero-padded to T5's width; pooled: both text_embeds side by side) (+ T5, after the CLIP tokens along the sequence).
MULTI = {
    "flux2te": {"transformer": "flux", "encoders": [
        {"kind": "clip", "length": 10, "dim": 24, "depth": 1, "outputs": ["last_hidden_state", "pooler_output"]},
        {"kind": "t5", "length": 8, "dim": 32, "depth": 1, "outputs": ["last_hidden_state"]}],
        "context": [[(1, "last_hidden_state")]], "pad": None, "pooled": [(0, "pooler_output")]},
    "sd3-2te": {"transformer": "sd3", "encoders": [
        {"kind": "clip", "length": 10, "dim": 16, "depth": 2, "proj": 16},
        {"kind": "clip", "length": 10, "dim": 24, "depth": 2, "proj": 24}],
        "context": [[(0, "hidden_states.1"), (1, "hidden_states.1")]], "pad": 48, "pooled": [(0, "text_embeds"), (1, "text_embeds")]},
    "sd3-3te": {"transformer": "sd3", "encoders": [
        {"kind": "clip", "length": 10, "dim": 16, "depth": 2, "proj": 16},
        {"kind": "clip", "length": 10, "dim": 24, "depth": 2, "proj": 24},
        {"kind": "t5", "length": 8, "dim": 48, "depth": 1, "outputs": ["last_hidden_state"]}],
        "context": [[(0, "hidden_states.1"), (1, "hidden_states.1")], [(2, "last_hidden_state")]], "pad": 48,
        "pooled": [(0, "text_embeds"), (1, "text_embeds")]},
}


def export_multi(args):
    """A Flux- or SD3-style pipeline with two or three text encoders and their own tokenizers (MULTI), in the diffusers /
    Optimum layout: tokenizer/, tokenizer_2/, (tokenizer_3/), text_encoder/, text_encoder_2/, (text_encoder_3/),
    transformer/, vae_decoder/. The reference loop assembles every prompt's context and pooled vector as the diffusers
    pipelines do (FluxPipeline: T5 states, CLIP's pooler_output; StableDiffusion3Pipeline: CLIP-L | CLIP-G penultimate
    states padded to T5's width, then T5's states along the tokens; pooled = CLIP-L | CLIP-G text_embeds)."""
    import text_encoders as te
    from export_t2i import WORDS, flow_match_sigmas
    from t2i import VaeDecoder
    spec = MULTI[args.family]
    guided = spec["transformer"] == "flux"
    words = list(WORDS)
    n = len(spec["encoders"])
    sub = lambda base, k: base if k == 0 else f"{base}_{k + 1}"  # noqa: E731
    for k in range(n):
        for base in ("tokenizer", "text_encoder"):
            os.makedirs(os.path.join(args.out, sub(base, k)), exist_ok=True)
    for d in ("transformer", "vae_decoder"):
        os.makedirs(os.path.join(args.out, d), exist_ok=True)
    torch.manual_seed(0)
    encs, toks = [], []
    for k, e in enumerate(spec["encoders"]):
        tok, vocab, pad_id, eos_id = te.build_tokenizer(os.path.join(args.out, sub("tokenizer", k), "tokenizer.json"), words, e["kind"])
        toks.append((tok, pad_id))
        m = (te.ClipLike(vocab, e["length"], e["dim"], e["depth"], 2, eos_id, e.get("proj")) if e["kind"] == "clip"
             else te.T5Like(vocab, e["length"], e["dim"], e["depth"], 2))
        names = e.get("outputs") or ["text_embeds", "last_hidden_state", *[f"hidden_states.{j}" for j in range(e["depth"] + 1)]]
        encs.append(te.Outputs(m, names))
    width = spec["pad"] or sum(spec["encoders"][i]["dim"] for i, _ in spec["context"][0])
    L = sum(spec["encoders"][seg[0][0]]["length"] for seg in spec["context"])
    P = sum(spec["encoders"][i].get("proj") or spec["encoders"][i]["dim"] for i, _ in spec["pooled"])
    family = flux_family if guided else sd3_family
    cfg = {**family.SIZES["tiny"], "text_dim": width, "pooled_dim": P}
    if guided:
        cfg["text_len"] = L
    m = flux_family.FluxTransformer(**cfg) if guided else sd3_family.SD3Transformer(**cfg)
    vae = VaeDecoder(cfg["channels"], 16)
    g = torch.Generator().manual_seed(1234)
    with torch.no_grad():
        for mod, std in [*((e, 0.3) for e in encs), (vae, 0.1)]:
            for name, p in mod.named_parameters():
                if "norm" not in name:
                    p.copy_(torch.randn(p.shape, generator=g) * std)
    m.randomize(seed=4321)
    for mod in (*encs, m, vae):
        mod.eval()
    scaling, shift = 0.5, 0.1

    def encode(text, without=()):
        """One prompt → (context [1, L, width], pooled [1, P]), assembled from every encoder's outputs. `without`: encoders
        left out, their segments zeros (StableDiffusion3Pipeline with text_encoder_3=None: T5's tokens are zeros)."""
        outs = []
        for (tok, pad_id), e, enc in zip(toks, spec["encoders"], encs):
            ids = torch.tensor([te.token_ids(tok, text, e["length"], pad_id)], dtype=torch.int32)
            outs.append(dict(zip(enc.names, enc(ids))))
        segs = []
        for seg in spec["context"]:
            x = torch.cat([outs[i][o] for i, o in seg], -1)
            if any(i in without for i, _ in seg):
                x = torch.zeros_like(x)
            segs.append(torch.nn.functional.pad(x, (0, width - x.shape[-1])))
        return torch.cat(segs, 1), torch.cat([outs[i][o] for i, o in spec["pooled"]], -1)

    C, S = cfg["channels"], cfg["size"]
    g = torch.Generator().manual_seed(0)
    x = torch.randn(2, C, S, S, generator=g)
    t = torch.tensor([700.0, 250.5])
    lat = torch.randn(1, C, S, S, generator=g)
    with torch.no_grad():
        ctx, pool = encode("a red apple")
        ehs = torch.cat([ctx, torch.randn(ctx.shape, generator=g)], 0)
        extra = {"pooled_projections": torch.cat([pool, torch.randn(pool.shape, generator=g)], 0)}
        if guided:
            extra["guidance"] = torch.tensor([3.5, 2.0])
        out = m(x, t, ehs, *extra.values())
    names = ["latent", "timestep", "encoder_hidden_states", *extra.keys(), "sample"]
    legacy_export(m, (x, t, ehs, *extra.values()), os.path.join(args.out, "transformer", "model.onnx"), opset_version=17,
                  input_names=names[:-1], output_names=names[-1:], dynamic_axes={q: {0: "B"} for q in names}, do_constant_folding=True)
    for k, (e, enc) in enumerate(zip(spec["encoders"], encs)):
        ids = torch.tensor([te.token_ids(toks[k][0], "a red apple", e["length"], toks[k][1])], dtype=torch.int32)
        legacy_export(enc, (ids,), os.path.join(args.out, sub("text_encoder", k), "model.onnx"), opset_version=17,
                      input_names=["input_ids"], output_names=enc.names, do_constant_folding=True)
    legacy_export(vae, (lat,), os.path.join(args.out, "vae_decoder", "model.onnx"), opset_version=17,
                  input_names=["latent_sample"], output_names=["sample"], do_constant_folding=True)
    with open(os.path.join(args.out, "vae_decoder", "config.json"), "w") as f:
        json.dump({"scaling_factor": scaling, "shift_factor": shift}, f, indent=1)
    with open(os.path.join(args.out, "calibration-prompts.json"), "w") as f:
        json.dump(["a red apple", "a small blue bird", "a happy green frog", "a shiny yellow star"], f, indent=1)
    info = {"out": args.out, "parameters": sum(p.numel() for p in m.parameters()), "config": cfg}
    if args.golden:
        ref = FLUX_REFERENCE if guided else PIXART_REFERENCE
        w = ref["guidance"]
        prompts = [ref["prompt"]] if w == 1 else [ref["prompt"], ref["negative"]]
        with torch.no_grad():
            noise = gaussian_noise(ref["seed"], C * S * S).reshape(1, C, S, S)
            sig = flow_match_sigmas(ref["steps"])

            def loop(without=()):
                rows = [encode(q, without) for q in prompts]
                context = torch.cat([r[0] for r in rows], 0)
                side = [torch.cat([r[1] for r in rows], 0)]
                if guided:
                    side.append(torch.full((len(rows),), ref["embeddedGuidance"], dtype=torch.float32))
                xx, elapsed = noise.clone(), 0.0
                for i in range(ref["steps"]):
                    sigma = sig[0] - elapsed
                    remaining = sig[0] - sig[-1] - elapsed
                    dt = remaining if i == ref["steps"] - 1 else (sig[i] - sig[i + 1]) * remaining / (sig[i] - sig[-1])
                    tt = torch.full((len(rows),), sigma, dtype=torch.float32) * torch.tensor(1000.0)
                    v2 = m(torch.cat([xx] * len(rows), 0), tt, context, *side)
                    v = v2[0:1] if w == 1 else v2[1:2] + w * (v2[0:1] - v2[1:2])
                    xx = xx - dt * v
                    elapsed += dt
                return context, side, xx, vae(xx / scaling + shift)
            context, side, xx, image = loop()
            # SD3 without its T5 (diffusers: text_encoder_3=None): T5's tokens are zeros
            extra_out = {"imageWithoutT5": loop(without=(2,))[3]} if len(spec["encoders"]) == 3 else {}
        write_golden(args.golden, {
            "model": {"inputs": {"latent": x, "timestep": t, "encoder_hidden_states": ehs, **extra}, "outputs": {"sample": out}},
            "rows": {"inputs": {}, "outputs": {"context": context, "pooled": side[0]}},
            "reference": {"inputs": {"noise": noise}, "outputs": {"latent": xx, "image": image, **extra_out}},
        })
        with open(os.path.join(args.golden, "golden.json")) as f:
            index = json.load(f)
        index["reference"] = {**ref, "timestepScale": 1000, "tolerance": 1e-3}
        if guided:
            index["reference"]["embeddedGuidanceDefault"] = EMBEDDED_GUIDANCE_DEFAULT
        # every tokenizer's ids for a few prompts (runtime parity), "Red" is not in T5's case-sensitive vocabulary
        index["tokens"] = [{"text": q, "ids": [te.token_ids(tok, q, e["length"], pad) for (tok, pad), e in zip(toks, spec["encoders"])]}
                           for q in (ref["prompt"], "", "Red apple", "red apple", " ".join(words[:14]))]
        with open(os.path.join(args.golden, "golden.json"), "w") as f:
            json.dump(index, f, indent=1)
    print(json.dumps(info))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--family", choices=["dit", "pixart", "sd3", "flux", "flux-schnell", "flux-packed", "wan", "wan21", *MULTI], default="dit")
    ap.add_argument("--size", choices=["tiny", "medium"], default="tiny")
    ap.add_argument("--out", required=True)
    ap.add_argument("--golden")
    args = ap.parse_args()
    if args.family in MULTI:
        return export_multi(args)
    if args.family in ("pixart", "sd3", "flux", "flux-schnell", "flux-packed", "wan", "wan21"):
        return export_pixart(args)
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
