"""Train the embedded default model and its evaluation classifier.

    python3 tools/train.py --out tools/out [--steps 3500] [--dim 128 --depth 6 --heads 4]

Writes <out>/dit.pt (EMA weights + config), <out>/classifier.pt, and <out>/train-log.jsonl
(one line per logged step). Runs on CPU (Debian's PyTorch 1.13 with OpenBLAS) or, unchanged,
on CUDA with PyTorch 2.x.
"""
import argparse
import copy
import json
import math
import os
import time

import torch
import torch.nn.functional as F

from data import load_split
from dit import DiT, Classifier, NULL_CLASS


def log_line(path, obj):
    with open(path, "a") as f:
        f.write(json.dumps(obj) + "\n")
    print(json.dumps(obj), flush=True)


def train_classifier(args, dev, tr_x, tr_y, te_x, te_y, log):
    torch.manual_seed(args.seed + 1)
    clf = Classifier().to(dev)
    opt = torch.optim.Adam(clf.parameters(), lr=2e-3)
    n = tr_x.shape[0]
    for epoch in range(args.clf_epochs):
        perm = torch.randperm(n)
        clf.train()
        for s in range(0, n, 128):
            idx = perm[s:s + 128]
            x = tr_x[idx].to(dev)
            # random shifts of up to 2 px: cheap augmentation for 9,000 training digits
            dx, dy = torch.randint(-2, 3, (2,)).tolist()
            x = torch.roll(x, shifts=(dy, dx), dims=(2, 3))
            loss = F.cross_entropy(clf(x)[0], tr_y[idx].to(dev))
            opt.zero_grad(); loss.backward(); opt.step()
        clf.eval()
        with torch.no_grad():
            acc = (clf(te_x.to(dev))[0].argmax(1).cpu() == te_y).float().mean().item()
        log_line(log, {"phase": "classifier", "epoch": epoch + 1, "loss": loss.item(),
                       "held_out_acc": acc})
    return clf.cpu(), acc


def lr_at(step, total, base, warmup=200):
    if step < warmup:
        return base * (step + 1) / warmup
    return base * 0.5 * (1 + math.cos(math.pi * (step - warmup) / max(1, total - warmup)))


def train_dit(args, dev, tr_x, tr_y, log, resume=None):
    torch.manual_seed(args.seed + (resume["train"]["steps"] if resume else 0))
    model = DiT(dim=args.dim, depth=args.depth, heads=args.heads, patch=args.patch).to(dev)
    if resume:  # continue from the saved EMA weights (a fresh optimizer, a new warm-up)
        model.load_state_dict(resume["state"])
    offset = resume["train"]["steps"] if resume else 0
    ema = copy.deepcopy(model).eval()
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=args.lr, weight_decay=0.0)
    n = tr_x.shape[0]
    t0 = time.time()
    running = None
    for step in range(args.steps):
        idx = torch.randint(0, n, (args.batch,))
        x0, y = tr_x[idx].to(dev), tr_y[idx].to(dev)
        y = torch.where(torch.rand(args.batch, device=dev) < args.p_uncond,
                        torch.full_like(y, NULL_CLASS), y)
        # logit-normal sigma (SD3): more weight on the middle of the trajectory
        sigma = torch.sigmoid(torch.randn(args.batch, device=dev))
        eps = torch.randn_like(x0)
        xs = (1 - sigma[:, None, None, None]) * x0 + sigma[:, None, None, None] * eps
        loss = F.mse_loss(model(xs, sigma, y), eps - x0)
        for g in opt.param_groups:
            g["lr"] = lr_at(step, args.steps, args.lr)
        opt.zero_grad(); loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        decay = args.ema if resume else min(args.ema, (1 + step) / (10 + step))
        with torch.no_grad():
            for pe, pm in zip(ema.parameters(), model.parameters()):
                pe.mul_(decay).add_(pm.detach(), alpha=1 - decay)
        running = loss.item() if running is None else 0.98 * running + 0.02 * loss.item()
        if args.save_every and step > 0 and step % args.save_every == 0:
            # a session can end at any time: keep the EMA weights so far, resumable with --resume
            torch.save({"state": ema.state_dict(), "config": {"dim": args.dim, "depth": args.depth,
                        "heads": args.heads, "patch": args.patch}, "train": {"steps": offset + step, "seconds": 0}},
                       os.path.join(args.out, "dit-partial.pt"))
        if step % args.log_every == 0 or step == args.steps - 1:
            log_line(log, {"phase": "dit", "step": offset + step, "loss": loss.item(), "loss_avg": running,
                           "lr": lr_at(step, args.steps, args.lr),
                           "elapsed_s": round(time.time() - t0, 1)})
    return ema.cpu(), running, time.time() - t0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--out", default="tools/out")
    ap.add_argument("--steps", type=int, default=3500)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--lr", type=float, default=5e-4)
    ap.add_argument("--ema", type=float, default=0.999)
    ap.add_argument("--p-uncond", type=float, default=0.1)
    ap.add_argument("--dim", type=int, default=128)
    ap.add_argument("--depth", type=int, default=6)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--patch", type=int, default=4)
    ap.add_argument("--clf-epochs", type=int, default=8)
    ap.add_argument("--log-every", type=int, default=25)
    ap.add_argument("--save-every", type=int, default=500, help="write <out>/dit-partial.pt every N steps (0: never)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--resume", action="store_true",
                    help="continue training <out>/dit.pt for --steps more steps; keeps the classifier and the log")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    dev = "cuda" if torch.cuda.is_available() else "cpu"
    os.makedirs(args.out, exist_ok=True)
    log = os.path.join(args.out, "train-log.jsonl")
    resume = torch.load(os.path.join(args.out, "dit.pt"), map_location="cpu") if args.resume else None
    if resume:
        cfg = resume["config"]
        args.dim, args.depth, args.heads, args.patch = cfg["dim"], cfg["depth"], cfg["heads"], cfg["patch"]
    else:
        open(log, "w").close()
    tr_x, tr_y, te_x, te_y = load_split()
    log_line(log, {"phase": "data", "train": tr_x.shape[0], "held_out": te_x.shape[0],
                   "device": dev, "torch": torch.__version__, "threads": args.threads, "resume": bool(resume)})
    if not resume:
        clf, clf_acc = train_classifier(args, dev, tr_x, tr_y, te_x, te_y, log)
        torch.save({"state": clf.state_dict(), "held_out_acc": clf_acc}, os.path.join(args.out, "classifier.pt"))
    ema, final_loss, secs = train_dit(args, dev, tr_x, tr_y, log, resume)
    cfg = {"dim": args.dim, "depth": args.depth, "heads": args.heads, "patch": args.patch}
    prev = resume["train"] if resume else {"steps": 0, "seconds": 0}
    stages = prev.get("stages", [prev] if resume else []) + [{"steps": args.steps, "lr": args.lr, "seconds": round(secs)}]
    torch.save({"state": ema.state_dict(), "config": cfg,
                "train": {"steps": prev["steps"] + args.steps, "batch": args.batch, "lr": args.lr, "ema": args.ema,
                          "p_uncond": args.p_uncond, "seconds": prev["seconds"] + round(secs), "device": dev,
                          "final_loss_avg": final_loss, "seed": args.seed, "stages": stages}},
               os.path.join(args.out, "dit.pt"))
    log_line(log, {"phase": "done", "seconds": round(secs), "final_loss_avg": final_loss})


if __name__ == "__main__":
    main()
