"""A tiny text-to-image latent pipeline (PixArt-shaped), for tests and as a template.

Parts (shared/design/pipelines.md): a text encoder over token ids, a caption projection (the
per-prompt "context" graph), a latent DiT with adaLN-Zero for time and cross-attention to the
text tokens, a VAE decoder (4 latent channels -> RGB, 4x upsampling). Module names follow
diffusers' PixArt-alpha transformer (pos_embed.proj, caption_projection, transformer_blocks.N
with attn1 / attn2 / ff, proj_out) so the same split rule (embed | transformer_blocks | head)
applies to a diffusers export. Conventions as the class DiT (tools/dit.py): sigma in [0, 1],
x_sigma = (1 - sigma) x0 + sigma eps, the model predicts v = eps - x0.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

from dit import layer_norm, modulate, sincos_2d, timestep_embedding


class Attention(nn.Module):
    """Multi-head attention written out (MatMul/Softmax only); kv_dim != dim for cross-attention."""

    def __init__(self, dim: int, heads: int, kv_dim: int = None):
        super().__init__()
        kv_dim = kv_dim or dim
        self.heads = heads
        self.to_q = nn.Linear(dim, dim)
        self.to_k = nn.Linear(kv_dim, dim)
        self.to_v = nn.Linear(kv_dim, dim)
        self.to_out = nn.Linear(dim, dim)

    def forward(self, x, ctx=None):
        ctx = x if ctx is None else ctx
        b, n, d = x.shape
        m, hd = ctx.shape[1], d // self.heads
        q = self.to_q(x).reshape(b, n, self.heads, hd).transpose(1, 2)
        k = self.to_k(ctx).reshape(b, m, self.heads, hd).transpose(1, 2)
        v = self.to_v(ctx).reshape(b, m, self.heads, hd).transpose(1, 2)
        att = torch.softmax((q @ k.transpose(-2, -1)) * (hd ** -0.5), dim=-1)
        return self.to_out((att @ v).transpose(1, 2).reshape(b, n, d))


def feed_forward(dim: int, mult: int = 4) -> nn.Sequential:
    return nn.Sequential(nn.Linear(dim, mult * dim), nn.GELU(approximate="tanh"), nn.Linear(mult * dim, dim))


class TextEncoder(nn.Module):
    """A small bidirectional transformer encoder: input_ids [B, L] -> last_hidden_state [B, L, Dt]."""

    def __init__(self, vocab: int, length: int, dim: int = 32, depth: int = 2, heads: int = 2):
        super().__init__()
        self.embed_tokens = nn.Embedding(vocab, dim)
        self.position_embedding = nn.Parameter(torch.randn(length, dim) * 0.02)
        self.layers = nn.ModuleList()
        for _ in range(depth):
            self.layers.append(nn.ModuleDict({
                "layer_norm1": nn.LayerNorm(dim), "self_attn": Attention(dim, heads),
                "layer_norm2": nn.LayerNorm(dim), "mlp": feed_forward(dim)}))
        self.final_layer_norm = nn.LayerNorm(dim)

    def forward(self, input_ids):
        h = self.embed_tokens(input_ids.long()) + self.position_embedding[None]
        for layer in self.layers:
            h = h + layer["self_attn"](layer["layer_norm1"](h))
            h = h + layer["mlp"](layer["layer_norm2"](h))
        return self.final_layer_norm(h)


class CaptionProjection(nn.Module):
    """Text hidden states [B, L, Dt] -> context [B, L, D] (PixArt's caption_projection), once per prompt."""

    def __init__(self, text_dim: int, dim: int):
        super().__init__()
        self.linear_1 = nn.Linear(text_dim, dim)
        self.linear_2 = nn.Linear(dim, dim)

    def forward(self, encoder_hidden_states):
        return self.linear_2(F.gelu(self.linear_1(encoder_hidden_states), approximate="tanh"))


class Block(nn.Module):
    """adaLN-Zero self-attention, cross-attention to the context (ungated, as PixArt), MLP."""

    def __init__(self, dim: int, heads: int):
        super().__init__()
        self.norm1 = layer_norm(dim)
        self.attn1 = Attention(dim, heads)
        self.norm2 = nn.LayerNorm(dim)
        self.attn2 = Attention(dim, heads)
        self.norm3 = layer_norm(dim)
        self.ff = feed_forward(dim)
        self.adaLN_modulation = nn.Sequential(nn.SiLU(), nn.Linear(dim, 6 * dim))

    def modulated_input(self, h, c):
        shift1, scale1 = self.adaLN_modulation(c).chunk(6, dim=1)[:2]
        return modulate(self.norm1(h), shift1, scale1)

    def forward(self, h, c, context):
        shift1, scale1, gate1, shift2, scale2, gate2 = self.adaLN_modulation(c).chunk(6, dim=1)
        h = h + gate1[:, None, :] * self.attn1(modulate(self.norm1(h), shift1, scale1))
        h = h + self.attn2(self.norm2(h), context)
        return h + gate2[:, None, :] * self.ff(modulate(self.norm3(h), shift2, scale2))


class TextDiT(nn.Module):
    """Latent DiT split as embed(x, t) -> h, c, mod0 | blocks(h, c, context) -> z | head(z, c) -> v."""

    def __init__(self, channels=4, size=8, patch=2, dim=32, depth=3, heads=2, text_dim=32):
        super().__init__()
        self.channels, self.size, self.patch, self.dim, self.depth, self.heads = channels, size, patch, dim, depth, heads
        self.grid = size // patch
        self.pos_embed = nn.Module()
        self.pos_embed.proj = nn.Conv2d(channels, dim, patch, stride=patch)
        self.register_buffer("pos", sincos_2d(dim, self.grid)[None], persistent=True)
        self.time_embedder = nn.Sequential(nn.Linear(dim, dim), nn.SiLU(), nn.Linear(dim, dim))
        self.caption_projection = CaptionProjection(text_dim, dim)
        self.transformer_blocks = nn.ModuleList([Block(dim, heads) for _ in range(depth)])
        self.norm_out = layer_norm(dim)
        self.adaLN_out = nn.Sequential(nn.SiLU(), nn.Linear(dim, 2 * dim))
        self.proj_out = nn.Linear(dim, patch * patch * channels)

    def randomize(self, seed: int, std: float = 0.1):
        """Random non-degenerate weights (gates open); LayerNorm affines stay 1/0."""
        g = torch.Generator().manual_seed(seed)
        with torch.no_grad():
            for name, p in self.named_parameters():
                if p.requires_grad and "norm" not in name:
                    p.copy_(torch.randn(p.shape, generator=g) * std)

    def embed(self, x, t):
        h = self.pos_embed.proj(x).flatten(2).transpose(1, 2) + self.pos
        c = self.time_embedder(timestep_embedding(t, self.dim))
        return h, c, self.transformer_blocks[0].modulated_input(h, c)

    def run_blocks(self, h, c, context):
        for blk in self.transformer_blocks:
            h = blk(h, c, context)
        return h

    def head(self, z, c):
        shift, scale = self.adaLN_out(c).chunk(2, dim=1)
        out = self.proj_out(modulate(self.norm_out(z), shift, scale))  # [B, N, p*p*C]
        b, p, g, ch = out.shape[0], self.patch, self.grid, self.channels
        out = out.reshape(b, g, g, p, p, ch).permute(0, 5, 1, 3, 2, 4)
        return out.reshape(b, ch, g * p, g * p)

    def forward(self, x, t, context):
        h, c, _ = self.embed(x, t)
        return self.head(self.run_blocks(h, c, context), c)


class VaeDecoder(nn.Module):
    """Latents [B, 4, h, w] -> RGB [B, 3, 4h, 4w] in about [-1, 1] (two nearest-upsample stages)."""

    def __init__(self, channels=4, width=16):
        super().__init__()
        self.conv_in = nn.Conv2d(channels, width, 3, padding=1)
        self.up_blocks = nn.ModuleList([nn.Conv2d(width, width, 3, padding=1) for _ in range(2)])
        self.conv_out = nn.Conv2d(width, 3, 3, padding=1)

    def forward(self, latent_sample):
        h = F.silu(self.conv_in(latent_sample))
        for conv in self.up_blocks:
            h = F.silu(conv(F.interpolate(h, scale_factor=2.0, mode="nearest")))
        return torch.tanh(self.conv_out(h))
