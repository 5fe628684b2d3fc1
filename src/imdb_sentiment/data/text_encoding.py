"""Tokenizers fitted on the training texts, built on Hugging Face ``tokenizers``.

``word``: like ``keras.datasets.imdb.load_data(num_words=N)``: lower case, ``<br />`` and
punctuation removed, the most frequent training words. ``subword``: a byte-pair vocabulary
of about 8k pieces, like TFDS ``imdb_reviews/subwords8k`` (case and punctuation kept).
Both reserve id 0 for padding and id 1 for out-of-vocabulary, so ids lie in ``[0, vocab_size)``.
With ``start_token`` id 2 opens every review, like Keras' ``start_char``; it is part of the
tokenizer (a post-processor), so predict encodes raw text exactly as training did.

The word tokenizer is a Hugging Face ``Tokenizer`` (saved in every checkpoint), but fitting and
encoding it run as whole-column Arrow kernels (``_words``) that split text exactly as its normaliser
and pre-tokenizer do: the tokenizer's own per-review work, with offsets and alignments, made
encoding IMDB four times slower. ``tests/test_text_encoding.py`` checks the two agree.
"""

from __future__ import annotations

import itertools
import json
import os
import re
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from tokenizers import Regex, Tokenizer, models, normalizers, pre_tokenizers, processors, trainers

from imdb_sentiment.data.ragged import Ragged
from imdb_sentiment.errors import ConfigError

PAD, UNK, START = "[PAD]", "[UNK]", "[START]"
PAD_ID, UNK_ID, START_ID = 0, 1, 2
KINDS = ("word", "subword")
_BREAK = normalizers.Replace(Regex(r"<br\s*/?>"), " ")
# Keep letters, digits and inner apostrophes ("don't"); everything else separates words.
_SEPARATORS = r"[^\w']+|(?<!\w)'|'(?!\w)|_"
_WORD_CHAR = r"\p{L}\p{M}\p{Nd}\p{Pc}"  # Oniguruma's Unicode \w, spelt for Arrow's RE2 (whose \w is ASCII)


def new_tokenizer(kind: str) -> tuple[Tokenizer, object]:
    """An untrained tokenizer of ``kind`` and the trainer class that fits its vocabulary."""
    if kind == "word":
        tok = Tokenizer(models.WordLevel(unk_token=UNK))
        tok.normalizer = normalizers.Sequence(
            [
                _BREAK,
                normalizers.NFKC(),
                normalizers.Lowercase(),
                normalizers.Replace(Regex(_SEPARATORS), " "),
            ]
        )
        tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
        return tok, trainers.WordLevelTrainer
    if kind == "subword":
        tok = Tokenizer(models.BPE(unk_token=UNK))
        tok.normalizer = normalizers.Sequence([_BREAK, normalizers.NFKC()])
        tok.pre_tokenizer = pre_tokenizers.Whitespace()
        return tok, trainers.BpeTrainer
    raise ValueError(f"tokenizer kind {kind!r} not in {KINDS}")


def _words(texts: Sequence[str] | pa.Array | pa.ChunkedArray) -> tuple[pa.Array, np.ndarray]:
    """Every word of every text, flat, and the text each came from: what the word tokenizer's normaliser
    and whitespace split give (``tests/test_text_encoding.py`` compares them). Slices of the column are
    normalised on all cores at once (Arrow's kernels release the GIL)."""
    if isinstance(texts, (pa.Array, pa.ChunkedArray)):
        col = texts.cast(pa.large_string())
        col = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
    else:
        col = pa.array(list(texts), type=pa.large_string())
    n, k = len(col), max(1, min(os.cpu_count() or 1, len(col) // 1000))
    with ThreadPoolExecutor(k) as pool:
        normalised = list(
            pool.map(_normalise, [col.slice(i * n // k, (i + 1) * n // k - i * n // k) for i in range(k)])
        )
    # Outside the Basic Multilingual Plane, Arrow's RE2 and tokenizers' regex know different Unicode versions
    # (U+116D0, new in Unicode 16, is a word character to one only): such rows take the tokenizer's own normaliser.
    astral = pc.fill_null(pc.match_substring_regex(col, r"[\x{10000}-\x{10FFFF}]"), False).to_numpy(
        zero_copy_only=False
    )
    if astral.any():
        rows, normaliser = (
            pa.chunked_array(normalised, type=pa.large_string()).to_pylist(),
            new_tokenizer("word")[0].normalizer,
        )
        for i in np.flatnonzero(astral):
            rows[i] = normaliser.normalize_str(col[i].as_py())
        normalised = [pa.array(rows, type=pa.large_string())]
    # After the normaliser only plain spaces separate words. Split on " " rather than with utf8_split_whitespace,
    # which (pyarrow 26, arrays computed from a slice) can return a lone " " as a word: Hypothesis found it.
    lists = pc.split_pattern(pa.chunked_array(normalised, type=pa.large_string()), " ").combine_chunks()
    words, parents = pc.list_flatten(lists), pc.list_parent_indices(lists)
    keep = pc.greater(pc.utf8_length(words), 0)  # split leaves one "" for a text with no words
    return pc.filter(words, keep), pc.filter(parents, keep).to_numpy(zero_copy_only=False)


def _normalise(col: pa.Array) -> pa.Array:
    """The word tokenizer's normaliser, step for step, as Arrow kernels."""
    col = pc.replace_substring_regex(col, r"<br\s*/?>", " ")
    col = pc.utf8_normalize(col, "NFKC")
    col = pc.replace_substring(col, "\u0130", "i\u0307")  # İ: the one letter whose lower case is two code points
    col = pc.utf8_lower(col)
    # _SEPARATORS without look-around (RE2 has none): other characters first, then apostrophes that
    # touch an apostrophe, then the ones at a word's edge, then underscores.
    col = pc.replace_substring_regex(col, f"[^{_WORD_CHAR}']+", " ")
    col = pc.replace_substring_regex(col, r"''+", " ")
    col = pc.replace_substring_regex(col, r"(^|\s)'", r"\1 ")
    col = pc.replace_substring_regex(col, r"'(\s|$)", r" \1")
    return pc.replace_substring(col, "_", " ")


def _strings(texts: Sequence[str] | pa.Array | pa.ChunkedArray) -> list[str]:
    return texts.to_pylist() if isinstance(texts, (pa.Array, pa.ChunkedArray)) else list(texts)


def _is_arrow_word_tokenizer(tok: Tokenizer) -> bool:
    """Whether ``tok`` splits text exactly as ``_words`` does (a word tokenizer this module built)."""
    spec, fresh = json.loads(tok.to_str()), json.loads(new_tokenizer("word")[0].to_str())
    return (
        spec["model"]["type"] == "WordLevel"
        and spec["pre_tokenizer"] == fresh["pre_tokenizer"]
        and spec["normalizer"] == fresh["normalizer"]
        and spec["post_processor"] in (None, _start_token_spec())
    )


def _start_token() -> processors.TemplateProcessing:
    return processors.TemplateProcessing(single=f"{START} $A", special_tokens=[(START, START_ID)])


def _start_token_spec() -> dict:
    probe = new_tokenizer("word")[0]
    probe.post_processor = _start_token()
    return json.loads(probe.to_str())["post_processor"]


def fit_tokenizer(
    kind: str, vocab_size: int, texts: Sequence[str] | pa.Array | pa.ChunkedArray, start_token: bool
) -> Tokenizer:
    """Fit a ``kind`` tokenizer on ``texts`` whose ids (specials included) all stay below ``vocab_size``."""
    tok, trainer_cls = new_tokenizer(kind)
    specials = [PAD, UNK, START] if start_token else [PAD, UNK]
    if kind == "word":  # WordLevelTrainer's vocabulary: specials, then words by falling count, ties by word
        words, _ = _words(texts)
        counts = pc.value_counts(words)
        ranked = sorted(zip(-counts.field("counts").to_numpy(), counts.field("values").to_pylist()))
        kept = specials + [w for _, w in ranked[: max(vocab_size - len(specials), 0)]]
        tok.model = models.WordLevel({w: i for i, w in enumerate(kept)}, unk_token=UNK)
    else:
        trainer = trainer_cls(vocab_size=vocab_size, special_tokens=specials, show_progress=False)
        tok.train_from_iterator(_as_text(_strings(texts)), trainer=trainer, length=len(texts))
    assert [tok.token_to_id(s) for s in specials] == list(range(len(specials)))
    if start_token:
        tok.post_processor = _start_token()
    if tok.get_vocab_size() > vocab_size:  # BPE's initial alphabet can exceed a tiny budget
        raise ConfigError(
            "data.vocab_size", vocab_size, f"too small for the {kind} tokenizer's {tok.get_vocab_size()} base symbols"
        )
    return tok


_SPECIAL_LITERAL = re.compile(r"\[(PAD|UNK|START)\]")


def _as_text(texts: list[str]) -> list[str]:
    """A review that spells a special token ("[PAD]") means the characters, not padding: the subword tokenizer
    matches special tokens in raw text, so the brackets are set apart first (Hypothesis found it)."""
    return [_SPECIAL_LITERAL.sub(r"[ \1 ]", t) for t in texts]


def encode(tok: Tokenizer, texts: Sequence[str] | pa.Array | pa.ChunkedArray) -> Ragged:
    """Token ids of every text, untruncated, as one ragged array (int32)."""
    if _is_arrow_word_tokenizer(tok):
        return _encode_words(tok, texts)
    texts = _as_text(_strings(texts))
    batch = tok.encode_batch_fast(texts) if hasattr(tok, "encode_batch_fast") else tok.encode_batch(texts)
    lengths = np.fromiter((len(e.ids) for e in batch), dtype=np.int64, count=len(batch))
    values = np.fromiter(itertools.chain.from_iterable(e.ids for e in batch), dtype=np.int32, count=int(lengths.sum()))
    return Ragged(values, np.concatenate([[0], np.cumsum(lengths)]))


def _encode_words(tok: Tokenizer, texts: Sequence[str] | pa.Array | pa.ChunkedArray) -> Ragged:
    """``encode`` for a word tokenizer, as whole-column lookups; the same ids as ``tok.encode_batch``."""
    vocab = tok.get_vocab()
    by_id = pa.array(sorted(vocab, key=vocab.get), type=pa.large_string())
    words, parents = _words(texts)
    ids = pc.fill_null(pc.index_in(words, value_set=by_id), UNK_ID).to_numpy(zero_copy_only=False).astype(np.int32)
    lengths = np.bincount(parents, minlength=len(texts)).astype(np.int64)
    if tok.post_processor is not None:  # the start token opens every review
        starts = np.concatenate([[0], np.cumsum(lengths)])[:-1]
        ids, lengths = np.insert(ids, starts, START_ID), lengths + 1
    return Ragged(ids, np.concatenate([[0], np.cumsum(lengths)]))
