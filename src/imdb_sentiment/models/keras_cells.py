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
The GRU's gate blocks are in Keras' order z, r, h. The model runs ``GRUByHand``/``LSTMByHand``: the time loop
with its backward written out, which ``benchmarks/keras_cells.py`` times against autograd through the loop
(eager, TorchScript, ``torch.compile``) and PyTorch's fused layers.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.autograd.function import once_differentiable

ACTIVATIONS = ("sigmoid", "hard_sigmoid")


def hard_sigmoid(x: torch.Tensor) -> torch.Tensor:
    """Keras 2's piecewise-linear sigmoid (Keras 3 changed its slope to 1/6)."""
    return (0.2 * x + 0.5).clamp(0.0, 1.0)


def gate(x: torch.Tensor, hard: bool) -> torch.Tensor:
    return hard_sigmoid(x) if hard else torch.sigmoid(x)


def lstm_steps(
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
        c = gate(f, hard) * c + gate(i, hard) * torch.tanh(cand)
        h = gate(o, hard) * torch.tanh(c)
        out.append(h)
    if reverse:
        out.reverse()
    return torch.stack(out, 1), h, c


def gru_steps(
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
        z = gate(x_z + h_z, hard)
        r = gate(x_r + h_r, hard)
        cand = torch.tanh(x_h + r * h.mm(u_h)) if reset_after else torch.tanh(x_h + (r * h).mm(u_h))
        h = z * h + (1.0 - z) * cand
        out.append(h)
    if reverse:
        out.reverse()
    return torch.stack(out, 1), h


def gate_slope(y: torch.Tensor, hard: bool) -> torch.Tensor:
    """The gate's derivative, from its output ``y``: hard_sigmoid's 0.2 inside the clip, sigmoid's y(1 - y)."""
    return 0.2 * ((y > 0) & (y < 1)).to(y.dtype) if hard else y * (1 - y)


def _states_read(seq: torch.Tensor, reverse: bool) -> torch.Tensor:
    """``[steps, batch, hidden]`` in step order: the state each step read (zeros for the first), from the
    direction's outputs ``seq`` ``[batch, time, hidden]``."""
    states = (seq.flip(1) if reverse else seq).transpose(0, 1)
    return torch.cat([torch.zeros_like(states[:1]), states[:-1]])


def _batch_first(per_step: torch.Tensor, reverse: bool) -> torch.Tensor:
    """``[steps, batch, n]`` in step order -> ``[batch, time, n]`` in time order."""
    out = per_step.transpose(0, 1)
    return out.flip(1) if reverse else out


class GRUByHand(torch.autograd.Function):
    """``gru_steps`` with its backward written out (backpropagation through time by the equations): the forward
    keeps each step's gates, the backward walks the steps in reverse with two small products a step and forms the
    recurrent kernel's gradient in one product at the end, where autograd replays every op of every step."""

    @staticmethod
    def forward(ctx, xp, w_hh, hard: bool, reset_after: bool, reverse: bool):
        ctx.w_dtype, w_hh = w_hh.dtype, w_hh.to(xp.dtype)  # under autocast xp is bf16/fp16: one dtype throughout
        batch, steps, _ = xp.shape
        hidden = w_hh.shape[1]
        u_zr, u_h = w_hh[: 2 * hidden].t(), w_hh[2 * hidden :].t()
        seq = xp.new_empty(batch, steps, hidden)
        zs, rs, cands = (xp.new_empty(steps, batch, hidden) for _ in range(3))
        hprod = xp.new_empty(steps, batch, hidden) if reset_after else None  # h·U_h, for dr
        h = xp.new_zeros(batch, hidden)
        order = range(steps - 1, -1, -1) if reverse else range(steps)
        for k, t in enumerate(order):
            x_z, x_r, x_h = xp[:, t].chunk(3, 1)
            h_z, h_r = h.mm(u_zr).chunk(2, 1)
            z, r = gate(x_z + h_z, hard), gate(x_r + h_r, hard)
            if reset_after:
                hprod[k] = h.mm(u_h)
                cand = torch.tanh(x_h + r * hprod[k])
            else:
                cand = torch.tanh(x_h + (r * h).mm(u_h))
            zs[k], rs[k], cands[k] = z, r, cand
            h = z * h + (1.0 - z) * cand
            seq[:, t] = h
        ctx.save_for_backward(w_hh, seq, zs, rs, cands, hprod)
        ctx.flags = hard, reset_after, reverse
        return seq, h

    @staticmethod
    @once_differentiable  # a gradient of the gradient is not written out
    def backward(ctx, d_seq, d_last):
        w_hh, seq, zs, rs, cands, hprod = ctx.saved_tensors
        hard, reset_after, reverse = ctx.flags
        batch, steps, hidden = seq.shape
        u_zr, u_h = w_hh[: 2 * hidden], w_hh[2 * hidden :]  # backward products use the untransposed blocks
        d_a = seq.new_empty(steps, batch, 3 * hidden)  # each step's gradient at the pre-activations z, r, h
        prev = _states_read(seq, reverse)
        dh = d_last.clone() if d_last is not None else seq.new_zeros(batch, hidden)
        for k in range(steps - 1, -1, -1):
            if d_seq is not None:
                dh = dh + d_seq[:, steps - 1 - k if reverse else k]
            h_prev, z, r, cand = prev[k], zs[k], rs[k], cands[k]
            da_h = dh * (1.0 - z) * (1.0 - cand * cand)
            da_z = dh * (h_prev - cand) * gate_slope(z, hard)
            dh = dh * z
            if reset_after:
                dr = da_h * hprod[k]
                dh = dh + (da_h * r).mm(u_h)
            else:
                d_mixed = da_h.mm(u_h)
                dr = d_mixed * h_prev
                dh = dh + d_mixed * r
            da_r = dr * gate_slope(r, hard)
            dh = dh + torch.cat([da_z, da_r], 1).mm(u_zr)
            d_a[k] = torch.cat([da_z, da_r, da_h], 1)
        flat, prev = d_a.reshape(steps * batch, 3 * hidden), prev.reshape(-1, hidden)
        d_zr = flat[:, : 2 * hidden].t().mm(prev)
        # U_h multiplied r·h (Keras 2), or h with r applied after (reset_after): r goes with whichever side held it
        r = rs.reshape(-1, hidden)
        d_h = (flat[:, 2 * hidden :] * r).t().mm(prev) if reset_after else flat[:, 2 * hidden :].t().mm(r * prev)
        return _batch_first(d_a, reverse), torch.cat([d_zr, d_h]).to(ctx.w_dtype), None, None, None


class LSTMByHand(torch.autograd.Function):
    """``lstm_steps`` with its backward written out, as ``GRUByHand``."""

    @staticmethod
    def forward(ctx, xp, w_hh, hard: bool, reverse: bool):
        ctx.w_dtype, w_hh = w_hh.dtype, w_hh.to(xp.dtype)
        batch, steps, _ = xp.shape
        hidden = w_hh.shape[1]
        seq = xp.new_empty(batch, steps, hidden)
        gates = xp.new_empty(steps, batch, 4 * hidden)  # i, f, cand, o after their activations
        cells = xp.new_empty(steps, batch, hidden)
        h, c = xp.new_zeros(batch, hidden), xp.new_zeros(batch, hidden)
        order = range(steps - 1, -1, -1) if reverse else range(steps)
        for k, t in enumerate(order):
            i, f, cand, o = (xp[:, t] + h.mm(w_hh.t())).chunk(4, 1)
            i, f, cand, o = gate(i, hard), gate(f, hard), torch.tanh(cand), gate(o, hard)
            c = f * c + i * cand
            h = o * torch.tanh(c)
            gates[k] = torch.cat([i, f, cand, o], 1)
            cells[k], seq[:, t] = c, h
        ctx.save_for_backward(w_hh, seq, gates, cells)
        ctx.flags = hard, reverse
        return seq, h, c

    @staticmethod
    @once_differentiable
    def backward(ctx, d_seq, d_last, d_cell):
        w_hh, seq, gates, cells = ctx.saved_tensors
        hard, reverse = ctx.flags
        batch, steps, hidden = seq.shape
        d_a = seq.new_empty(steps, batch, 4 * hidden)
        dh = d_last.clone() if d_last is not None else seq.new_zeros(batch, hidden)
        dc = d_cell.clone() if d_cell is not None else seq.new_zeros(batch, hidden)
        for k in range(steps - 1, -1, -1):
            if d_seq is not None:
                dh = dh + d_seq[:, steps - 1 - k if reverse else k]
            c_prev = cells[k - 1] if k else torch.zeros_like(dc)
            i, f, cand, o = gates[k].chunk(4, 1)
            tc = torch.tanh(cells[k])
            dc = dc + dh * o * (1.0 - tc * tc)
            d_a[k] = torch.cat(
                [
                    dc * cand * gate_slope(i, hard),
                    dc * c_prev * gate_slope(f, hard),
                    dc * i * (1.0 - cand * cand),
                    dh * tc * gate_slope(o, hard),
                ],
                1,
            )
            dc = dc * f
            dh = d_a[k].mm(w_hh)
        d_w = d_a.reshape(-1, 4 * hidden).t().mm(_states_read(seq, reverse).reshape(-1, hidden))
        return _batch_first(d_a, reverse), d_w.to(ctx.w_dtype), None, None


LOOPS = {"lstm": lstm_steps, "gru": gru_steps}  # autograd through every op: the reference the tests hold BY_HAND to
BY_HAND = {"lstm": LSTMByHand.apply, "gru": GRUByHand.apply}
RUNS = dict(BY_HAND)  # what KerasRecurrent calls; benchmarks/keras_cells.py swaps in the other implementations


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
                    seq, h, c = RUNS["lstm"](xp, w_hh, self.hard, reverse)
                    c_n.append(c)
                else:
                    seq, h = RUNS["gru"](xp, w_hh, self.hard, self.reset_after, reverse)
                outs.append(seq)
                h_n.append(h)
            x = torch.cat(outs, -1) if len(outs) > 1 else outs[0]
        h_n = torch.stack(h_n)
        return x, ((h_n, torch.stack(c_n)) if self.cell == "lstm" else h_n)
