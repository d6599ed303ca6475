"""Model parts of the text-to-emoji pipeline (issue 12).

The text encoder, caption projection and DiT are those of the tiny test pipeline (tools/t2i.py:
PixArt-shaped module names, adaLN-Zero for time, cross-attention to the text tokens), so the
export and the runtime's split rule are the same; only the sizes differ. Here: a KL VAE with 4
latent channels and 4x downsampling (64x64 RGB <-> 4x16x16), and the evaluation classifier.
"""
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.append(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))  # after this folder: data.py/export.py exist in both
from t2i import TextDiT, TextEncoder  # noqa: E402,F401

DEFAULT = {  # the CPU-sized configuration (a GPU run may pass larger --dim/--depth)
    "channels": 4, "size": 16, "patch": 2, "dim": 128, "depth": 6, "heads": 4,
    "text_dim": 128, "text_depth": 2, "text_heads": 4, "max_tokens": 16,
    "vae_width": 128, "clf_width": 32,
}


class VaeEncoder(nn.Module):
    """RGB [B, 3, H, W] in [-1, 1] -> (mean, logvar) [B, 4, H/4, W/4]: space-to-depth, then convs."""

    def __init__(self, channels=4, width=128):
        super().__init__()
        self.conv_in = nn.Conv2d(48, width, 3, padding=1)
        self.mid = nn.Conv2d(width, width, 3, padding=1)
        self.conv_out = nn.Conv2d(width, 2 * channels, 3, padding=1)

    def forward(self, x):
        h = F.silu(self.conv_in(F.pixel_unshuffle(x, 4)))
        h = h + F.silu(self.mid(h))
        mean, logvar = self.conv_out(h).chunk(2, dim=1)
        return mean, logvar.clamp(-12, 6)


class VaeDecoder(nn.Module):
    """Latents [B, 4, h, w] -> RGB [B, 3, 4h, 4w] in [-1, 1] (two nearest-upsample stages)."""

    def __init__(self, channels=4, width=128):
        super().__init__()
        w2, w4 = width // 2, width // 4
        self.conv_in = nn.Conv2d(channels, width, 3, padding=1)
        self.mid = nn.Conv2d(width, width, 3, padding=1)
        self.up1 = nn.Conv2d(width, w2, 3, padding=1)
        self.up1b = nn.Conv2d(w2, w2, 3, padding=1)
        self.up2 = nn.Conv2d(w2, w4, 3, padding=1)
        self.up2b = nn.Conv2d(w4, w4, 3, padding=1)
        self.conv_out = nn.Conv2d(w4, 3, 3, padding=1)

    def forward(self, latent_sample):
        h = F.silu(self.conv_in(latent_sample))
        h = h + F.silu(self.mid(h))
        h = F.silu(self.up1(F.interpolate(h, scale_factor=2.0, mode="nearest")))
        h = h + F.silu(self.up1b(h))
        h = F.silu(self.up2(F.interpolate(h, scale_factor=2.0, mode="nearest")))
        h = h + F.silu(self.up2b(h))
        return torch.tanh(self.conv_out(h))


class Classifier(nn.Module):
    """Evaluation model: image [B, 3, 64, 64] in [-1, 1] -> category, subcategory, concept logits, features."""

    def __init__(self, n_cat, n_sub, n_concept, width=32, feat=256):
        super().__init__()
        w = width
        self.features = nn.Sequential(
            nn.AvgPool2d(2),                                                                      # 32 (cheap on CPU)
            nn.Conv2d(3, w, 3, padding=1), nn.BatchNorm2d(w), nn.SiLU(), nn.MaxPool2d(2),          # 16
            nn.Conv2d(w, 2 * w, 3, padding=1), nn.BatchNorm2d(2 * w), nn.SiLU(), nn.MaxPool2d(2),  # 8
            nn.Conv2d(2 * w, 4 * w, 3, padding=1), nn.BatchNorm2d(4 * w), nn.SiLU(), nn.MaxPool2d(2),  # 4
            nn.Conv2d(4 * w, 8 * w, 3, padding=1), nn.BatchNorm2d(8 * w), nn.SiLU(),
            nn.Flatten(), nn.Linear(8 * w * 16, feat), nn.SiLU())
        self.category = nn.Linear(feat, n_cat)
        self.subcategory = nn.Linear(feat, n_sub)
        self.concept = nn.Linear(feat, n_concept)

    def forward(self, image):
        f = self.features(image)
        return self.category(f), self.subcategory(f), self.concept(f), f


def to_float(images_u8):
    return images_u8.float() / 127.5 - 1.0
