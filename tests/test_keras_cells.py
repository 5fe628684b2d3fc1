"""Keras 2's recurrent cells: the equations by hand, agreement with PyTorch's fused layers where they coincide,
parameter counts unchanged, and the configs that cannot have them refused."""

import math

import numpy as np
import pytest
import torch
from hydra.utils import instantiate
from torch import nn

from imdb_sentiment.config.build import build
from imdb_sentiment.errors import ConfigError
from imdb_sentiment.models import count_parameters
from imdb_sentiment.models.keras_cells import BY_HAND, LOOPS, KerasRecurrent, hard_sigmoid
from imdb_sentiment.run.training import train


def test_hard_sigmoid_is_keras_2s_clip_of_a_fifth_plus_a_half():
    x = torch.tensor([-3.0, -2.5, -1.0, 0.0, 1.0, 2.5, 3.0])
    assert hard_sigmoid(x).tolist() == pytest.approx([0.0, 0.0, 0.3, 0.5, 0.7, 1.0, 1.0])


def _set(layer, **weights):
    with torch.no_grad():
        for name, value in weights.items():
            getattr(layer, name).copy_(torch.tensor(value, dtype=torch.float32))


def test_gru_reset_after_false_follows_keras_2_step_by_step():
    """Hidden size 2, input size 1, two steps, Keras 2's equations in numpy (blocks z, r, h)."""
    W = np.array([[0.5], [-0.2], [-0.3], [0.6], [0.8], [-0.5]])
    U = np.array([[0.4, -0.1], [0.2, 0.3], [0.9, -0.6], [0.1, 0.5], [-0.7, 0.4], [0.3, 0.8]])
    b = np.array([0.1, 0.0, 0.2, -0.1, -0.1, 0.3])
    gru = KerasRecurrent("gru", 1, 2, 1, False, reset_after=False, recurrent_activation="sigmoid")
    _set(gru, weight_ih_l0=W, weight_hh_l0=U, bias_ih_l0=b)
    sig = lambda v: 1 / (1 + np.exp(-v))  # noqa: E731
    Wz, Wr, Wh = np.split(W, 3)
    Uz, Ur, Uh = np.split(U, 3)
    bz, br, bh = np.split(b, 3)
    h, expected = np.zeros(2), []
    for x in (1.0, -2.0):
        z = sig(Wz @ [x] + Uz @ h + bz)
        r = sig(Wr @ [x] + Ur @ h + br)
        cand = np.tanh(Wh @ [x] + Uh @ (r * h) + bh)  # the reset gate before the recurrent product
        h = z * h + (1 - z) * cand
        expected.append(h)
    out, h_n = gru(torch.tensor([[[1.0], [-2.0]]]))
    np.testing.assert_allclose(out[0].detach().numpy(), np.array(expected), atol=1e-6)
    np.testing.assert_allclose(h_n[0, 0].detach().numpy(), expected[-1], atol=1e-6)
    after = KerasRecurrent("gru", 1, 2, 1, False, reset_after=True, recurrent_activation="sigmoid")
    _set(after, weight_ih_l0=W, weight_hh_l0=U, bias_ih_l0=b)
    assert np.abs(after(torch.tensor([[[1.0], [-2.0]]]))[0][0, 1].detach().numpy() - expected[1]).max() > 1e-3


def test_lstm_with_hard_sigmoid_follows_keras_2():
    lstm = KerasRecurrent("lstm", 1, 1, 1, False, reset_after=True, recurrent_activation="hard_sigmoid")
    W, U, b = [0.5, -1.0, 0.8, 2.0], [0.3, 0.2, -0.4, 0.1], [0.0, 1.0, 0.0, 0.0]  # blocks i, f, c, o
    _set(lstm, weight_ih_l0=[[w] for w in W], weight_hh_l0=[[u] for u in U], bias_ih_l0=b)
    hs = lambda v: min(1.0, max(0.0, 0.2 * v + 0.5))  # noqa: E731
    h = c = 0.0
    expected = []
    for x in (1.0, 3.0, -1.0):
        i, f, g, o = (x * W[k] + h * U[k] + b[k] for k in range(4))
        c = hs(f) * c + hs(i) * math.tanh(g)
        h = hs(o) * math.tanh(c)
        expected.append(h)
    out, (h_n, c_n) = lstm(torch.tensor([[[1.0], [3.0], [-1.0]]]))
    assert out[0, :, 0].tolist() == pytest.approx(expected, abs=1e-6) and c_n.item() == pytest.approx(c, abs=1e-6)


def test_with_sigmoid_they_equal_pytorchs_fused_layers_stacked_and_bidirectional():
    torch.manual_seed(0)
    x = torch.randn(3, 7, 5)
    ours = KerasRecurrent("lstm", 5, 4, 2, True, reset_after=True, recurrent_activation="sigmoid")
    ref = nn.LSTM(5, 4, num_layers=2, bidirectional=True, batch_first=True)
    gru = KerasRecurrent("gru", 5, 4, 2, True, reset_after=True, recurrent_activation="sigmoid")
    ref_gru = nn.GRU(5, 4, num_layers=2, bidirectional=True, batch_first=True)
    with torch.no_grad():
        for name, p in ref.named_parameters():
            p.copy_(getattr(ours, name) if not name.startswith("bias_hh") else torch.zeros_like(p))
        for name, p in ref_gru.named_parameters():  # PyTorch's blocks r, z, n; ours z, r, h
            if name.startswith("bias_hh"):
                p.zero_()
            else:
                z, r, n = getattr(gru, name).chunk(3, 0)
                p.copy_(torch.cat([r, z, n]))
    (a, (ha, ca)), (b, (hb, cb)) = ours(x), ref(x)
    torch.testing.assert_close((a, ha, ca), (b, hb, cb), atol=1e-6, rtol=0)
    torch.testing.assert_close(gru(x), ref_gru(x), atol=1e-6, rtol=0)


@pytest.mark.parametrize(
    "cell,hard,reset_after",
    [("gru", True, False), ("gru", False, False), ("gru", True, True), ("lstm", True, None), ("lstm", False, None)],
)
@pytest.mark.parametrize("reverse", [False, True])
def test_the_backward_written_out_equals_autograd_through_the_loop(cell, hard, reset_after, reverse):
    """The model runs BY_HAND (keras_cells.GRUByHand/LSTMByHand); autograd through the plain loop is the reference,
    in double precision, with gradients arriving at every output (sequence, last state, last cell)."""
    torch.manual_seed(0)
    gates = 3 if cell == "gru" else 4
    xp = torch.randn(3, 6, gates * 4, dtype=torch.float64, requires_grad=True)
    w_hh = (0.5 * torch.randn(gates * 4, 4, dtype=torch.float64)).requires_grad_()
    flags = (hard, reset_after, reverse) if cell == "gru" else (hard, reverse)
    ours, reference = BY_HAND[cell](xp, w_hh, *flags), LOOPS[cell](xp, w_hh, *flags)
    torch.testing.assert_close(ours, reference)
    weights = [torch.randn_like(out) for out in ours]

    def grads(outs):
        return torch.autograd.grad(sum((o * w).sum() for o, w in zip(outs, weights)), (xp, w_hh))

    torch.testing.assert_close(grads(ours), grads(reference))


@pytest.mark.parametrize("cell,reset_after", [("gru", False), ("lstm", True)])
def test_the_backward_written_out_runs_under_bf16_autocast(cell, reset_after):
    """trainer.precision=bf16-mixed: the loop runs in the autocast dtype, the kernel's gradient comes back in fp32
    and near the fp32 one (bf16 keeps about 3 significant digits)."""
    torch.manual_seed(0)
    net = KerasRecurrent(cell, 5, 4, 2, True, reset_after=reset_after, recurrent_activation="hard_sigmoid")
    x = torch.randn(3, 7, 5)
    net(x)[0].sum().backward()
    fp32 = [p.grad.clone() for p in net.parameters()]
    net.zero_grad()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = net(x)[0]
    assert out.dtype == torch.bfloat16
    out.float().sum().backward()
    for p, ref in zip(net.parameters(), fp32):
        assert p.grad.dtype == torch.float32
        torch.testing.assert_close(p.grad, ref, atol=0.05 * ref.abs().max().item(), rtol=0.05)


def test_with_sigmoid_their_gradients_equal_pytorchs_fused_layers():
    torch.manual_seed(0)
    x = torch.randn(3, 7, 5)
    ours = KerasRecurrent("lstm", 5, 4, 2, True, reset_after=True, recurrent_activation="sigmoid")
    ref = nn.LSTM(5, 4, num_layers=2, bidirectional=True, batch_first=True)
    with torch.no_grad():
        for name, p in ref.named_parameters():
            p.copy_(getattr(ours, name) if not name.startswith("bias_hh") else torch.zeros_like(p))
    ours(x)[0].square().sum().backward()
    ref(x)[0].square().sum().backward()
    for name, p in ours.named_parameters():
        torch.testing.assert_close(p.grad, getattr(ref, name).grad, atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_parameter_counts_are_keras_and_unchanged(make_cfg, cell):
    base = [f"model={cell}", "model.bidirectional=true", "model.num_layers=2"]
    builtin = count_parameters(build(make_cfg(*base).model, "model"))
    keras2 = ["model.recurrent_activation=hard_sigmoid"] + (["model.reset_after=false"] if cell == "gru" else [])
    net = build(make_cfg(*base, *keras2).model, "model")
    assert isinstance(net.rnn, KerasRecurrent) and count_parameters(net) == builtin
    gates, h, e = (3 if cell == "gru" else 4), 32, 32
    keras_layers = 2 * (gates * (h * (e + h) + h)) + 2 * (gates * (h * (2 * h + h) + h))  # one bias, 2 directions
    assert builtin == net.embedding.weight.numel() + keras_layers + (2 * h + 1)


@pytest.mark.parametrize(
    "overrides, message",
    [
        (["model=lstm", "model.reset_after=false"], "model.reset_after=False: is a GRU option (cell=gru)"),
        (["model=rnn", "model.recurrent_activation=hard_sigmoid"], "model.cell=rnn: has no gates"),
        (["model=gru", "model.reset_after=false", "model.packed=true"], "model.packed=True: the Keras 2 cells"),
        (["model=gru", "model.recurrent_activation=relu"], "model.recurrent_activation=relu: must be one of"),
    ],
)
def test_configs_that_cannot_have_them_are_refused(make_cfg, overrides, message):
    with pytest.raises(ConfigError) as err:
        build(make_cfg(*overrides).model, "model")
    assert str(err.value).startswith(message)


def test_keras_2_gru_trains_and_learns(make_cfg, tmp_path):
    cfg = make_cfg(
        "model=gru",
        "model.reset_after=false",
        "model.recurrent_activation=hard_sigmoid",
        "data.vocab_size=100",
        "data.maxlen=30",
        "data.batch_size=16",
        "optimizer.lr=0.01",
        "trainer.max_epochs=3",
        "callbacks.progress_bar.refresh_rate=0",
    )
    summary = train(cfg)
    assert summary["best_val_acc"] > 0.7  # the tiny data's sentiment words are easy
    net = instantiate(cfg.model)
    assert isinstance(net.rnn, KerasRecurrent) and np.isfinite(summary["test_acc"])
