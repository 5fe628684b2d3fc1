"""Keras pad_sequences semantics, worked by hand."""

import numpy as np
import pytest

from conftest import to_lists
from imdb_sentiment.data.ragged import Ragged, pad_sequences

SEQS = [[1, 2, 3], [4, 5], [6, 7, 8, 9, 10], []]


@pytest.mark.parametrize(
    "padding,truncating,expected",
    [
        ("pre", "pre", [[0, 1, 2, 3], [0, 0, 4, 5], [7, 8, 9, 10], [0, 0, 0, 0]]),
        ("post", "pre", [[1, 2, 3, 0], [4, 5, 0, 0], [7, 8, 9, 10], [0, 0, 0, 0]]),
        ("pre", "post", [[0, 1, 2, 3], [0, 0, 4, 5], [6, 7, 8, 9], [0, 0, 0, 0]]),
        ("post", "post", [[1, 2, 3, 0], [4, 5, 0, 0], [6, 7, 8, 9], [0, 0, 0, 0]]),
    ],
)
def test_pad_sequences_like_keras(padding, truncating, expected):
    out = pad_sequences(SEQS, maxlen=4, padding=padding, truncating=truncating)
    assert out.dtype == np.int32
    assert out.tolist() == expected


def test_default_maxlen_is_longest_and_value_fills():
    assert pad_sequences([[1], [2, 3, 4]], value=-1).tolist() == [[-1, -1, 1], [2, 3, 4]]


def test_maxlen_longer_than_everything():
    assert pad_sequences([[5, 6]], maxlen=5).tolist() == [[0, 0, 0, 5, 6]]


def test_bad_side_is_rejected():
    with pytest.raises(ValueError, match="padding='middle'"):
        pad_sequences(SEQS, maxlen=3, padding="middle")


def test_truncate_and_take_keep_order():
    r = Ragged.from_lists(SEQS)
    assert to_lists(r.truncate(2, "pre")) == [[2, 3], [4, 5], [9, 10], []]
    assert to_lists(r.truncate(2, "post")) == [[1, 2], [4, 5], [6, 7], []]
    assert r.truncate(5) is r and r.truncate(None) is r  # nothing longer: the same sequences, not a copy
    assert to_lists(r.take(np.array([2, 0]))) == [[6, 7, 8, 9, 10], [1, 2, 3]]
    assert r.pad(3, rows=np.array([1, 3])).tolist() == [[0, 4, 5], [0, 0, 0]]
