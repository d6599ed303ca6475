"""Count the FLOPs of one graph's forward at batch 1 with PyTorch forward hooks.

Counted: 2*in*out per output row of every nn.Linear, 2*out_elements*Cin*kh*kw of every
nn.Conv2d, and the two attention matmuls (QK^T and AV: 2 * 2*N*N*D per attention layer).
Element-wise ops, norms and softmax are not counted: a few percent at most. (ONNX shape
inference in Debian's onnx 1.12 does not propagate through opset-17 LayerNormalization, so the
count is taken on the PyTorch module that is exported, with the same inputs.)
"""
import math

import torch
import torch.nn as nn

from dit import Attention


def count_flops(module: nn.Module, args) -> int:
    total = 0

    def linear(m, inp, out):
        nonlocal total
        total += 2 * (out.numel() // m.out_features) * m.in_features * m.out_features

    def conv(m, inp, out):
        nonlocal total
        total += 2 * out.numel() * (m.in_channels // m.groups) * math.prod(m.kernel_size)

    def attention(m, inp, out):
        nonlocal total
        b, n, d = inp[0].shape
        total += 2 * (2 * b * n * n * d)

    hooks = []
    for m in module.modules():
        if isinstance(m, nn.Linear):
            hooks.append(m.register_forward_hook(linear))
        elif isinstance(m, nn.Conv2d):
            hooks.append(m.register_forward_hook(conv))
        elif isinstance(m, Attention):
            hooks.append(m.register_forward_hook(attention))
    with torch.no_grad():
        module(*(a[:1] for a in args))
    for h in hooks:
        h.remove()
    return total
