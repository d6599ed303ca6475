"""Tiny CLIP-like and T5-like text encoders and their tokenizers, for the multi-encoder pipelines (Flux: CLIP-L + T5;
SD3: CLIP-L + CLIP-G + T5), with the output names of the diffusers / Optimum ONNX exports:

- CLIP (CLIPTextModel / CLIPTextModelWithProjection): lower-cases, wraps the prompt in <|startoftext|> … <|endoftext|>;
  outputs `last_hidden_state` [1, L, D] (after the final layer norm), `hidden_states.K` [1, L, D] (the input of layer K,
  K = 0 … depth: SD3 reads the penultimate, hidden_states[-2]), `pooler_output` [1, D] (the final state at the first
  <|endoftext|>, as CLIP's argmax over the ids; the last position when truncation cut it) and `text_embeds` [1, P]
  (pooler_output through the bias-free text_projection).
- T5 (T5EncoderModel): case-sensitive, appends </s>; outputs `last_hidden_state` (RMS-normed, as T5's final_layer_norm).

Random weights: they test the plumbing, not language. The tokenizers are WordPiece over whole words (the JS
@huggingface/tokenizers reads them) with TemplateProcessing for the special tokens.
"""
import torch
import torch.nn as nn
from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors

from t2i import Attention, feed_forward


def build_tokenizer(path, words, kind):
    """kind "clip": lower-case, <|startoftext|> … <|endoftext|>, pad with <|endoftext|> (CLIP-L's pad token).
    kind "t5": case-sensitive, … </s>, pad with <pad> (id 0). Returns (tokenizer, vocab size, pad id, eos id)."""
    if kind == "clip":
        vocab = {"<|startoftext|>": 0, "<|endoftext|>": 1, "[UNK]": 2}
        bos, eos = "<|startoftext|>", "<|endoftext|>"
    else:
        vocab = {"<pad>": 0, "</s>": 1, "[UNK]": 2}
        bos, eos = None, "</s>"
    for w in words:
        vocab.setdefault(w, len(vocab))
    tok = Tokenizer(models.WordPiece(vocab, unk_token="[UNK]", max_input_chars_per_word=100))
    tok.normalizer = normalizers.Sequence([normalizers.NFKC(), normalizers.Lowercase()] if kind == "clip" else [normalizers.NFKC()])
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    single = f"{bos} $A {eos}" if bos else f"$A {eos}"
    special = [(t, vocab[t]) for t in (bos, eos) if t]
    tok.post_processor = processors.TemplateProcessing(single=single, special_tokens=special)
    pad_id = vocab[eos] if kind == "clip" else vocab["<pad>"]
    tok.enable_padding(pad_id=pad_id, pad_token=eos if kind == "clip" else "<pad>")  # recorded as padding.pad_id
    tok.save(path)
    tok.no_padding()
    return tok, len(vocab), pad_id, vocab[eos]


def token_ids(tok, text, length, pad_id):
    """Truncate / pad to the encoder's length as diffusers' pipelines do (tokenizer(..., truncation=True, max_length=length):
    the words are cut, the template's special tokens stay) and as the runtime does (src/runtime/prompts.ts)."""
    tok.enable_truncation(length)
    try:
        ids = tok.encode(text).ids
    finally:
        tok.no_truncation()
    return ids + [pad_id] * (length - len(ids))


class _Layer(nn.Module):
    def __init__(self, dim, heads, norm):
        super().__init__()
        self.layer_norm1, self.self_attn = norm(dim), Attention(dim, heads)
        self.layer_norm2, self.mlp = norm(dim), feed_forward(dim)

    def forward(self, h):
        h = h + self.self_attn(self.layer_norm1(h))
        return h + self.mlp(self.layer_norm2(h))


class RMSNorm(nn.Module):
    """T5LayerNorm: no mean subtraction, no bias."""

    def __init__(self, dim, eps=1e-6):
        super().__init__()
        self.weight, self.eps = nn.Parameter(torch.ones(dim)), eps

    def forward(self, x):
        return self.weight * x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps)


class ClipLike(nn.Module):
    """input_ids [B, L] → (last_hidden_state, hidden_states.0 … depth, pooler_output, text_embeds)."""

    def __init__(self, vocab, length, dim, depth, heads, eos_id, proj_dim=None):
        super().__init__()
        self.eos_id = eos_id
        self.token_embedding = nn.Embedding(vocab, dim)
        self.position_embedding = nn.Parameter(torch.randn(length, dim) * 0.02)
        self.layers = nn.ModuleList([_Layer(dim, heads, nn.LayerNorm) for _ in range(depth)])
        self.final_layer_norm = nn.LayerNorm(dim)
        self.text_projection = nn.Linear(dim, proj_dim, bias=False) if proj_dim else None

    def forward(self, input_ids):
        h = self.token_embedding(input_ids.long()) + self.position_embedding[None]
        states = [h]
        for layer in self.layers:
            h = layer(h)
            states.append(h)
        last = self.final_layer_norm(h)
        L = input_ids.shape[1]
        eq = (input_ids == self.eos_id).to(torch.float32)
        first = eq * (torch.cumsum(eq, 1) == 1).to(torch.float32)  # one-hot at the first <|endoftext|>, or all zero
        none = 1 - first.sum(1, keepdim=True)
        pick = first + none * (torch.arange(L) == L - 1).to(torch.float32)[None]
        pooled = (last * pick[..., None]).sum(1)
        out = {"last_hidden_state": last, **{f"hidden_states.{k}": s for k, s in enumerate(states)}, "pooler_output": pooled}
        if self.text_projection is not None:
            out["text_embeds"] = self.text_projection(pooled)
        return out


class T5Like(nn.Module):
    """input_ids [B, L] → last_hidden_state [B, L, D]."""

    def __init__(self, vocab, length, dim, depth, heads):
        super().__init__()
        self.shared = nn.Embedding(vocab, dim)
        self.position_embedding = nn.Parameter(torch.randn(length, dim) * 0.02)
        self.block = nn.ModuleList([_Layer(dim, heads, RMSNorm) for _ in range(depth)])
        self.final_layer_norm = RMSNorm(dim)

    def forward(self, input_ids):
        h = self.shared(input_ids.long()) + self.position_embedding[None]
        for layer in self.block:
            h = layer(h)
        return {"last_hidden_state": self.final_layer_norm(h)}


class Outputs(nn.Module):
    """The encoder with its dict outputs as a tuple in `names` order (for torch.onnx.export)."""

    def __init__(self, enc, names):
        super().__init__()
        self.enc, self.names = enc, names

    def forward(self, input_ids):
        r = self.enc(input_ids)
        return tuple(r[n] for n in self.names)
