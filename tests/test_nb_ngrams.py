"""NaiveBayesNgrams: the n-gram sets it reads, the naive-Bayes ratios it counts, the logit it computes, against
values worked out by hand."""

import math

import numpy as np
import pytest
import torch

from imdb_sentiment.errors import ConfigError
from imdb_sentiment.models.nb_ngrams import PRIME, NaiveBayesNgrams, ngram_sets

V, B = 10, 7


def rows(feats: torch.Tensor) -> list[set[int]]:
    return [set(r.tolist()) - {0} for r in feats]


def test_a_review_is_the_set_of_its_words_pairs_and_triples_without_padding_or_repeats():
    ids = torch.tensor([[0, 0, 3, 4, 3, 4], [5, 5, 5, 5, 5, 5]])
    feats = ngram_sets(ids, V, n=3, buckets=B)
    pair = lambda a, b: V + (a * PRIME + b) % B  # noqa: E731
    triple = lambda a, b, c: V + B + ((a * PRIME + b) * PRIME + c) % B  # noqa: E731
    assert rows(feats) == [
        {3, 4, pair(3, 4), pair(4, 3), triple(3, 4, 3), triple(4, 3, 4)},  # nothing that touches padding
        {5, pair(5, 5), triple(5, 5, 5)},  # six words, one of each feature: presence, not counts
    ]
    # every repeat is blanked, so each feature appears once a row
    for r in feats:
        kept = r[r != 0].tolist()
        assert len(kept) == len(set(kept))


def test_words_only_and_post_padding():
    feats = ngram_sets(torch.tensor([[3, 4, 3, 0, 0]]), V, n=1, buckets=0)
    assert rows(feats) == [{3, 4}]
    assert rows(ngram_sets(torch.tensor([[3, 4, 0, 0]]), V, n=2, buckets=B)) == [{3, 4, V + (3 * PRIME + 4) % B}]


class Split:
    """The interface fit_prior reads: ``split[rows] -> (ids, labels)`` and ``lengths``."""

    def __init__(self, ids, labels):
        self.ids, self.labels = torch.tensor(ids), torch.tensor(labels, dtype=torch.float32)
        self.lengths = np.full(len(labels), self.ids.shape[1])

    def __getitem__(self, r):
        return self.ids[torch.as_tensor(r)], self.labels[torch.as_tensor(r)]


def test_ratios_are_smoothed_log_count_ratios_over_reviews_containing_each_word():
    # word 3 in both positive reviews (twice in one: counted once), word 4 in one negative, word 5 in all
    split = Split([[3, 3, 5], [0, 3, 5], [0, 4, 5]], [1, 1, 0])
    net = NaiveBayesNgrams(vocab_size=6, ngrams=1, buckets=0, alpha=1.0, min_count=1, prior=0.0, feature_dropout=0.0)
    net.fit_prior(split, chunk=2)
    pos = {1: 0, 2: 0, 3: 2, 4: 0, 5: 2}  # reviews holding each non-padding row
    neg = {1: 0, 2: 0, 3: 0, 4: 1, 5: 1}
    p_total, q_total = sum(c + 1 for c in pos.values()), sum(c + 1 for c in neg.values())
    for w in range(1, 6):
        expected = math.log((pos[w] + 1) / p_total) - math.log((neg[w] + 1) / q_total)
        expected = expected if pos[w] + neg[w] else 0.0  # never seen in training: no vote
        assert net.ratio[w].item() == pytest.approx(expected, rel=1e-6)
    assert net.ratio[0].item() == 0
    net.min_count = 2  # word 4 is in one review only: no vote
    net.fit_prior(split)
    assert net.ratio[4].item() == 0 and net.ratio[3].item() != 0


def test_the_logit_is_the_ratio_weighted_sum_of_the_features_present():
    net = NaiveBayesNgrams(vocab_size=6, ngrams=1, buckets=0, alpha=1.0, min_count=1, prior=0.5, feature_dropout=0.9)
    with torch.no_grad():
        net.ratio.copy_(torch.tensor([0.0, 0.1, 0.2, 0.3, -0.4, 0.5]))
        net.weight.weight.copy_(torch.arange(6.0)[:, None])
        net.bias.fill_(0.25)
    net.eval()  # feature dropout off
    logit = net(torch.tensor([[0, 3, 4, 4]]))
    # words 3 and 4, once each: r3 (0.5 + w3) + r4 (0.5 + w4) + bias
    assert logit.item() == pytest.approx(0.3 * 3.5 + -0.4 * 4.5 + 0.25)


def test_parameter_count_and_refused_values():
    net = NaiveBayesNgrams(
        vocab_size=30000, ngrams=3, buckets=1024, alpha=1.0, min_count=1, prior=0.0, feature_dropout=0.5
    )
    assert sum(p.numel() for p in net.parameters()) == 30000 + 2 * 1024 + 1
    for key, kwargs in {
        "ngrams": {"ngrams": 0},
        "alpha": {"alpha": 0.0},
        "prior": {"prior": -1},
        "min_count": {"min_count": 0},
        "feature_dropout": {"feature_dropout": 1.0},
        "buckets": {"buckets": 0},
    }.items():
        args = dict(vocab_size=10, ngrams=2, buckets=8, alpha=1.0, min_count=1, prior=0.0, feature_dropout=0.0) | kwargs
        with pytest.raises(ConfigError, match=key):
            NaiveBayesNgrams(**args)
