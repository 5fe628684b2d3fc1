"""The notebooks' architectures as plain ``nn.Module``s: token ids ``[batch, time]`` -> one logit each.

Defaults live in ``configs/model/``; each constructor checks the values it consumes (``values.py``)."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from imdb_sentiment import values as v
from imdb_sentiment.data.text_encoding import PAD_ID
from imdb_sentiment.errors import ConfigError
from imdb_sentiment.models.keras_cells import ACTIVATIONS, KerasRecurrent
from imdb_sentiment.models.keras_compat import SpatialDropout1D, drop_recurrent_bias, keras_init_
from imdb_sentiment.models.nb_ngrams import hashed_pairs, ngram_sets, review_counts

CELLS = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}
POOLINGS = ("last", "max", "mean", "max_mean")


def _embedding(vocab_size: int, embed_dim: int) -> nn.Embedding:
    return nn.Embedding(v.integer("vocab_size", vocab_size), v.integer("embed_dim", embed_dim))


def dense_head(in_features: int, hidden: Sequence[int], dropout: float, name: str = "dense") -> nn.Sequential:
    """``Dense(h, relu)`` for each ``h`` in ``hidden``, then ``Dense(1)`` (a logit); dropout before each Dense.
    ``name`` is the argument that gave ``hidden``, for the error line."""
    drop = [nn.Dropout(dropout)] if v.probability("dropout", dropout) else []
    layers: list[nn.Module] = []
    for h in v.integers(name, hidden):
        layers += [*drop, nn.Linear(in_features, h), nn.ReLU()]
        in_features = h
    return nn.Sequential(*layers, *drop, nn.Linear(in_features, 1))


class RecurrentClassifier(nn.Module):
    """Embedding -> [SpatialDropout1D] -> (Bi)RNN/LSTM/GRU stack -> pooling -> [Dropout] -> Dense head.

    ``pooling="last"`` (the notebooks) reads the state after the final time step: like Keras
    without masking, so pre-padding (the default) puts the review's own last word next to it.
    ``max``, ``mean`` and ``max_mean`` (both, concatenated) pool the top layer's outputs over the
    review's own positions (padding id 0 is left out), as Keras' ``return_sequences=True`` +
    ``GlobalMaxPooling1D`` with a mask: every word's state reaches the head, not only the last.
    With ``packed`` the padding (on either side) is skipped by the recurrence as well: each
    direction runs over the review's own ids only, as with a Keras ``mask_zero`` embedding.
    ``pair_buckets`` adds word pairs to the input: step ``t`` reads the embedding of word ``t`` plus
    that of the hashed pair (word ``t-1``, word ``t``) from a table of its own (``hashed_pairs``, as the bags,
    zero-initialised so training starts from the word model; ``pair_min_count`` silences rare rows, see
    ``fit_prior``); ``sparse`` gives both tables sparse gradients (``optimizer=lazy_adam``).
    ``word_dropout`` zeroes whole steps' inputs in training (a word and its pair read as nothing,
    Iyyer et al. 2015's word dropout), the regulariser of bag models.
    """

    requires_fixed_length = False

    def __init__(
        self,
        vocab_size: int,
        embed_dim: int,
        cell: str,
        hidden_size: int,
        num_layers: int,
        bidirectional: bool,
        spatial_dropout: float,
        dropout: float,
        dense: Sequence[int],
        keras_init: bool,
        packed: bool,
        pooling: str,
        reset_after: bool,
        recurrent_activation: str,
        pair_buckets: int,
        pair_min_count: int,
        sparse: bool,
        word_dropout: float,
    ):
        super().__init__()
        v.choice("cell", cell, CELLS)
        v.integer("num_layers", num_layers)
        v.boolean("bidirectional", bidirectional)
        self.packed = v.boolean("packed", packed)
        self.pooling = v.choice("pooling", pooling, POOLINGS)
        v.boolean("reset_after", reset_after)
        v.choice("recurrent_activation", recurrent_activation, ACTIVATIONS)
        keras2 = recurrent_activation == "hard_sigmoid" or not reset_after  # what PyTorch's fused layers lack
        if keras2 and cell == "rnn":
            what = "reset_after=false" if not reset_after else f"recurrent_activation={recurrent_activation}"
            raise ConfigError("cell", cell, f"has no gates: {what} applies to lstm and gru")
        if not reset_after and cell != "gru":
            raise ConfigError("reset_after", reset_after, "is a GRU option (cell=gru)")
        if keras2 and packed:
            raise ConfigError("packed", packed, "the Keras 2 cells (reset_after=false, hard_sigmoid) run unpacked")
        self.embedding = _embedding(vocab_size, embed_dim)
        self.embedding.sparse = v.boolean("sparse", sparse)
        v.integer("pair_buckets", pair_buckets, minimum=0)
        self.pairs = nn.Embedding(pair_buckets, embed_dim, sparse=sparse) if pair_buckets else None
        self.pair_min_count = v.integer("pair_min_count", pair_min_count)
        if self.pairs is not None:
            self.vocab_size = vocab_size
            self.register_buffer("pair_keep", torch.ones(pair_buckets))  # 0: a row too rare to read (fit_prior)
        self.word_dropout = WordDropout(v.probability("word_dropout", word_dropout))
        self.spatial_dropout = SpatialDropout1D(v.probability("spatial_dropout", spatial_dropout))
        v.integer("hidden_size", hidden_size)
        if keras2:
            self.rnn = KerasRecurrent(
                cell, embed_dim, hidden_size, num_layers, bidirectional, reset_after, recurrent_activation
            )
        else:
            self.rnn = drop_recurrent_bias(
                CELLS[cell](
                    embed_dim, hidden_size, num_layers=num_layers, bidirectional=bidirectional, batch_first=True
                )
            )
        features = hidden_size * (2 if bidirectional else 1) * (2 if pooling == "max_mean" else 1)
        self.head = dense_head(features, dense, dropout)
        if v.boolean("keras_init", keras_init):
            keras_init_(self)
        if self.pairs is not None:
            nn.init.zeros_(self.pairs.weight)
        if cell == "gru" and reset_after:
            self.keras_note = (
                "GRU has Keras GRU(reset_after=False)'s parameter count but PyTorch's equation "
                "(reset gate applied after the recurrent product, one bias)"
            )

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        if self.packed:
            ids, lengths = left_aligned(ids)
        x = self.embedding(ids)
        if self.pairs is not None:
            x = x + self.pair_embedding(ids)
        x = self.spatial_dropout(self.word_dropout(x))
        if self.packed:
            x = nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        seq, h = self.rnn(x)
        if self.pooling == "last":
            h = h[0] if isinstance(h, tuple) else h  # LSTM returns (h, c)
            features = torch.cat([h[-2], h[-1]], dim=-1) if self.rnn.bidirectional else h[-1]
        elif self.packed:
            seq, _ = nn.utils.rnn.pad_packed_sequence(seq, batch_first=True, total_length=ids.shape[1])
            keep = torch.arange(ids.shape[1], device=ids.device) < lengths.to(ids.device)[:, None]
            features = pool_over_time(seq, keep, self.pooling)
        else:
            keep = ids != PAD_ID
            keep[:, -1] |= ~keep.any(1)  # an empty review pools its last (padding) position, not nothing
            features = pool_over_time(seq, keep, self.pooling)
        return self.head(features).squeeze(-1)

    def pair_embedding(self, ids: torch.Tensor) -> torch.Tensor:
        """``[batch, time, embed]``: at ``t`` the row of the pair (``ids[t-1]``, ``ids[t]``); zero at the
        first step and where either word is padding."""
        bucket = hashed_pairs(ids, self.pairs.num_embeddings)
        keep = self.pair_keep[bucket] * ((ids[:, :-1] != PAD_ID) & (ids[:, 1:] != PAD_ID))
        return nn.functional.pad(self.pairs(bucket) * keep[..., None], (0, 0, 1, 0))

    @torch.no_grad()
    def fit_prior(self, split) -> None:
        """Pair rows found in fewer than ``pair_min_count`` reviews of the training ``split`` read as zeros, as
        NBSVM's rare features: a row trained on one or two reviews remembers them (a film's names) rather than
        anything a new film's review shares. Counted before the first step, every rank alike; kept in the
        checkpoint."""
        if self.pairs is None or self.pair_min_count <= 1:
            return
        buckets = self.pairs.num_embeddings

        def pairs(ids):
            return ngram_sets(ids, self.vocab_size, 2, buckets)  # the pair hash, deduplicated

        counts = review_counts(split, pairs, self.vocab_size + buckets, self.pair_keep.device).sum(0)[self.vocab_size :]
        self.pair_keep.copy_((counts >= self.pair_min_count).to(self.pair_keep.dtype))


class WordDropout(nn.Module):
    """Zeroes each time step's whole input vector with probability ``p`` in training, unscaled: a dropped word
    reads as an empty step, not as a louder neighbour."""

    def __init__(self, p: float):
        super().__init__()
        self.p = p

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: [batch, time, channels]
        if not self.training or self.p == 0:
            return x
        return x * torch.empty(x.shape[:2], device=x.device, dtype=x.dtype).bernoulli_(1 - self.p)[..., None]


def pool_over_time(seq: torch.Tensor, keep: torch.Tensor, how: str) -> torch.Tensor:
    """Max and/or mean of ``seq`` ``[batch, time, features]`` over the positions where ``keep`` is true."""
    keep = keep[..., None]
    parts = []
    if how in ("max", "max_mean"):
        parts.append(seq.masked_fill(~keep, torch.finfo(seq.dtype).min).amax(1))
    if how in ("mean", "max_mean"):
        parts.append((seq * keep).sum(1) / keep.sum(1).to(seq.dtype))
    return torch.cat(parts, dim=-1)


def left_aligned(ids: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Each row's non-padding ids moved to the front in order (padding may be pre or post), and the
    row lengths on the CPU (at least 1, so an empty review still yields a state), as packing wants."""
    pad = ids == PAD_ID
    order = torch.argsort(pad.to(torch.uint8), dim=1, stable=True)
    lengths = (~pad).sum(1).clamp_(min=1).cpu()
    return ids.gather(1, order), lengths


class FlattenMLP(nn.Module):
    """Embedding -> Flatten(maxlen x embed_dim) -> Dense(relu) ... -> Dense(1); needs a fixed length."""

    requires_fixed_length = True

    def __init__(
        self,
        vocab_size: int,
        embed_dim: int,
        maxlen: int,
        hidden: Sequence[int],
        dropout: float,
        keras_init: bool,
    ):
        super().__init__()
        self.maxlen = v.integer("maxlen", maxlen)
        self.embedding = _embedding(vocab_size, embed_dim)
        self.mlp = dense_head(maxlen * embed_dim, hidden, dropout, name="hidden")
        if v.boolean("keras_init", keras_init):
            keras_init_(self)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        if ids.shape[1] != self.maxlen:
            raise ValueError(f"FlattenMLP was built for length {self.maxlen}, got batches of length {ids.shape[1]}")
        return self.mlp(self.embedding(ids).flatten(1)).squeeze(-1)


class NgramBag(nn.Module):
    """Embedding of every word and every hashed word pair -> mean over the review -> Dense head.

    fastText's classifier (Joulin et al. 2017): a bag of n-grams, order kept only inside a pair.
    Word ids keep their rows; a pair of neighbouring words ``(a, b)`` takes row
    ``vocab_size + (a * 1000003 + b) mod buckets``, so the pair table needs no vocabulary (rare
    pairs share rows) and a checkpoint encodes new text with the word tokenizer alone. Padding
    (id 0), and a pair that touches it, is left out of the mean (``EmbeddingBag``'s ``padding_idx``), so
    any padding mode works. ``sparse`` gives the table a sparse gradient: a step then costs the rows the
    batch touched, with an optimizer that takes one (``optimizer=lazy_adam``).
    """

    requires_fixed_length = False

    def __init__(
        self,
        vocab_size: int,
        embed_dim: int,
        buckets: int,
        dense: Sequence[int],
        dropout: float,
        keras_init: bool,
        sparse: bool,
    ):
        super().__init__()
        self.vocab_size = v.integer("vocab_size", vocab_size)
        self.buckets = v.integer("buckets", buckets, minimum=0)
        self.embedding = nn.EmbeddingBag(
            vocab_size + buckets,
            v.integer("embed_dim", embed_dim),
            mode="mean",
            padding_idx=PAD_ID,
            sparse=v.boolean("sparse", sparse),
        )
        self.head = dense_head(embed_dim, dense, dropout)
        if v.boolean("keras_init", keras_init):
            keras_init_(self)
        with torch.no_grad():
            # padding_idx already leaves the row out of the mean and its gradient; keep it at EmbeddingBag's 0,
            # which keras_init_ drew over, so the table reads as it computes
            self.embedding.weight[PAD_ID] = 0

    def ngram_ids(self, ids: torch.Tensor) -> torch.Tensor:
        """``[batch, time]`` word ids -> ``[batch, 2 time - 1]``: the words, then their pairs; padding is 0."""
        ids = ids.long()
        a, b = ids[:, :-1], ids[:, 1:]
        pairs = self.vocab_size + hashed_pairs(ids, self.buckets) if self.buckets else torch.zeros_like(a)
        pairs = pairs.masked_fill((a == PAD_ID) | (b == PAD_ID), PAD_ID)
        return torch.cat([ids, pairs], dim=1)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return self.head(self.embedding(self.ngram_ids(ids))).squeeze(-1)  # an empty review averages to 0


def count_parameters(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())
