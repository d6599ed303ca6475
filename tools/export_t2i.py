"""Build, export and pin the tiny text-to-image pipeline (random weights, for tests).

    /usr/bin/python3 tools/export_t2i.py --out public/models/tiny-t2i --golden tools/golden/tiny-t2i

Writes a diffusers/Optimum-like folder (tokenizer/, text_encoder/, transformer/, vae_decoder/)
with a version-2 manifest.json (components, graph I/O as data, sha256 + bytes of every file), and
golden files: each graph's output for fixed inputs, the tokenizer's ids for a few prompts, and a
whole prompt -> image reference loop (flow-match Euler, CFG against the negative prompt, the
runtime's seeded noise re-implemented bit for bit below). Needs torch, onnx and `tokenizers`.
"""
import argparse
import hashlib
import json
import os

import torch
from tokenizers import Tokenizer, models, normalizers, pre_tokenizers

from export import export, sha256, write_golden
from flops import count_flops
from t2i import TextDiT, TextEncoder, VaeDecoder

WORDS = ("a an the of with and on in at big small tiny happy sad round bright dark shiny red green blue yellow "
         "orange purple pink brown black white grey gold silver apple cat dog heart star sun moon tree flower "
         "house car fish bird face smile fire water cloud ball hat rocket leaf cake book music ghost robot "
         "emoji icon flat glossy outline drawing").split()
CONFIG = {"channels": 4, "size": 8, "patch": 2, "dim": 32, "depth": 3, "heads": 2, "text_dim": 32,
          "text_depth": 1, "max_tokens": 8, "vae_width": 16, "scaling": 0.5, "shift": 0.1}
# Disjoint by construction (evaluation.md: evaluation prompts are fixed and never calibrated on).
CALIBRATION_PROMPTS = ["a red apple", "a happy yellow sun", "a small green tree", "a blue fish with a hat",
                       "a dark grey cloud", "a pink flower", "a shiny gold star", "an orange cat"]
EVALUATION_PROMPTS = ["a red apple with a shiny leaf", "a big white ghost", "a purple car", "a brown dog on a ball",
                      "a black bird in the moon", "a silver robot"]
REFERENCE = {"prompt": "a red apple with a shiny leaf", "negative": "", "seed": 7, "steps": 6, "guidance": 3.0}
TOKEN_PROMPTS = ["a red apple", "A Big, Happy CAT!", "", "unknownword moon", "abc apples",
                 "a tiny glossy gold star on a dark blue cloud with a sad ghost"]


# ---- the runtime's seeded noise (src/core/rng.ts), bit for bit ----
def mulberry32(seed):
    a = seed & 0xFFFFFFFF

    def imul(x, y):
        return (x * y) & 0xFFFFFFFF

    def nxt():
        nonlocal a
        a = (a + 0x6D2B79F5) & 0xFFFFFFFF
        t = a
        t = imul(t ^ (t >> 15), t | 1)
        t ^= (t + imul(t ^ (t >> 7), t | 61)) & 0xFFFFFFFF
        return (t ^ (t >> 14)) & 0xFFFFFFFF
    return nxt


def portable_log(x):
    ln2, sqrt2 = 0.6931471805599453, 1.4142135623730951
    m, e = x, 0
    while m >= sqrt2:
        m /= 2
        e += 1
    while m < sqrt2 / 2:
        m *= 2
        e -= 1
    t = (m - 1) / (m + 1)
    t2, s = t * t, 0.0
    for k in range(23, 0, -2):
        s = s * t2 + 1 / k
    return 2 * t * s + e * ln2


def gaussian_noise(seed, n):
    nxt = mulberry32(seed)
    out = []
    while len(out) < n:
        v1 = ((nxt() + 0.5) / 4294967296) * 2 - 1
        v2 = ((nxt() + 0.5) / 4294967296) * 2 - 1
        s = v1 * v1 + v2 * v2
        if s >= 1 or s == 0:
            continue
        f = (-2 * portable_log(s) / s) ** 0.5
        out.append(v1 * f)
        if len(out) < n:
            out.append(v2 * f)
    return torch.tensor(out, dtype=torch.float32)


# ---- the sampler's schedule (src/core/schedules.ts), no cache, 'actual' time ----
def flow_match_sigmas(steps, shift=1.0):
    s = [(shift * (1 - i / steps)) / (1 + (shift - 1) * (1 - i / steps)) for i in range(steps + 1)]
    s[0], s[steps] = 1.0, 0.0
    return s


def build_tokenizer(path):
    vocab = {"[PAD]": 0, "[UNK]": 1}
    for w in WORDS:
        vocab.setdefault(w, len(vocab))
    # WordPiece over whole words (BERT-style): @huggingface/tokenizers (JS) reads it; it has no WordLevel model.
    tok = Tokenizer(models.WordPiece(vocab, unk_token="[UNK]", max_input_chars_per_word=100))
    tok.normalizer = normalizers.Sequence([normalizers.NFKC(), normalizers.Lowercase()])
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.save(path)
    return tok, len(vocab)


def token_ids(tok, text, length):
    """Truncate / pad to the encoder's length exactly as the runtime does (src/pipeline/prompt.ts)."""
    ids = tok.encode(text).ids[:length]
    return ids + [0] * (length - len(ids))


class _Part(torch.nn.Module):
    """One method of the DiT as a module (so export and the FLOP hooks see its submodules)."""
    def __init__(self, m, method): super().__init__(); self.m, self.method = m, method
    def forward(self, *a): return getattr(self.m, self.method)(*a)


def export_static(module, args, path, ins, outs, dynamic_batch=False):
    if dynamic_batch:
        return export(module, args, path, ins, outs)
    torch.onnx.export(module, args, path, opset_version=17, input_names=ins, output_names=outs,
                      do_constant_folding=True)


def spec(t, dtype="float32", batch=None):
    return {"dtype": dtype, "shape": ([batch] if batch else [t.shape[0]]) + list(t.shape[1:])}


def fit_preview(vae, cfg, g):
    """Least-squares latent -> RGB map (C x 3 + bias) against the decoder, pooled to latent size."""
    z = torch.randn(256, cfg["channels"], cfg["size"], cfg["size"], generator=g)
    with torch.no_grad():
        rgb = torch.nn.functional.avg_pool2d(vae(z / cfg["scaling"] + cfg["shift"]), 4)
    a = torch.cat([z.permute(0, 2, 3, 1).reshape(-1, cfg["channels"]), torch.ones(z.numel() // cfg["channels"], 1)], 1)
    y = rgb.permute(0, 2, 3, 1).reshape(-1, 3)
    sol = torch.linalg.lstsq(a.double(), y.double()).solution.float()
    return [[round(float(v), 6) for v in row] for row in sol[:-1]], [round(float(v), 6) for v in sol[-1]]


def reference_loop(m, enc, vae, tok, cfg, ref):
    L = cfg["max_tokens"]
    with torch.no_grad():
        ctx = [m.caption_projection(enc(torch.tensor([token_ids(tok, p, L)], dtype=torch.int32)))
               for p in (ref["prompt"], ref["negative"])]
        context = torch.cat(ctx, 0)
        n = cfg["channels"] * cfg["size"] * cfg["size"]
        noise = gaussian_noise(ref["seed"], n).reshape(1, cfg["channels"], cfg["size"], cfg["size"])
        sig = flow_match_sigmas(ref["steps"])
        x, elapsed, nom = noise.clone(), 0.0, 0.0
        for i in range(ref["steps"]):
            sigma = sig[0] - elapsed
            remaining = sig[0] - sig[-1] - elapsed
            dt = remaining if i == ref["steps"] - 1 else (sig[i] - sig[i + 1]) * remaining / (sig[i] - sig[-1])
            v2 = m(x.repeat(2, 1, 1, 1), torch.full((2,), sigma, dtype=torch.float32), context)
            v = v2[1:2] + ref["guidance"] * (v2[0:1] - v2[1:2])
            x = x - dt * v
            elapsed, nom = elapsed + dt, nom + (sig[i] - sig[i + 1])
        image = vae(x / cfg["scaling"] + cfg["shift"])
    return noise, x, image


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--golden", required=True)
    ap.add_argument("--name", default="tiny-t2i")
    args = ap.parse_args()
    cfg = CONFIG
    torch.manual_seed(0)
    for sub in ("tokenizer", "text_encoder", "transformer", "vae_decoder"):
        os.makedirs(os.path.join(args.out, sub), exist_ok=True)
    tok, vocab = build_tokenizer(os.path.join(args.out, "tokenizer", "tokenizer.json"))
    L = cfg["max_tokens"]
    enc = TextEncoder(vocab, L, cfg["text_dim"], cfg["text_depth"])
    m = TextDiT(cfg["channels"], cfg["size"], cfg["patch"], cfg["dim"], cfg["depth"], cfg["heads"], cfg["text_dim"])
    vae = VaeDecoder(cfg["channels"], cfg["vae_width"])
    g = torch.Generator().manual_seed(1234)
    with torch.no_grad():
        # The VAE's std keeps conv_out's pre-activations within a few units: at 0.3 they reached
        # ~250, where tanh saturates in PyTorch but WebGPU's tanh on SwiftShader returned NaN.
        for mod, std in ((enc, 0.3), (vae, 0.1)):
            for name, p in mod.named_parameters():
                if "norm" not in name:
                    p.copy_(torch.randn(p.shape, generator=g) * std)
    m.randomize(seed=1234, std=0.15)
    for mod in (enc, m, vae):
        mod.eval()

    g = torch.Generator().manual_seed(0)
    ids = torch.tensor([token_ids(tok, TOKEN_PROMPTS[0], L)], dtype=torch.int32)
    x = torch.randn(2, cfg["channels"], cfg["size"], cfg["size"], generator=g)
    t = torch.tensor([0.7, 0.7])
    with torch.no_grad():
        hidden = enc(ids)
        ctx1 = m.caption_projection(hidden)
        ctx2 = torch.cat([ctx1, torch.randn(ctx1.shape, generator=g)], 0)
        h, c, mod0 = m.embed(x, t)
        z = m.run_blocks(h, c, ctx2)
        v = m.head(z, c)
        lat = torch.randn(1, cfg["channels"], cfg["size"], cfg["size"], generator=g)
        img = vae(lat)
    graphs = {  # name: (folder/file, module, args, in names, out names, outputs, dynamic batch)
        "text_encoder": ("text_encoder/model.onnx", enc, (ids,), ["input_ids"], ["last_hidden_state"], (hidden,), False),
        "context": ("transformer/context.onnx", m.caption_projection, (hidden,), ["encoder_hidden_states"],
                    ["context"], (ctx1,), False),
        "embed": ("transformer/embed.onnx", _Part(m, "embed"), (x, t), ["latent", "sigma"], ["hidden", "temb", "mod0"],
                  (h, c, mod0), True),
        "blocks": ("transformer/blocks.onnx", _Part(m, "run_blocks"), (h, c, ctx2), ["hidden", "temb", "context"],
                   ["hidden_out"], (z,), True),
        "head": ("transformer/head.onnx", _Part(m, "head"), (z, c), ["hidden", "temb"], ["velocity"], (v,), True),
        "vae_decoder": ("vae_decoder/model.onnx", vae, (lat,), ["latent_sample"], ["sample"], (img,), False),
    }
    entries, golden = {}, {}
    for name, (file, mod, a, ins, outs, res, dyn) in graphs.items():
        path = os.path.join(args.out, file)
        with torch.no_grad():
            export_static(mod, a, path, ins, outs, dyn)
        batch = "B" if dyn else None
        entries[name] = {
            "file": file, "sha256": sha256(path), "bytes": os.path.getsize(path),
            "inputs": {n: spec(tn, "int32" if tn.dtype == torch.int32 else "float32", batch) for n, tn in zip(ins, a)},
            "outputs": {n: spec(tn, "float32", batch) for n, tn in zip(outs, res)},
            "flopsPerSample": count_flops(mod, a)}
        golden[name] = {"inputs": dict(zip(ins, a)), "outputs": dict(zip(outs, res))}

    tok_path = os.path.join(args.out, "tokenizer", "tokenizer.json")
    noise, x_ref, image_ref = reference_loop(m, enc, vae, tok, cfg, REFERENCE)
    golden["reference"] = {"inputs": {"noise": noise}, "outputs": {"latent": x_ref, "image": image_ref}}
    matrix, bias = fit_preview(vae, cfg, torch.Generator().manual_seed(5))

    model_hash = hashlib.sha256("".join(entries[k]["sha256"] for k in sorted(entries)).encode()).hexdigest()
    step = sum(entries[k]["flopsPerSample"] for k in ("embed", "blocks", "head"))
    tr = {k: entries[k] for k in ("embed", "blocks", "head")}
    manifest = {
        "format": "erta-diffusion-manifest", "version": 2, "name": args.name, "modelHash": model_hash,
        "architecture": {"type": "dit-adaln-zero-cross-attention", "dim": cfg["dim"], "depth": cfg["depth"],
                         "heads": cfg["heads"], "patch": cfg["patch"], "tokens": m.grid * m.grid,
                         "parameters": sum(p.numel() for mod in (enc, m, vae) for p in mod.parameters())},
        "latent": {"channels": cfg["channels"], "height": cfg["size"], "width": cfg["size"]},
        "hidden": {"tokens": m.grid * m.grid, "dim": cfg["dim"]},
        "conditioning": {"type": "text", "maxTokens": L, "contextDim": cfg["dim"], "defaultNegativePrompt": ""},
        "components": {
            "tokenizer": {"file": "tokenizer/tokenizer.json", "sha256": sha256(tok_path),
                          "bytes": os.path.getsize(tok_path), "maxLength": L, "padId": 0},
            "textEncoder": {"graph": entries["text_encoder"],
                            "io": {"inputIds": "input_ids", "hiddenStates": "last_hidden_state"}},
            "context": {"graph": entries["context"], "io": {"hiddenStates": "encoder_hidden_states", "context": "context"}},
            "transformer": {"graphs": tr, "io": {"latent": "latent", "sigma": "sigma", "hidden": "hidden", "temb": "temb",
                                                 "mod0": "mod0", "context": "context", "hiddenOut": "hidden_out",
                                                 "velocity": "velocity"}},
            "vaeDecoder": {"graph": entries["vae_decoder"], "scalingFactor": cfg["scaling"], "shiftFactor": cfg["shift"],
                           "io": {"latent": "latent_sample", "image": "sample"}},
            "preview": {"type": "linear", "matrix": matrix, "bias": bias},
        },
        "flops": {"stepPerSample": step, "blocksShare": entries["blocks"]["flopsPerSample"] / step,
                  "counted": "as tools/flops.py at batch 1, attention matmuls not counted (t2i.Attention has no hook)"},
        "preview": {"from": [-1, 1], "to": [0, 255], "channels": 3},
        "scheduler": {"type": "flow-match-euler", "shift": 1.0, "defaultSteps": 8, "defaultGuidance": REFERENCE["guidance"]},
        "calibrationPrompts": "calibration-prompts.json",
        "evaluationPrompts": "evaluation-prompts.json",
        "plans": [],
        "weights": "random (tests only)",
    }
    assert not set(CALIBRATION_PROMPTS) & set(EVALUATION_PROMPTS)
    for name, prompts in (("calibration-prompts.json", CALIBRATION_PROMPTS), ("evaluation-prompts.json", EVALUATION_PROMPTS)):
        with open(os.path.join(args.out, name), "w") as f:
            json.dump(prompts, f, indent=1)
    with open(os.path.join(args.out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2)
    write_golden(args.golden, golden)
    with open(os.path.join(args.golden, "golden.json")) as f:
        index = json.load(f)
    index["tokens"] = [{"text": p, "ids": token_ids(tok, p, L), "length": len(tok.encode(p).ids)} for p in TOKEN_PROMPTS]
    index["reference"] = {**REFERENCE, "tolerance": 1e-3}
    with open(os.path.join(args.golden, "golden.json"), "w") as f:
        json.dump(index, f, indent=1)
    print(json.dumps({"out": args.out, "modelHash": model_hash, "parameters": manifest["architecture"]["parameters"],
                      "bytes": sum(e["bytes"] for e in entries.values())}))


if __name__ == "__main__":
    main()
