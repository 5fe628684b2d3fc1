"""Keras 2's recurrent cells, for the notebooks that ran Keras 2 (the Practicum): ``GRU(reset_after=False)`` and
``hard_sigmoid`` as the recurrent activation of LSTM and GRU. PyTorch's fused layers have neither.

Equations (x the input, h the state; W input kernels, U recurrent kernels, b the one bias; σ the recurrent
activation, ``sigmoid`` or Keras 2's ``hard_sigmoid(x) = clip(0.2·x + 0.5, 0, 1)``):

    LSTM (gates i, f, g, o as Keras' i, f, c, o):  c' = σ(f)·c + σ(i)·tanh(g),  h' = σ(o)·tanh(c')
    GRU, reset_after=False (Keras 2's original):   z = σ(xW_z + hU_z + b_z),  r = σ(xW_r + hU_r + b_r)
                                                   ĥ = tanh(xW_h + (r·h)U_h + b_h),  h' = z·h + (1 − z)·ĥ
    GRU, reset_after=True (cuDNN's, one bias):     ĥ = tanh(xW_h + b_h + r·(hU_h)), the rest as above

Parameters are named and shaped as PyTorch's (``weight_ih_l0``, ``weight_hh_l0``, ``bias_ih_l0``, ``_reverse``
for the backward direction) with one bias, so counts equal Keras' and the Keras initialisation applies alike.
The GRU's gate blocks are in Keras' order z, r, h. The time loop is TorchScript: about the speed this CPU
gives a per-step recurrence (``benchmarks/keras_cells.py`` compares it with PyTorch's fused layers).
"""

from __future__ import annotations

import torch
from torch import nn

ACTIVATIONS = ("sigmoid", "hard_sigmoid")


def hard_sigmoid(x: torch.Tensor) -> torch.Tensor:
    """Keras 2's piecewise-linear sigmoid (Keras 3 changed its slope to 1/6)."""
    return (0.2 * x + 0.5).clamp(0.0, 1.0)


@torch.jit.script
def _gate(x: torch.Tensor, hard: bool) -> torch.Tensor:
    return hard_sigmoid(x) if hard else torch.sigmoid(x)  # TorchScript compiles hard_sigmoid along


@torch.jit.script
def _lstm(
    xp: torch.Tensor, w_hh: torch.Tensor, hard: bool, reverse: bool
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """One LSTM direction: ``xp`` the input projections [batch, time, 4H] (bias included)."""
    hidden = w_hh.shape[1]
    h = xp.new_zeros(xp.shape[0], hidden)
    c = xp.new_zeros(xp.shape[0], hidden)
    steps = xp.shape[1]
    out = []
    for k in range(steps):
        t = steps - 1 - k if reverse else k
        g = xp[:, t] + h.mm(w_hh.t())
        i, f, cand, o = g.chunk(4, 1)
        c = _gate(f, hard) * c + _gate(i, hard) * torch.tanh(cand)
        h = _gate(o, hard) * torch.tanh(c)
        out.append(h)
    if reverse:
        out.reverse()
    return torch.stack(out, 1), h, c


@torch.jit.script
def _gru(
    xp: torch.Tensor, w_hh: torch.Tensor, hard: bool, reset_after: bool, reverse: bool
) -> tuple[torch.Tensor, torch.Tensor]:
    """One GRU direction, gate blocks z, r, h: ``xp`` the input projections [batch, time, 3H] (bias included)."""
    hidden = w_hh.shape[1]
    u_zr, u_h = w_hh[: 2 * hidden].t(), w_hh[2 * hidden :].t()
    h = xp.new_zeros(xp.shape[0], hidden)
    steps = xp.shape[1]
    out = []
    for k in range(steps):
        t = steps - 1 - k if reverse else k
        x_z, x_r, x_h = xp[:, t].chunk(3, 1)
        h_z, h_r = h.mm(u_zr).chunk(2, 1)
        z = _gate(x_z + h_z, hard)
        r = _gate(x_r + h_r, hard)
        cand = torch.tanh(x_h + r * h.mm(u_h)) if reset_after else torch.tanh(x_h + (r * h).mm(u_h))
        h = z * h + (1.0 - z) * cand
        out.append(h)
    if reverse:
        out.reverse()
    return torch.stack(out, 1), h


class KerasRecurrent(nn.Module):
    """A stack of Keras 2 LSTM or GRU layers, batch first; returns what ``nn.LSTM``/``nn.GRU`` return:
    ``(outputs, h_n)``, ``h_n`` being ``(h_n, c_n)`` for LSTM, states ``[layers * directions, batch, hidden]``."""

    def __init__(
        self,
        cell: str,
        input_size: int,
        hidden_size: int,
        num_layers: int,
        bidirectional: bool,
        reset_after: bool,
        recurrent_activation: str,
    ):
        super().__init__()
        self.cell, self.hidden_size, self.num_layers, self.bidirectional = cell, hidden_size, num_layers, bidirectional
        self.reset_after, self.hard = reset_after, recurrent_activation == "hard_sigmoid"
        gates = 4 if cell == "lstm" else 3
        directions = ("", "_reverse") if bidirectional else ("",)
        for layer in range(num_layers):
            width = input_size if layer == 0 else hidden_size * len(directions)
            for sfx in directions:
                self.register_parameter(
                    f"weight_ih_l{layer}{sfx}", nn.Parameter(torch.empty(gates * hidden_size, width))
                )
                self.register_parameter(
                    f"weight_hh_l{layer}{sfx}", nn.Parameter(torch.empty(gates * hidden_size, hidden_size))
                )
                self.register_parameter(f"bias_ih_l{layer}{sfx}", nn.Parameter(torch.zeros(gates * hidden_size)))
        bound = hidden_size**-0.5  # PyTorch's own default; keras_init_ replaces it with Keras'
        for p in self.parameters():
            nn.init.uniform_(p, -bound, bound)

    def forward(self, x: torch.Tensor):
        h_n, c_n = [], []
        for layer in range(self.num_layers):
            outs = []
            for sfx, reverse in (("", False), ("_reverse", True))[: 2 if self.bidirectional else 1]:
                w_ih, w_hh, b = (getattr(self, f"{n}_l{layer}{sfx}") for n in ("weight_ih", "weight_hh", "bias_ih"))
                xp = torch.addmm(b, x.reshape(-1, x.shape[-1]), w_ih.t()).view(x.shape[0], x.shape[1], -1)
                if self.cell == "lstm":
                    seq, h, c = _lstm(xp, w_hh, self.hard, reverse)
                    c_n.append(c)
                else:
                    seq, h = _gru(xp, w_hh, self.hard, self.reset_after, reverse)
                outs.append(seq)
                h_n.append(h)
            x = torch.cat(outs, -1) if len(outs) > 1 else outs[0]
        h_n = torch.stack(h_n)
        return x, ((h_n, torch.stack(c_n)) if self.cell == "lstm" else h_n)
