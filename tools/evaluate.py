"""Export the evaluation classifier, sample the trained DiT, and write the model cards.

    python3 tools/evaluate.py --work tools/out --models public/models [--guidance 3.0] [--sweep]

Full-compute sampling: 50 Euler steps, classifier-free guidance, 10 classes x seeds 1000-1009
(torch.Generator noise; the TypeScript runtime uses its own seeded RNG, so its images differ
but the statistics are comparable). Reports class accuracy and the Frechet distance of
classifier features against the held-out digits.
"""
import argparse
import json
import os

import torch
from PIL import Image, ImageDraw

from data import load_split
from dit import DiT, Classifier, NULL_CLASS
from export import export, sha256, write_golden


def load_models(work):
    ck = torch.load(os.path.join(work, "dit.pt"), map_location="cpu")
    dit = DiT(**ck["config"]); dit.load_state_dict(ck["state"]); dit.eval()
    cc = torch.load(os.path.join(work, "classifier.pt"), map_location="cpu")
    clf = Classifier(); clf.load_state_dict(cc["state"]); clf.eval()
    return dit, ck, clf, cc


@torch.no_grad()
def sample(dit, labels, seeds, steps=50, guidance=3.0, shift=1.0):
    noise = torch.stack([torch.randn(1, 28, 28, generator=torch.Generator().manual_seed(s)) for s in seeds])
    x = noise
    sig = torch.linspace(1, 0, steps + 1)
    sig = shift * sig / (1 + (shift - 1) * sig)
    y = torch.tensor(labels, dtype=torch.int32)
    null = torch.full_like(y, NULL_CLASS)
    for i in range(steps):
        t = torch.full((len(labels),), float(sig[i]))
        vc = dit(x, t, y)
        vu = dit(x, t, null)
        v = vu + guidance * (vc - vu)
        x = x - (sig[i] - sig[i + 1]) * v
    return x.clamp(-1, 1)


def sqrtm_psd(m):
    w, v = torch.linalg.eigh(m)
    return v @ torch.diag(w.clamp(min=0).sqrt()) @ v.T


def frechet(f1, f2):
    f1, f2 = f1.double(), f2.double()
    mu1, mu2 = f1.mean(0), f2.mean(0)
    c1, c2 = torch.cov(f1.T), torch.cov(f2.T)
    s1 = sqrtm_psd(c1)
    cross = sqrtm_psd(s1 @ c2 @ s1)
    return float(((mu1 - mu2) ** 2).sum() + torch.trace(c1 + c2 - 2 * cross))


@torch.no_grad()
def score(clf, imgs, labels, real_feats):
    logits, feats = clf(imgs)
    acc = (logits.argmax(1) == torch.tensor(labels)).float().mean().item()
    return acc, frechet(feats, real_feats)


def save_grid(imgs, path, cols=10, scale=1):
    n = imgs.shape[0]
    rows = (n + cols - 1) // cols
    grid = Image.new("L", (cols * 28 * scale, rows * 28 * scale))
    for k in range(n):
        a = ((imgs[k, 0] + 1) * 127.5).round().clamp(0, 255).byte().numpy()
        tile = Image.fromarray(a, "L").resize((28 * scale, 28 * scale), Image.NEAREST)
        grid.paste(tile, ((k % cols) * 28 * scale, (k // cols) * 28 * scale))
    grid.save(path, optimize=True)


def save_loss_curve(log_path, out_path, w=480, h=200):
    pts = [json.loads(l) for l in open(log_path) if '"phase": "dit"' in l]
    xs = [p["step"] for p in pts]; ys = [p["loss_avg"] for p in pts]
    img = Image.new("RGB", (w, h), "white"); d = ImageDraw.Draw(img)
    lo, hi = min(ys), max(ys[5:] or ys)
    pad = 30
    def xy(x, y):
        return (pad + (w - 2 * pad) * x / max(xs), h - pad - (h - 2 * pad) * (min(y, hi) - lo) / (hi - lo + 1e-9))
    d.line([xy(x, y) for x, y in zip(xs, ys)], fill=(20, 90, 200), width=2)
    d.rectangle([pad, pad, w - pad, h - pad], outline="black")
    d.text((pad, 8), f"training loss (EMA of batch MSE): {ys[-1]:.4f} at step {xs[-1]}", fill="black")
    d.text((pad, h - pad + 6), f"0{' ' * 40}steps{' ' * 40}{max(xs)}", fill="black")
    d.text((2, pad), f"{hi:.2f}", fill="black"); d.text((2, h - pad - 10), f"{lo:.2f}", fill="black")
    img.save(out_path)


def export_classifier(clf, out_dir, golden_dir):
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, "classifier.onnx")
    img = torch.randn(2, 1, 28, 28, generator=torch.Generator().manual_seed(7)).clamp(-1, 1)
    with torch.no_grad():
        logits, feats = clf(img)
        export(clf, (img,), path, ["image"], ["logits", "features"])
    manifest = {"format": "erta-classifier-manifest", "version": 1, "name": "mnist-classifier",
                "file": "classifier.onnx", "sha256": sha256(path), "bytes": os.path.getsize(path),
                "inputs": {"image": {"dtype": "float32", "shape": ["B", 1, 28, 28], "range": [-1, 1]}},
                "outputs": {"logits": {"dtype": "float32", "shape": ["B", 10]},
                            "features": {"dtype": "float32", "shape": ["B", feats.shape[1]]}}}
    with open(os.path.join(out_dir, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2)
    if golden_dir:
        write_golden(golden_dir, {"classifier": {"inputs": {"image": img},
                                                 "outputs": {"logits": logits, "features": feats}}})
    return manifest


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", default="tools/out")
    ap.add_argument("--models", default="public/models")
    ap.add_argument("--golden", default="tools/golden")
    ap.add_argument("--guidance", default="3.0",
                    help="CFG weight, or 'auto': sweep 1-5 and take the best class accuracy (then the lower FD)")
    ap.add_argument("--sweep", action="store_true", help="also report accuracy/FD for several guidance scales")
    args = ap.parse_args()
    torch.set_num_threads(os.cpu_count())
    dit, ck, clf, cc = load_models(args.work)
    _, _, te_x, te_y = load_split()
    with torch.no_grad():
        real_feats = clf(te_x)[1]
    cman = export_classifier(clf, os.path.join(args.models, "mnist-classifier"),
                             os.path.join(args.golden, "mnist-classifier"))
    labels = [c for c in range(10) for _ in range(10)]
    seeds = [1000 + s for c in range(10) for s in range(10)]
    auto = args.guidance == "auto"
    result = {"classifierHeldOutAcc": cc["held_out_acc"], "sweep": []}
    by_w = {}
    for w in ([1.0, 2.0, 3.0, 4.0, 5.0] if args.sweep or auto else []):
        by_w[w] = sample(dit, labels, seeds, guidance=w)
        acc, fd = score(clf, by_w[w], labels, real_feats)
        result["sweep"].append({"guidance": w, "classAccuracy": acc, "fd": fd})
        print(json.dumps(result["sweep"][-1]), flush=True)
    if auto:
        best = max(result["sweep"], key=lambda r: (round(r["classAccuracy"], 3), -r["fd"]))
        guidance = best["guidance"]
    else:
        guidance = float(args.guidance)
    result["guidance"] = guidance
    imgs = by_w[guidance] if guidance in by_w else sample(dit, labels, seeds, guidance=guidance)
    result["classAccuracy"], result["fd"] = score(clf, imgs, labels, real_feats)
    # reference point for FD: real training digits against the held-out digits
    tr_x, _, _, _ = load_split()
    with torch.no_grad():
        result["fdRealTrainVsHeldOut"] = frechet(clf(tr_x[::9][:1000])[1], real_feats)
    dit_dir = os.path.join(args.models, "mnist-dit")
    os.makedirs(dit_dir, exist_ok=True)
    man_path = os.path.join(dit_dir, "manifest.json")
    if auto and os.path.exists(man_path):  # the sampled guidance becomes the manifest's default
        with open(man_path) as f:
            man = json.load(f)
        man["scheduler"]["defaultGuidance"] = guidance
        with open(man_path, "w") as f:
            json.dump(man, f, indent=2)
    save_grid(imgs, os.path.join(dit_dir, "samples.png"))
    save_loss_curve(os.path.join(args.work, "train-log.jsonl"), os.path.join(dit_dir, "loss.png"))
    result["train"] = ck.get("train", {})
    with open(os.path.join(args.work, "eval.json"), "w") as f:
        json.dump(result, f, indent=2)
    print(json.dumps({k: v for k, v in result.items() if k != "sweep"}))


if __name__ == "__main__":
    main()
