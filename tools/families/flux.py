"""Flux-style DiT (Black Forest Labs, diffusers' FluxTransformer2DModel names): x_embedder (a Linear
on 2x2-packed latent patches), context_embedder, time_text_embed.timestep_embedder,
transformer_blocks.N (double stream: norm1 / norm1_context AdaLayerNormZero, attn with to_q/to_k/
to_v + add_q_proj/add_k_proj/add_v_proj, RMS norm_q/norm_k, to_out.0 / to_add_out, ff / ff_context),
then single_transformer_blocks.N (one stream over [text, image] tokens: norm.linear, attn.to_q/k/v,
proj_mlp, proj_out), norm_out.linear, proj_out. Rotary position embedding over (text, image) token
positions: the tables depend only on the static token grid, so they are computed once (folded into
constants at export), never per step. The residual the runtime caches: image tokens after the last
single block (the stack ends with the slice that drops the text tokens) minus after the embedder.
The time embedding is diffusers' CombinedTimestepGuidanceTextProjEmbeddings: timestep_embedder(t)
+ guidance_embedder(1000·guidance) (Flux dev, guidance-distilled: the guidance scale is an input,
not a second CFG branch; `guidance_embeds=False` leaves it out, as Flux schnell) + text_embedder
(the pooled CLIP embedding `pooled_projections` [B, P]). Flow matching (velocity), t = 1000 sigma.

FluxTransformer2DModel (below) is the same model with diffusers' real signature, what a user's export of
the published model looks like: forward(hidden_states [B, L, 4C] PACKED latents (the pipeline's
_pack_latents, outside the model), encoder_hidden_states, pooled_projections, timestep = sigma (x 1000
inside), img_ids [L, 3], txt_ids [T, 3], guidance) -> packed [B, L, 4C] (the pipeline unpacks). The RoPE
tables are computed in the graph from the ids (FluxPosEmbed: per axis, cos/sin of id x theta^(-2i/d)),
and the single-stream blocks take (hidden_states, encoder_hidden_states) and concatenate / split inside
each block, as current diffusers does (no slice after the stack).
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from dit_class import layer_norm
from pixart import FeedForward, TimestepEmbedder
from sd3 import AdaLayerNormContinuous, AdaLayerNormZero, TextProjection

SIZES = {
    "tiny": {"channels": 4, "size": 8, "dim": 32, "double": 2, "single": 2, "heads": 2, "text_dim": 32, "text_len": 8, "pooled_dim": 32},
    "medium": {"channels": 4, "size": 16, "dim": 384, "double": 6, "single": 12, "heads": 6, "text_dim": 256, "text_len": 8, "pooled_dim": 256},
}
# FluxTransformer2DModel: per-axis RoPE widths (diffusers' axes_dims_rope, (16, 56, 56) for head dim 128 at full size)
AXES_DIMS_ROPE = {"tiny": (4, 6, 6), "medium": (16, 24, 24)}


class RMSNorm(nn.Module):
    def __init__(self, dim, eps=1e-6):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.eps = eps

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def rope_tables(text_len, grid, head_dim, theta=10000.0):
    """cos/sin [T, head_dim] for (text: position 0, image: (row, col)) ids, as FluxPosEmbed (axes 0, row, col)."""
    ids = [(0, 0, 0)] * text_len + [(0, r, c) for r in range(grid) for c in range(grid)]
    ids = torch.tensor(ids, dtype=torch.float32)
    axes = [head_dim - 2 * (head_dim // 4), head_dim // 4, head_dim // 4]
    cos, sin = [], []
    for k, d in enumerate(axes):
        freqs = 1.0 / theta ** (torch.arange(0, d, 2, dtype=torch.float32) / d)
        ang = ids[:, k:k + 1] * freqs[None]
        cos.append(torch.cos(ang).repeat_interleave(2, dim=1))
        sin.append(torch.sin(ang).repeat_interleave(2, dim=1))
    return torch.cat(cos, 1), torch.cat(sin, 1)


def apply_rope(x, cos, sin):
    """x [B, H, T, d]; pairs (2i, 2i+1) rotated, as diffusers' apply_rotary_emb (use_real, unbind_dim=-1)."""
    x1, x2 = x.reshape(*x.shape[:-1], -1, 2).unbind(-1)
    rotated = torch.stack([-x2, x1], dim=-1).flatten(-2)
    return x * cos + rotated * sin


class Attention(nn.Module):
    def __init__(self, dim, heads, joint):
        super().__init__()
        self.heads = heads
        hd = dim // heads
        self.to_q, self.to_k, self.to_v = nn.Linear(dim, dim), nn.Linear(dim, dim), nn.Linear(dim, dim)
        self.norm_q, self.norm_k = RMSNorm(hd), RMSNorm(hd)
        if joint:
            self.add_q_proj, self.add_k_proj, self.add_v_proj = nn.Linear(dim, dim), nn.Linear(dim, dim), nn.Linear(dim, dim)
            self.norm_added_q, self.norm_added_k = RMSNorm(hd), RMSNorm(hd)
            self.to_out = nn.ModuleList([nn.Linear(dim, dim)])
            self.to_add_out = nn.Linear(dim, dim)

    def split(self, t):
        b, n, d = t.shape
        return t.reshape(b, n, self.heads, d // self.heads).transpose(1, 2)

    # FluxTransformer2DModel: the tables are broadcast inside each block (diffusers' apply_rotary_emb indexes
    # cos[None, :, None, :]), so a real export has per-block ops on the RoPE tables
    rope_unsqueeze = False

    def attend(self, q, k, v, cos, sin):
        if self.rope_unsqueeze:
            cos, sin = cos[None, None], sin[None, None]
        q, k = apply_rope(q, cos, sin), apply_rope(k, cos, sin)
        hd = q.shape[-1]
        out = torch.softmax((q @ k.transpose(-2, -1)) * hd ** -0.5, dim=-1) @ v
        b, h, n, _ = out.shape
        return out.transpose(1, 2).reshape(b, n, h * hd)

    def forward(self, x, cos, sin, ctx=None):
        q, k, v = self.norm_q(self.split(self.to_q(x))), self.norm_k(self.split(self.to_k(x))), self.split(self.to_v(x))
        if ctx is None:
            return self.attend(q, k, v, cos, sin)
        cq = self.norm_added_q(self.split(self.add_q_proj(ctx)))
        ck = self.norm_added_k(self.split(self.add_k_proj(ctx)))
        cv = self.split(self.add_v_proj(ctx))
        out = self.attend(torch.cat([cq, q], 2), torch.cat([ck, k], 2), torch.cat([cv, v], 2), cos, sin)
        m = ctx.shape[1]
        return self.to_out[0](out[:, m:]), self.to_add_out(out[:, :m])


class FluxTransformerBlock(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.norm1, self.norm1_context = AdaLayerNormZero(dim), AdaLayerNormZero(dim)
        self.attn = Attention(dim, heads, joint=True)
        self.norm2, self.norm2_context = layer_norm(dim), layer_norm(dim)
        self.ff, self.ff_context = FeedForward(dim), FeedForward(dim)

    def forward(self, h, ctx, temb, cos, sin):
        n_h, g, sh, sc, gm = self.norm1(h, temb)
        n_c, cg, csh, csc, cgm = self.norm1_context(ctx, temb)
        a, ac = self.attn(n_h, cos, sin, n_c)
        h = h + g[:, None] * a
        h = h + gm[:, None] * self.ff(self.norm2(h) * (1 + sc[:, None]) + sh[:, None])
        ctx = ctx + cg[:, None] * ac
        ctx = ctx + cgm[:, None] * self.ff_context(self.norm2_context(ctx) * (1 + csc[:, None]) + csh[:, None])
        return ctx, h


class AdaLayerNormZeroSingle(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.linear = nn.Linear(dim, 3 * dim)
        self.norm = layer_norm(dim)

    def forward(self, x, emb):
        shift, scale, gate = self.linear(F.silu(emb)).chunk(3, dim=1)
        return self.norm(x) * (1 + scale[:, None]) + shift[:, None], gate


class FluxSingleTransformerBlock(nn.Module):
    def __init__(self, dim, heads, mlp_ratio=4):
        super().__init__()
        self.norm = AdaLayerNormZeroSingle(dim)
        self.proj_mlp = nn.Linear(dim, dim * mlp_ratio)
        self.act_mlp = nn.GELU(approximate="tanh")
        self.proj_out = nn.Linear(dim + dim * mlp_ratio, dim)
        self.attn = Attention(dim, heads, joint=False)

    def forward(self, x, temb, cos, sin):
        n, gate = self.norm(x, temb)
        out = torch.cat([self.attn(n, cos, sin), self.act_mlp(self.proj_mlp(n))], dim=2)
        return x + gate[:, None] * self.proj_out(out)


class FluxTransformer(nn.Module):
    def __init__(self, channels=4, size=8, dim=32, double=2, single=2, heads=2, text_dim=32, text_len=8, pooled_dim=32,
                 guidance_embeds=True):
        super().__init__()
        self.guidance_embeds = guidance_embeds
        self.channels, self.grid = channels, size // 2
        self.x_embedder = nn.Linear(channels * 4, dim)
        self.context_embedder = nn.Linear(text_dim, dim)
        self.time_text_embed = nn.Module()
        self.time_text_embed.timestep_embedder = TimestepEmbedder(dim)
        if guidance_embeds:
            self.time_text_embed.guidance_embedder = TimestepEmbedder(dim)
        self.time_text_embed.text_embedder = TextProjection(pooled_dim, dim)
        self.transformer_blocks = nn.ModuleList([FluxTransformerBlock(dim, heads) for _ in range(double)])
        self.single_transformer_blocks = nn.ModuleList([FluxSingleTransformerBlock(dim, heads) for _ in range(single)])
        self.norm_out = AdaLayerNormContinuous(dim)
        self.proj_out = nn.Linear(dim, channels * 4)
        cos, sin = rope_tables(text_len, self.grid, dim // heads)
        self.register_buffer("rope_cos", cos, persistent=False)
        self.register_buffer("rope_sin", sin, persistent=False)

    def randomize(self, seed, std=0.15):
        g = torch.Generator().manual_seed(seed)
        with torch.no_grad():
            for name, p in self.named_parameters():
                if p.requires_grad and not name.endswith(("norm_q.weight", "norm_k.weight", "norm_added_q.weight", "norm_added_k.weight")):
                    fan_in = p.shape[-1] if p.dim() > 1 else 1
                    p.copy_(torch.randn(p.shape, generator=g) * (std if p.dim() == 1 else min(std, 1.5 / math.sqrt(fan_in))))

    def forward(self, latent, timestep, encoder_hidden_states, pooled_projections, guidance=None, cache=None):
        """`cache` (reference loops only, never exported): {"reuse": bool, "r": residual}: reuse skips the blocks, z = h + r."""
        b, c, g = latent.shape[0], self.channels, self.grid
        packed = latent.reshape(b, c, g, 2, g, 2).permute(0, 2, 4, 1, 3, 5).reshape(b, g * g, c * 4)  # Flux's _pack_latents
        h = self.x_embedder(packed)
        temb = self.time_text_embed.timestep_embedder(timestep)
        if self.guidance_embeds:
            temb = temb + self.time_text_embed.guidance_embedder(guidance * 1000)  # diffusers scales guidance by 1000 inside
        temb = temb + self.time_text_embed.text_embedder(pooled_projections)
        ctx = self.context_embedder(encoder_hidden_states)
        cos, sin = self.rope_cos, self.rope_sin
        h0 = h
        if cache is not None and cache["reuse"]:
            h = h0 + cache["r"]
        else:
            for block in self.transformer_blocks:
                ctx, h = block(h, ctx, temb, cos, sin)
            m = ctx.shape[1]
            x = torch.cat([ctx, h], dim=1)
            for block in self.single_transformer_blocks:
                x = block(x, temb, cos, sin)
            h = x[:, m:]
            if cache is not None:
                cache["r"] = h - h0
        out = self.proj_out(self.norm_out(h, temb))  # [B, N, 4C]
        # unpack with the batch of the tensor at hand (diffusers unpacks in the pipeline, outside the graph)
        return out.reshape(out.shape[0], g, g, c, 2, 2).permute(0, 3, 1, 4, 2, 5).reshape(out.shape[0], c, g * 2, g * 2)


# ---- diffusers' real signature: packed latents in and out, RoPE from ids in the graph ----

def pack_latents(latent):
    """diffusers' FluxPipeline._pack_latents: [B, C, H, W] -> [B, (H/2)(W/2), 4C] (2x2 patches, channel-major inside a patch)."""
    b, c, h, w = latent.shape
    return latent.reshape(b, c, h // 2, 2, w // 2, 2).permute(0, 2, 4, 1, 3, 5).reshape(b, (h // 2) * (w // 2), c * 4)


def unpack_latents(packed, height, width):
    """diffusers' FluxPipeline._unpack_latents: [B, L, 4C] -> [B, C, H, W]."""
    b, _, d = packed.shape
    c = d // 4
    return packed.reshape(b, height // 2, width // 2, c, 2, 2).permute(0, 3, 1, 4, 2, 5).reshape(b, c, height, width)


def latent_image_ids(height, width):
    """diffusers' FluxPipeline._prepare_latent_image_ids for a latent of H x W: [(H/2)(W/2), 3] = (0, row, col)."""
    ids = torch.zeros(height // 2, width // 2, 3)
    ids[..., 1] += torch.arange(height // 2)[:, None]
    ids[..., 2] += torch.arange(width // 2)[None, :]
    return ids.reshape(-1, 3)


class FluxPosEmbed(nn.Module):
    """RoPE tables from position ids [S, n_axes]: for axis i of width d_i, angles id_i x theta^(-2k/d_i) in float64,
    cos / sin each repeated twice (pairs (2k, 2k+1) share an angle), concatenated over axes -> [S, sum d_i]."""

    def __init__(self, theta, axes_dim):
        super().__init__()
        self.theta, self.axes_dim = theta, tuple(axes_dim)

    def forward(self, ids):
        pos = ids.float()
        cos, sin = [], []
        for i, d in enumerate(self.axes_dim):
            freqs = 1.0 / self.theta ** (torch.arange(0, d, 2, dtype=torch.float64) / d)
            ang = pos[:, i].to(torch.float64)[:, None] * freqs[None]  # [S, d/2]
            cos.append(torch.stack([ang.cos(), ang.cos()], -1).flatten(1).float())
            sin.append(torch.stack([ang.sin(), ang.sin()], -1).flatten(1).float())
        return torch.cat(cos, -1), torch.cat(sin, -1)


class FluxSingleTransformerBlockSplit(FluxSingleTransformerBlock):
    """Current diffusers' single block: takes the two streams, runs on [text, image], hands them back split."""

    def forward(self, h, ctx, temb, cos, sin):
        m = ctx.shape[1]
        x = super().forward(torch.cat([ctx, h], dim=1), temb, cos, sin)
        return x[:, :m], x[:, m:]


class FluxTransformer2DModel(FluxTransformer):
    def __init__(self, axes_dims_rope=(4, 6, 6), **cfg):
        super().__init__(**cfg)
        dim, heads = cfg.get("dim", 32), cfg.get("heads", 2)
        assert sum(axes_dims_rope) == dim // heads, "axes_dims_rope must add up to the head width"
        del self.rope_cos, self.rope_sin
        self.pos_embed = FluxPosEmbed(theta=10000, axes_dim=axes_dims_rope)
        single = len(self.single_transformer_blocks)
        self.single_transformer_blocks = nn.ModuleList([FluxSingleTransformerBlockSplit(dim, heads) for _ in range(single)])
        for mod in self.modules():
            if isinstance(mod, Attention):
                mod.rope_unsqueeze = True

    def forward(self, hidden_states, encoder_hidden_states, pooled_projections, timestep, img_ids, txt_ids, guidance=None, cache=None):
        """Packed latents [B, L, 4C] in, packed velocity out; timestep is sigma (x 1000 here, as diffusers).
        `cache`: as FluxTransformer's (reference loops only, never exported)."""
        h = self.x_embedder(hidden_states)
        temb = self.time_text_embed.timestep_embedder(timestep * 1000)
        if self.guidance_embeds:
            temb = temb + self.time_text_embed.guidance_embedder(guidance * 1000)
        temb = temb + self.time_text_embed.text_embedder(pooled_projections)
        ctx = self.context_embedder(encoder_hidden_states)
        cos, sin = self.pos_embed(torch.cat([txt_ids, img_ids], dim=0))
        h0 = h
        if cache is not None and cache["reuse"]:
            h = h0 + cache["r"]
        else:
            for block in self.transformer_blocks:
                ctx, h = block(h, ctx, temb, cos, sin)
            for block in self.single_transformer_blocks:
                ctx, h = block(h, ctx, temb, cos, sin)
            if cache is not None:
                cache["r"] = h - h0
        return self.proj_out(self.norm_out(h, temb))


class PackedAsLatent(nn.Module):
    """A FluxTransformer2DModel as the pipeline drives it: [B, C, H, W] latent and sigma in, pack, ids for
    this latent grid and text length, the model, unpack. For the reference loops (the runtime's contract)."""

    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, latent, timestep, encoder_hidden_states, pooled_projections, guidance=None, cache=None):
        _, _, height, width = latent.shape
        img_ids = latent_image_ids(height, width)
        txt_ids = torch.zeros(encoder_hidden_states.shape[1], 3)
        out = self.m(pack_latents(latent), encoder_hidden_states, pooled_projections, timestep, img_ids, txt_ids, guidance, cache=cache)
        return unpack_latents(out, height, width)
