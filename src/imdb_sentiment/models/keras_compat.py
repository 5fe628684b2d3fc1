"""Keras parity for PyTorch layers: one recurrent bias and Keras' default initialisation.

PyTorch recurrent layers carry two bias vectors (``bias_ih`` and ``bias_hh``); Keras has one.
The sum is all that matters for LSTM and SimpleRNN, so ``bias_hh`` becomes a zero buffer and
the parameter counts equal Keras'. For GRU, PyTorch (like cuDNN and Keras ``reset_after=True``)
applies the reset gate after the recurrent product; with ``bias_hh`` dropped the count equals
Keras ``GRU(reset_after=False)`` but the equation is the ``reset_after=True`` one without its
recurrent bias.
"""

from __future__ import annotations

import torch
from torch import nn

from imdb_sentiment.models.keras_cells import KerasRecurrent


def drop_recurrent_bias(rnn: nn.RNNBase) -> nn.RNNBase:
    """Replace every ``bias_hh*`` parameter with a zero, non-persistent buffer."""
    for name, param in list(rnn.named_parameters()):
        if name.startswith("bias_hh"):
            delattr(rnn, name)
            rnn.register_buffer(name, torch.zeros_like(param.data), persistent=False)
    rnn._init_flat_weights()
    return rnn


def keras_init_(module: nn.Module) -> None:
    """Keras defaults: embeddings U(-0.05, 0.05), Glorot-uniform kernels, orthogonal recurrent
    kernels (the whole gate block at once, as Keras does), zero biases, LSTM forget-gate bias 1."""
    for m in module.modules():
        if isinstance(m, (nn.Embedding, nn.EmbeddingBag)):
            nn.init.uniform_(m.weight, -0.05, 0.05)
        elif isinstance(m, nn.Linear):
            nn.init.xavier_uniform_(m.weight)
            nn.init.zeros_(m.bias)
        elif isinstance(m, (nn.RNNBase, KerasRecurrent)):
            lstm = isinstance(m, nn.LSTM) or getattr(m, "cell", None) == "lstm"
            for name, p in m.named_parameters(recurse=False):
                if name.startswith("weight_ih"):
                    nn.init.xavier_uniform_(p)
                elif name.startswith("weight_hh"):
                    nn.init.orthogonal_(p)
                elif name.startswith("bias"):
                    nn.init.zeros_(p)
                    if lstm:  # gate order i, f, g, o in both frameworks
                        p.data[m.hidden_size : 2 * m.hidden_size] = 1.0


class SpatialDropout1D(nn.Module):
    """Keras ``SpatialDropout1D``: drops whole embedding channels for every time step at once."""

    def __init__(self, p: float):
        super().__init__()
        self.p = p

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: [batch, time, channels]
        if not self.training or self.p == 0:
            return x
        keep = torch.empty(x.shape[0], 1, x.shape[2], device=x.device, dtype=x.dtype).bernoulli_(1 - self.p)
        return x * keep / (1 - self.p)
