"""Train the text-to-emoji pipeline in resumable stages (issue 12).

    /usr/bin/python3 tools/emoji/data.py                       # dataset.pt + tokenizer.json in tools/emoji/out
    nice -n 19 /usr/bin/python3 tools/emoji/train.py vae --minutes 10
    nice -n 19 /usr/bin/python3 tools/emoji/train.py clf --minutes 6
    nice -n 19 /usr/bin/python3 tools/emoji/train.py dit --minutes 90 [--resume]
    /usr/bin/python3 tools/emoji/train.py snapshot              # fp16 copies of the latest weights -> tools/emoji/ckpt/
    python3 tools/emoji/train.py dit --device cuda --minutes 10 --batch 256   # the same script on a GPU

Stages:
  vae  KL VAE, 4 latent channels, 4x down (64x64 RGB <-> 4x16x16): L1 + MSE + small KL, trained on
       random 32x32 crops (fully convolutional: 4x cheaper per step). Ends by encoding the data set
       (posterior mean and log-variance of every image) and fitting the latent scale/shift.
  clf  evaluation classifier (category, subcategory, concept heads; penultimate features for FID
       and retrieval), on all real images with small shifts.
  dit  text encoder + rectified-flow DiT trained jointly on the training split's latents with random
       captions (tools/emoji/data.py), empty prompt 10 % of the time (CFG), logit-normal sigma, EMA.

Every stage appends JSON lines to <out>/<stage>-log.jsonl, writes <out>/<stage>.pt (weights, EMA,
optimizer, step, seconds) every --save-minutes and when it stops (--minutes reached, --steps reached,
or SIGTERM/SIGINT: `kill -TERM PID` stops cleanly after a checkpoint). --resume continues from
<out>/<stage>.pt, or from the committed fp16 snapshot tools/emoji/ckpt/<stage>.pt when <out> has none.
"""
import argparse
import copy
import json
import math
import os
import random
import signal
import sys
import time

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from data import caption, token_ids  # noqa: E402
from models import DEFAULT, Classifier, TextDiT, TextEncoder, VaeDecoder, VaeEncoder, to_float  # noqa: E402

STOP = {"flag": False}


def on_signal(signum, frame):
    STOP["flag"] = True


def log_line(path, obj):
    with open(path, "a") as f:
        f.write(json.dumps(obj) + "\n")
    print(json.dumps(obj), flush=True)


def load_dataset(out):
    return torch.load(os.path.join(out, "dataset.pt"))


def load_tokenizer(out):
    from tokenizers import Tokenizer
    return Tokenizer.from_file(os.path.join(out, "tokenizer.json"))


def ckpt_path(args, stage):
    return os.path.join(args.out, f"{stage}.pt")


def load_resume(args, stage):
    for p in (ckpt_path(args, stage), os.path.join(HERE, "ckpt", f"{stage}.pt")):
        if os.path.exists(p):
            ck = torch.load(p, map_location="cpu")
            for k in ("model", "ema", "encoder", "decoder", "text", "text_ema"):
                if k in ck and isinstance(ck[k], dict):
                    ck[k] = {n: (t.float() if t.is_floating_point() else t) for n, t in ck[k].items()}
            print(f"resuming {stage} from {p} at step {ck['step']}", flush=True)
            return ck
    raise SystemExit(f"--resume: no checkpoint {ckpt_path(args, stage)} nor tools/emoji/ckpt/{stage}.pt")


def save(args, stage, obj):
    tmp = ckpt_path(args, stage) + ".tmp"
    torch.save(obj, tmp)
    os.replace(tmp, ckpt_path(args, stage))


def ema_update(ema, model, decay):
    with torch.no_grad():
        for pe, pm in zip(ema.parameters(), model.parameters()):
            pe.mul_(decay).add_(pm.detach(), alpha=1 - decay)


class Clock:
    """Stops a stage at --minutes / --steps / a signal; says when a periodic checkpoint is due."""

    def __init__(self, args, seconds_before=0.0):
        self.t0, self.before, self.args, self.last_save = time.time(), seconds_before, args, time.time()

    def elapsed(self):
        return self.before + time.time() - self.t0

    def done(self, step, start_step):
        a = self.args
        return STOP["flag"] or (a.minutes and time.time() - self.t0 > a.minutes * 60) or \
            (a.steps and step - start_step >= a.steps)

    def fraction(self, step, start_step):
        """How much of this run's --minutes / --steps budget is used (0..1; 0 without a budget)."""
        a, f = self.args, 0.0
        if a.minutes:
            f = max(f, (time.time() - self.t0) / (a.minutes * 60))
        if a.steps:
            f = max(f, (step - start_step) / a.steps)
        return min(1.0, f)

    def save_due(self):
        if time.time() - self.last_save > self.args.save_minutes * 60:
            self.last_save = time.time()
            return True
        return False


# ---------------------------------------------------------------- VAE
def vae_loss(enc, dec, x, kl_weight):
    mean, logvar = enc(x)
    z = mean + torch.randn_like(mean) * torch.exp(0.5 * logvar)
    y = dec(z)
    rec = F.l1_loss(y, x) + F.mse_loss(y, x)
    kl = 0.5 * (mean.pow(2) + logvar.exp() - 1 - logvar).mean()
    return rec + kl_weight * kl, rec, kl


def stage_vae(args, dev, log):
    ds = load_dataset(args.out)
    images = to_float(ds["images"])  # all real images (the VAE is not conditioned: no split needed)
    cfg = {"channels": DEFAULT["channels"], "vae_width": args.vae_width or DEFAULT["vae_width"]}
    enc, dec = VaeEncoder(cfg["channels"], cfg["vae_width"]).to(dev), VaeDecoder(cfg["channels"], cfg["vae_width"]).to(dev)
    params = list(enc.parameters()) + list(dec.parameters())
    opt = torch.optim.Adam(params, lr=args.lr or 1e-3)
    step, secs = 0, 0.0
    if args.resume:
        ck = load_resume(args, "vae")
        cfg = ck["config"]
        enc.load_state_dict(ck["encoder"]); dec.load_state_dict(ck["decoder"])
        if "opt" in ck:
            opt.load_state_dict(ck["opt"])
        step, secs = ck["step"], ck["seconds"]
    clock, start = Clock(args, secs), step
    crop, batch, n = args.crop, args.batch or 16, images.shape[0]
    torch.manual_seed(args.seed + step)

    def snapshot():
        return {"encoder": enc.state_dict(), "decoder": dec.state_dict(), "opt": opt.state_dict(), "step": step,
                "seconds": clock.elapsed(), "config": cfg}
    running = None
    while not clock.done(step, start):
        idx = torch.randint(0, n, (batch,))
        x = images[idx]
        if crop < 64:
            oy, ox = torch.randint(0, 64 - crop + 1, (2,)).tolist()
            x = x[:, :, oy:oy + crop, ox:ox + crop]
        x = x.to(dev)
        loss, rec, kl = vae_loss(enc, dec, x, args.kl_weight)
        opt.zero_grad(); loss.backward(); opt.step()
        step += 1
        running = rec.item() if running is None else 0.97 * running + 0.03 * rec.item()
        if step % args.log_every == 0:
            log_line(log, {"stage": "vae", "step": step, "rec": round(rec.item(), 5), "rec_avg": round(running, 5),
                           "kl": round(kl.item(), 4), "elapsed_s": round(clock.elapsed(), 1)})
        if clock.save_due():
            save(args, "vae", snapshot())
    save(args, "vae", snapshot())
    encode_latents(args, dev, enc, dec, images, log, step, clock.elapsed())


def encode_latents(args, dev, enc, dec, images, log, step, secs):
    """Posterior of every image, the latent scale/shift (SD convention: z' = (z - shift) * scale), PSNR."""
    enc.eval(); dec.eval()
    means, logvars, psnr = [], [], []
    with torch.no_grad():
        for s in range(0, images.shape[0], 128):
            x = images[s:s + 128].to(dev)
            m, lv = enc(x)
            if s % 1024 == 0:  # PSNR on 512 of the images: the decoder is the costly part on a CPU
                y = dec(m)
                mse = ((y.clamp(-1, 1) - x) ** 2).mean(dim=(1, 2, 3))
                psnr.append(10 * torch.log10(4.0 / mse).cpu())
            means.append(m.cpu()); logvars.append(lv.cpu())
    mean, logvar = torch.cat(means), torch.cat(logvars)
    shift = float(mean.mean())
    scale = float(1.0 / mean.std())
    torch.save({"mean": mean, "logvar": logvar, "shift": shift, "scale": scale},
               os.path.join(args.out, "latents.pt"))
    log_line(log, {"stage": "vae-latents", "step": step, "psnr_db": round(float(torch.cat(psnr).mean()), 2),
                   "latent_shift": shift, "latent_scale": scale, "posterior_std": float(torch.exp(0.5 * logvar).mean()),
                   "elapsed_s": round(secs, 1)})


# ---------------------------------------------------------------- classifier
def stage_clf(args, dev, log):
    ds = load_dataset(args.out)
    images = to_float(ds["images"])
    n_cat, n_sub, n_con = len(ds["categories"]), len(ds["subcategories"]), len(ds["concepts"])
    cfg = {"width": DEFAULT["clf_width"], "n_cat": n_cat, "n_sub": n_sub, "n_concept": n_con}
    clf = Classifier(n_cat, n_sub, n_con, cfg["width"]).to(dev)
    opt = torch.optim.Adam(clf.parameters(), lr=args.lr or 2e-3)
    step, secs = 0, 0.0
    if args.resume:
        ck = load_resume(args, "clf")
        clf.load_state_dict(ck["model"])
        if "opt" in ck:
            opt.load_state_dict(ck["opt"])
        step, secs = ck["step"], ck["seconds"]
    # Held-out check: the (concept, style) pairs of the split are never trained on here either, so
    # the logged held-out accuracy says how well the classifier transfers across styles.
    train = ds["train"]
    tr_idx, te_idx = train.nonzero()[:, 0], (~train).nonzero()[:, 0]
    clock, start, batch = Clock(args, secs), step, args.batch or 64
    torch.manual_seed(args.seed + step)

    def snapshot():
        return {"model": clf.state_dict(), "opt": opt.state_dict(), "step": step, "seconds": clock.elapsed(),
                "config": cfg}

    def held_out_acc():
        clf.eval()
        with torch.no_grad():
            out = clf(images[te_idx].to(dev))
        clf.train()
        return {k: round(float((out[i].argmax(1).cpu() == ds[k][te_idx]).float().mean()), 4)
                for i, k in ((0, "category"), (1, "subcategory"))}
    while not clock.done(step, start):
        idx = tr_idx[torch.randint(0, tr_idx.shape[0], (batch,))]
        x = images[idx]
        dx, dy = torch.randint(-3, 4, (2,)).tolist()
        x = torch.roll(x, shifts=(dy, dx), dims=(2, 3)).to(dev)
        cat, sub, con, _ = clf(x)
        loss = F.cross_entropy(cat, ds["category"][idx].to(dev)) + F.cross_entropy(sub, ds["subcategory"][idx].to(dev)) \
            + F.cross_entropy(con, ds["concept"][idx].to(dev))
        opt.zero_grad(); loss.backward(); opt.step()
        step += 1
        if step % args.log_every == 0:
            log_line(log, {"stage": "clf", "step": step, "loss": round(loss.item(), 4), "elapsed_s": round(clock.elapsed(), 1)})
        if step % (args.log_every * 10) == 0:
            log_line(log, {"stage": "clf", "step": step, "held_out": held_out_acc()})
        if clock.save_due():
            save(args, "clf", snapshot())
    log_line(log, {"stage": "clf", "step": step, "held_out": held_out_acc(), "final": True,
                   "elapsed_s": round(clock.elapsed(), 1)})
    save(args, "clf", snapshot())


# ---------------------------------------------------------------- text encoder + DiT
def build_dit(cfg, vocab):
    enc = TextEncoder(vocab, cfg["max_tokens"], cfg["text_dim"], cfg["text_depth"], cfg["text_heads"])
    m = TextDiT(cfg["channels"], cfg["size"], cfg["patch"], cfg["dim"], cfg["depth"], cfg["heads"], cfg["text_dim"])
    return enc, m


def lr_at(step, base, warmup, frac=0.0, decay_frac=0.0, lr_min=0.0):
    """Linear warm-up, then constant; with --decay-frac, a linear decay to --lr-min over the last
    decay_frac of this run's --minutes/--steps budget (warm-up/stable/decay: the run ends annealed)."""
    lr = base * min(1.0, (step + 1) / warmup)
    if decay_frac > 0 and frac > 1 - decay_frac:
        t = (frac - (1 - decay_frac)) / decay_frac
        lr = lr + (lr_min - lr) * min(1.0, t)
    return lr


def stage_dit(args, dev, log):
    ds = load_dataset(args.out)
    tok = load_tokenizer(args.out)
    lat = torch.load(os.path.join(args.out, "latents.pt"))
    train = ds["train"].nonzero()[:, 0]
    cfg = dict(DEFAULT)
    for k in ("dim", "depth", "heads"):
        if getattr(args, k):
            cfg[k] = getattr(args, k)
    cfg["vocab"] = tok.get_vocab_size()
    step, secs, ck = 0, 0.0, None
    if args.resume:
        ck = load_resume(args, "dit")
        cfg = ck["config"]
        step, secs = ck["step"], ck["seconds"]
    enc, m = build_dit(cfg, cfg["vocab"])
    if ck:
        enc.load_state_dict(ck["text"]); m.load_state_dict(ck["model"])
    enc, m = enc.to(dev), m.to(dev)
    enc_ema, m_ema = copy.deepcopy(enc).eval(), copy.deepcopy(m).eval()
    if ck:
        enc_ema.load_state_dict(ck["text_ema"]); m_ema.load_state_dict(ck["ema"])
    params = [p for p in list(enc.parameters()) + list(m.parameters()) if p.requires_grad]
    base_lr = args.lr or 3e-4
    opt = torch.optim.AdamW(params, lr=base_lr, weight_decay=0.0)
    if ck and "opt" in ck:
        opt.load_state_dict(ck["opt"])
    resumed_without_opt = bool(ck) and "opt" not in ck
    mean, std = lat["mean"], torch.exp(0.5 * lat["logvar"])
    shift, scale = lat["shift"], lat["scale"]
    if ck:  # keep the latent normalization the DiT was trained with (latents.pt may be re-encoded)
        shift, scale = ck["latent_shift"], ck["latent_scale"]
    clock, start, batch, L = Clock(args, secs), step, args.batch or 64, cfg["max_tokens"]
    rng = random.Random(args.seed * 1000003 + step)
    torch.manual_seed(args.seed + step)
    concepts = ds["concepts"]
    empty = token_ids(tok, "", L)
    cfg_meta = {"latent_shift": shift, "latent_scale": scale}

    def snapshot():
        return {"model": m.state_dict(), "ema": m_ema.state_dict(), "text": enc.state_dict(),
                "text_ema": enc_ema.state_dict(), "opt": opt.state_dict(), "step": step, "seconds": clock.elapsed(),
                "config": cfg, **cfg_meta}
    running, p_uncond = None, args.p_uncond
    log_line(log, {"stage": "dit", "event": "start", "step": step, "config": cfg, "device": dev,
                   "params_dit": sum(p.numel() for p in m.parameters()),
                   "params_text": sum(p.numel() for p in enc.parameters()), "batch": batch,
                   "lr": base_lr, "decay_frac": args.decay_frac, "lr_min": args.lr_min, "torch": torch.__version__})
    while not clock.done(step, start):
        idx = train[torch.randint(0, train.shape[0], (batch,))]
        z = mean[idx] + std[idx] * torch.randn(batch, *mean.shape[1:])
        x0 = ((z - shift) * scale).to(dev)
        ids = [empty if rng.random() < p_uncond else
               token_ids(tok, caption(concepts[int(ds["concept"][i])], int(ds["style"][i]), rng), L) for i in idx]
        ids = torch.tensor(ids, dtype=torch.long, device=dev)
        sigma = torch.sigmoid(torch.randn(batch, device=dev))
        eps = torch.randn_like(x0)
        xs = (1 - sigma[:, None, None, None]) * x0 + sigma[:, None, None, None] * eps
        context = m.caption_projection(enc(ids))
        loss = F.mse_loss(m(xs, sigma, context), eps - x0)
        lr = lr_at(step - start if resumed_without_opt else step, base_lr, args.warmup,
                   clock.fraction(step, start), args.decay_frac, args.lr_min)
        for g in opt.param_groups:
            g["lr"] = lr
        opt.zero_grad(); loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        step += 1
        decay = min(args.ema, (1 + step) / (10 + step))
        ema_update(m_ema, m, decay); ema_update(enc_ema, enc, decay)
        running = loss.item() if running is None else 0.99 * running + 0.01 * loss.item()
        if step % args.log_every == 0:
            log_line(log, {"stage": "dit", "step": step, "loss": round(loss.item(), 4), "loss_avg": round(running, 4),
                           "lr": lr, "elapsed_s": round(clock.elapsed(), 1)})
        if clock.save_due():
            save(args, "dit", snapshot())
    save(args, "dit", snapshot())
    log_line(log, {"stage": "dit", "event": "stop", "step": step, "loss_avg": running, "elapsed_s": round(clock.elapsed(), 1)})


# ---------------------------------------------------------------- snapshot for the repository
def snapshot_to_repo(args):
    """fp16 weights (no optimizer state) of every finished stage -> tools/emoji/ckpt/ (small enough to commit)."""
    dst = os.path.join(HERE, "ckpt")
    os.makedirs(dst, exist_ok=True)
    for stage in ("vae", "clf", "dit"):
        p = ckpt_path(args, stage)
        if not os.path.exists(p):
            continue
        ck = torch.load(p, map_location="cpu")
        ck.pop("opt", None)
        for k, v in list(ck.items()):
            if isinstance(v, dict) and all(torch.is_tensor(t) for t in v.values()):
                ck[k] = {n: (t.half() if t.is_floating_point() else t) for n, t in v.items()}
        torch.save(ck, os.path.join(dst, f"{stage}.pt"))
        print(stage, ck["step"], os.path.getsize(os.path.join(dst, f"{stage}.pt")))
    # latents.pt is not copied (16 MB): `train.py latents` re-encodes the data set with the VAE snapshot.
    for name in ("vae-log.jsonl", "clf-log.jsonl", "dit-log.jsonl"):
        src = os.path.join(args.out, name)
        if os.path.exists(src):
            with open(src) as f, open(os.path.join(dst, name), "w") as g:
                g.write(f.read())


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("stage", choices=("vae", "clf", "dit", "latents", "snapshot"))
    ap.add_argument("--out", default=os.path.join(HERE, "out"))
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--minutes", type=float, default=0, help="stop after this long (0: no limit)")
    ap.add_argument("--steps", type=int, default=0, help="stop after this many more steps (0: no limit)")
    ap.add_argument("--save-minutes", type=float, default=4.0)
    ap.add_argument("--resume", action="store_true")
    ap.add_argument("--batch", type=int, default=0)
    ap.add_argument("--lr", type=float, default=0)
    ap.add_argument("--ema", type=float, default=0.999)
    ap.add_argument("--warmup", type=int, default=100, help="dit: linear lr warm-up steps (again after a resume without optimizer)")
    ap.add_argument("--decay-frac", type=float, default=0.0,
                    help="dit: decay the lr linearly to --lr-min over the last fraction of --minutes/--steps (0: constant)")
    ap.add_argument("--lr-min", type=float, default=0.0, help="dit: the lr at the end of --decay-frac")
    ap.add_argument("--p-uncond", type=float, default=0.1)
    ap.add_argument("--kl-weight", type=float, default=1e-3)
    ap.add_argument("--crop", type=int, default=32)
    ap.add_argument("--vae-width", type=int, default=0)
    ap.add_argument("--dim", type=int, default=0)
    ap.add_argument("--depth", type=int, default=0)
    ap.add_argument("--heads", type=int, default=0)
    ap.add_argument("--log-every", type=int, default=20)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    os.makedirs(args.out, exist_ok=True)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    if args.stage == "snapshot":
        return snapshot_to_repo(args)
    log = os.path.join(args.out, f"{'vae' if args.stage == 'latents' else args.stage}-log.jsonl")
    if args.stage == "latents":  # re-encode the data set with the saved VAE
        ck = load_resume(args, "vae")
        enc, dec = VaeEncoder(4, ck["config"]["vae_width"]), VaeDecoder(4, ck["config"]["vae_width"])
        enc.load_state_dict(ck["encoder"]); dec.load_state_dict(ck["decoder"])
        return encode_latents(args, "cpu", enc, dec, to_float(load_dataset(args.out)["images"]), log, ck["step"],
                              ck["seconds"])
    {"vae": stage_vae, "clf": stage_clf, "dit": stage_dit}[args.stage](args, args.device, log)


if __name__ == "__main__":
    main()
