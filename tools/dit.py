"""Class-conditional rectified-flow DiT (adaLN-Zero), split for residual caching.

Conventions (shared/design/model.md): x_sigma = (1 - sigma) * x0 + sigma * eps, the model
predicts v = eps - x0, sigma in [0, 1], class 10 is the null class for CFG.

The model is written so that it can be exported as three graphs (embed | blocks | head) and as
one graph (model) with the same weights. Attention is written out by hand (no fused SDPA) so the
exported graph is plain MatMul/Softmax on every ONNX Runtime execution provider.
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

NULL_CLASS = 10


def sincos_2d(dim: int, grid: int) -> torch.Tensor:
    """Fixed 2-D sin-cos position embedding [grid*grid, dim] (as in DiT / MAE)."""
    assert dim % 4 == 0
    ys, xs = torch.meshgrid(torch.arange(grid, dtype=torch.float32),
                            torch.arange(grid, dtype=torch.float32), indexing="ij")
    omega = 1.0 / (10000 ** (torch.arange(dim // 4, dtype=torch.float32) / (dim // 4)))
    out = []
    for pos in (ys.reshape(-1), xs.reshape(-1)):
        arg = pos[:, None] * omega[None, :]
        out += [torch.sin(arg), torch.cos(arg)]
    return torch.cat(out, dim=1)


def timestep_embedding(sigma: torch.Tensor, dim: int) -> torch.Tensor:
    """Sinusoidal embedding of sigma * 1000 (the usual DiT frequency range)."""
    half = dim // 2
    freqs = torch.exp(-math.log(10000.0) * torch.arange(half, dtype=torch.float32) / half)
    arg = sigma[:, None].float() * 1000.0 * freqs[None, :]
    return torch.cat([torch.cos(arg), torch.sin(arg)], dim=1)


def layer_norm(dim: int) -> nn.LayerNorm:
    # adaLN blocks use a LayerNorm without affine. Debian's torch 1.13 + onnx 1.12 exports a
    # non-affine LayerNorm that fails the ONNX checker, so keep the affine and freeze it at 1/0.
    ln = nn.LayerNorm(dim, eps=1e-6, elementwise_affine=True)
    ln.weight.requires_grad_(False)
    ln.bias.requires_grad_(False)
    return ln


def modulate(x, shift, scale):
    return x * (1 + scale[:, None, :]) + shift[:, None, :]


class Attention(nn.Module):
    def __init__(self, dim: int, heads: int):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        b, n, d = x.shape
        hd = d // self.heads
        qkv = self.qkv(x).reshape(b, n, 3, self.heads, hd).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        att = torch.softmax((q @ k.transpose(-2, -1)) * (hd ** -0.5), dim=-1)
        return self.proj((att @ v).transpose(1, 2).reshape(b, n, d))


class Block(nn.Module):
    def __init__(self, dim: int, heads: int, mlp_ratio: int = 4):
        super().__init__()
        self.norm1 = layer_norm(dim)
        self.attn = Attention(dim, heads)
        self.norm2 = layer_norm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, mlp_ratio * dim), nn.GELU(approximate="tanh"),
                                 nn.Linear(mlp_ratio * dim, dim))
        self.ada = nn.Sequential(nn.SiLU(), nn.Linear(dim, 6 * dim))

    def modulation(self, c):
        return self.ada(c).chunk(6, dim=1)

    def modulated_input(self, h, c):
        shift1, scale1 = self.modulation(c)[:2]
        return modulate(self.norm1(h), shift1, scale1)

    def forward(self, h, c):
        shift1, scale1, gate1, shift2, scale2, gate2 = self.modulation(c)
        h = h + gate1[:, None, :] * self.attn(modulate(self.norm1(h), shift1, scale1))
        return h + gate2[:, None, :] * self.mlp(modulate(self.norm2(h), shift2, scale2))


class DiT(nn.Module):
    def __init__(self, size: int = 28, patch: int = 4, dim: int = 128, depth: int = 6,
                 heads: int = 4, classes: int = 10):
        super().__init__()
        self.size, self.patch, self.dim, self.depth, self.heads = size, patch, dim, depth, heads
        self.grid = size // patch
        self.patchify = nn.Conv2d(1, dim, patch, stride=patch)
        self.register_buffer("pos", sincos_2d(dim, self.grid)[None], persistent=True)
        self.t_mlp = nn.Sequential(nn.Linear(dim, dim), nn.SiLU(), nn.Linear(dim, dim))
        self.y_embed = nn.Embedding(classes + 1, dim)
        self.blocks = nn.ModuleList([Block(dim, heads) for _ in range(depth)])
        self.final_norm = layer_norm(dim)
        self.final_ada = nn.Sequential(nn.SiLU(), nn.Linear(dim, 2 * dim))
        self.final = nn.Linear(dim, patch * patch)
        self.init_weights()

    def init_weights(self):
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.weight)
                nn.init.zeros_(m.bias)
        nn.init.normal_(self.y_embed.weight, std=0.02)
        nn.init.normal_(self.t_mlp[0].weight, std=0.02)
        nn.init.normal_(self.t_mlp[2].weight, std=0.02)
        # adaLN-Zero: every block starts as the identity, the head outputs zero.
        for blk in self.blocks:
            nn.init.zeros_(blk.ada[1].weight)
            nn.init.zeros_(blk.ada[1].bias)
        nn.init.zeros_(self.final_ada[1].weight)
        nn.init.zeros_(self.final_ada[1].bias)
        nn.init.zeros_(self.final.weight)
        nn.init.zeros_(self.final.bias)

    def randomize(self, seed: int):
        """Random non-degenerate weights (gates open) for timing-only scaling variants."""
        g = torch.Generator().manual_seed(seed)
        with torch.no_grad():
            for p in self.parameters():
                if p.requires_grad:
                    p.copy_(torch.randn(p.shape, generator=g) * 0.02)

    # ---- the three graphs of the split interface ----
    def embed(self, x, t, y):
        h = self.patchify(x).flatten(2).transpose(1, 2) + self.pos
        c = self.t_mlp(timestep_embedding(t, self.dim)) + self.y_embed(y.long())
        mod0 = self.blocks[0].modulated_input(h, c)
        return h, c, mod0

    def run_blocks(self, h, c):
        for blk in self.blocks:
            h = blk(h, c)
        return h

    def head(self, z, c):
        shift, scale = self.final_ada(c).chunk(2, dim=1)
        out = self.final(modulate(self.final_norm(z), shift, scale))  # [B, N, p*p]
        b, p, g = out.shape[0], self.patch, self.grid
        out = out.reshape(b, g, g, p, p).permute(0, 1, 3, 2, 4)
        return out.reshape(b, 1, g * p, g * p)

    def forward(self, x, t, y):
        h, c, _ = self.embed(x, t, y)
        return self.head(self.run_blocks(h, c), c)


class Classifier(nn.Module):
    """Small CNN used only for evaluation: logits and penultimate features (for FD)."""

    def __init__(self, features: int = 64):
        super().__init__()
        self.conv = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2))
        self.fc = nn.Linear(32 * 7 * 7, features)
        self.out = nn.Linear(features, 10)

    def forward(self, image):
        f = F.relu(self.fc(self.conv(image).flatten(1)))
        return self.out(f), f
