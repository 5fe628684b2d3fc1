"""A linear model over the n-grams a review contains, each weighted by its naive-Bayes log-count ratio.

Wang & Manning's NBSVM (2012) with the SVM replaced by logistic regression trained like every other model
here: a review is the set of its words, word pairs and word triples (present or not, not counted), and
feature ``f`` enters the logit as ``r_f * (prior + w_f)``, where ``r_f`` is the log ratio of how often ``f``
occurs in positive against negative training reviews (Laplace-smoothed by ``alpha``; 0 for a feature found in
fewer than ``min_count`` reviews), fitted once from the training split before the first step and stored in
the checkpoint. ``prior`` is how much of the plain naive-Bayes vote stays; ``w`` (from zero) is what training
learns on top, regularised by ``feature_dropout`` (features dropped from a review at random) and early stopping.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from imdb_sentiment import values as v
from imdb_sentiment.data.text_encoding import PAD_ID

PRIME = 1_000_003
_MASK40 = (1 << 40) - 1  # keeps a hash times PRIME plus an id inside 64 bits


def hashed_pairs(ids: torch.Tensor, buckets: int) -> torch.Tensor:
    """``[batch, time]`` word ids -> ``[batch, time - 1]``: the bucket of each neighbouring pair (``ids[t-1]``,
    ``ids[t]``), the hash every pair table here shares (``ngram_sets``' order 2 too). Pairs that touch padding
    get a bucket like any other; the caller leaves them out."""
    ids = ids.long()  # a * PRIME needs 64 bits
    return (ids[:, :-1] * PRIME + ids[:, 1:]) % buckets


def ngram_sets(ids: torch.Tensor, vocab_size: int, n: int, buckets: int) -> torch.Tensor:
    """``[batch, time]`` word ids -> ``[batch, features]``: each review's distinct n-grams (orders 1..n).

    Words keep their ids; an n-gram of order ``k >= 2`` takes row ``vocab_size + (k - 2) * buckets + hash
    mod buckets``. Padding, and any n-gram that touches it, becomes ``PAD_ID``; so does every repeat of a
    feature in its review (presence, not counts). Rows are sorted, which is what finds the repeats."""
    ids = ids.long()
    parts, h, touches_pad = [ids], ids, ids == PAD_ID
    for k in range(2, n + 1):
        h = (h[:, :-1] & _MASK40) * PRIME + ids[:, k - 1 :]
        touches_pad = touches_pad[:, :-1] | (ids[:, k - 1 :] == PAD_ID)
        rows = vocab_size + (k - 2) * buckets + h % buckets
        parts.append(rows.masked_fill(touches_pad, PAD_ID))
    feats = torch.cat(parts, dim=1).sort(dim=1).values
    repeat = torch.zeros_like(feats, dtype=torch.bool)
    repeat[:, 1:] = feats[:, 1:] == feats[:, :-1]
    return feats.masked_fill(repeat, PAD_ID)


@torch.no_grad()
def review_counts(split, features, rows: int, device: torch.device, chunk: int = 256) -> torch.Tensor:
    """``[2, rows]``: in how many reviews of each label of ``split`` (indexed by batches of rows: ``split[rows]
    -> (ids, labels)``) each row of ``features(ids)`` (distinct rows a review, ``PAD_ID`` for none) occurs."""
    counts = torch.zeros(2, rows, device=device)  # float32 counts are exact up to 2^24 reviews
    order = np.argsort(split.lengths, kind="stable")  # similar lengths together: little padding
    for start in range(0, len(order), chunk):
        ids, labels = split[order[start : start + chunk]]
        feats = features(ids.to(device))
        cls = labels.to(device).long()[:, None].expand_as(feats)
        counts.index_put_(
            (cls.flatten(), feats.flatten()),
            torch.ones(feats.numel(), dtype=counts.dtype, device=device),
            accumulate=True,
        )
    counts[:, PAD_ID] = 0  # padding is no feature
    return counts


class NaiveBayesNgrams(nn.Module):
    """NB-weighted n-gram logistic regression (NBSVM's features; see the module docstring)."""

    requires_fixed_length = False

    def __init__(
        self,
        vocab_size: int,
        ngrams: int,
        buckets: int,
        alpha: float,
        min_count: int,
        prior: float,
        feature_dropout: float,
    ):
        super().__init__()
        self.vocab_size = v.integer("vocab_size", vocab_size)
        self.ngrams = v.integer("ngrams", ngrams)
        self.buckets = v.integer("buckets", buckets, minimum=0 if ngrams == 1 else 1)
        self.alpha = v.positive_number("alpha", alpha)
        self.min_count = v.integer("min_count", min_count)
        self.prior = v.non_negative_number("prior", prior)
        self.feature_dropout = v.probability("feature_dropout", feature_dropout)
        rows = vocab_size + (ngrams - 1) * buckets
        self.weight = nn.EmbeddingBag(rows, 1, mode="sum", padding_idx=PAD_ID)
        nn.init.zeros_(self.weight.weight)
        self.bias = nn.Parameter(torch.zeros(1))
        self.register_buffer("ratio", torch.zeros(rows))

    def features(self, ids: torch.Tensor) -> torch.Tensor:
        return ngram_sets(ids, self.vocab_size, self.ngrams, self.buckets)

    @torch.no_grad()
    def fit_prior(self, split, chunk: int = 256) -> None:
        """``ratio`` from ``split`` (a training split indexed by batches of rows: ``split[rows] -> (ids,
        labels)``): every review counted once, whatever the process or rank."""
        counts = review_counts(split, self.features, len(self.ratio), self.ratio.device, chunk)
        smoothed = counts + self.alpha
        total = smoothed.sum(1, keepdim=True) - self.alpha
        log_share = smoothed.log() - total.log()
        ratio = log_share[1] - log_share[0]
        ratio[counts.sum(0) < self.min_count] = 0  # seen in too few reviews to say anything (padding: none)
        self.ratio.copy_(ratio.to(self.ratio.dtype))

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        feats = self.features(ids)
        r = self.ratio[feats]
        if self.training and self.feature_dropout:
            keep = torch.rand_like(r) >= self.feature_dropout
            r = r * keep / (1 - self.feature_dropout)
        learned = self.weight(feats, per_sample_weights=r).squeeze(-1)
        return learned + self.prior * r.sum(1) + self.bias
