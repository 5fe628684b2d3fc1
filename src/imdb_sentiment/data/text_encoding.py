"""Tokenizers fitted on the training texts, built on Hugging Face ``tokenizers``.

``word``: like ``keras.datasets.imdb.load_data(num_words=N)``: lower case, ``<br />`` and
punctuation removed, the most frequent training words. ``subword``: a byte-pair vocabulary
of about 8k pieces, like TFDS ``imdb_reviews/subwords8k`` (case and punctuation kept).
Both reserve id 0 for padding and id 1 for out-of-vocabulary, so ids lie in ``[0, vocab_size)``.
With ``start_token`` id 2 opens every review, like Keras' ``start_char``; it is part of the
tokenizer (a post-processor), so predict encodes raw text exactly as training did.
"""
from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
from tokenizers import Regex, Tokenizer, models, normalizers, pre_tokenizers, processors, trainers

from ..errors import ConfigError
from .ragged import Ragged

PAD, UNK, START = "[PAD]", "[UNK]", "[START]"
PAD_ID, UNK_ID, START_ID = 0, 1, 2
KINDS = ("word", "subword")
_BREAK = normalizers.Replace(Regex(r"<br\s*/?>"), " ")


def new_tokenizer(kind: str) -> tuple[Tokenizer, object]:
    """An untrained tokenizer of ``kind`` and the trainer class that fits its vocabulary."""
    if kind == "word":
        tok = Tokenizer(models.WordLevel(unk_token=UNK))
        # Keep letters, digits and inner apostrophes ("don't"); everything else separates words.
        tok.normalizer = normalizers.Sequence([
            _BREAK, normalizers.NFKC(), normalizers.Lowercase(),
            normalizers.Replace(Regex(r"[^\w']+|(?<!\w)'|'(?!\w)|_"), " "),
        ])
        tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
        return tok, trainers.WordLevelTrainer
    if kind == "subword":
        tok = Tokenizer(models.BPE(unk_token=UNK))
        tok.normalizer = normalizers.Sequence([_BREAK, normalizers.NFKC()])
        tok.pre_tokenizer = pre_tokenizers.Whitespace()
        return tok, trainers.BpeTrainer
    raise ValueError(f"tokenizer kind {kind!r} not in {KINDS}")


def fit_tokenizer(kind: str, vocab_size: int, texts: Sequence[str], start_token: bool) -> Tokenizer:
    """Fit a ``kind`` tokenizer on ``texts`` whose ids (specials included) all stay below ``vocab_size``."""
    tok, trainer_cls = new_tokenizer(kind)
    specials = [PAD, UNK, START] if start_token else [PAD, UNK]
    trainer = trainer_cls(vocab_size=vocab_size, special_tokens=specials, show_progress=False)
    tok.train_from_iterator(texts, trainer=trainer, length=len(texts))
    assert [tok.token_to_id(s) for s in specials] == list(range(len(specials)))
    if start_token:
        tok.post_processor = processors.TemplateProcessing(single=f"{START} $A", special_tokens=[(START, START_ID)])
    if tok.get_vocab_size() > vocab_size:  # BPE's initial alphabet can exceed a tiny budget
        raise ConfigError("data.vocab_size", vocab_size, f"too small for the {kind} tokenizer's "
                          f"{tok.get_vocab_size()} base symbols")
    return tok


def encode(tok: Tokenizer, texts: Sequence[str]) -> Ragged:
    """Token ids of every text, untruncated, as one ragged array (int32)."""
    batch = tok.encode_batch_fast(list(texts)) if hasattr(tok, "encode_batch_fast") else tok.encode_batch(list(texts))
    lengths = np.fromiter((len(e.ids) for e in batch), dtype=np.int64, count=len(batch))
    values = np.fromiter(itertools.chain.from_iterable(e.ids for e in batch), dtype=np.int32, count=int(lengths.sum()))
    return Ragged(values, np.concatenate([[0], np.cumsum(lengths)]))
