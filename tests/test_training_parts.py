"""The LightningModule's metric and the Keras-style optimizers, checked against hand-computed values."""

import math

import torch
from torch import nn

from imdb_sentiment.models import SentimentClassifier
from imdb_sentiment.models.optim import KerasRMSprop, LazyAdam


class Fixed(nn.Module):
    def __init__(self, logits):
        super().__init__()
        self.logits = logits
        self.w = nn.Parameter(torch.zeros(()))

    def forward(self, ids):
        return self.logits + self.w


def test_accuracy_thresholds_logits_at_zero_even_when_all_lie_in_0_1():
    logits = torch.tensor([0.1, 0.3, 0.6, 0.9])  # all positive predictions (p > 0.5)
    module = SentimentClassifier(Fixed(logits), torch.optim.SGD)
    module._step((torch.zeros(4, 3), torch.ones(4)), "test", module.test_acc)
    assert module.test_acc.compute().item() == 1.0


def test_keras_rmsprop_matches_the_keras_formula():
    w = nn.Parameter(torch.tensor([1.0, -2.0]))
    opt = KerasRMSprop([w], lr=0.1, rho=0.9, eps=1e-7, weight_decay=0.0)
    v, expected = torch.zeros(2), torch.tensor([1.0, -2.0])
    for g in (torch.tensor([0.5, 1e-4]), torch.tensor([-0.2, 0.0])):
        w.grad = g.clone()
        opt.step()
        v = 0.9 * v + 0.1 * g * g
        expected = expected - 0.1 * g / torch.sqrt(v + 1e-7)
    assert torch.allclose(w.detach(), expected, atol=1e-7)
    # A tiny gradient takes a tiny step, as in Keras (torch.optim.RMSprop would step by about lr * sqrt(10)).
    assert abs(w.detach()[1].item() + 2.0 - (-0.1 * 1e-4 / math.sqrt(0.1 * 1e-8 + 1e-7))) < 1e-6


def _embedding_steps(opt_cls, sparse, batches, **kw):
    torch.manual_seed(0)
    emb = nn.EmbeddingBag(6, 3, mode="mean", padding_idx=0, sparse=sparse)
    opt = opt_cls(emb.parameters(), lr=0.1, betas=(0.9, 0.999), eps=1e-7, **kw)
    for ids in batches:
        opt.zero_grad()
        (emb(ids) * torch.tensor([1.0, -2.0, 0.5])).sum().backward()
        opt.step()
    return emb.weight.detach()


def test_lazy_adam_moves_only_touched_rows_like_sparse_adam():
    batches = [torch.tensor([[1, 2, 2, 0]]), torch.tensor([[3, 0, 0, 0]]), torch.tensor([[1, 3, 0, 0]])]
    ours = _embedding_steps(LazyAdam, True, batches)
    assert torch.allclose(ours, _embedding_steps(torch.optim.SparseAdam, True, batches), atol=1e-6)
    # Row 2 was seen in the first batch only; dense Adam keeps moving it on momentum, LazyAdam does not.
    after_first = _embedding_steps(LazyAdam, True, batches[:1])
    assert torch.equal(ours[2], after_first[2]) and torch.equal(ours[[0, 4, 5]], after_first[[0, 4, 5]])
    assert not torch.equal(
        _embedding_steps(torch.optim.Adam, False, batches)[2], _embedding_steps(torch.optim.Adam, False, batches[:1])[2]
    )


def test_lazy_adam_on_dense_gradients_is_keras_adam():
    w = nn.Parameter(torch.tensor([1.0, -2.0]))
    opt = LazyAdam([w], lr=0.1, betas=(0.9, 0.999), eps=1e-7)
    m, v, expected = torch.zeros(2), torch.zeros(2), torch.tensor([1.0, -2.0])
    for t, g in enumerate((torch.tensor([0.5, 1e-4]), torch.tensor([-0.2, 0.0]), torch.tensor([0.3, 2.0])), 1):
        w.grad = g.clone()
        opt.step()
        m, v = 0.9 * m + 0.1 * g, 0.999 * v + 0.001 * g * g
        expected = expected - 0.1 * math.sqrt(1 - 0.999**t) / (1 - 0.9**t) * m / (v.sqrt() + 1e-7)
    assert torch.allclose(w.detach(), expected, atol=1e-6)


def test_peak_rss_is_this_process_not_a_larger_parent():
    """summary.json's peak_rss_mib: a run started by a process that once held 400 MiB reports its own peak."""
    import subprocess
    import sys

    child = (
        "import resource; from imdb_sentiment.run.memory import peak_rss_mib; "
        "print(peak_rss_mib(), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)"
    )
    parent = (
        f"import subprocess, sys; big = bytearray(400 * 2**20); big[::4096] = b'x' * len(big[::4096]); "
        f"subprocess.run([sys.executable, '-c', {child!r}])"
    )
    out = subprocess.run([sys.executable, "-c", parent], capture_output=True, text=True, check=True).stdout
    ours, inherited = map(int, out.split())
    assert ours < 100 and inherited >= 400, out  # ru_maxrss alone would report the parent's 400 MiB
