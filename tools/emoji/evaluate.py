"""Acceptance metrics of the text-to-emoji model (issue 12), in PyTorch on the trained weights.

    /usr/bin/python3 tools/emoji/evaluate.py [--steps 30 --guidance 4 --held-in 200] \
        [--json tools/emoji/ckpt/metrics.json] [--grid public/models/emoji-dit/samples.png]

Generates (flow-match Euler, CFG against the empty prompt, seeds 0..N-1) from
  - held-in prompts: 200 fixed (concept, style) pairs of the training split, as "<name>, <style> style";
  - held-out prompts: every (concept, style) pair of the fixed held-out split (the concept is seen in
    training only in the other style);
decodes with the VAE and scores with the evaluation classifier (tools/emoji/train.py clf):
  - category / subcategory accuracy (the prompt's concept's labels);
  - concept retrieval top-1 / top-5: concepts ranked by the distance of the generated image's
    classifier features to their nearest real image (both styles), the prompt's own concept at rank 1 / <= 5;
  - FID in classifier features (generated vs the real images of the same pairs; with few samples it is
    biased upwards, compare runs of the same size only);
  - colour words: for "red apple", "green apple", "blue heart", "yellow heart" (and a few more), the
    dominant hue of the saturated non-background pixels, over --colour-seeds seeds.
The real images of the same prompts are scored the same way (the classifier's ceiling) for reference.
"""
import argparse
import colorsys
import importlib.util
import json
import os
import random
import sys
import time

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from data import eval_prompt, token_ids  # noqa: E402
# this folder's export.py (tools/export.py has the same module name): import it by path
_spec = importlib.util.spec_from_file_location("emoji_export", os.path.join(HERE, "export.py"))
emoji_export = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(emoji_export)
load, load_pipeline = emoji_export.load, emoji_export.load_pipeline
from models import Classifier, to_float  # noqa: E402

HUES = {"red": (345, 15), "orange": (15, 40), "yellow": (40, 70), "green": (70, 170), "blue": (190, 255),
        "purple": (255, 300), "pink": (300, 345)}
COLOUR_PROMPTS = ["red apple", "green apple", "blue heart", "yellow heart", "red heart", "green heart",
                  "purple heart", "orange heart"]
GRID_PROMPTS = ["red apple", "green apple", "blue heart", "yellow heart", "rocket", "a rocket, noto style",
                "smiling cat face", "grinning face", "pizza", "sun", "dog face", "christmas tree",
                "ghost", "robot", "rainbow", "fire"]


def flow_sigmas(steps):
    s = [1 - i / steps for i in range(steps + 1)]
    s[0], s[-1] = 1.0, 0.0
    return s


@torch.no_grad()
def generate(enc, m, dec, tok, cfg, prompts, seeds, steps, guidance, batch=32):
    L = cfg["max_tokens"]
    empty = m.caption_projection(enc(torch.tensor([token_ids(tok, "", L)])))
    images = []
    for s in range(0, len(prompts), batch):
        ps, ss = prompts[s:s + batch], seeds[s:s + batch]
        b = len(ps)
        ctx = m.caption_projection(enc(torch.tensor([token_ids(tok, p, L) for p in ps])))
        context = torch.cat([ctx, empty.expand(b, -1, -1)], 0)
        x = torch.stack([torch.randn(cfg["channels"], cfg["size"], cfg["size"],
                                     generator=torch.Generator().manual_seed(int(sd))) for sd in ss])
        sig = flow_sigmas(steps)
        for i in range(steps):
            v2 = m(x.repeat(2, 1, 1, 1), torch.full((2 * b,), sig[i]), context)
            v = v2[b:] + guidance * (v2[:b] - v2[b:])
            x = x - (sig[i] - sig[i + 1]) * v
        images.append(dec(x / cfg["scaling"] + cfg["shift"]).clamp(-1, 1))
    return torch.cat(images)


def fid(a, b):
    a, b = a.double(), b.double()
    mu1, mu2 = a.mean(0), b.mean(0)
    s1, s2 = torch.cov(a.T), torch.cov(b.T)
    w, v = torch.linalg.eigh(s1)
    r1 = v @ torch.diag(w.clamp(min=0).sqrt()) @ v.T
    mid = torch.linalg.eigvalsh(r1 @ s2 @ r1).clamp(min=0).sqrt().sum()
    return float((mu1 - mu2).pow(2).sum() + torch.trace(s1) + torch.trace(s2) - 2 * mid)


def score(clf, images, concept_ids, ds, real_feats, real_concepts):
    with torch.no_grad():
        cat, sub, _, feats = clf(images)
    cid = torch.tensor(concept_ids)
    cat_acc = float((cat.argmax(1) == ds["category"][cid * 2]).float().mean())
    sub_acc = float((sub.argmax(1) == ds["subcategory"][cid * 2]).float().mean())
    d = torch.cdist(feats, real_feats)  # [G, R]
    n_con = int(real_concepts.max()) + 1
    per_concept = torch.full((feats.shape[0], n_con), float("inf"))
    per_concept.scatter_reduce_(1, real_concepts[None].expand(feats.shape[0], -1), d, reduce="amin")
    rank = (per_concept < per_concept.gather(1, cid[:, None])).sum(1)
    # per true category: how many, how many right, and what the wrong ones were taken for
    true_cat, pred_cat = ds["category"][cid * 2].tolist(), cat.argmax(1).tolist()
    names = ds["categories"]
    per_cat = {}
    for t, p in zip(true_cat, pred_cat):
        e = per_cat.setdefault(names[t], {"n": 0, "right": 0, "taken_for": {}})
        e["n"] += 1
        e["right"] += int(t == p)
        if t != p:
            e["taken_for"][names[p]] = e["taken_for"].get(names[p], 0) + 1
    return {"category_acc": round(cat_acc, 4), "subcategory_acc": round(sub_acc, 4),
            "retrieval_top1": round(float((rank < 1).float().mean()), 4),
            "retrieval_top5": round(float((rank < 5).float().mean()), 4), "n": len(concept_ids),
            "per_category": dict(sorted(per_cat.items(), key=lambda kv: -kv[1]["n"]))}, feats


def dominant_hue(img):
    """img [3, H, W] in [-1, 1] -> the named hue with most saturated, non-white, non-dark pixels."""
    px = ((img.permute(1, 2, 0).reshape(-1, 3) + 1) / 2).clamp(0, 1).tolist()
    counts = {k: 0 for k in HUES}
    for r, g, b in px:
        h, s, v = colorsys.rgb_to_hsv(r, g, b)
        if s < 0.35 or v < 0.25:
            continue
        deg = h * 360
        for k, (lo, hi) in HUES.items():
            if (lo > hi and (deg >= lo or deg < hi)) or (lo <= deg < hi):
                counts[k] += 1
    best = max(counts, key=counts.get)
    return best if counts[best] > 0 else "none", counts


def save_grid(images, path, cols=8):
    from PIL import Image
    n = images.shape[0]
    rows = (n + cols - 1) // cols
    arr = ((images.clamp(-1, 1) + 1) * 127.5).round().byte().permute(0, 2, 3, 1).numpy()
    grid = Image.new("RGB", (cols * 66, rows * 66), (200, 200, 200))
    for i in range(n):
        grid.paste(Image.fromarray(arr[i]), ((i % cols) * 66 + 1, (i // cols) * 66 + 1))
    grid.save(path)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--src", default=os.path.join(HERE, "out"))
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--guidance", type=float, default=4.0)
    ap.add_argument("--held-in", type=int, default=200)
    ap.add_argument("--held-out", type=int, default=0, help="0: every held-out pair")
    ap.add_argument("--colour-seeds", type=int, default=4)
    ap.add_argument("--json", default="")
    ap.add_argument("--grid", default="")
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    t0 = time.time()
    enc, m, dec, tok, _, cfg, info = load_pipeline(args.src)
    ds = torch.load(os.path.join(args.src, "dataset.pt"))
    ck, _ = load(args.src, "clf")
    c = ck["config"]
    clf = Classifier(c["n_cat"], c["n_sub"], c["n_concept"], c["width"])
    clf.load_state_dict(ck["model"]); clf.eval()
    real = to_float(ds["images"])
    with torch.no_grad():
        real_feats = torch.cat([clf(real[s:s + 256])[3] for s in range(0, real.shape[0], 256)])
    real_concepts = ds["concept"]
    concepts = ds["concepts"]
    held = set(map(tuple, ds["held_out"]))
    pairs_in = [(int(ci), int(si)) for ci, si in zip(ds["concept"], ds["style"]) if (int(ci), int(si)) not in held]
    pairs_in = random.Random(12).sample(pairs_in, args.held_in)
    pairs_out = [tuple(p) for p in ds["held_out"]]
    if args.held_out:
        pairs_out = pairs_out[:args.held_out]
    report = {"checkpoint": info, "steps": args.steps, "guidance": args.guidance}
    for name, pairs in (("held_in", pairs_in), ("held_out", pairs_out)):
        prompts = [eval_prompt(concepts[ci], si) for ci, si in pairs]
        gen = generate(enc, m, dec, tok, cfg, prompts, list(range(len(prompts))), args.steps, args.guidance)
        cids = [ci for ci, _ in pairs]
        res, feats = score(clf, gen, cids, ds, real_feats, real_concepts)
        real_idx = torch.tensor([2 * ci + si for ci, si in pairs])
        ref, ref_feats = score(clf, real[real_idx], cids, ds, real_feats, real_concepts)
        res["fid_classifier_features"] = round(fid(feats, ref_feats), 3)
        report[name] = res
        report[name + "_real_images"] = ref
        print(json.dumps({name: {k: v for k, v in res.items() if k != "per_category"},
                          "real": {k: v for k, v in ref.items() if k != "per_category"}}), flush=True)
        if name == "held_in" and args.grid:
            save_grid(gen[:32], args.grid.replace(".png", "-held-in.png"))
    colour = []
    for p in COLOUR_PROMPTS:
        gen = generate(enc, m, dec, tok, cfg, [p] * args.colour_seeds, list(range(args.colour_seeds)), args.steps,
                       args.guidance)
        hues = [dominant_hue(g)[0] for g in gen]
        want = p.split()[0]
        colour.append({"prompt": p, "hues": hues, "match": sum(h == want for h in hues) / len(hues)})
    report["colour"] = colour
    report["colour_match"] = round(sum(c["match"] for c in colour) / len(colour), 4)
    print(json.dumps({"colour": colour}), flush=True)
    if args.grid:
        gen = generate(enc, m, dec, tok, cfg, GRID_PROMPTS * 2, [0] * len(GRID_PROMPTS) + [1] * len(GRID_PROMPTS),
                       args.steps, args.guidance)
        save_grid(gen, args.grid)
        report["grid_prompts"] = GRID_PROMPTS
    report["seconds"] = round(time.time() - t0, 1)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=1)
    print(json.dumps({k: report[k] for k in ("held_in", "held_out", "colour_match", "seconds")}))
    for k, e in report["held_in"]["per_category"].items():
        print(f"held-in {k}: {e['right']}/{e['n']}, wrong taken for {e['taken_for']}")


if __name__ == "__main__":
    main()
