"""Optimizers whose update rule PyTorch spells differently from Keras."""
from __future__ import annotations

import torch


class KerasRMSprop(torch.optim.Optimizer):
    """RMSprop as Keras 3 and TF2's tf.keras compute it: ``v = rho v + (1 - rho) g^2``,
    ``w -= lr g / sqrt(v + eps)``.

    Keras 2 and ``torch.optim.RMSprop`` divide by ``sqrt(v) + eps`` instead. With eps 1e-7 the
    smallest denominator is 3e-4 here against 1e-7 there, which changes the steps of rarely
    seen embedding rows by orders of magnitude.
    """

    def __init__(self, params, lr: float = 1e-3, rho: float = 0.9, eps: float = 1e-7, weight_decay: float = 0.0):
        if not 0.0 <= rho < 1.0:
            raise ValueError(f"rho={rho}: must lie in [0, 1)")
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay))

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
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
