"""Tokenizers: Keras-like word ids fitted on train only, and the subword vocabulary."""

import numpy as np

from conftest import to_lists
from imdb_sentiment.data.text_encoding import PAD_ID, START_ID, UNK_ID, encode, fit_tokenizer

TRAIN = ["The movie was GREAT, great fun!<br /><br />Don't miss it.", "the plot was dull... dull, DULL", "great cast"]


def ids(tok, text):
    return to_lists(encode(tok, [text]))[0]


def test_word_level_normalises_like_keras():
    tok = fit_tokenizer("word", 100, TRAIN, start_token=False)
    vocab = tok.get_vocab()
    assert "great" in vocab and "GREAT" not in vocab and "don't" in vocab
    assert not any(w.startswith("<") or "," in w or "!" in w for w in vocab), vocab
    assert ids(tok, "GREAT, great!") == [vocab["great"]] * 2
    assert ids(tok, "<br />'Dull'") == [vocab["dull"]]  # HTML breaks and outer quotes are separators


def test_ids_by_frequency_and_reserved_ids():
    tok = fit_tokenizer("word", 100, TRAIN, start_token=False)
    vocab = tok.get_vocab()
    assert vocab["[PAD]"] == PAD_ID == 0 and vocab["[UNK]"] == UNK_ID == 1
    # "great" x3, "dull" x3, "the" x2, "was" x2: the most frequent words get the smallest ids
    assert max(vocab["great"], vocab["dull"]) < min(vocab["the"], vocab["was"]) < vocab["plot"]


def test_vocabulary_comes_from_train_only_and_caps_at_vocab_size():
    tok = fit_tokenizer("word", 5, TRAIN, start_token=False)  # [PAD], [UNK] and the three most frequent words
    assert tok.get_vocab_size() == 5
    assert ids(tok, "great dull zebra") == [tok.token_to_id("great"), tok.token_to_id("dull"), UNK_ID]
    assert ids(tok, "plot") == [UNK_ID]  # in train, but not among the most frequent


def test_encode_handles_empty_and_odd_text():
    tok = fit_tokenizer("word", 50, TRAIN, start_token=False)
    r = encode(tok, ["", "   ", "\x00\x07", "ünïcødé 🙂 great"])
    assert r.lengths.tolist()[:3] == [0, 0, 0]
    assert to_lists(r)[3][-1] == tok.token_to_id("great")
    assert r.values.dtype == np.int32


def test_subword_vocab_stays_below_vocab_size():
    texts = TRAIN * 20 + ["Supercalifragilistic antidisestablishmentarianism"]
    tok = fit_tokenizer("subword", 120, texts, start_token=False)
    r = encode(tok, texts + ["unseen Wörds ★"])
    assert tok.get_vocab_size() <= 120
    assert r.values.min() >= 0 and r.values.max() < 120
    assert tok.token_to_id("[PAD]") == PAD_ID


def test_start_token_opens_every_review_like_keras_start_char():
    tok = fit_tokenizer("word", 6, TRAIN, start_token=True)  # [PAD], [UNK], [START] and three words
    assert tok.token_to_id("[START]") == START_ID == 2 and tok.get_vocab_size() == 6
    assert ids(tok, "great zebra") == [START_ID, tok.token_to_id("great"), UNK_ID]
    assert ids(tok, "") == [START_ID]
    r = encode(tok, ["dull " * 10])
    assert to_lists(r.truncate(4, "pre")) == [[tok.token_to_id("dull")] * 4]  # pre-truncation drops it, as in Keras


ODD = [
    "a_'b",
    "_'a",
    "rock''n'roll",
    "'quoted'",
    "don't",
    "a'b'c",
    "a' 'b",
    "x'",
    "'",
    "''",
    "<br/>x<BR />y<br  />",
    "Ｆｕｌｌｗｉｄｔｈ",
    "ﬁne ﬃ",
    "ΣΑΣ ΟΔΟΣ",
    "İstanbul",
    "ß straße",
    "ǅ ǈ Ǌ",
    "x\u00a0y",
    "a\u2028b\u0085c",
    "tab\tnew\nline",
    "e\u0301",
    "١٢٣ arabic",
    "naïve café",
    "日本語のテキスト",
    "emoji 😀 ok",
    "½ ² ⅷ",
    "a\u200bb",
    "\x00ctl\x1f",
    "",
    "   ",
    "<b>bold</b> &amp; <i>it</i>",
    "e-mail: x@y.com, 10/10!!!",
    "K Å",
]


def hugging_face_word_tokenizer(texts, vocab_size, start_token):
    """The reference: the same tokenizer fitted and used through Hugging Face's own trainer and encoder."""
    from tokenizers import processors

    from imdb_sentiment.data.text_encoding import START, new_tokenizer

    tok, trainer_cls = new_tokenizer("word")
    specials = ["[PAD]", "[UNK]", START] if start_token else ["[PAD]", "[UNK]"]
    tok.train_from_iterator(
        texts, trainer=trainer_cls(vocab_size=vocab_size, special_tokens=specials, show_progress=False)
    )
    if start_token:
        tok.post_processor = processors.TemplateProcessing(single=f"{START} $A", special_tokens=[(START, START_ID)])
    return tok


def test_word_path_matches_hugging_face_on_odd_text():
    """Fitting and encoding run as Arrow kernels; they must give Hugging Face's vocabulary and ids exactly."""
    texts = ODD * 3 + TRAIN
    for start_token in (False, True):
        ours, ref = fit_tokenizer("word", 60, texts, start_token), hugging_face_word_tokenizer(texts, 60, start_token)
        assert ours.get_vocab() == ref.get_vocab()
        assert to_lists(encode(ours, ODD)) == [e.ids for e in ref.encode_batch(ODD)]
        assert [e.ids for e in ours.encode_batch(ODD)] == [
            e.ids for e in ref.encode_batch(ODD)
        ]  # as saved in checkpoints
