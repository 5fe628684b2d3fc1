"""The README's Models table and Keras' layer defaults, checked against the models the configs build: every
parameter count the table states, every dropout layer it names (counts cannot see those), Keras'
initialisers on every layer kind with both bounds, and Keras Adam's constants."""

import math
import re

import pytest
import torch
from hydra.utils import instantiate
from torch import nn

from conftest import REPO
from imdb_sentiment.models import count_parameters
from imdb_sentiment.models.keras_compat import SpatialDropout1D

# The table's first column -> the overrides that build each model it names (V is free unless the row fixes it)
ROWS = {
    "`bilstm`": {"bilstm": ["model=bilstm"]},
    "`bilstm model.num_layers=1`": {"bilstm": ["model=bilstm", "model.num_layers=1"]},
    "`mlp`": {"mlp": ["model=mlp"]},
    "`rnn` / `lstm` / `gru`": {m: [f"model={m}", "data.vocab_size=8000"] for m in ("rnn", "lstm", "gru")},
    "`bilstm_small`": {"bilstm_small": ["model=bilstm_small", "data.vocab_size=8000"]},
    "`stacked_lstm`": {"stacked_lstm": ["model=stacked_lstm", "data.vocab_size=8000"]},
    "`subword_bilstm`": {"subword_bilstm": ["data=imdb_subword", "model=subword_bilstm"]},
    "`ngram_bag`": {"ngram_bag": ["model=ngram_bag", "data.vocab_size=30000"]},
    "`nb_ngrams`": {"nb_ngrams": ["model=nb_ngrams", "data.vocab_size=30000"]},
}


def readme_models_table() -> dict[str, tuple[str, str]]:
    text = (REPO / "README.md").read_text()
    table = text[text.index("## Models") :].split("\n\n")[1]
    rows = [[c.strip() for c in line.strip("|").split("|")] for line in table.splitlines()[2:]]
    return {config: (arch, params) for config, arch, params in rows}


def numbers(text: str) -> list[int]:
    return [int(n.replace(",", "")) for n in re.findall(r"\d[\d,]*\d|\d", text)]


def test_every_row_of_the_readme_models_table_is_checked():
    assert set(readme_models_table()) == set(ROWS)


@pytest.mark.parametrize("row", ROWS)
def test_readme_parameter_counts_and_dropout_layers(row, make_cfg):
    arch, params = readme_models_table()[row]
    stated = numbers(params.split(" at ")[0])
    built = {name: instantiate(make_cfg(*overrides).model) for name, overrides in ROWS[row].items()}
    if params.startswith("recurrent"):  # one count a model, in the row's order
        assert [count_parameters(net.rnn) for net in built.values()] == stated
    else:
        assert [count_parameters(net) for net in built.values()] == stated
    for net in built.values():  # the dropout rates the architecture names, and no others
        spatial = [m.p for m in net.modules() if isinstance(m, SpatialDropout1D) and m.p]
        plain = [m.p for m in net.modules() if isinstance(m, nn.Dropout)]
        assert spatial == [float(p) for p in re.findall(r"SpatialDropout1D\(([\d.]+)\)", arch)]
        assert plain == [float(p) for p in re.findall(r"(?<!Spatial)Dropout\(([\d.]+)\)", arch)]


def test_practicum_dropout_acts_in_training_only(make_cfg):
    net = instantiate(make_cfg("model=gru", "data.vocab_size=100").model)
    ids = torch.randint(1, 100, (8, 20))
    net.train()
    assert not torch.equal(net(ids), net(ids))
    net.eval()
    assert torch.equal(net(ids), net(ids))


def uniform_bounds(t: torch.Tensor, bound: float) -> None:
    """Drawn from U(-bound, bound): inside it, reaching near both ends, with the uniform's spread."""
    t = t.detach().flatten()
    assert t.abs().max() <= bound * (1 + 1e-6)
    if t.numel() >= 1000:  # enough draws to pin the range and the spread
        assert t.max() > 0.95 * bound and t.min() < -0.95 * bound
        assert t.std() == pytest.approx(bound / math.sqrt(3), rel=0.1)
    else:  # a Dense(1) kernel: a few draws, not all zero, not all tiny
        assert t.abs().max() > bound / 4


def glorot(w: torch.Tensor) -> float:
    fan_out, fan_in = w.shape  # torch stores [out, in]; Keras' kernel is its transpose, same fans
    return math.sqrt(6 / (fan_in + fan_out))


@pytest.mark.parametrize("model", ["rnn", "lstm", "gru", "mlp", "bilstm_small"])
def test_keras_initialisers_on_every_layer_kind(model, make_cfg):
    torch.manual_seed(0)
    extra = ["model.dense=[16]"] if model != "mlp" else []
    net = instantiate(make_cfg(f"model={model}", "data.vocab_size=2000", *extra).model)
    uniform_bounds(net.embedding.weight, 0.05)
    for layer in (m for m in net.modules() if isinstance(m, nn.Linear)):  # Dense: Glorot kernel, zero bias
        uniform_bounds(layer.weight, glorot(layer.weight))
        assert torch.count_nonzero(layer.bias) == 0
    if model == "mlp":
        return
    rnn, h = net.rnn, net.rnn.hidden_size
    gates = {"rnn": 1, "lstm": 4, "gru": 3}[model.replace("bilstm_small", "lstm")]
    for name, p in rnn.named_parameters():
        if name.startswith("weight_ih"):  # Glorot over the whole gate block: fan_out is gates x units
            uniform_bounds(p, math.sqrt(6 / (p.shape[1] + gates * h)))
        elif name.startswith("weight_hh"):  # orthogonal over the gate block
            assert torch.allclose(p.T @ p, torch.eye(h), atol=1e-5)
        elif name.startswith("bias_ih"):  # zeros, but the LSTM forget gate's ones (unit_forget_bias)
            expected = torch.zeros(gates * h)
            if gates == 4:
                expected[h : 2 * h] = 1
            assert torch.equal(p.detach(), expected)
    assert all(torch.count_nonzero(b) == 0 for n, b in rnn.named_buffers() if n.startswith("bias_hh"))


@pytest.mark.parametrize("optimizer", ["adam", "lazy_adam"])
def test_adam_has_keras_constants(optimizer, make_cfg):
    opt = instantiate(make_cfg(f"optimizer={optimizer}").optimizer)([nn.Parameter(torch.zeros(2))])
    group = opt.param_groups[0]
    assert (group["lr"], tuple(group["betas"]), group["eps"]) == (1e-3, (0.9, 0.999), 1e-7)
