"""Export the trained text-to-emoji pipeline as a pipeline-manifest-v2 folder (issue 12).

    /usr/bin/python3 tools/emoji/export.py [--out public/models/emoji-dit] \
        [--classifier-out public/models/emoji-classifier] [--golden tools/golden/emoji-dit]

Reads tools/emoji/out/{dit,vae,clf}.pt (or the fp16 snapshots in tools/emoji/ckpt/), the data
set's tokenizer and latent statistics, and writes the same layout as public/models/tiny-t2i
(tokenizer/, text_encoder/, transformer/{context,embed,blocks,head}.onnx, vae_decoder/, a
fitted linear latent->RGB preview map, calibration and evaluation prompt lists, manifest.json
with sha256 + bytes of every file), the EMA weights in fp32. The evaluation classifier goes to its
own folder (classifier.onnx, labels.json, a classifier manifest), as the MNIST one does. With
--golden, a whole prompt -> image reference loop in PyTorch (the runtime's seeded noise, Euler,
CFG against the empty prompt) so the runtime's output can be compared with PyTorch's.
"""
import argparse
import hashlib
import importlib.util
import json
import os
import random
import shutil
import sys

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
TOOLS = os.path.join(HERE, "..")
sys.path.insert(0, HERE)
sys.path.append(TOOLS)  # after this folder: tools/data.py and tools/export.py share names with ours
# tools/export.py (the class DiT's exporter) shares this file's name: load it explicitly as `export`,
# which tools/export_t2i.py imports too.
_spec = importlib.util.spec_from_file_location("export", os.path.join(TOOLS, "export.py"))
_tools_export = importlib.util.module_from_spec(_spec)
sys.modules["export"] = _tools_export
_spec.loader.exec_module(_tools_export)
sha256, write_golden = _tools_export.sha256, _tools_export.write_golden
from data import STYLES, eval_prompt, token_ids  # noqa: E402
from export_t2i import _Part, export_static, reference_loop, spec  # noqa: E402
from flops import count_flops  # noqa: E402
from models import Classifier, TextDiT, TextEncoder, VaeDecoder, to_float  # noqa: E402

REFERENCE = {"prompt": "red apple", "negative": "", "seed": 7, "steps": 20, "guidance": 4.0}
# 50: the steps the shipped plans are calibrated for (budgets 34 / 25 / 17), so the demo opens with ERTACache available
DEFAULT_STEPS, DEFAULT_GUIDANCE = 50, 4.0
TOKEN_PROMPTS = ["red apple", "A Rocket, NOTO style", "", "smiling cat face with heart-eyes", "unknownword moon",
                 "a very long prompt about a tiny glossy gold star on a dark blue cloud with a sad ghost and a dog"]

# Offered by the demo as buttons (manifest conditioning.examplePrompts): prompts from the card's sample grid
# (evaluate.py GRID_PROMPTS) that this model draws recognisably.
EXAMPLE_PROMPTS = ["red apple", "green apple", "blue heart", "yellow heart", "a rocket, noto style", "smiling cat face",
                   "grinning face", "christmas tree"]


def load(out, stage):
    for p in (os.path.join(out, f"{stage}.pt"), os.path.join(HERE, "ckpt", f"{stage}.pt")):
        if os.path.exists(p):
            ck = torch.load(p, map_location="cpu")
            for k, v in ck.items():
                if isinstance(v, dict) and v and all(torch.is_tensor(t) for t in v.values()):
                    ck[k] = {n: (t.float() if t.is_floating_point() else t) for n, t in v.items()}
            return ck, p
    raise SystemExit(f"no checkpoint for stage {stage} in {out} or tools/emoji/ckpt")


def load_pipeline(out):
    """EMA text encoder + DiT, VAE decoder, latent scale/shift, tokenizer (also used by evaluate.py)."""
    from tokenizers import Tokenizer
    dit, dit_path = load(out, "dit")
    vae, _ = load(out, "vae")
    cfg = dit["config"]
    enc = TextEncoder(cfg["vocab"], cfg["max_tokens"], cfg["text_dim"], cfg["text_depth"], cfg["text_heads"])
    m = TextDiT(cfg["channels"], cfg["size"], cfg["patch"], cfg["dim"], cfg["depth"], cfg["heads"], cfg["text_dim"])
    enc.load_state_dict(dit["text_ema"]); m.load_state_dict(dit["ema"])
    dec = VaeDecoder(cfg["channels"], vae["config"]["vae_width"])
    dec.load_state_dict(vae["decoder"])
    for mod in (enc, m, dec):
        mod.eval()
    tok_path = os.path.join(out, "tokenizer.json")
    if not os.path.exists(tok_path):
        tok_path = os.path.join(HERE, "ckpt", "tokenizer.json")
    tok = Tokenizer.from_file(tok_path)
    cfg = {**cfg, "scaling": dit["latent_scale"], "shift": dit["latent_shift"]}
    info = {"steps": dit["step"], "seconds": dit["seconds"], "vae_steps": vae["step"], "vae_seconds": vae["seconds"],
            "checkpoint": os.path.relpath(dit_path)}
    return enc, m, dec, tok, tok_path, cfg, info


def fit_preview(dec, out, cfg):
    """Least-squares map from normalized latents to RGB pooled to latent size, on the real data set's latents."""
    lat_path = os.path.join(out, "latents.pt")
    if not os.path.exists(lat_path):
        lat_path = os.path.join(HERE, "ckpt", "latents.pt")
    lat = torch.load(lat_path)
    z = lat["mean"][:1024].float()
    with torch.no_grad():
        rgb = F.avg_pool2d(dec(z), 4)
    zn = (z - cfg["shift"]) * cfg["scaling"]
    a = torch.cat([zn.permute(0, 2, 3, 1).reshape(-1, cfg["channels"]), torch.ones(zn.numel() // cfg["channels"], 1)], 1)
    y = rgb.permute(0, 2, 3, 1).reshape(-1, 3)
    sol = torch.linalg.lstsq(a.double(), y.double()).solution.float()
    return [[round(float(v), 6) for v in row] for row in sol[:-1]], [round(float(v), 6) for v in sol[-1]]


def prompt_lists(ds):
    """Calibration prompts (held-in concepts) and evaluation prompts (other held-in concepts + held-out pairs), disjoint."""
    concepts = ds["concepts"]
    held = {c for c, _ in ds["held_out"]}
    rng = random.Random(5)
    held_in = [c for c in range(len(concepts)) if c not in held]
    picks = rng.sample(held_in, 40)
    calibration = [concepts[c]["name"] for c in picks[:16]]
    evaluation = [concepts[c]["name"] for c in picks[16:32]] + \
        [eval_prompt(concepts[c], s) for c, s in ds["held_out"][:16]]
    evaluation = [p for p in evaluation if p not in calibration]
    return calibration, evaluation


def export_classifier(out, dst):
    ck, _ = load(out, "clf")
    ds = torch.load(os.path.join(out, "dataset.pt")) if os.path.exists(os.path.join(out, "dataset.pt")) else None
    c = ck["config"]
    clf = Classifier(c["n_cat"], c["n_sub"], c["n_concept"], c["width"])
    clf.load_state_dict(ck["model"]); clf.eval()
    os.makedirs(dst, exist_ok=True)
    x = torch.zeros(2, 3, 64, 64)
    path = os.path.join(dst, "classifier.onnx")
    names = ["category", "subcategory", "concept", "features"]
    with torch.no_grad():
        outs = clf(x)
        torch.onnx.export(clf, (x,), path, opset_version=17, input_names=["image"], output_names=names,
                          dynamic_axes={n: {0: "B"} for n in ["image"] + names}, do_constant_folding=True)
    if ds is not None:
        with open(os.path.join(dst, "labels.json"), "w") as f:
            json.dump({"categories": ds["categories"], "subcategories": ds["subcategories"],
                       "concepts": [k["name"] for k in ds["concepts"]], "styles": list(STYLES)}, f)
    manifest = {"format": "erta-classifier-manifest", "version": 1, "name": "emoji-classifier", "file": "classifier.onnx",
                "sha256": sha256(path), "bytes": os.path.getsize(path),
                "inputs": {"image": {"dtype": "float32", "shape": ["B", 3, 64, 64], "range": [-1, 1]}},
                "outputs": {n: {"dtype": "float32", "shape": ["B", int(t.shape[1])]} for n, t in zip(names, outs)},
                "labels": "labels.json", "train": {"steps": ck["step"], "seconds": round(ck["seconds"])}}
    with open(os.path.join(dst, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2)
    return manifest


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--src", default=os.path.join(HERE, "out"), help="training output folder")
    ap.add_argument("--out", default="public/models/emoji-dit")
    ap.add_argument("--classifier-out", default="public/models/emoji-classifier")
    ap.add_argument("--golden", default="")
    ap.add_argument("--name", default="emoji-dit")
    args = ap.parse_args()
    enc, m, dec, tok, tok_path, cfg, info = load_pipeline(args.src)
    L = cfg["max_tokens"]
    if os.path.isdir(args.out):
        shutil.rmtree(args.out)
    for sub in ("tokenizer", "text_encoder", "transformer", "vae_decoder"):
        os.makedirs(os.path.join(args.out, sub), exist_ok=True)
    shutil.copy(tok_path, os.path.join(args.out, "tokenizer", "tokenizer.json"))
    g = torch.Generator().manual_seed(0)
    ids = torch.tensor([token_ids(tok, "red apple", L)], dtype=torch.int32)
    x = torch.randn(2, cfg["channels"], cfg["size"], cfg["size"], generator=g)
    t = torch.tensor([0.7, 0.7])
    with torch.no_grad():
        hidden = enc(ids)
        ctx1 = m.caption_projection(hidden)
        ctx2 = torch.cat([ctx1, m.caption_projection(enc(torch.zeros_like(ids)))], 0)
        h, c, mod0 = m.embed(x, t)
        z = m.run_blocks(h, c, ctx2)
        v = m.head(z, c)
        lat = torch.randn(1, cfg["channels"], cfg["size"], cfg["size"], generator=g)
        img = dec(lat)
    graphs = {
        "text_encoder": ("text_encoder/model.onnx", enc, (ids,), ["input_ids"], ["last_hidden_state"], (hidden,), False),
        "context": ("transformer/context.onnx", m.caption_projection, (hidden,), ["encoder_hidden_states"],
                    ["context"], (ctx1,), False),
        "embed": ("transformer/embed.onnx", _Part(m, "embed"), (x, t), ["latent", "sigma"], ["hidden", "temb", "mod0"],
                  (h, c, mod0), True),
        "blocks": ("transformer/blocks.onnx", _Part(m, "run_blocks"), (h, c, ctx2), ["hidden", "temb", "context"],
                   ["hidden_out"], (z,), True),
        "head": ("transformer/head.onnx", _Part(m, "head"), (z, c), ["hidden", "temb"], ["velocity"], (v,), True),
        "vae_decoder": ("vae_decoder/model.onnx", dec, (lat,), ["latent_sample"], ["sample"], (img,), False),
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
    matrix, bias = fit_preview(dec, args.src, cfg)
    ds = torch.load(os.path.join(args.src, "dataset.pt"))
    calibration, evaluation = prompt_lists(ds)
    model_hash = hashlib.sha256("".join(entries[k]["sha256"] for k in sorted(entries)).encode()).hexdigest()
    step = sum(entries[k]["flopsPerSample"] for k in ("embed", "blocks", "head"))
    tok_file = os.path.join(args.out, "tokenizer", "tokenizer.json")
    n_params = {"text_encoder": sum(p.numel() for p in enc.parameters()),
                "transformer": sum(p.numel() for p in m.parameters()),
                "vae_decoder": sum(p.numel() for p in dec.parameters())}
    manifest = {
        "format": "erta-diffusion-manifest", "version": 2, "name": args.name, "modelHash": model_hash,
        "architecture": {"type": "dit-adaln-zero-cross-attention", "dim": cfg["dim"], "depth": cfg["depth"],
                         "heads": cfg["heads"], "patch": cfg["patch"], "tokens": m.grid * m.grid,
                         "parameters": sum(n_params.values()), "parametersPerComponent": n_params},
        "latent": {"channels": cfg["channels"], "height": cfg["size"], "width": cfg["size"]},
        "hidden": {"tokens": m.grid * m.grid, "dim": cfg["dim"]},
        "conditioning": {"type": "text", "maxTokens": L, "contextDim": cfg["dim"], "defaultNegativePrompt": "",
                         "examplePrompts": EXAMPLE_PROMPTS},
        "components": {
            "tokenizer": {"file": "tokenizer/tokenizer.json", "sha256": sha256(tok_file),
                          "bytes": os.path.getsize(tok_file), "maxLength": L, "padId": 0},
            "textEncoder": {"graph": entries["text_encoder"],
                            "io": {"inputIds": "input_ids", "hiddenStates": "last_hidden_state"}},
            "context": {"graph": entries["context"], "io": {"hiddenStates": "encoder_hidden_states", "context": "context"}},
            "transformer": {"graphs": {k: entries[k] for k in ("embed", "blocks", "head")},
                            "io": {"latent": "latent", "sigma": "sigma", "hidden": "hidden", "temb": "temb",
                                   "mod0": "mod0", "context": "context", "hiddenOut": "hidden_out", "velocity": "velocity"}},
            "vaeDecoder": {"graph": entries["vae_decoder"], "scalingFactor": cfg["scaling"], "shiftFactor": cfg["shift"],
                           "io": {"latent": "latent_sample", "image": "sample"}},
            "preview": {"type": "linear", "matrix": matrix, "bias": bias},
        },
        "flops": {"stepPerSample": step, "blocksShare": entries["blocks"]["flopsPerSample"] / step,
                  "counted": "as tools/flops.py at batch 1, attention matmuls not counted (t2i.Attention has no hook)"},
        "preview": {"from": [-1, 1], "to": [0, 255], "channels": 3},
        "scheduler": {"type": "flow-match-euler", "shift": 1.0, "defaultSteps": DEFAULT_STEPS,
                      "defaultGuidance": DEFAULT_GUIDANCE},
        "calibrationPrompts": "calibration-prompts.json",
        "evaluationPrompts": "evaluation-prompts.json",
        "plans": [],
        "weights": "trained (EMA), see README.md",
        "train": info,
    }
    assert not set(calibration) & set(evaluation)
    for name, prompts in (("calibration-prompts.json", calibration), ("evaluation-prompts.json", evaluation)):
        with open(os.path.join(args.out, name), "w") as f:
            json.dump(prompts, f, indent=1)
    with open(os.path.join(args.out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2)
    if args.golden:
        noise, x_ref, image_ref = reference_loop(m, enc, dec, tok, cfg, REFERENCE)
        golden["reference"] = {"inputs": {"noise": noise}, "outputs": {"latent": x_ref, "image": image_ref}}
        write_golden(args.golden, golden)
        with open(os.path.join(args.golden, "golden.json")) as f:
            index = json.load(f)
        index["reference"] = {**REFERENCE, "tolerance": 1e-3}
        index["tokens"] = [{"text": p, "ids": token_ids(tok, p, L), "length": len(tok.encode(p).ids)} for p in TOKEN_PROMPTS]
        with open(os.path.join(args.golden, "golden.json"), "w") as f:
            json.dump(index, f, indent=1)
    clf = export_classifier(args.src, args.classifier_out) if args.classifier_out else None
    total = sum(e["bytes"] for e in entries.values()) + os.path.getsize(tok_file)
    print(json.dumps({"out": args.out, "modelHash": model_hash, "parameters": n_params, "bytes": total,
                      "classifierBytes": clf and clf["bytes"], "blocksShare": manifest["flops"]["blocksShare"],
                      "trainSteps": info["steps"]}))


if __name__ == "__main__":
    main()
