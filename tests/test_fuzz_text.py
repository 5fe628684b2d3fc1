"""Property-based tests of the text path (Hypothesis): any Unicode, empty, whitespace only, very long,
HTML, control characters. Encoding never raises, the Arrow word path gives Hugging Face's ids,
lengths and padding follow Keras' rules, ids stay in the vocabulary, predict gives a probability."""

import os

import numpy as np
import pytest
import torch
from hydra.utils import instantiate
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from omegaconf import OmegaConf

from conftest import CONFIGS, to_lists
from imdb_sentiment.data.text_encoding import PAD_ID, START_ID, encode, fit_tokenizer
from imdb_sentiment.inference.prediction import predict_proba
from imdb_sentiment.inference.trained_run import Trained

CORPUS = [
    "The movie was GREAT, great fun!<br /><br />Don't miss it.",
    "the plot was dull... dull, DULL",
    "great cast",
    "Ｆｕｌｌ width ﬁne İstanbul naïve café ΣΑΣ",
    "it's the actors' best, isn't it?",
]
WORD = fit_tokenizer("word", 40, CORPUS * 3, start_token=True)
SUBWORD = fit_tokenizer("subword", 300, CORPUS * 3, start_token=False)

HTML = st.sampled_from(["<br />", "<br/>", "<BR>", "<p>", "</i>", "&amp;", "&nbsp;", "<a href='x'>", "'", "''", "_"])
WORDS = st.sampled_from(["great", "dull", "don't", "Movie", "cast", "it's", "ΣΑΣ", "İ", "ﬁ", "½", "e\u0301"])
TEXT = st.one_of(
    st.text(max_size=300),  # any code points
    st.text(alphabet=st.characters(codec="utf-8", categories=["Zs", "Zl", "Zp", "Cc", "Cf"]), max_size=50),
    st.lists(st.one_of(WORDS, HTML, st.text(max_size=5)), max_size=60).map(" ".join),
    st.lists(st.one_of(WORDS, HTML, st.text(max_size=3)), max_size=40).map("".join),
)
# derandomize: the same 300 examples on every run, so CI is reproducible. To search new ones, set
# HYPOTHESIS_SEARCH=1 (how the lone-space split and the "[PAD]" literal, now fixed in text_encoding, were found).
FAST = settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=not os.environ.get("HYPOTHESIS_SEARCH"),
)


@FAST
@given(TEXT)
def test_word_path_gives_hugging_faces_ids_for_any_text(text):
    assert to_lists(encode(WORD, [text])) == [WORD.encode(text).ids]


@FAST
@given(
    st.lists(TEXT, max_size=8),
    st.sampled_from([WORD, SUBWORD]),
    st.integers(1, 50),
    st.sampled_from(["pre", "post"]),
    st.sampled_from(["pre", "post"]),
)
def test_encoding_never_raises_and_pads_like_keras(texts, tok, maxlen, padding, truncating):
    ids = encode(tok, texts)
    assert len(ids) == len(texts) and ids.values.dtype == np.int32
    assert ((ids.values >= 0) & (ids.values < tok.get_vocab_size())).all()
    assert not (ids.values == PAD_ID).any()  # padding is never a token
    if tok is WORD:
        assert all(row[:1] == [START_ID] for row in to_lists(ids))
    padded = ids.pad(maxlen, padding, truncating)
    assert padded.shape == (len(texts), maxlen)
    for row, full in zip(padded, to_lists(ids)):
        kept = full[-maxlen:] if truncating == "pre" else full[:maxlen]
        body = row[maxlen - len(kept) :] if padding == "pre" else row[: len(kept)]
        assert body.tolist() == kept and (row == PAD_ID).sum() == maxlen - len(kept)


def trained(pad_mode):
    torch.manual_seed(0)
    model = OmegaConf.load(CONFIGS / "model" / "_recurrent.yaml")  # the base every recurrent preset shares
    net = instantiate(OmegaConf.merge(model, {"vocab_size": WORD.get_vocab_size(), "embed_dim": 8, "cell": "gru"}))
    net.eval()
    config = {"data": {"maxlen": 30, "truncating": "pre", "padding": "pre", "pad_mode": pad_mode, "batch_size": 4}}
    return Trained(path=None, net=net, config=config, tokenizer=WORD, epoch=None)


@pytest.mark.slow  # 600 forward passes: ten seconds
@pytest.mark.parametrize("pad_mode", ["fixed", "dynamic"])
def test_predict_gives_a_probability_for_any_readable_text(pad_mode):
    run = trained(pad_mode)

    @FAST
    @given(st.lists(TEXT, min_size=1, max_size=5))
    def check(texts):
        p = predict_proba(run, texts)  # the start token gives every review something to read
        assert p.shape == (len(texts),) and np.isfinite(p).all() and ((p >= 0) & (p <= 1)).all()

    check()
