"""PixArt-alpha / SANA-style text-to-image DiT, written with diffusers' module names
(PixArtTransformer2DModel): pos_embed.proj, adaln_single (emb.timestep_embedder.linear_1/2,
linear: the one shared time modulation, "adaLN-single"), caption_projection (linear_1/2),
transformer_blocks.N (norm1, attn1, norm2, attn2: cross-attention to the caption, ff.net,
scale_shift_table: each block's learned offset to the shared modulation), norm_out,
scale_shift_table, proj_out. Flow matching (velocity, as SANA), timestep t = 1000·sigma.
forward(latent, timestep, encoder_hidden_states) takes the text encoder's raw hidden states:
the caption projection runs inside, as in a diffusers export.
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from dit_class import layer_norm

SIZES = {
    "tiny": {"channels": 4, "size": 8, "patch": 2, "dim": 32, "depth": 3, "heads": 2, "text_dim": 32},
    "medium": {"channels": 4, "size": 16, "patch": 2, "dim": 384, "depth": 12, "heads": 6, "text_dim": 256},
}


def timestep_embedding(t, dim=256, max_period=10000):
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(half, dtype=torch.float32) / half)
    args = t[:, None].float() * freqs[None]
    return torch.cat([torch.cos(args), torch.sin(args)], dim=-1)


class Attention(nn.Module):
    def __init__(self, dim, heads, kv_dim=None):
        super().__init__()
        self.heads = heads
        self.to_q = nn.Linear(dim, dim)
        self.to_k = nn.Linear(kv_dim or dim, dim)
        self.to_v = nn.Linear(kv_dim or dim, dim)
        self.to_out = nn.ModuleList([nn.Linear(dim, dim)])

    def forward(self, x, ctx=None):
        ctx = x if ctx is None else ctx
        b, n, d = x.shape
        m, hd = ctx.shape[1], d // self.heads
        q = self.to_q(x).reshape(b, n, self.heads, hd).transpose(1, 2)
        k = self.to_k(ctx).reshape(b, m, self.heads, hd).transpose(1, 2)
        v = self.to_v(ctx).reshape(b, m, self.heads, hd).transpose(1, 2)
        att = torch.softmax((q @ k.transpose(-2, -1)) * hd ** -0.5, dim=-1)
        return self.to_out[0]((att @ v).transpose(1, 2).reshape(b, n, d))


class FeedForward(nn.Module):
    def __init__(self, dim, mult=4):
        super().__init__()
        self.net = nn.ModuleList([nn.Linear(dim, dim * mult), nn.GELU(approximate="tanh"), nn.Linear(dim * mult, dim)])

    def forward(self, x):
        for m in self.net:
            x = m(x)
        return x


class TimestepEmbedder(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.linear_1 = nn.Linear(256, dim)
        self.linear_2 = nn.Linear(dim, dim)

    def forward(self, t):
        return self.linear_2(F.silu(self.linear_1(timestep_embedding(t))))


class AdaLayerNormSingle(nn.Module):
    """t -> (6*dim modulation shared by every block, the embedded timestep for the output norm)."""

    def __init__(self, dim):
        super().__init__()
        self.emb = nn.Module()
        self.emb.timestep_embedder = TimestepEmbedder(dim)
        self.linear = nn.Linear(dim, 6 * dim)

    def forward(self, t):
        embedded = self.emb.timestep_embedder(t)
        return self.linear(F.silu(embedded)), embedded


class CaptionProjection(nn.Module):
    def __init__(self, text_dim, dim):
        super().__init__()
        self.linear_1 = nn.Linear(text_dim, dim)
        self.linear_2 = nn.Linear(dim, dim)

    def forward(self, x):
        return self.linear_2(F.gelu(self.linear_1(x), approximate="tanh"))


class BasicTransformerBlock(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.norm1 = layer_norm(dim)
        self.attn1 = Attention(dim, heads)
        self.norm2 = layer_norm(dim)
        self.attn2 = Attention(dim, heads)
        self.ff = FeedForward(dim)
        self.scale_shift_table = nn.Parameter(torch.randn(6, dim) / dim ** 0.5)

    def forward(self, h, timestep, context):
        b = h.shape[0]
        shift_msa, scale_msa, gate_msa, shift_mlp, scale_mlp, gate_mlp = (
            self.scale_shift_table[None] + timestep.reshape(b, 6, -1)).chunk(6, dim=1)
        n = self.norm1(h) * (1 + scale_msa) + shift_msa
        h = h + gate_msa * self.attn1(n)
        h = h + self.attn2(h, context)  # PixArt: cross-attention on the raw stream, ungated
        n = self.norm2(h) * (1 + scale_mlp) + shift_mlp
        return h + gate_mlp * self.ff(n)


class PixArtTransformer(nn.Module):
    def __init__(self, channels=4, size=8, patch=2, dim=32, depth=3, heads=2, text_dim=32):
        super().__init__()
        self.channels, self.size, self.patch, self.dim = channels, size, patch, dim
        self.grid = size // patch
        self.pos_embed = nn.Module()
        self.pos_embed.proj = nn.Conv2d(channels, dim, patch, stride=patch)
        from dit_class import get_2d_sincos_pos_embed
        self.register_buffer("pos", torch.from_numpy(get_2d_sincos_pos_embed(dim, self.grid)).float()[None])
        self.adaln_single = AdaLayerNormSingle(dim)
        self.caption_projection = CaptionProjection(text_dim, dim)
        self.transformer_blocks = nn.ModuleList([BasicTransformerBlock(dim, heads) for _ in range(depth)])
        self.norm_out = layer_norm(dim)
        self.scale_shift_table = nn.Parameter(torch.randn(2, dim) / dim ** 0.5)
        self.proj_out = nn.Linear(dim, patch * patch * channels)

    def randomize(self, seed, std=0.15):
        g = torch.Generator().manual_seed(seed)
        with torch.no_grad():
            for name, p in self.named_parameters():
                if p.requires_grad:
                    fan_in = p.shape[-1] if p.dim() > 1 else 1
                    p.copy_(torch.randn(p.shape, generator=g) * (std if p.dim() == 1 else min(std, 1.5 / math.sqrt(fan_in))))

    def forward(self, latent, timestep, encoder_hidden_states):
        h = self.pos_embed.proj(latent).flatten(2).transpose(1, 2) + self.pos
        t_mod, embedded = self.adaln_single(timestep)
        context = self.caption_projection(encoder_hidden_states)
        for block in self.transformer_blocks:
            h = block(h, t_mod, context)
        shift, scale = (self.scale_shift_table[None] + embedded[:, None]).chunk(2, dim=1)
        out = self.proj_out(self.norm_out(h) * (1 + scale) + shift)
        b, p, g, c = out.shape[0], self.patch, self.grid, self.channels
        out = out.reshape(b, g, g, p, p, c).permute(0, 5, 1, 3, 2, 4)
        return out.reshape(b, c, g * p, g * p)
