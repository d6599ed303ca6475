"""Wan-style text-to-video DiT (Wan 2.1), written with diffusers' module names
(WanTransformer3DModel): patch_embedding (a Conv3d over (frames, h, w) with a (1, 2, 2) patch),
rope (3-D rotary tables split over the head dim as t / h / w, computed once: static shapes make
them constants of the export), condition_embedder (timesteps_proj → time_embedder.linear_1/2 →
time_proj: the shared 6·dim modulation; text_embedder.linear_1/2: the caption projection),
blocks.N (norm1, attn1 with RMS-normed q/k and RoPE, norm2 (affine), attn2: cross-attention to
the text, norm3, ffn.net.0.proj / ffn.net.2, scale_shift_table: each block's offset to the shared
modulation), norm_out, scale_shift_table, proj_out, and the unpatchify to [B, C, F, H, W].
Flow matching (velocity), timestep t = 1000·sigma, as Wan.

The VAE decoder (VideoVaeDecoder) is a small causal 3-D decoder: one causal Conv3d over time
(each frame sees itself and the two before it, as Wan's WanCausalConv3d), then per-frame 2-D
upsampling (nearest ×2 twice) to RGB [B, 3, F, 4H, 4W] in about [-1, 1]. Unlike Wan's VAE it
does not upsample time (one video frame per latent frame).
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from dit_class import layer_norm

SIZES = {
    "tiny": {"channels": 4, "frames": 4, "size": 8, "patch": (1, 2, 2), "dim": 32, "ffn_dim": 64, "depth": 3, "heads": 2, "text_dim": 32},
    "medium": {"channels": 4, "frames": 8, "size": 16, "patch": (1, 2, 2), "dim": 384, "ffn_dim": 1024, "depth": 12, "heads": 6, "text_dim": 256},
}


def timestep_embedding(t, dim=256, max_period=10000):
    """diffusers Timesteps(256, flip_sin_to_cos=True, downscale_freq_shift=0): [cos, sin]."""
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(half, dtype=torch.float32) / half)
    args = t[:, None].float() * freqs[None]
    return torch.cat([torch.cos(args), torch.sin(args)], dim=-1)


class RMSNorm(nn.Module):
    """RMSNorm over the last axis with a weight (Wan's qk_norm "rms_norm_across_heads")."""

    def __init__(self, dim, eps=1e-6):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


class WanRotaryPosEmbed(nn.Module):
    """cos / sin tables [1, 1, N, head_dim / 2] for the (f, h, w) grid: the head dim is split as
    t_dim = head_dim − 2·h_dim, h_dim = w_dim = 2·(head_dim // 6), each a 1-D RoPE over its axis."""

    def __init__(self, head_dim, grid, theta=10000.0):
        super().__init__()
        h_dim = w_dim = 2 * (head_dim // 6)
        t_dim = head_dim - h_dim - w_dim
        f, h, w = grid
        parts = []
        for dim, n, axis in ((t_dim, f, 0), (h_dim, h, 1), (w_dim, w, 2)):
            freqs = 1.0 / theta ** (torch.arange(0, dim, 2, dtype=torch.float64) / dim)
            ang = torch.outer(torch.arange(n, dtype=torch.float64), freqs)  # [n, dim/2]
            shape = [1, 1, 1, dim // 2]
            shape[axis] = n
            parts.append(ang.reshape(shape).expand(f, h, w, dim // 2))
        ang = torch.cat(parts, dim=-1).reshape(1, 1, f * h * w, head_dim // 2).float()
        self.register_buffer("cos", torch.cos(ang))
        self.register_buffer("sin", torch.sin(ang))

    def forward(self):
        return self.cos, self.sin


def apply_rotary(x, cos, sin):
    """x [B, heads, N, hd] with interleaved pairs (Wan's view_as_complex) rotated by the tables."""
    b, nh, n, hd = x.shape
    pairs = x.reshape(b, nh, n, hd // 2, 2)
    x0, x1 = pairs[..., 0], pairs[..., 1]
    out = torch.stack([x0 * cos - x1 * sin, x0 * sin + x1 * cos], dim=-1)
    return out.reshape(b, nh, n, hd)


class Attention(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.to_q = nn.Linear(dim, dim)
        self.to_k = nn.Linear(dim, dim)
        self.to_v = nn.Linear(dim, dim)
        self.to_out = nn.ModuleList([nn.Linear(dim, dim)])
        self.norm_q = RMSNorm(dim)
        self.norm_k = RMSNorm(dim)

    def forward(self, x, ctx=None, rotary=None):
        ctx = x if ctx is None else ctx
        b, n, d = x.shape
        m, hd = ctx.shape[1], d // self.heads
        q = self.norm_q(self.to_q(x)).reshape(b, n, self.heads, hd).transpose(1, 2)
        k = self.norm_k(self.to_k(ctx)).reshape(b, m, self.heads, hd).transpose(1, 2)
        v = self.to_v(ctx).reshape(b, m, self.heads, hd).transpose(1, 2)
        if rotary is not None:
            q, k = apply_rotary(q, *rotary), apply_rotary(k, *rotary)
        att = torch.softmax((q @ k.transpose(-2, -1)) * hd ** -0.5, dim=-1)
        return self.to_out[0]((att @ v).transpose(1, 2).reshape(b, n, d))


class GELUProj(nn.Module):
    def __init__(self, dim, out):
        super().__init__()
        self.proj = nn.Linear(dim, out)

    def forward(self, x):
        return F.gelu(self.proj(x), approximate="tanh")


class FeedForward(nn.Module):
    def __init__(self, dim, ffn_dim):
        super().__init__()
        self.net = nn.ModuleList([GELUProj(dim, ffn_dim), nn.Dropout(0.0), nn.Linear(ffn_dim, dim)])

    def forward(self, x):
        for m in self.net:
            x = m(x)
        return x


class TimestepEmbedding(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.linear_1 = nn.Linear(256, dim)
        self.linear_2 = nn.Linear(dim, dim)

    def forward(self, x):
        return self.linear_2(F.silu(self.linear_1(x)))


class TextProjection(nn.Module):
    def __init__(self, text_dim, dim):
        super().__init__()
        self.linear_1 = nn.Linear(text_dim, dim)
        self.linear_2 = nn.Linear(dim, dim)

    def forward(self, x):
        return self.linear_2(F.gelu(self.linear_1(x), approximate="tanh"))


class WanTimeTextEmbedding(nn.Module):
    """t, text hidden states → (temb [B, dim] for the output norm, timestep_proj [B, 6·dim], context)."""

    def __init__(self, dim, text_dim):
        super().__init__()
        self.time_embedder = TimestepEmbedding(dim)
        self.time_proj = nn.Linear(dim, 6 * dim)
        self.text_embedder = TextProjection(text_dim, dim)

    def forward(self, timestep, encoder_hidden_states):
        temb = self.time_embedder(timestep_embedding(timestep))
        timestep_proj = self.time_proj(F.silu(temb))
        return temb, timestep_proj, self.text_embedder(encoder_hidden_states)


class WanTransformerBlock(nn.Module):
    def __init__(self, dim, ffn_dim, heads):
        super().__init__()
        self.norm1 = layer_norm(dim)
        self.attn1 = Attention(dim, heads)
        self.attn2 = Attention(dim, heads)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)  # cross_attn_norm: affine
        self.ffn = FeedForward(dim, ffn_dim)
        self.norm3 = layer_norm(dim)
        self.scale_shift_table = nn.Parameter(torch.randn(1, 6, dim) / dim ** 0.5)

    def forward(self, h, context, timestep_proj, rotary):
        shift_msa, scale_msa, gate_msa, c_shift_msa, c_scale_msa, c_gate_msa = (
            self.scale_shift_table + timestep_proj).chunk(6, dim=1)
        n = self.norm1(h) * (1 + scale_msa) + shift_msa
        h = h + self.attn1(n, rotary=rotary) * gate_msa
        h = h + self.attn2(self.norm2(h), context)
        n = self.norm3(h) * (1 + c_scale_msa) + c_shift_msa
        return h + self.ffn(n) * c_gate_msa


class WanTransformer(nn.Module):
    def __init__(self, channels=4, frames=4, size=8, patch=(1, 2, 2), dim=32, ffn_dim=64, depth=3, heads=2, text_dim=32):
        super().__init__()
        self.channels, self.frames, self.size, self.patch, self.dim = channels, frames, size, tuple(patch), dim
        pt, ph, pw = self.patch
        self.grid = (frames // pt, size // ph, size // pw)
        self.rope = WanRotaryPosEmbed(dim // heads, self.grid)
        self.patch_embedding = nn.Conv3d(channels, dim, self.patch, stride=self.patch)
        self.condition_embedder = WanTimeTextEmbedding(dim, text_dim)
        self.blocks = nn.ModuleList([WanTransformerBlock(dim, ffn_dim, heads) for _ in range(depth)])
        self.norm_out = layer_norm(dim)
        self.proj_out = nn.Linear(dim, channels * pt * ph * pw)
        self.scale_shift_table = nn.Parameter(torch.randn(1, 2, dim) / dim ** 0.5)

    def randomize(self, seed, std=0.15):
        g = torch.Generator().manual_seed(seed)
        with torch.no_grad():
            for name, p in self.named_parameters():
                if p.requires_grad:
                    fan_in = p.shape[-1] if p.dim() > 1 else 1
                    if name.endswith("norm_q.weight") or name.endswith("norm_k.weight") or name.endswith("norm2.weight"):
                        p.copy_(1 + torch.randn(p.shape, generator=g) * 0.1)
                    else:
                        p.copy_(torch.randn(p.shape, generator=g) * (std if p.dim() == 1 else min(std, 1.5 / math.sqrt(fan_in))))

    def forward(self, latent, timestep, encoder_hidden_states, cache=None):
        """`cache` (reference loops only, never exported): {"reuse": bool, "r": residual}: reuse skips the blocks, z = h + r."""
        rotary = self.rope()
        h = self.patch_embedding(latent).flatten(2).transpose(1, 2)
        temb, timestep_proj, context = self.condition_embedder(timestep, encoder_hidden_states)
        timestep_proj = timestep_proj.reshape(timestep_proj.shape[0], 6, -1)  # unflatten(1, (6, -1)), which torch 1.13 cannot export
        h0 = h
        if cache is not None and cache["reuse"]:
            h = h0 + cache["r"]
        else:
            for block in self.blocks:
                h = block(h, context, timestep_proj, rotary)
            if cache is not None:
                cache["r"] = h - h0
        shift, scale = (self.scale_shift_table + temb.unsqueeze(1)).chunk(2, dim=1)
        out = self.proj_out(self.norm_out(h) * (1 + scale) + shift)
        (f, gh, gw), (pt, ph, pw) = self.grid, self.patch
        b = out.shape[0]  # from the stream, not the latent: the head reads nothing but h and the time embedding
        out = out.reshape(b, f, gh, gw, pt, ph, pw, self.channels).permute(0, 7, 1, 4, 2, 5, 3, 6)
        return out.reshape(b, self.channels, f * pt, gh * ph, gw * pw)


class CausalConv3d(nn.Conv3d):
    """Conv3d padded in time on the past side only (Wan's WanCausalConv3d): frame k sees k−2 … k."""

    def __init__(self, cin, cout, k=3):
        super().__init__(cin, cout, k, padding=0)
        self.causal = (k // 2, k // 2, k // 2, k // 2, k - 1, 0)

    def forward(self, x):
        return super().forward(F.pad(x, self.causal))


class VideoVaeDecoder(nn.Module):
    """Latents [B, C, F, h, w] -> RGB video [B, 3, F, 4h, 4w] in about [-1, 1]; with `temporal_upsample=4` (Wan 2.1's
    VAE convention) [B, 3, 4·(F−1)+1, 4h, 4w]: the first latent frame gives one video frame, each later one four
    (a causal time_conv makes 4·width channels per latent frame, rearranged into 4 frames; Wan's decoder does it in
    two ×2 steps, the count is the same)."""

    def __init__(self, channels=4, width=16, temporal_upsample=1):
        super().__init__()
        self.temporal_upsample = temporal_upsample
        if temporal_upsample > 1:
            self.time_conv = CausalConv3d(width, temporal_upsample * width)
        self.conv_in = CausalConv3d(channels, width)
        self.up_blocks = nn.ModuleList([nn.Conv2d(width, width, 3, padding=1) for _ in range(2)])
        self.conv_out = nn.Conv2d(width, 3, 3, padding=1)

    def forward(self, latent_sample):
        h = F.silu(self.conv_in(latent_sample))
        if self.temporal_upsample > 1:
            s = self.temporal_upsample
            b, c, f, hh, ww = h.shape
            t = self.time_conv(h[:, :, 1:])  # [B, s·c, F−1, h, w]: each later latent frame → s frames
            t = t.reshape(b, s, c, f - 1, hh, ww).permute(0, 2, 3, 1, 4, 5).reshape(b, c, (f - 1) * s, hh, ww)
            h = torch.cat([h[:, :, :1], F.silu(t)], dim=2)
        b, c, f, hh, ww = h.shape
        h = h.permute(0, 2, 1, 3, 4).reshape(b * f, c, hh, ww)  # frames as a batch: per-frame 2-D decoding
        for conv in self.up_blocks:
            h = F.silu(conv(F.interpolate(h, scale_factor=2.0, mode="nearest")))
        h = torch.tanh(self.conv_out(h))
        return h.reshape(b, f, 3, 4 * hh, 4 * ww).permute(0, 2, 1, 3, 4)
