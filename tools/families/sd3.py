"""SD3-style MMDiT (Esser et al. 2024), written with diffusers' module names
(SD3Transformer2DModel): pos_embed.proj, time_text_embed.timestep_embedder (linear_1/2),
context_embedder, transformer_blocks.N (norm1.linear / norm1_context.linear: adaLN-Zero per stream,
attn: to_q/to_k/to_v for the image stream, add_q_proj/add_k_proj/add_v_proj for the text stream,
joint attention over both, to_out.0 / to_add_out; norm2, ff, norm2_context, ff_context), the last
block "context_pre_only" (it drops the text stream: only the image stream leaves the stack, so
the cached residual is the image stream's), norm_out.linear (AdaLayerNormContinuous), proj_out.
The pooled text embedding (CLIP's pooled output, `pooled_projections` [B, P]) goes through
time_text_embed.text_embedder (linear_1, SiLU, linear_2) and is added to the timestep embedding
(diffusers' CombinedTimestepTextProjEmbeddings): temb, and so every adaLN, depends on the prompt.
Flow matching (velocity), timestep t = 1000·sigma.
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from dit_class import get_2d_sincos_pos_embed, layer_norm
from pixart import FeedForward, TimestepEmbedder

SIZES = {
    "tiny": {"channels": 4, "size": 8, "patch": 2, "dim": 32, "depth": 3, "heads": 2, "text_dim": 32, "pooled_dim": 32},
    "medium": {"channels": 4, "size": 16, "patch": 2, "dim": 384, "depth": 12, "heads": 6, "text_dim": 256, "pooled_dim": 256},
}


class TextProjection(nn.Module):
    """diffusers' PixArtAlphaTextProjection with act_fn="silu": the pooled text embedding -> the time embedding's width."""

    def __init__(self, in_dim, dim):
        super().__init__()
        self.linear_1 = nn.Linear(in_dim, dim)
        self.linear_2 = nn.Linear(dim, dim)

    def forward(self, x):
        return self.linear_2(F.silu(self.linear_1(x)))


class AdaLayerNormZero(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.linear = nn.Linear(dim, 6 * dim)
        self.norm = layer_norm(dim)

    def forward(self, x, emb):
        shift_msa, scale_msa, gate_msa, shift_mlp, scale_mlp, gate_mlp = self.linear(F.silu(emb)).chunk(6, dim=1)
        return self.norm(x) * (1 + scale_msa[:, None]) + shift_msa[:, None], gate_msa, shift_mlp, scale_mlp, gate_mlp


class AdaLayerNormContinuous(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.linear = nn.Linear(dim, 2 * dim)
        self.norm = layer_norm(dim)

    def forward(self, x, emb):
        scale, shift = self.linear(F.silu(emb)).chunk(2, dim=1)
        return self.norm(x) * (1 + scale[:, None]) + shift[:, None]


class JointAttention(nn.Module):
    def __init__(self, dim, heads, context_pre_only):
        super().__init__()
        self.heads = heads
        self.to_q, self.to_k, self.to_v = nn.Linear(dim, dim), nn.Linear(dim, dim), nn.Linear(dim, dim)
        self.add_q_proj, self.add_k_proj, self.add_v_proj = nn.Linear(dim, dim), nn.Linear(dim, dim), nn.Linear(dim, dim)
        self.to_out = nn.ModuleList([nn.Linear(dim, dim)])
        self.to_add_out = None if context_pre_only else nn.Linear(dim, dim)

    def forward(self, x, ctx):
        b, n, d = x.shape
        m, hd = ctx.shape[1], d // self.heads

        def heads(t, length):
            return t.reshape(b, length, self.heads, hd).transpose(1, 2)
        q = torch.cat([heads(self.to_q(x), n), heads(self.add_q_proj(ctx), m)], dim=2)
        k = torch.cat([heads(self.to_k(x), n), heads(self.add_k_proj(ctx), m)], dim=2)
        v = torch.cat([heads(self.to_v(x), n), heads(self.add_v_proj(ctx), m)], dim=2)
        out = (torch.softmax((q @ k.transpose(-2, -1)) * hd ** -0.5, dim=-1) @ v).transpose(1, 2).reshape(b, n + m, d)
        img, txt = out[:, :n], out[:, n:]
        return self.to_out[0](img), (None if self.to_add_out is None else self.to_add_out(txt))


class JointTransformerBlock(nn.Module):
    def __init__(self, dim, heads, context_pre_only=False):
        super().__init__()
        self.context_pre_only = context_pre_only
        self.norm1 = AdaLayerNormZero(dim)
        self.norm1_context = AdaLayerNormContinuous(dim) if context_pre_only else AdaLayerNormZero(dim)
        self.attn = JointAttention(dim, heads, context_pre_only)
        self.norm2 = layer_norm(dim)
        self.ff = FeedForward(dim)
        if not context_pre_only:
            self.norm2_context = layer_norm(dim)
            self.ff_context = FeedForward(dim)

    def forward(self, h, ctx, temb):
        n_h, gate_msa, shift_mlp, scale_mlp, gate_mlp = self.norm1(h, temb)
        if self.context_pre_only:
            n_c = self.norm1_context(ctx, temb)
        else:
            n_c, c_gate_msa, c_shift_mlp, c_scale_mlp, c_gate_mlp = self.norm1_context(ctx, temb)
        attn, attn_ctx = self.attn(n_h, n_c)
        h = h + gate_msa[:, None] * attn
        h = h + gate_mlp[:, None] * self.ff(self.norm2(h) * (1 + scale_mlp[:, None]) + shift_mlp[:, None])
        if self.context_pre_only:
            return h, None
        ctx = ctx + c_gate_msa[:, None] * attn_ctx
        ctx = ctx + c_gate_mlp[:, None] * self.ff_context(self.norm2_context(ctx) * (1 + c_scale_mlp[:, None]) + c_shift_mlp[:, None])
        return h, ctx


class SD3Transformer(nn.Module):
    def __init__(self, channels=4, size=8, patch=2, dim=32, depth=3, heads=2, text_dim=32, pooled_dim=32):
        super().__init__()
        self.channels, self.patch, self.grid = channels, patch, size // patch
        self.pos_embed = nn.Module()
        self.pos_embed.proj = nn.Conv2d(channels, dim, patch, stride=patch)
        self.register_buffer("pos", torch.from_numpy(get_2d_sincos_pos_embed(dim, self.grid)).float()[None])
        self.time_text_embed = nn.Module()
        self.time_text_embed.timestep_embedder = TimestepEmbedder(dim)
        self.time_text_embed.text_embedder = TextProjection(pooled_dim, dim)
        self.context_embedder = nn.Linear(text_dim, dim)
        self.transformer_blocks = nn.ModuleList(
            [JointTransformerBlock(dim, heads, context_pre_only=(i == depth - 1)) for i in range(depth)])
        self.norm_out = AdaLayerNormContinuous(dim)
        self.proj_out = nn.Linear(dim, patch * patch * channels)

    def randomize(self, seed, std=0.15):
        g = torch.Generator().manual_seed(seed)
        with torch.no_grad():
            for name, p in self.named_parameters():
                if p.requires_grad:
                    fan_in = p.shape[-1] if p.dim() > 1 else 1
                    p.copy_(torch.randn(p.shape, generator=g) * (std if p.dim() == 1 else min(std, 1.5 / math.sqrt(fan_in))))

    def forward(self, latent, timestep, encoder_hidden_states, pooled_projections, cache=None):
        """`cache` (reference loops only, never exported): {"reuse": bool, "r": residual}: reuse skips the blocks, z = h + r."""
        h0 = self.pos_embed.proj(latent).flatten(2).transpose(1, 2) + self.pos
        temb = self.time_text_embed.timestep_embedder(timestep) + self.time_text_embed.text_embedder(pooled_projections)
        ctx = self.context_embedder(encoder_hidden_states)
        if cache is not None and cache["reuse"]:
            h = h0 + cache["r"]
        else:
            h = h0
            for block in self.transformer_blocks:
                h, ctx = block(h, ctx, temb)
            if cache is not None:
                cache["r"] = h - h0
        out = self.proj_out(self.norm_out(h, temb))
        b, p, g, c = out.shape[0], self.patch, self.grid, self.channels
        out = out.reshape(b, g, g, p, p, c).permute(0, 5, 1, 3, 2, 4)
        return out.reshape(b, c, g * p, g * p)
