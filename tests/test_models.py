"""Every model config: exact Keras parameter counts, Keras init, forward and backward on the CPU."""

import pytest
import torch
from hydra.utils import instantiate

from imdb_sentiment.models import count_parameters

PRACTICUM = ["data.vocab_size=8000"]
EMB_8000_32 = 8000 * 32

CASES = {  # config overrides -> (total params, recurrent-layer params or None), from the Keras summaries
    "bilstm": (["model=bilstm"], 2_757_761, 197_632),
    "bilstm_1layer": (["model=bilstm", "model.num_layers=1"], 2_658_945, 98_816),
    "mlp": (["model=mlp"], 4_202_689, None),
    "rnn": (["model=rnn", *PRACTICUM], EMB_8000_32 + 2_080 + 33, 2_080),
    "lstm": (["model=lstm", *PRACTICUM], EMB_8000_32 + 8_320 + 33, 8_320),
    "gru": (["model=gru", *PRACTICUM], EMB_8000_32 + 6_240 + 33, 6_240),
    "bilstm_small": (["model=bilstm_small", *PRACTICUM], EMB_8000_32 + 16_640 + 65, 16_640),
    "stacked_lstm": (["model=stacked_lstm", *PRACTICUM], EMB_8000_32 + 16_640 + 33, 16_640),
    "subword_bilstm": (["data=imdb_subword", "model=subword_bilstm"], 598_209, 66_048),
    # Embedding(30000,128) -> BiLSTM(64, sequences) -> [GlobalMax, GlobalAverage] -> Dense(1): the head reads 4 x 64
    "best_bilstm": (["experiment=best_bilstm"], 3_840_000 + 98_816 + 257, 98_816),
    # Embedding(30000 + 2^20 hashed pairs, 50) -> mean -> Dense(1)
    "best_bigram_bag": (["experiment=best_bigram_bag"], (30_000 + 1_048_576) * 50 + 51, None),
    "max pooling": (["model=gru", "model.pooling=max", *PRACTICUM], EMB_8000_32 + 6_240 + 33, 6_240),
    # Embedding(30000, 64) + Embedding(2^20 hashed pairs, 64) -> BiGRU(64, sequences) -> [max, mean] -> Dense(1)
    "best_pair_bigru": (
        ["experiment=best_pair_bigru"],
        (30_000 + 1_048_576) * 64 + 2 * 3 * (64 * 64 * 2 + 64) + 257,
        49_536,
    ),
    # two best_pair_bigru networks voting
    "best_pair_bigru_x2": (
        ["experiment=best_pair_bigru_x2"],
        2 * ((30_000 + 1_048_576) * 64 + 2 * 3 * (64 * 64 * 2 + 64) + 257),
        None,
    ),
}


@pytest.mark.parametrize("name", CASES)
def test_exact_parameter_count_forward_backward(name, make_cfg):
    overrides, total, recurrent = CASES[name]
    cfg = make_cfg(*overrides)
    net = instantiate(cfg.model)
    assert count_parameters(net) == total
    if recurrent is not None:
        assert count_parameters(net.rnn) == recurrent
    ids = torch.randint(0, cfg.data.vocab_size, (3, cfg.data.maxlen or 57))
    ids[0] = 0  # an empty review still gives a finite logit and gradient
    logits = net(ids)
    assert logits.shape == (3,)
    logits.sum().backward()
    assert all(p.grad is not None and torch.isfinite(p.grad.to_dense()).all() for p in net.parameters())


def test_default_init_is_available_and_differs(make_cfg):
    keras = instantiate(make_cfg("model=lstm").model)
    torch_default = instantiate(make_cfg("model=lstm", "model.keras_init=false").model)
    assert torch_default.embedding.weight.abs().max() > 0.05  # PyTorch's N(0, 1) embedding
    assert count_parameters(keras) == count_parameters(torch_default)


def test_bidirectional_state_is_keras_concat(make_cfg):
    """Keras Bidirectional(LSTM) without return_sequences: [forward after the last step, backward after the first]."""
    net = instantiate(make_cfg("model=bilstm").model).eval()
    ids = torch.randint(1, 100, (4, 30))
    ids[:, :10] = 0  # pre-padding is read like any token, as in Keras without masking
    with torch.no_grad():
        seq, _ = net.rnn(net.embedding(ids))
        h = net.rnn.hidden_size
        expected = net.head(torch.cat([seq[:, -1, :h], seq[:, 0, h:]], dim=-1)).squeeze(-1)
        assert torch.allclose(net(ids), expected, atol=1e-6)
        assert not torch.allclose(net(ids), net(ids[:, 5:]))  # the padding is not masked


def test_mlp_rejects_other_lengths(make_cfg):
    net = instantiate(make_cfg("model=mlp").model)
    with pytest.raises(ValueError, match="length 200"):
        net(torch.zeros(2, 150, dtype=torch.long))


@pytest.mark.parametrize(
    "model,pooling",
    [("bilstm", "last"), ("gru", "last"), ("stacked_lstm", "last"), ("bilstm", "max_mean"), ("gru", "mean")],
)
def test_packed_skips_padding_on_either_side(model, pooling, make_cfg):
    """model.packed: a review's logit is the same alone, pre-padded or post-padded inside a longer batch."""
    net = instantiate(
        make_cfg(f"model={model}", "model.packed=true", f"model.pooling={pooling}", "data.vocab_size=100").model
    ).eval()
    reviews = [torch.randint(1, 100, (n,)) for n in (7, 30, 1)]
    with torch.no_grad():
        alone = torch.stack([net(r[None])[0] for r in reviews])
        batches = {}
        for side in ("pre", "post"):
            batch = batches[side] = torch.zeros(3, 30, dtype=torch.long)
            for i, r in enumerate(reviews):
                batch[i, 30 - len(r) :] = r if side == "pre" else 0
                if side == "post":
                    batch[i, : len(r)] = r
            assert torch.allclose(net(batch), alone, atol=1e-5), side
        unpacked = instantiate(
            make_cfg(f"model={model}", f"model.pooling={pooling}", "data.vocab_size=100").model
        ).eval()
        unpacked.load_state_dict(net.state_dict())
        # without packing, the forward pass reads the pre-padding before the review (pooling leaves out only
        # the padding's own positions, so a one-way model's post-padding would not show)
        assert not torch.allclose(unpacked(batches["pre"]), alone, atol=1e-3)


def test_pooling_reads_only_the_reviews_own_positions(make_cfg):
    """Unpacked max_mean pooling: max and mean of the BiLSTM outputs over the non-padding positions only."""
    net = instantiate(
        make_cfg("model=bilstm", "model.num_layers=1", "model.pooling=max_mean", "data.vocab_size=100").model
    ).eval()
    ids = torch.randint(1, 100, (2, 12))
    ids[0, :5] = 0  # pre-padding
    ids[1, 9:] = 0  # post-padding
    with torch.no_grad():
        seq, _ = net.rnn(net.embedding(ids))
        expected = []
        for row, own in zip(seq, [slice(5, 12), slice(0, 9)]):
            expected.append(torch.cat([row[own].amax(0), row[own].mean(0)]))
        assert torch.allclose(net(ids), net.head(torch.stack(expected)).squeeze(-1), atol=1e-6)
        # the padding's own outputs would change both: they are large enough to win the max here
        assert not torch.allclose(net(ids), net.head(torch.cat([seq.amax(1), seq.mean(1)], -1)).squeeze(-1))


def test_ngram_bag_averages_words_and_hashed_pairs_leaving_out_padding(make_cfg):
    net = instantiate(make_cfg("model=ngram_bag", "data.vocab_size=100", "model.buckets=1000").model).eval()
    review = torch.tensor([5, 7, 9])
    grams = net.ngram_ids(review[None])[0]
    pairs = [100 + (5 * 1_000_003 + 7) % 1000, 100 + (7 * 1_000_003 + 9) % 1000]
    assert grams.tolist() == [5, 7, 9, *pairs]
    with torch.no_grad():
        expected = net.head(net.embedding.weight[grams].mean(0)).squeeze(-1)
        assert torch.allclose(net(review[None]), expected[None], atol=1e-6)
        pre, post = torch.zeros(2, 8, dtype=torch.long), torch.zeros(1, 8, dtype=torch.long)
        pre[0, 5:], post[0, :3] = review, review
        assert torch.allclose(net(pre)[0], expected, atol=1e-6)  # no pair touches the padding
        assert torch.allclose(net(post)[0], expected, atol=1e-6)
        assert torch.isfinite(net(pre)[1])  # an empty review
    words_only = instantiate(make_cfg("model=ngram_bag", "data.vocab_size=100", "model.buckets=0").model)
    assert words_only.ngram_ids(review[None])[0].tolist() == [5, 7, 9, 0, 0]


def test_recurrent_steps_read_the_word_and_its_hashed_pair(make_cfg):
    """With pair_buckets, step t's input is the word's row plus the row of (word t-1, word t); none at the first
    step or where a word is padding, so the review's input does not depend on how much padding precedes it."""
    cfg = make_cfg("model=gru", "model.pair_buckets=1000", "data.vocab_size=100", "model.spatial_dropout=0")
    net = instantiate(cfg.model).eval()
    assert torch.count_nonzero(net.pairs.weight) == 0  # training starts from the word model
    torch.nn.init.normal_(net.pairs.weight)
    review = torch.tensor([[0, 0, 5, 7, 9]])
    rows = net.pair_embedding(review)[0]
    pair = net.pairs.weight
    expected = torch.stack(
        [
            torch.zeros(32),
            torch.zeros(32),
            torch.zeros(32),
            pair[(5 * 1_000_003 + 7) % 1000],
            pair[(7 * 1_000_003 + 9) % 1000],
        ]
    )
    torch.testing.assert_close(rows, expected)
    with torch.no_grad():  # the pairs reach the output: a model without them reads the same review differently
        words_only = instantiate(make_cfg("model=gru", "data.vocab_size=100", "model.spatial_dropout=0").model).eval()
        words_only.load_state_dict({k: w for k, w in net.state_dict().items() if not k.startswith("pair")})
        assert not torch.allclose(net(review), words_only(review))
        net.pairs.weight.zero_()
        torch.testing.assert_close(net(review), words_only(review))


def test_word_dropout_empties_whole_steps_in_training_only(make_cfg):
    net = instantiate(make_cfg("model=gru", "model.word_dropout=0.3").model)
    x = torch.rand(64, 50, 6) + 1
    torch.manual_seed(0)
    out = net.word_dropout.train()(x)
    kept = (out == x).all(-1)
    assert ((out == 0).all(-1) | kept).all()  # a step is kept whole or emptied whole, never rescaled
    assert 0.25 < 1 - kept.float().mean() < 0.35
    assert torch.equal(net.word_dropout.eval()(x), x)


def test_pairs_found_in_too_few_training_reviews_read_as_zeros(make_cfg):
    from test_nb_ngrams import Split

    # pair (3, 5) is in two reviews (twice in the first: counted once), pair (4, 5) in one, (5, 3) in one
    split = Split([[3, 5, 3, 5], [0, 0, 3, 5], [0, 0, 4, 5]], [1, 0, 0])
    cfg = make_cfg("model=gru", "data.vocab_size=6", "model.pair_buckets=1009", "model.pair_min_count=2")
    net = instantiate(cfg.model).eval()
    torch.nn.init.normal_(net.pairs.weight)
    net.fit_prior(split)
    kept = {(a, b) for a in range(1, 6) for b in range(1, 6) if net.pair_keep[(a * 1_000_003 + b) % 1009]}
    assert kept == {(3, 5)}
    rows = net.pair_embedding(torch.tensor([[4, 5, 3, 5]]))[0]
    torch.testing.assert_close(rows[1], torch.zeros(32))  # (4, 5): one review
    torch.testing.assert_close(rows[3], net.pairs.weight[(3 * 1_000_003 + 5) % 1009])
    assert "pair_keep" in net.state_dict()  # eval and predict read the checkpoint's, not a recount


def test_an_ensembles_equal_members_start_from_their_own_weights(make_cfg):
    """best_pair_bigru_x2's members share a config, not their initial weights: they would vote as one."""
    net = instantiate(
        make_cfg(
            "experiment=best_pair_bigru_x2", "model.members.a.pair_buckets=64", "model.members.b.pair_buckets=64"
        ).model
    )
    a, b = net.members["a"].state_dict(), net.members["b"].state_dict()
    assert a.keys() == b.keys() and all(a[k].shape == b[k].shape for k in a)
    drawn = [k for k in a if a[k].is_floating_point() and a[k].unique().numel() > 1]  # not a constant (a bias)
    assert len(drawn) >= 5 and not any(torch.equal(a[k], b[k]) for k in drawn)
