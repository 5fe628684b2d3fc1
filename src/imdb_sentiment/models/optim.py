"""Optimizers whose update rule PyTorch spells differently from Keras.

Their defaults live in ``configs/optimizer/``; their values are checked with torch's own optimizers' in
``config/checks.py`` (before any data is read: an optimizer is built only when training starts).
"""

from __future__ import annotations

import torch


def _closure_loss(closure):
    """``Optimizer.step``'s optional re-evaluation of the loss, with gradients on."""
    if closure is None:
        return None
    with torch.enable_grad():
        return closure()


class KerasRMSprop(torch.optim.Optimizer):
    """RMSprop as Keras 3 and TF2's tf.keras compute it: ``v = rho v + (1 - rho) g^2``,
    ``w -= lr g / sqrt(v + eps)``.

    Keras 2 and ``torch.optim.RMSprop`` divide by ``sqrt(v) + eps`` instead. With eps 1e-7 the
    smallest denominator is 3e-4 here against 1e-7 there, which changes the steps of rarely
    seen embedding rows by orders of magnitude.
    """

    def __init__(self, params, lr: float, rho: float, eps: float, weight_decay: float):
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay))

    @torch.no_grad()
    def step(self, closure=None):
        loss = _closure_loss(closure)
        for group in self.param_groups:
            params = [p for p in group["params"] if p.grad is not None]
            if not params:
                continue
            grads = [p.grad for p in params]
            if group["weight_decay"]:
                grads = torch._foreach_add(grads, params, alpha=group["weight_decay"])
            velocity = [self.state[p].setdefault("velocity", torch.zeros_like(p)) for p in params]
            torch._foreach_mul_(velocity, group["rho"])
            torch._foreach_addcmul_(velocity, grads, grads, value=1 - group["rho"])
            denom = torch._foreach_add(velocity, group["eps"])
            torch._foreach_sqrt_(denom)
            torch._foreach_addcdiv_(params, grads, denom, value=-group["lr"])
        return loss


class LazyAdam(torch.optim.Optimizer):
    """Adam that takes sparse gradients and, for them, moves only the rows a batch touched (TF Addons'
    ``LazyAdam``; ``torch.optim.SparseAdam``'s rule, which refuses dense parameters). Dense gradients get
    Keras' Adam: ``w -= lr sqrt(1 - b2^t) / (1 - b1^t) m / (sqrt(v) + eps)``.

    With a sparse embedding (``model.sparse``) a step costs the rows in the batch, not the table: a
    bag of hashed word pairs has a million rows and a batch touches a few tens of thousands. A row
    seen once is also not pushed on by its decaying momentum for the rest of training, as dense Adam
    does, which suits the rare pairs.
    """

    def __init__(self, params, lr: float, betas: tuple[float, float], eps: float):
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps))

    @torch.no_grad()
    def step(self, closure=None):
        loss = _closure_loss(closure)
        for group in self.param_groups:
            (b1, b2), eps = group["betas"], group["eps"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if not state:
                    state.update(step=0, exp_avg=torch.zeros_like(p), exp_avg_sq=torch.zeros_like(p))
                state["step"] += 1
                t = state["step"]
                step_size = group["lr"] * (1 - b2**t) ** 0.5 / (1 - b1**t)
                m, v = state["exp_avg"], state["exp_avg_sq"]
                if p.grad.is_sparse:
                    grad = p.grad.coalesce()  # one entry per row: repeated ids summed
                    rows, g = grad.indices()[0], grad.values()
                    m_rows = m[rows].mul_(b1).add_(g, alpha=1 - b1)
                    v_rows = v[rows].mul_(b2).addcmul_(g, g, value=1 - b2)
                    m[rows], v[rows] = m_rows, v_rows  # copies: the in-place ops below leave the state alone
                    p.index_add_(0, rows, m_rows.div_(v_rows.sqrt_().add_(eps)), alpha=-step_size)
                else:
                    m.mul_(b1).add_(p.grad, alpha=1 - b1)
                    v.mul_(b2).addcmul_(p.grad, p.grad, value=1 - b2)
                    p.addcdiv_(m, v.sqrt().add_(eps), value=-step_size)
        return loss
